"""Durations and moments as commands write them: "30m", "2h", "1d", ISO dates and times.

The one reader of them for the CLI, Discord and feed polling. A date or time that names no zone
is UTC, wherever it comes from (a command's `since`, a feed's bare date, a stored poll time), so
the same text means the same moment on every machine.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_AGO_UNITS = ("m", "h", "d")  # "how long ago" names its unit, and is never in seconds


def duration_seconds(text: str) -> int | None:
    """Return the seconds in "30m", "2h", "1d", "45s" or a bare "90" (seconds); None when the
    text is not a duration."""
    match = _DURATION.match(text)
    return None if match is None else int(match[1]) * _SECONDS[match[2].lower()]


def as_utc(moment: datetime) -> datetime:
    """Return `moment` knowing its zone: a naive one is taken as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_moment(text: str) -> datetime:
    """Return the ISO date or time in `text` (UTC when it names no zone); ValueError otherwise."""
    return as_utc(datetime.fromisoformat(text.strip()))


def parse_since(text: str, now: datetime | None = None) -> datetime | None:
    """Return the moment "24h" / "3d" / "90m" ago, or the given ISO date or time (UTC when it
    names no zone); None when it is neither."""
    seconds = duration_seconds(text)
    if seconds is not None and text.strip()[-1:].lower() in _AGO_UNITS:
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        return parse_moment(text)
    except ValueError:
        return None
