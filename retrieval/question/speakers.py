"""Who said what: the speaker a question asks about, and passages that quote them."""

from __future__ import annotations

import re

from retrieval.models import Passage

_SPEAKER = re.compile(
    r"\b(?:what|how)\s+(?:did|does|do|has|have|had|is|was|were)\s+(?P<who>.+?)\s+"
    r"(?:say|said|tell|told|think|claim|argue|warn|mean|describe|respond|react|reply|"
    r"comment|announce|explain|state|write|add|note|call|insist)\w*\b",
    re.IGNORECASE,
)
ATTRIBUTION = re.compile(
    r"\b(?:he|she|they)\s+(?:said|says|added|told|noted|stated|explained|continued|argued|"
    r"insisted|warned|asked|replied|wrote)\b|\b(?:said|added|told)\s+(?:he|she|they)\b",
    re.IGNORECASE,
)
_ATTRIBUTION_VERB = re.compile(
    r"\b(?:said|says|added|adds|told|noted|stated|explained|continued|argued|insisted|warned|"
    r"asked|replied|wrote)\b",
    re.IGNORECASE,
)


def speaker_of(question: str) -> str | None:
    """Return who the question asks about ("what did X say ..."), if it asks that.

    "What did the Fortune article say" asks about a text, not a person: no speaker.
    """
    match = _SPEAKER.search(question)
    if not match:
        return None
    who = match["who"].strip()
    if surname_of(who) in _WRITINGS or surname_of(who) in _NOBODY_IN_PARTICULAR:
        return None
    return who


def spoken_about(question: str) -> str:
    """Return what a "what did X say about …" question asks X about ("about Epic's win"), or
    "" when it names nothing past the speaker."""
    match = _SPEAKER.search(question)
    return question[match.end() :].strip() if match else ""


def spoken_by(surname: str, text: str) -> bool:
    """Tell whether the text attributes words to the person ("Putin said", "said Putin")."""
    if not surname:
        return False
    name = re.escape(surname)
    verb = _ATTRIBUTION_VERB.pattern
    near = r"\W+(?:\w+\W+){0,3}?"
    return bool(
        re.search(rf"\b{name}{near}{verb}", text, re.IGNORECASE)
        or re.search(rf"{verb}{near}(?:\w+\W+)?{name}\b", text, re.IGNORECASE)
        or re.search(rf"[—–-]\s*(?:\w+\s+)?{name}\b", text, re.IGNORECASE)
    )


def is_attribution(sentence: str) -> bool:
    """Tell whether a sentence only says who spoke ("Putin added.", "he said.")."""
    words = sentence.split()
    return len(words) <= 5 and bool(_ATTRIBUTION_VERB.search(sentence))


_WRITINGS = frozenset(
    """article articles report reports reporting story stories piece coverage paper newspaper
    outlet outlets source sources news media press editorial column blog post""".split()  # noqa: SIM905 - a word list reads better as text
)


# "What did people say about …" asks what was said, by no one a passage would name.
_NOBODY_IN_PARTICULAR = frozenset(
    """people they others users fans critics experts everyone observers analysts commentators
    reporters public readers viewers residents social internet""".split()  # noqa: SIM905 - a word list reads better as text
)


def surname_of(speaker: str) -> str:
    """Return the word a passage most likely uses for the speaker ("Putin" for Vladimir Putin)."""
    words = re.findall(r"[\w'’.-]+", speaker)
    return words[-1].lower() if words else ""


def quotes(surname: str, passage: Passage) -> bool:
    """Tell whether the passage quotes someone and names the speaker (in it or just before)."""
    text = passage.text
    quoted = "“" in text or text.count('"') >= 2
    named = surname in text.lower() or surname in passage.context.lower()
    return quoted and bool(surname) and named
