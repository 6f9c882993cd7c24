"""Days as stored: ISO dates from what sources give, sortable day numbers, and the time now."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime


def iso_date(value: str | None) -> str | None:
    """Return the `YYYY-MM-DD` part of an ISO date or datetime, or None."""
    if not value:
        return None
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
    except ValueError:
        return None


def date_number(value: str | None) -> int:
    """Return a sortable number (YYYYMMDD) for a publication date; 0 when unknown."""
    day = iso_date(value)
    return int(day.replace("-", "")) if day else 0


def utc_now() -> str:
    """Return the time now in UTC, ISO 8601 to the second (as `ingested_at` is stored)."""
    return datetime.now(UTC).isoformat(timespec="seconds")
