"""Answer → text for the terminal (Discord rendering joins it with the Discord issue)."""

from __future__ import annotations

from bot.texts import publications
from retrieval import Answer, ArticleInfo, Citation, web_url


def source_line(citation: Citation) -> str:
    """Return `[n] Headline — Outlet, 2025-12-06`."""
    p = citation.passage
    where = ", ".join(x for x in (p.outlet, p.published_date) if x)
    return f"[{citation.n}] {p.title}" + (f" — {where}" if where else "")


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
                lines.append(f"    also published by {publications(citation.also_published)}")
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
