"""The proper names a question holds: what a passage must mention to be about its subject.

"How did The Verge cover Sam Altman's return to OpenAI?" is about Sam Altman and OpenAI; a Verge
passage about Sam Bankman-Fried's trial shares "Sam" and "return" with it, and meaning enough
to pass a relevance bar, but none of its rarer names. A name here is a capitalised word that
does not open a sentence and is not a month or a weekday.
"""

from __future__ import annotations

import calendar
import re

_WORD = re.compile(r"[\w’'&.-]+")
_NOT_NAMES = frozenset(
    {name.lower() for name in (*calendar.month_name, *calendar.day_name) if name}
    | {"i", "i'm", "i’m", "i've", "i’ve", "i'd", "i’d"}
)


# Where a question passes from one thing asked to the next ("…, convinced a colleague to join
# him, and is accused of …"): each clause may come from a different report.
_CLAUSE_BREAK = re.compile(
    r"[,;:]|\s(?:while|whereas|but|although|though|and (?:is|was|has|had|also|then|did|does))\s",
    re.IGNORECASE,
)


def clauses_of(text: str) -> list[str]:
    """Return the clauses of a question (the whole text if it has none)."""
    return [c.strip() for c in _CLAUSE_BREAK.split(text) if c.strip()] or [text]


def names_in(text: str) -> list[str]:
    """Return the capitalised words of the text that name someone or something, in order."""
    names = []
    opens = True  # the next word opens a sentence: its capital says nothing
    for match in _WORD.finditer(text):
        word = match[0].strip(".'’-")
        before = text[max(0, match.start() - 2) : match.start()].strip()
        if before and before[-1] in ".?!:;":
            opens = True
        if word and word[0].isupper() and not opens and word.lower() not in _NOT_NAMES:
            names.append(word)
        opens = False
    return names
