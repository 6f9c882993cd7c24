"""What kind of answer a question wants: the latest development, or a figure.

"What was the verdict in the trial?" wants the newest development the coverage has, not the
charges an older article lists; "How much does the Cybertruck cost?" wants the sentence that
states the prices. The answerer weighs candidate sentences by these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LATEST = re.compile(
    r"\b(?:verdict|outcome|result(?:s|ed)?|latest|newest|most recent|final(?:ly)?|now|"
    r"current(?:ly)?|end(?:ed)? up|so far|eventually|in the end|ruling|ruled|decision|"
    r"sentenc\w*|convict\w*|acquit\w*|guilty|return(?:ed|s)?|reinstat\w*|resign\w*|"
    r"signed|sign(?:s|ing)? with|agreed|settle[ds]?|won|win|lost|lose|replac\w*|succeed\w*|"
    r"took over|take over|next)\b",
    re.IGNORECASE,
)
_FIGURE = re.compile(
    r"\bhow (?:much|many|long|old|big|large|far|fast)\b|\b(?:price[ds]?|cost(?:s|ing)?|"
    r"salary|worth|valu(?:e|ed|ation)|amount|percent(?:age)?|number of|total|fine[ds]?|"
    r"deal|contract|paid|pay|raised|funding|revenue|sales|score)\b|"
    r"\b(?:what|which) (?:year|date|day|month|time)\b|^\s*when\b",
    re.IGNORECASE,
)
# A sentence that reports something happening, not a description or an opinion.
_DEVELOPMENT = re.compile(
    r"\b(?:found (?:not )?guilty|convicted|sentenced|acquitted|pleaded guilty|fired|ousted|"
    r"resign(?:ed|s)|return(?:ed|s|ing)|reinstated|agreed|signed|announced|launched|unveiled|"
    r"released|filed|sued|ruled|won|lost|approved|rejected|banned|arrested|charged|killed|"
    r"attacked|appointed|named|hired|elected|acquired|died|declared|opened|closed|"
    r"reached an agreement|struck a deal|voted)\b",
    re.IGNORECASE,
)
_HAS_FIGURE = re.compile(r"\d|\b(?:million|billion|trillion|percent)\b", re.IGNORECASE)
_MONEY_ASKED = re.compile(
    r"\b(?:cost(?:s|ing)?|price[ds]?|pa(?:y|id|ys)|worth|salary|fee|fine[ds]?|how much)\b", re.I
)
_HAS_MONEY = re.compile(
    r"[$€£¥]\s?\d|\d\s?(?:%|percent\b|(?:million|billion|trillion|dollars|euros|pounds)\b)",
    re.IGNORECASE,
)


# Words a question uses for an outcome that the coverage states in others: searched too.
_SAID_OTHERWISE = (
    (re.compile(r"\bverdicts?\b", re.I), "found guilty convicted acquitted jury"),
    (re.compile(r"\bhow much does .+ cost\b|\bcost of\b", re.I), "price starts at"),
)


def search_words(question: str) -> str:
    """Return the question with the words the coverage likely uses for what it asks."""
    extra = [words for pattern, words in _SAID_OTHERWISE if pattern.search(question)]
    return " ".join([question, *extra])


@dataclass(frozen=True)
class Intent:
    latest: bool = False  # an outcome or "latest" question: the newest development first
    figure: bool = False  # a price, number or date: the sentence that states it
    money: bool = False  # …a price or an amount: only a sentence stating one counts


def intent_of(question: str) -> Intent:
    """Return what kind of answer the question wants."""
    figure = _FIGURE.search(question) is not None
    return Intent(
        latest=_LATEST.search(question) is not None,
        figure=figure,
        money=figure and _MONEY_ASKED.search(question) is not None,
    )


def states_figure(sentence: str, *, money: bool = False) -> bool:
    """Tell whether a sentence states a number, a price or a date (`money`: an amount)."""
    return (_HAS_MONEY if money else _HAS_FIGURE).search(sentence) is not None


def reports_development(sentence: str) -> bool:
    """Tell whether a sentence reports something that happened ("was found guilty")."""
    return _DEVELOPMENT.search(sentence) is not None
