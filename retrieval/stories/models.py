"""What the story views return: a timeline, a comparison of outlets, a brief, follow matches.

Every line carries its citations in the shape of `newsbot ask --json` (numbered across the whole
view, so a line's [n] and the Passages button agree), and `as_dict` gives the CLI's JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from retrieval.models import Citation, Passage, Publication


class Numbering:
    """Numbers passages [1], [2]… in the order a view first cites them, each citation with the
    other outlets that published the same story (as `ask` cites)."""

    def __init__(self, also_published: Callable[[str], tuple[Publication, ...]]) -> None:
        self.also_published = also_published
        self.citations: list[Citation] = []
        self._numbers: dict[str, int] = {}

    def cite(self, passage: Passage) -> Citation:
        n = self._numbers.get(passage.passage_id)
        if n is None:
            n = self._numbers[passage.passage_id] = len(self._numbers) + 1
            also = self.also_published(passage.article_id)
            self.citations.append(Citation(n, passage, also))
        return self.citations[n - 1]


def cited(text: str, citations: tuple[Citation, ...]) -> str:
    """Return the text followed by its citation marks: "… [1][3]"."""
    return f"{text} {''.join(f'[{c.n}]' for c in citations)}".strip()


@dataclass(frozen=True)
class TimelineEvent:
    date: str  # YYYY-MM-DD, the earliest publication among the merged reports
    text: str  # what happened, quoted, with its [n] marks
    citations: tuple[Citation, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "date": self.date,
            "text": self.text,
            "citations": [c.as_dict() for c in self.citations],
        }


@dataclass(frozen=True)
class Timeline:
    topic: str
    events: tuple[TimelineEvent, ...] = ()
    note: str | None = None  # why there are no events, when there are none

    def as_dict(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "events": [e.as_dict() for e in self.events],
            "note": self.note,
        }


@dataclass(frozen=True)
class OutletReport:
    outlet: str
    text: str  # what it reported or quoted, with [n] marks; empty when it has nothing
    citations: tuple[Citation, ...] = ()
    only: bool = False  # no other outlet compared carried anything like it
    missing: bool = False  # the coverage holds nothing of this outlet's on the topic

    def as_dict(self) -> dict[str, object]:
        return {
            "outlet": self.outlet,
            "text": self.text,
            "citations": [c.as_dict() for c in self.citations],
            "only": self.only,
            "missing": self.missing,
        }


@dataclass(frozen=True)
class Comparison:
    topic: str
    outlets: tuple[OutletReport, ...] = ()
    note: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "outlets": [o.as_dict() for o in self.outlets],
            "note": self.note,
        }


@dataclass(frozen=True)
class BriefStory:
    title: str
    outlets: tuple[str, ...]
    text: str  # one cited sentence
    citations: tuple[Citation, ...]
    articles: tuple[str, ...] = ()  # the ids of the articles grouped into this story

    def as_dict(self) -> dict[str, object]:
        return {
            "title": self.title,
            "outlets": list(self.outlets),
            "text": self.text,
            "citations": [c.as_dict() for c in self.citations],
            "articles": list(self.articles),
        }


@dataclass(frozen=True)
class Brief:
    since: str  # ISO datetime
    stories: tuple[BriefStory, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"since": self.since, "stories": [s.as_dict() for s in self.stories]}


@dataclass(frozen=True)
class Topic:
    """A followed topic, as the matcher needs it."""

    key: str  # the caller's id for it
    text: str
    outlets: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowMatch:
    """A new article that matched a followed topic, with the passage that matched."""

    topic: str  # Topic.key
    article_id: str
    score: float
    text: str  # the best sentence for the topic, with its [1]
    citations: tuple[Citation, ...] = field(default=())
