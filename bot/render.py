"""Answer → text for the terminal (Discord rendering joins it with the Discord issue)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.texts import publications
from retrieval import Answer, ArticleInfo, Citation, web_url

if TYPE_CHECKING:
    from retrieval import Brief, Comparison, Timeline


def source_line(citation: Citation) -> str:
    """Return `[n] Headline — Outlet, 2025-12-06`."""
    p = citation.passage
    where = ", ".join(x for x in (p.outlet, p.published_date) if x)
    return f"[{citation.n}] {p.title}" + (f" — {where}" if where else "")


def answer_text(answer: Answer, *, passages: bool = True) -> str:
    """Return the answer with its numbered sources (and the cited passages) as plain text."""
    lines = [answer.text]
    lines.extend(f"({note})" for note in answer.notes)
    lines.extend(sources_lines(answer.citations, passages=passages))
    return "\n".join(lines)


def sources_lines(citations: Sequence[Citation], *, passages: bool = True) -> list[str]:
    """Return the "Sources:" block: each citation's headline, outlet, date, link."""
    lines: list[str] = []
    if citations:
        lines.append("")
        lines.append("Sources:")
        for citation in citations:
            lines.append(source_line(citation))
            if url := web_url(citation.passage.url):
                lines.append(f"    {url}")
            if citation.also_published:
                lines.append(f"    also published by {publications(citation.also_published)}")
            if passages:
                lines.extend(f"    {line}" for line in citation.passage.text.split("\n") if line)
    return lines


def _all_citations(groups: Sequence[Sequence[Citation]]) -> list[Citation]:
    seen: dict[int, Citation] = {}
    for group in groups:
        for citation in group:
            seen.setdefault(citation.n, citation)
    return [seen[n] for n in sorted(seen)]


def timeline_text(timeline: Timeline) -> str:
    """Return "date — what happened [n]" lines, oldest first, then the sources."""
    if not timeline.events:
        return timeline.note or "No dated developments found."
    lines = [f"{event.date} — {event.text}" for event in timeline.events]
    cites = _all_citations([e.citations for e in timeline.events])
    return "\n".join(lines + sources_lines(cites, passages=False))


def comparison_text(comparison: Comparison) -> str:
    """Return each outlet's lines under its name, then the sources."""
    if not comparison.outlets:
        return comparison.note or "No outlet has coverage of this."
    lines: list[str] = []
    for report in comparison.outlets:
        lines.append(f"{report.outlet}:")
        if report.missing:
            lines.append("  nothing on this in the coverage I have")
        lines.extend(f"  {line}" for line in report.text.split("\n") if line)
    cites = _all_citations([r.citations for r in comparison.outlets])
    return "\n".join(lines + sources_lines(cites, passages=False))


def brief_text(brief: Brief) -> str:
    """Return the stories, biggest first: headline, outlets, one cited sentence."""
    if not brief.stories:
        return f"Nothing came in since {brief.since[:16].replace('T', ' ')}."
    lines: list[str] = []
    for i, story in enumerate(brief.stories, 1):
        lines.append(f"{i}. {story.title} ({', '.join(story.outlets) or 'unknown outlet'})")
        lines.append(f"   {story.text}")
    cites = _all_citations([s.citations for s in brief.stories])
    return "\n".join(lines + sources_lines(cites, passages=False))


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
