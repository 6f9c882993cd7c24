"""Words the CLI and Discord both print or read: ingest reports, poll intervals, other
publications and the time of day a brief is posted. (Durations and moments, such as a brief's
`since`, are read by ingest.durations.)"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport
    from retrieval import Publication

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
    they print, and Discord's escaping (`bot.discord_render.plain`) starts with it.
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
