"""Feed subscriptions: which feeds, how often, and what each poll of them has seen.

Kept in one JSON file that every change rewrites atomically, under a thread lock and a file
lock: the bot's poller, its commands and a `newsbot feeds` command in another process may all
change it. What a poll does with a feed is `ingest.feeds`.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ingest.durations import as_utc, duration_seconds, parse_moment
from retrieval import normalize_url

logger = logging.getLogger(__name__)

MIN_INTERVAL = 60
DEFAULT_EVERY = "30m"  # how often a feed is polled when its subscription gives no interval
DEFAULT_EVERY_SECONDS = 30 * 60
# An entry the feed no longer lists is remembered this long, in case it comes back.
SEEN_KEEP_DAYS = 30


@dataclass
class Feed:
    url: str
    every_seconds: int = DEFAULT_EVERY_SECONDS
    title: str | None = None
    last_polled: str | None = None  # ISO datetime
    seen: dict[str, str] = field(default_factory=dict)  # entry token → ISO day last listed
    retries: dict[str, Retry] = field(default_factory=dict)  # entry token → its failures


@dataclass
class Retry:
    """A failing entry's record: how often it failed, and when it may be tried again."""

    tries: int
    after: str  # ISO datetime


def entry_token(key: str) -> str:
    """Return the short fixed-size token under which an entry's key is remembered."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _feed_from_record(item: dict[str, Any]) -> Feed:
    """Return a Feed from its JSON record, upgrading the older list of raw entry keys."""
    seen = item.get("seen") or {}
    if isinstance(seen, list):
        day = str(item.get("last_polled") or "")[:10] or datetime.now(UTC).date().isoformat()
        seen = {entry_token(str(key)): day for key in seen}
    retries = {
        str(token): Retry(int(value["tries"]), str(value["after"]))
        for token, value in (item.get("retries") or {}).items()
    }
    fields = {k: v for k, v in item.items() if k not in ("seen", "retries")}
    return Feed(**fields, seen=dict(seen), retries=retries)


def parse_interval(text: str) -> int:
    """Return the seconds in an interval such as "30m", "2h", "1d", "45s" or "90"."""
    seconds = duration_seconds(text)
    if seconds is None:
        raise ValueError(
            f"cannot read the interval {text.strip()!r}: use a number with s, m, h or d, e.g. 30m"
        )
    if seconds < MIN_INTERVAL:
        raise ValueError(f"the interval must be at least 1 minute, not {seconds} s")
    return seconds


class FeedRegistry:
    """The subscriptions, kept in a JSON file that every change rewrites atomically.

    The file is read afresh on every call and changed under a thread lock and a file lock,
    because the bot's background poller, its commands and a `newsbot feeds` command in another
    process may all change it; each works on its own copies of the feeds.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.RLock()

    def _read(self) -> dict[str, Feed]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            feeds = [_feed_from_record(item) for item in data["feeds"]]
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, KeyError) as error:
            # Keep the damaged file for a human rather than overwrite it with an empty list.
            aside = self.path.with_name(self.path.name + ".corrupt")
            logger.error("cannot read %s (%s); moving it to %s", self.path, error, aside)
            with contextlib.suppress(OSError):
                self.path.replace(aside)
            return {}
        return {normalize_url(feed.url): feed for feed in feeds}

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, Feed]]:
        """Yield the current feeds to change, then write them back atomically."""
        from filelock import FileLock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, FileLock(f"{self.path}.lock"):
            feeds = self._read()
            yield feeds
            data = {"feeds": [dataclasses.asdict(feed) for feed in feeds.values()]}
            handle, temp = tempfile.mkstemp(".tmp", self.path.name, self.path.parent)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    json.dump(data, file, indent=1, ensure_ascii=False)
                Path(temp).replace(self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise

    def add(self, url: str, every_seconds: int) -> Feed:
        """Subscribe to a feed, or change the interval of one already subscribed."""
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        if every_seconds < MIN_INTERVAL:
            raise ValueError(f"the interval must be at least 1 minute, not {every_seconds} s")
        with self._editing() as feeds:
            feed = feeds.setdefault(normalize_url(url), Feed(url=url))
            feed.every_seconds = every_seconds
        return dataclasses.replace(feed, seen=dict(feed.seen), retries=dict(feed.retries))

    def remove(self, url: str) -> bool:
        """Unsubscribe; return whether the feed was subscribed."""
        with self._editing() as feeds:
            return feeds.pop(normalize_url(url.strip()), None) is not None

    def list(self) -> list[Feed]:
        with self._lock:
            return builtins.list(self._read().values())

    def get(self, url: str) -> Feed | None:
        with self._lock:
            return self._read().get(normalize_url(url.strip()))

    def due(self, now: datetime) -> builtins.list[Feed]:
        """Return the feeds to poll (never polled, or an interval ago), most overdue first."""
        now = as_utc(now)
        due: builtins.list[tuple[datetime, Feed]] = []
        for feed in self.list():
            try:
                last = parse_moment(feed.last_polled or "")
            except ValueError:  # never polled, or a damaged timestamp: poll it now
                last = datetime.min.replace(tzinfo=UTC)
            next_poll = last + timedelta(seconds=feed.every_seconds)
            if next_poll <= now:
                due.append((next_poll, feed))
        return [feed for _, feed in sorted(due, key=lambda pair: pair[0])]

    def _record_poll(self, url: str, now: datetime, outcome: PollOutcome | None) -> None:
        """Record a poll in one locked change, keeping whatever else changed meanwhile.

        `outcome` is None when the feed itself could not be read: the poll still counts, so a
        broken feed waits its interval like any other, but nothing is forgotten.
        """
        with self._editing() as feeds:
            feed = feeds.get(normalize_url(url))
            if feed is None:  # unsubscribed during the poll
                return
            feed.last_polled = now.isoformat(timespec="seconds")
            if outcome is None:
                return
            feed.title = outcome.title or feed.title
            today = now.date().isoformat()
            keep_from = (now - timedelta(days=SEEN_KEEP_DAYS)).date().isoformat()
            for token in outcome.listed & feed.seen.keys():
                feed.seen[token] = today
            for token in outcome.handled:
                feed.seen[token] = today
                feed.retries.pop(token, None)
            feed.retries.update(outcome.retries)
            feed.seen = {t: day for t, day in feed.seen.items() if day >= keep_from}
            feed.retries = {
                t: retry
                for t, retry in feed.retries.items()
                if t in outcome.listed or retry.after[:10] >= keep_from
            }

    def save_feed(self, feed: Feed) -> None:
        """Store the feed's state; a feed unsubscribed meanwhile is not brought back."""
        with self._editing() as feeds:
            if normalize_url(feed.url) not in feeds:
                logger.info("not saving %s: no longer subscribed", feed.url)
            else:
                feeds[normalize_url(feed.url)] = feed


@dataclass
class PollOutcome:
    """What a poll that read its feed learned, to be recorded in the registry."""

    title: str | None
    listed: set[str]  # tokens of every entry the feed lists now
    handled: list[str]  # tokens of the entries done with: stored, or given up
    retries: dict[str, Retry]  # tokens of entries that failed and will be tried again
