"""Values that cross package lines: articles, passages, search hits and answers.

Plain frozen dataclasses so that neither Discord objects nor LangChain documents ever leak
between `ingest/`, `retrieval/` and `bot/`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from retrieval.days import iso_date
from retrieval.urls import normalize_url

_SPACE = re.compile(r"\s+")


def _digest(*parts: str) -> str:
    joined = "\x1f".join(parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Article:
    """One news article as parsed from a source, before chunking."""

    title: str
    paragraphs: tuple[str, ...]
    outlet: str | None = None
    published_at: str | None = None  # ISO date or datetime, as precise as the source gives
    url: str | None = None
    author: str | None = None
    origin: str = ""  # where it came from (file and position), for reports
    # Set for an item that only its source vouches for (a feed's own summary): the id then
    # comes from this key, so such an item can never take the place of another article.
    item_key: str | None = None
    canonical_url: str | None = None  # the page's own claim, kept when it is not `url`

    @property
    def article_id(self) -> str:
        """Return an id derived from the url, or from headline, outlet and date without one.

        The body is deliberately left out: an edited article keeps its id and replaces its
        old passages instead of being indexed twice.
        """
        if self.item_key:
            return _digest("item", self.item_key)
        if self.url:
            return _digest("url", normalize_url(self.url))
        title = _SPACE.sub(" ", self.title).strip().lower()
        return _digest(
            "article", title, (self.outlet or "").lower(), iso_date(self.published_at) or ""
        )

    @property
    def revision(self) -> str:
        """Return a fingerprint of everything indexed: any change makes a new revision."""
        return _digest(
            self.title,
            self.outlet or "",
            self.published_at or "",
            self.url or "",
            self.author or "",
            *self.paragraphs,
        )


@dataclass(frozen=True)
class Passage:
    """A paragraph-sized piece of an article: the unit that is embedded, searched and cited."""

    passage_id: str
    article_id: str
    position: int  # order of the passage within its article, from 0
    text: str
    title: str
    outlet: str | None = None
    published_at: str | None = None
    url: str | None = None
    author: str | None = None
    paragraph: int = 0  # index of the article paragraph the passage starts in
    context: str = ""  # text of the neighbouring passage before it, to disambiguate (not cited)

    @property
    def published_date(self) -> str | None:
        return iso_date(self.published_at)

    @property
    def contextual_text(self) -> str:
        """Return what gets embedded and keyword-indexed: headline, context, then the text."""
        return "\n".join(part for part in (self.title, self.context, self.text) if part)


def passage_id(article_id: str, revision: str, position: int) -> str:
    """Return the stable id of the passage at `position` in one revision of an article.

    The revision is part of the id so that a new revision's passages never overwrite the
    committed ones before the new revision is committed (see retrieval/storage/store.py).
    """
    return f"{article_id}-{revision[:8]}-{position:04d}"


def passage_place(pid: str) -> tuple[str, int] | None:
    """Return (article id, position) of a `passage_id`; None for an id it did not make."""
    parts = pid.rsplit("-", 2)
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return parts[0], int(parts[2])


@dataclass(frozen=True)
class SearchHit:
    passage: Passage
    score: float  # fused relevance, larger is better; comparable only within one search
    dense: float = 0.0  # cosine similarity of the question to the passage, 0 when not retrieved
    lexical: float = 0.0  # BM25 score, 0 when not retrieved


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions on which passages may be returned."""

    outlets: tuple[str, ...] = ()
    since: str | None = None  # ISO date, inclusive
    until: str | None = None  # ISO date, inclusive

    @property
    def empty(self) -> bool:
        return not (self.outlets or self.since or self.until)

    def admits(self, passage: Passage) -> bool:
        """Tell whether the passage is within these restrictions."""
        if self.outlets and (passage.outlet or "") not in self.outlets:
            return False
        if not (self.since or self.until):
            return True
        day = passage.published_date
        if not day:
            return False
        return not ((self.since and day < self.since) or (self.until and day > self.until))


@dataclass(frozen=True)
class Citation:
    n: int
    passage: Passage
    also_published: tuple[Publication, ...] = ()

    def as_dict(self) -> dict[str, object]:
        p = self.passage
        return {
            "n": self.n,
            "article_id": p.article_id,
            "title": p.title,
            "outlet": p.outlet,
            "published_at": p.published_date,
            "url": p.url,
            "passage_id": p.passage_id,
            "text": p.text,
            "also_published": [pub.as_dict() for pub in self.also_published],
        }


@dataclass(frozen=True)
class Answer:
    text: str
    citations: tuple[Citation, ...] = ()
    grounded: bool = False
    notes: tuple[str, ...] = field(default=())  # e.g. "the chat model was unavailable"

    def as_dict(self) -> dict[str, object]:
        return {
            "answer": self.text,
            "citations": [c.as_dict() for c in self.citations],
            "grounded": self.grounded,
        }


@dataclass(frozen=True)
class Publication:
    """Another outlet's publication of a story already indexed (a syndicated copy)."""

    outlet: str | None
    url: str | None
    published_at: str | None
    title: str

    def as_dict(self) -> dict[str, object]:
        return {
            "outlet": self.outlet,
            "url": self.url,
            "published_at": iso_date(self.published_at),
            "title": self.title,
        }


@dataclass(frozen=True)
class ArticleInfo:
    """What the index knows of one stored article."""

    article_id: str
    title: str
    outlet: str | None
    published_at: str | None
    url: str | None
    passages: int
    revision: str
    ingested_at: str = ""
    also_published: tuple[Publication, ...] = ()
    canonical_url: str | None = None


# One turn of a conversation: ("user" | "assistant", text).
Turn = tuple[str, str]
