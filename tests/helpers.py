"""Small builders shared by tests."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from ingest.chunk import ChunkLimits
from ingest.feeds import PollLimits, PollReport, poll_feed
from ingest.fetch import FetchPolicy
from ingest.pipeline import IngestReport, ingest_articles
from ingest.subscriptions import FeedRegistry
from retrieval.index import NewsIndex
from retrieval.models import Article, ArticleInfo, Passage


def article(
    title: str,
    paragraphs: Sequence[str],
    *,
    outlet: str = "Test Wire",
    date: str = "2025-01-15",
    url: str | None = None,
) -> Article:
    return Article(
        title=title,
        paragraphs=tuple(paragraphs),
        outlet=outlet,
        published_at=date,
        url=url,
        origin=f"test:{title}",
    )


def put(index: NewsIndex, *articles: Article) -> IngestReport:
    return ingest_articles(index, articles, limits=ChunkLimits())


VOLCANO = article(
    "Volcano erupts near Reykjavik",
    [
        "A volcano on the Reykjanes peninsula erupted on Monday evening, sending lava fountains "
        "into the sky, the Icelandic Met Office said.",
        "“The eruption is larger than the previous ones,” said geophysicist Magnus Gudmundsson. "
        "The nearby town of Grindavik had been evacuated in November.",
    ],
    outlet="Nordic Post",
    date="2023-12-19",
    url="https://nordic.example/volcano",
)
CHESS = article(
    "Teenager wins national chess championship",
    [
        "A 15-year-old from Leeds won the national chess championship on Sunday, beating the "
        "defending champion in a tense final game that lasted six hours.",
        "Her coach said she had trained every morning before school for three years.",
    ],
    outlet="Daily Board",
    date="2024-03-03",
)


# A wire story two outlets publish (syndication tests), three paragraphs long.
RATE_RISE = [
    "Central bank raises interest rates by a quarter point to fight persistent inflation, "
    "the governor told reporters on Thursday after the policy meeting ended in the capital.",
    "The decision was unanimous, and markets had widely expected the move after consumer "
    "prices rose faster than forecast for the third month in a row, officials said.",
    "“We will do what it takes to bring inflation back to target,” the governor said, adding "
    "that further increases could not be ruled out if wage growth stayed strong this year.",
]


class FakeSink:
    """An in-memory ArticleSink: whitespace words as tokens, statuses from the revisions."""

    max_tokens = 254

    def __init__(self) -> None:
        self.articles: dict[str, ArticleInfo] = {}
        self.texts: dict[str, list[str]] = {}  # article id → passage texts
        self.refreshed = 0
        self.broken = False

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) for text in texts]

    def give_way(self) -> bool:
        return False

    def is_current(self, article_id: str, revision: str) -> bool:
        old = self.articles.get(article_id)
        return old is not None and old.revision == revision

    def put_articles(
        self, articles: Sequence[tuple[ArticleInfo, Sequence[Passage]]]
    ) -> Sequence[str]:
        if self.broken:
            raise OSError("disk full")
        statuses = []
        for info, passages in articles:
            old = self.articles.get(info.article_id)
            statuses.append(
                "added"
                if old is None
                else "unchanged"
                if old.revision == info.revision
                else "updated"
            )
            self.articles[info.article_id] = info
            self.texts[info.article_id] = [passage.text for passage in passages]
        return statuses

    def refresh(self) -> None:
        self.refreshed += 1


FEED_NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
FEED_LIMITS = PollLimits(budget_seconds=30, max_new_entries=25)


def poll(
    registry: FeedRegistry,
    url: str,
    sink: FakeSink,
    policy: FetchPolicy,
    limits: PollLimits = FEED_LIMITS,
    *,
    now: datetime = FEED_NOW,
) -> PollReport:
    """Poll one subscribed feed into the sink, as of `now`."""
    return poll_feed(
        registry, url, sink=sink, limits=ChunkLimits(), policy=policy, poll_limits=limits, now=now
    )


def wait_until_parked(thread: threading.Thread, function: str, timeout: float = 60.0) -> None:
    """Block until `thread` waits on a condition inside `function` (read from its stack).

    A positive sign that the thread is held back, where sleeping and then seeing nothing happen
    would pass just as well on a machine too slow to get there. Fails after `timeout`.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = sys._current_frames().get(thread.ident or -1)
        names = []
        while frame is not None:
            names.append(frame.f_code.co_name)
            frame = frame.f_back
        if names[:1] == ["wait"] and function in names:
            return
        if not thread.is_alive() and thread.ident is not None:
            break
        time.sleep(0.005)
    raise AssertionError(f"{thread.name} never waited inside {function}()")


# A short real-looking article body for the web tests: two paragraphs of prose.
FERRY_STORY = [
    "The harbour authority approved a new ferry route to the islands on Monday, with daily "
    "crossings starting in the spring, the port director told reporters at the quay.",
    "Tickets will cost less than the old private boats charged, the director said, and the "
    "first ferry is being refitted at the shipyard across the bay this winter.",
]
