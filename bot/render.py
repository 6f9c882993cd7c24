"""Answer → text for the terminal (Discord rendering joins it with the Discord issue)."""

from __future__ import annotations

from retrieval.types import Answer, ArticleInfo, Citation, web_url


def source_line(citation: Citation) -> str:
    """Return `[n] Headline — Outlet, 2025-12-06`."""
    p = citation.passage
    where = ", ".join(x for x in (p.outlet, p.published_date) if x)
    return f"[{citation.n}] {p.title}" + (f" — {where}" if where else "")


def also_published(citation: Citation) -> str:
    """Return "Outlet (2025-12-06), Other" for the story's other publications."""
    return ", ".join(
        f"{p.outlet or p.url}" + (f" ({p.as_dict()['published_at']})" if p.published_at else "")
        for p in citation.also_published
    )


def answer_text(answer: Answer, *, passages: bool = True) -> str:
    """Return the answer with its numbered sources (and the cited passages) as plain text."""
    lines = [answer.text]
    lines.extend(f"({note})" for note in answer.notes)
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for citation in answer.citations:
            lines.append(source_line(citation))
            if url := web_url(citation.passage.url):
                lines.append(f"    {url}")
            if citation.also_published:
                lines.append(f"    also published by {also_published(citation)}")
            if passages:
                lines.extend(f"    {line}" for line in citation.passage.text.split("\n") if line)
    return "\n".join(lines)


def article_row(info: ArticleInfo) -> dict[str, object]:
    return {
        "article_id": info.article_id,
        "published_at": info.published_at,
        "outlet": info.outlet,
        "title": info.title,
        "passages": info.passages,
        "url": info.url,
        "also_published": [p.as_dict() for p in info.also_published],
    }
