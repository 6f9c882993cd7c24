"""When a development happened, as its sentence tells it, not when the article came out.

"His conviction landed on Nov. 2 after a monthlong trial" in a November 30 article happened on
November 2; "late Friday" in a Saturday article, the day before. A sentence that names a day
is dated by it (resolved against the article's date); one that names only a weekday, by the
latest such day on or before the article's; one that only recalls an earlier month or year
("FTX collapsed in November 2022") is background, not a development of the story.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from retrieval.question.dates import find_dates

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b", re.IGNORECASE)
_REACH_BACK = 365  # a named day further back than this is not read as this story's
_RECAP_DAYS = 45  # a named month or year ending this long before the article: background


def event_day(sentence: str, published: str) -> str | None:
    """Return the day (ISO) the sentence's development happened, or None for background."""
    try:
        day = date.fromisoformat(published[:10])
    except ValueError:
        return None
    ranges = find_dates(sentence, day)
    earliest = day - timedelta(days=_REACH_BACK)
    for found in ranges:
        if found.one_day and found.since is not None and earliest <= found.since <= day:
            return found.since.isoformat()
    if ranges and all(
        r.until is not None and r.until < day - timedelta(days=_RECAP_DAYS) for r in ranges
    ):
        return None
    if match := _WEEKDAY.search(sentence):
        back = (day.weekday() - _WEEKDAYS.index(match[1].lower())) % 7
        return (day - timedelta(days=back)).isoformat()
    return day.isoformat()
