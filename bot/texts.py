"""Words the CLI and Discord both print or read: answers, timelines, comparisons and briefs as
plain text (the terminal's form; Discord's is `bot.discord.render`), ingest reports, poll
intervals, other publications and the time of day a brief is posted. (Durations and moments,
such as a brief's `since`, are read by ingest.durations.)"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import time
from typing import TYPE_CHECKING

from retrieval import Answer, ArticleInfo, Citation, web_url

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport
    from retrieval import Brief, Comparison, Publication, Timeline

# What a terminal obeys rather than shows: C0 controls but tab and newline (ESC starts the
# sequences that clear the screen, recolour or plant hyperlinks; CR and backspace overwrite),
# DEL, C1 controls (U+009B is a one-character CSI), and the bidirectional overrides, isolates and
# marks that make text read in another order than it is stored.
_TERMINAL_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def terminal_safe(text: str) -> str:
    """Return text from the web with every character a terminal would obey removed.

    The one sanitiser of shown text: the CLI's consoles and log lines apply it to everything
    they print, and Discord's escaping (`bot.discord.render.plain`) starts with it.
    """
    return _TERMINAL_UNSAFE.sub("", text)


def ingest_counts(report: IngestReport) -> str:
    """Return "2 added, 0 updated, 1 unchanged, 0 syndicated copies, 1 failed"."""
    return (
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.syndicated} syndicated copies, {len(report.failed)} failed"
    )


def interval(seconds: int) -> str:
    """Return a poll interval as it is written in commands: 30m, 2h, 1d (or 45s)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def publications(others: Iterable[Publication]) -> str:
    """Return "Outlet (2025-12-06), Other" for a story's other publications."""
    return ", ".join(
        f"{p.outlet or p.url}" + (f" ({p.as_dict()['published_at']})" if p.published_at else "")
        for p in others
    )


def parse_clock(text: str, zone: str = "UTC") -> time:
    """Return "08:00" in an IANA time zone ("Europe/Berlin") as a time of day that knows its
    zone (daylight saving included); ValueError, saying what is expected, otherwise."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    match = _CLOCK.match(text)
    if not match:
        raise ValueError(f"expected a time of day like 08:00 (24-hour HH:MM), got {text!r}")
    try:
        tz = ZoneInfo(zone.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r} (use a name like Europe/Berlin)") from None
    return time(int(match[1]), int(match[2]), tzinfo=tz)


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


def view_citations(groups: Iterable[Sequence[Citation]]) -> list[Citation]:
    """Return the citations of a view's lines once each, by number."""
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
    cites = view_citations(e.citations for e in timeline.events)
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
    cites = view_citations(r.citations for r in comparison.outlets)
    return "\n".join(lines + sources_lines(cites, passages=False))


def brief_text(brief: Brief) -> str:
    """Return the stories, biggest first: headline, outlets, one cited sentence."""
    if not brief.stories:
        return f"Nothing came in since {brief.since[:16].replace('T', ' ')}."
    lines: list[str] = []
    for i, story in enumerate(brief.stories, 1):
        lines.append(f"{i}. {story.title} ({', '.join(story.outlets) or 'unknown outlet'})")
        lines.append(f"   {story.text}")
    cites = view_citations(s.citations for s in brief.stories)
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
