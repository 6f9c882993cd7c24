"""A question → the parts to search for: each with its own words, outlets and dates.

"Does the TechCrunch article on GPT-4 say X, while the Fortune report from October 5 says Y?"
is two searches: "article on GPT-4 say X" in TechCrunch, and "report says Y" in Fortune on
October 5. A question that names no outlet or date is searched as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from retrieval.models import SearchFilters
from retrieval.question.dates import DateRange, find_dates
from retrieval.question.outlets import OutletMention, OutletNames
from retrieval.question.speakers import speaker_of

_BOUNDARY = re.compile(
    r",|;|\b(?:and|while|whereas|but|or|compared to|compared with|versus|vs\.?|than)\b", re.I
)
_WORD = re.compile(r"[^\W\d_]{3,}|\d+")
_MIN_WORDS = 4  # a part with fewer words of its own borrows the whole question's


@dataclass(frozen=True)
class QueryPart:
    text: str  # the words to search with; outlet names and dates are filters instead
    filters: SearchFilters


@dataclass(frozen=True)
class QueryPlan:
    question: str
    parts: tuple[QueryPart, ...] = ()  # none: search the question as it is
    speaker: str | None = None  # "what did X say": passages quoting X come first

    @property
    def filtered(self) -> bool:
        return any(not p.filters.empty for p in self.parts)


@dataclass(frozen=True)
class _Anchor:
    start: int
    end: int
    outlets: tuple[str, ...] = ()
    dates: DateRange | None = None


def plan_query(question: str, outlets: OutletNames, today: date) -> QueryPlan:
    """Split the question into parts at each new outlet or date it names."""
    anchors = sorted(
        [_Anchor(m.start, m.end, outlets=m.outlets) for m in _mentions(question, outlets)]
        + [_Anchor(d.start, d.end, dates=d) for d in find_dates(question, today)],
        key=lambda a: a.start,
    )
    speaker = speaker_of(question)
    if not anchors:
        return QueryPlan(question, speaker=speaker)
    groups: list[list[_Anchor]] = [[]]
    starts = [0]
    for i, anchor in enumerate(anchors):
        current = groups[-1]
        clash = any((a.outlets and anchor.outlets) or (a.dates and anchor.dates) for a in current)
        if clash:
            previous = anchors[i - 1]
            if _closes_clause(question, previous.end):  # "… as reported by The Verge, and …"
                starts.append(previous.end)
            else:  # "…, while the Fortune article says …"
                starts.append(_split_point(question, previous.end, anchor.start))
            groups.append([])
        groups[-1].append(anchor)
    starts.append(len(question))
    whole = _without(question, 0, len(question), anchors)
    parts = []
    for group, start, end in zip(groups, starts, starts[1:], strict=False):
        text = _without(question, start, end, anchors)
        if len(_WORD.findall(text)) < _MIN_WORDS:
            text = whole
        parts.append(QueryPart(text, _filters(group)))
    return QueryPlan(question, tuple(parts), speaker)


def _mentions(question: str, outlets: OutletNames) -> list[OutletMention]:
    return outlets.find(question) if outlets else []


def _closes_clause(text: str, end: int) -> bool:
    """Tell whether a name ends its clause ("according to Fortune, …") or opens it."""
    rest = text[end:].lstrip()
    return not rest or rest[0] in ",;.?!)" or bool(_BOUNDARY.match(rest))


def _split_point(text: str, after: int, before: int) -> int:
    """Return where a new part starts: at the last clause boundary between two anchors."""
    cuts = [m.start() for m in _BOUNDARY.finditer(text, after, before)]
    return cuts[-1] if cuts else before


def _without(text: str, start: int, end: int, anchors: list[_Anchor]) -> str:
    """Return text[start:end] with the outlet names and date expressions taken out."""
    pieces = []
    at = start
    for a in anchors:
        if a.end <= start or a.start >= end:
            continue
        pieces.append(text[at : max(at, a.start)])
        at = max(at, a.end)
    pieces.append(text[at:end])
    return re.sub(r"\s+", " ", " ".join(pieces)).strip(" ,;")


def _filters(group: list[_Anchor]) -> SearchFilters:
    outlets: tuple[str, ...] = ()
    since = until = None
    for a in group:
        if a.outlets:
            outlets = a.outlets
        if a.dates is not None:
            since = a.dates.since.isoformat() if a.dates.since else None
            until = a.dates.until.isoformat() if a.dates.until else None
    return SearchFilters(outlets=outlets, since=since, until=until)
