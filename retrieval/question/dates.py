"""Date expressions in questions ("last week", "in November 2023", "before October 5") → ranges.

Relative expressions resolve against a given day (today, or an --as-of day for evaluation).
Each found expression carries its place in the text, so a question about two reports on two
days can search each day for its own part.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from retrieval.models import SearchFilters

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
# "May" and "March" are also words: only their capitalised forms count as months.
_MONTH = r"(?:[Jj]an(?:uary)?|[Ff]eb(?:ruary)?|Mar(?:ch)?|[Aa]pr(?:il)?|May|[Jj]une?|[Jj]uly?|[Aa]ug(?:ust)?|[Ss]ep(?:t(?:ember)?)?|[Oo]ct(?:ober)?|[Nn]ov(?:ember)?|[Dd]ec(?:ember)?)\.?"  # noqa: E501
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_NUMBER_WORDS |= {"eight": 8, "nine": 9, "ten": 10, "a": 1, "few": 3, "couple": 2}

_EXPRESSIONS = [
    ("iso", rf"\b(?P<y>{_YEAR})-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b"),
    ("mdy", rf"\b(?P<m>{_MONTH}) (?P<d>{_DAY})\b(?:,? (?P<y>{_YEAR})\b)?"),
    ("dmy", rf"\b(?P<d>{_DAY}) (?:of )?(?P<m>{_MONTH})(?:,? (?P<y>{_YEAR})\b)?"),
    ("my", rf"\b(?P<m>{_MONTH}),? (?P<y>{_YEAR})\b"),
    (
        "in_month",
        r"\b(?:in|during|from|since|before|after|until) (?:early |late |mid-?)?"
        rf"(?P<m>{_MONTH})(?![\w-])",
    ),
    ("year", rf"\b(?:in|during|since|before|after|until) (?P<y>{_YEAR})\b"),
    ("today", r"\b(?:today|tonight|this morning)\b"),
    ("yesterday", r"\byesterday\b"),
    ("this_unit", r"\bthis (?P<unit>week|month|year)\b"),
    ("last_unit", r"\b(?:last|past|previous) (?P<unit>week|month|year)\b"),
    (
        "last_n",
        r"\b(?:last|past|previous) (?P<n>\d+|[a-z]+(?: of)?) (?P<unit>days?|weeks?|months?)\b",
    ),
    ("ago", r"\b(?P<n>\d+|[a-z]+(?: of)?) (?P<unit>days?|weeks?|months?) ago\b"),
]
_COMPILED = [(name, re.compile(rx)) for name, rx in _EXPRESSIONS]
_BEFORE = re.compile(
    r"\b(?:(?P<incl>on or before|until|till|up to|by|through)|(?:before|prior to|earlier than))"
    r"\s+(?:(?:the )?(?:week|month) of )?$",
    re.I,
)
_AFTER = re.compile(
    r"\b(?:(?P<incl>on or after|since|from|starting)|(?:after|later than))"
    r"\s+(?:(?:the )?(?:week|month) of )?$",
    re.I,
)
_BETWEEN = re.compile(r"\bbetween\s+$", re.I)


@dataclass(frozen=True)
class DateRange:
    """Where a date expression sits in the text, and the publication days it allows."""

    start: int
    end: int
    since: date | None
    until: date | None

    @property
    def one_day(self) -> bool:
        return self.since is not None and self.since == self.until


def find_dates(text: str, today: date) -> list[DateRange]:
    """Return the date expressions in the text, in order, each resolved to a range of days."""
    found: list[DateRange] = []
    taken: list[tuple[int, int]] = []
    for name, rx in _COMPILED:
        for match in rx.finditer(text):
            if any(match.start() < e and s < match.end() for s, e in taken):
                continue
            span = _resolve(name, match, today)
            if span is None:
                continue
            taken.append((match.start(), match.end()))
            # "before November": the keyword stays outside the range, for _qualify to read
            core = {"in_month": "m", "year": "y"}.get(name)
            start = match.start(core) if core else match.start()
            found.append(DateRange(start, match.end(), *span))
    found.sort(key=lambda r: r.start)
    return _qualify(text, found)


# What may surround the one date expression of a --since / --until value: "in November".
_OPTION_REST = re.compile(r"[\s,.]*(?:(?:published\s+)?(?:in|on|during)\s*)?[\s,.]*", re.I)


def option_day(value: str, today: date, *, first: bool) -> date | None:
    """Return the day a since (first=True) or until option means, or None if it names none.

    It takes what questions say: "2023-11-27", "November 2023", "November" (the latest),
    "2023", "last week", "yesterday", "3 days ago". A since option gets the first day of the
    range it names, an until option the last.
    """
    text = value.strip()
    # "in" lets a bare month or year read as a date; an option's "may" is the month
    for candidate in (text, f"in {text}", f"in {text[:1].upper()}{text[1:]}"):
        found = find_dates(candidate, today)
        if len(found) != 1:
            continue
        span = found[0]
        if _OPTION_REST.fullmatch(candidate[: span.start] + candidate[span.end :]):
            return span.since if first else span.until
    return None


def option_filters(
    outlets: Sequence[str],
    since: str | None,
    until: str | None,
    today: date,
    *,
    names: tuple[str, str] = ("since", "until"),
) -> SearchFilters:
    """Return search filters from a command's options; raise ValueError naming a bad date."""
    days: list[str | None] = []
    for name, value, first in zip(names, (since, until), (True, False), strict=True):
        day = option_day(value, today, first=first) if value else None
        if value and day is None:
            raise ValueError(
                f"{name} wants a date like 2025-12-06, “November 2023”, “last week” or "
                f"“yesterday”, not “{value}”."
            )
        days.append(day.isoformat() if day else None)
    return SearchFilters(outlets=tuple(outlets), since=days[0], until=days[1])


def _resolve(name: str, m: re.Match[str], today: date) -> tuple[date, date] | None:
    """Return the first and last day an expression means, or None if it names no real date."""
    groups = m.groupdict()
    try:
        if name in {"iso", "mdy", "dmy"}:
            month = _month(groups["m"])
            year = int(groups["y"]) if groups.get("y") else None
            day = int(re.sub(r"\D", "", groups["d"]))
            if year is None:  # "October 5": the latest such day that is not in the future
                year = today.year if date(today.year, month, day) <= today else today.year - 1
            d = date(year, month, day)
            return d, d
        if name in {"my", "in_month"}:
            month = _month(groups["m"])
            year = int(groups["y"]) if groups.get("y") else None
            if year is None:
                year = today.year if month <= today.month else today.year - 1
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        if name == "year":
            year = int(groups["y"])
            return date(year, 1, 1), date(year, 12, 31)
    except ValueError:  # "February 30"
        return None
    return _relative(name, groups, today)


def _relative(name: str, groups: dict[str, str], today: date) -> tuple[date, date] | None:
    if name == "today":
        return today, today
    if name == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    unit = groups["unit"].rstrip("s")
    if name == "this_unit":
        first = {
            "week": today - timedelta(days=today.weekday()),
            "month": today.replace(day=1),
            "year": today.replace(month=1, day=1),
        }[unit]
        return first, today
    if name == "last_unit":
        n = 1
    else:
        word = groups["n"].lower()
        n = int(word) if word.isdigit() else _NUMBER_WORDS.get(word.removesuffix(" of"), 0)
        if not n:
            return None
    days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit] * n
    if name == "ago":  # "3 days ago": that stretch, a day either side
        back = today - timedelta(days=days)
        return back - timedelta(days=1), min(today, back + timedelta(days=1))
    return today - timedelta(days=days), today


def _month(word: str) -> int:
    return int(word) if word.isdigit() else _MONTHS[word.lower().rstrip(".")]


def _qualify(text: str, ranges: list[DateRange]) -> list[DateRange]:
    """Apply "before", "after", "since" and "between … and …" to the ranges they precede."""
    out: list[DateRange] = []
    i = 0
    while i < len(ranges):
        r = ranges[i]
        head = text[max(0, r.start - 40) : r.start]
        head_plain = re.sub(r"\b(?:on|the|published)\s+$", "", head, flags=re.I)
        nxt = ranges[i + 1] if i + 1 < len(ranges) else None
        if (
            nxt is not None
            and _BETWEEN.search(head_plain)
            and re.fullmatch(r"\s*(?:and|to|-|–)\s*", text[r.end : nxt.start], flags=re.I)
        ):
            out.append(DateRange(r.start, nxt.end, r.since, nxt.until))
            i += 2
            continue
        if before := _BEFORE.search(head_plain):
            until = r.until if before["incl"] else (r.since and r.since - timedelta(days=1))
            out.append(DateRange(r.start - len(head) + before.start(), r.end, None, until))
        elif after := _AFTER.search(head_plain):
            since = r.since if after["incl"] else (r.until and r.until + timedelta(days=1))
            out.append(DateRange(r.start - len(head) + after.start(), r.end, since, None))
        else:
            out.append(r)
        i += 1
    return out
