"""RSS/Atom subscriptions: a persisted registry of feeds, and polling one feed into the index.

Each poll fetches the feed, reads every entry not seen before from its web page (or, when the
page fails, from the feed's own text if that is substantial), ingests the new articles in one
batch and remembers which entries were handled, so the next poll only does the new ones.
"""

from __future__ import annotations

import builtins
import calendar
import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser

from ingest.chunk import ChunkLimits
from ingest.fetch import Fetched, FetchError, FetchPolicy, fetch
from ingest.formats import parse_html
from ingest.parse import ParseError, build_article, clean_paragraphs, clean_text, normalize_date
from ingest.pipeline import ArticleSink, ingest_articles
from retrieval.types import Article, ArticleInfo, Passage

logger = logging.getLogger(__name__)

MIN_INTERVAL = 60
MAX_SEEN = 5000
# Below this much text a feed summary is a teaser, not an article worth indexing in its place.
MIN_SUMMARY_CHARS = 300

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_BLANK_LINES = re.compile(r"\n\s*\n")
# feedparser has already removed scripts and styles, so tags can simply be dropped.
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|div|br|li|h[1-6]|blockquote|pre|tr)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")


@dataclass
class Feed:
    url: str
    every_seconds: int = 1800
    title: str | None = None
    last_polled: str | None = None  # ISO datetime
    seen: list[str] = field(default_factory=list)  # entry keys handled, most recent last


def parse_interval(text: str) -> int:
    """Return the seconds in an interval such as "30m", "2h", "1d", "45s" or "90"."""
    match = _INTERVAL.match(text)
    if match is None:
        raise ValueError(
            f"cannot read the interval {text.strip()!r}: use a number with s, m, h or d, e.g. 30m"
        )
    seconds = int(match[1]) * _UNITS[match[2].lower()]
    if seconds < MIN_INTERVAL:
        raise ValueError(f"the interval must be at least 1 minute, not {seconds} s")
    return seconds


def _aware(moment: datetime) -> datetime:
    # Naive datetimes are taken as local time, so they compare with the stored aware ones.
    return moment if moment.tzinfo else moment.astimezone()


def _key(url: str) -> str:
    # Trailing slashes and host case do not make a second subscription to the same feed.
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}?{parts.query}"


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
            feeds = [Feed(**item) for item in data["feeds"]]
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, KeyError) as error:
            # Keep the damaged file for a human rather than overwrite it with an empty list.
            aside = self.path.with_name(self.path.name + ".corrupt")
            logger.error("cannot read %s (%s); moving it to %s", self.path, error, aside)
            with contextlib.suppress(OSError):
                self.path.replace(aside)
            return {}
        return {_key(feed.url): feed for feed in feeds}

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
            feed = feeds.setdefault(_key(url), Feed(url=url))
            feed.every_seconds = every_seconds
        return dataclasses.replace(feed, seen=list(feed.seen))

    def remove(self, url: str) -> bool:
        """Unsubscribe; return whether the feed was subscribed."""
        with self._editing() as feeds:
            return feeds.pop(_key(url.strip()), None) is not None

    def list(self) -> list[Feed]:
        with self._lock:
            return builtins.list(self._read().values())

    def get(self, url: str) -> Feed | None:
        with self._lock:
            return self._read().get(_key(url.strip()))

    def due(self, now: datetime) -> builtins.list[Feed]:
        """Return the feeds to poll (never polled, or an interval ago), most overdue first."""
        now = _aware(now)
        due: builtins.list[tuple[datetime, Feed]] = []
        for feed in self.list():
            try:
                last = _aware(datetime.fromisoformat(feed.last_polled or ""))
            except ValueError:  # never polled, or a damaged timestamp: poll it now
                last = datetime.min.replace(tzinfo=UTC)
            next_poll = last + timedelta(seconds=feed.every_seconds)
            if next_poll <= now:
                due.append((next_poll, feed))
        return [feed for _, feed in sorted(due, key=lambda pair: pair[0])]

    def _record_poll(
        self, url: str, now: datetime, title: str | None, handled: builtins.list[str]
    ) -> None:
        """Record a poll in one locked change, keeping whatever else changed meanwhile."""
        with self._editing() as feeds:
            feed = feeds.get(_key(url))
            if feed is not None:  # None: unsubscribed during the poll
                feed.last_polled = now.isoformat(timespec="seconds")
                feed.title = title or feed.title
                fresh = set(handled)
                feed.seen = ([key for key in feed.seen if key not in fresh] + handled)[-MAX_SEEN:]

    def save_feed(self, feed: Feed) -> None:
        """Store the feed's state; a feed unsubscribed meanwhile is not brought back."""
        with self._editing() as feeds:
            if _key(feed.url) not in feeds:
                logger.info("not saving %s: no longer subscribed", feed.url)
            else:
                feeds[_key(feed.url)] = dataclasses.replace(feed, seen=feed.seen[-MAX_SEEN:])


@dataclass
class PollReport:
    feed: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # entries seen in an earlier poll
    failed: list[tuple[str, str]] = field(default_factory=list)  # (link or feed url, reason)
    notes: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)  # headlines of the added articles
    title: str | None = None  # the feed's title, as read in this poll (for announcements)


# fetch(url, policy, *, kind="html" | "feed") -> Fetched; replaceable for tests.
Fetcher = Callable[..., Fetched]


class _RecordingSink:
    """Pass everything on to the real sink, noting each stored article's status."""

    def __init__(self, sink: ArticleSink):
        self.sink = sink
        self.statuses: list[tuple[ArticleInfo, str]] = []
        self.current: set[str] = set()  # ids found already stored as they are (not re-sent)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sink, name)

    def is_current(self, article_id: str, revision: str) -> bool:
        current = bool(self.sink.is_current(article_id, revision))
        if current:
            self.current.add(article_id)
        return current

    def put_articles(
        self, articles: Sequence[tuple[ArticleInfo, Sequence[Passage]]]
    ) -> Sequence[str]:
        statuses = self.sink.put_articles(articles)
        self.statuses.extend(zip((info for info, _ in articles), statuses, strict=True))
        return statuses


def _entry_date(entry: Any) -> str | None:
    for name in ("published", "updated"):
        parsed = entry.get(f"{name}_parsed")
        if parsed:  # feedparser's struct_time is UTC
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()
        if entry.get(name):
            return normalize_date(entry[name])
    return None


def _entry_text(entry: Any) -> tuple[str, ...]:
    """Return the paragraphs of the entry's own HTML (or plain text) content or summary."""
    content = entry.get("content") or []
    html = (content[0].get("value") if content else None) or entry.get("summary") or ""
    # Blank lines part plain-text paragraphs; a single line break is only wrapping.
    text = _BLANK_LINES.sub("<p>", html).replace("\n", " ")
    text = _TAG.sub("", _BLOCK_TAG.sub("\n", text))
    return clean_paragraphs(unescape(text).split("\n"))


def _entry_key(entry: Any) -> str:
    if entry.get("id") or entry.get("link"):
        return str(entry.get("id") or entry.get("link"))
    # Neither id nor link: the headline and text are all that identify the entry.
    text = "\n".join([entry.get("title", ""), *_entry_text(entry)])
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _oldest_first(entries: list[Any]) -> list[Any]:
    dates = [_entry_date(entry) for entry in entries]
    if not all(dates):
        return entries[::-1]  # feeds list the newest entry first
    # Dates from feedparser are aware; a bare "2024-03-14" from a date it could not parse is not.
    order = sorted(
        range(len(entries)), key=lambda i: _aware(datetime.fromisoformat(dates[i] or ""))
    )
    return [entries[i] for i in order]


def _read_entry(
    entry: Any, outlet: str | None, policy: FetchPolicy, fetcher: Fetcher, report: PollReport
) -> Article | None:
    """Return the entry's article, from its page or else from the feed; None when it failed."""
    link: str | None = entry.get("link")
    text = _entry_text(entry)
    date = _entry_date(entry)
    failure = None
    if link:
        try:
            fetched = fetcher(link, policy, kind="html")
            page = parse_html(fetched.text, link)
            return dataclasses.replace(
                page,
                url=fetched.url or link,
                published_at=page.published_at or date,
                outlet=page.outlet or outlet,
            )
        except FetchError as error:
            failure = f"page could not be fetched ({error})"
        except ParseError as error:
            failure = f"page could not be read ({error})"
        except Exception as error:  # one odd page must not cost the feed's other entries
            logger.exception("reading %s failed", link)
            failure = f"page could not be read ({type(error).__name__}: {error})"
        length = sum(len(paragraph) for paragraph in text)
        if length < MIN_SUMMARY_CHARS:
            report.failed.append(
                (link, f"{failure}; the feed's own text is too short to use ({length} characters)")
            )
            return None
    elif not text:
        report.failed.append((report.feed, "entry has neither a link nor content"))
        return None
    try:
        article = build_article(
            entry.get("title"),
            text,
            link or report.feed,
            outlet=outlet,
            published_at=date,
            url=link,
            author=entry.get("author"),
        )
    except ParseError as error:
        reason = f"{failure}; the feed's own text: {error}" if failure else str(error)
        report.failed.append((link or report.feed, reason))
        return None
    if failure:
        report.notes.append(f"{link}: {failure}; used the feed's own summary")
    return article


def _parse_feed(fetched: Fetched) -> Any:
    """Return feedparser's reading of the fetched text; raise ParseError if it is no feed."""
    # Bytes in a stream, never a str: feedparser would open a str that looks like a URL or path.
    parsed = feedparser.parse(
        io.BytesIO(fetched.text.encode("utf-8")),
        response_headers={
            "content-type": "application/xml; charset=utf-8",
            "content-location": fetched.url,  # to resolve relative links
        },
    )
    if not parsed.entries and (parsed.bozo or not parsed.version):
        reason = str(parsed.get("bozo_exception") or "").strip() or "no RSS or Atom elements"
        raise ParseError(f"not a valid RSS or Atom feed: {reason.splitlines()[0]}")
    return parsed


def poll_feed(
    registry: FeedRegistry,
    feed_url: str,
    *,
    sink: ArticleSink,
    limits: ChunkLimits,
    policy: FetchPolicy,
    now: datetime | None = None,
    fetcher: Fetcher = fetch,
) -> PollReport:
    """Fetch a subscribed feed, ingest the entries not seen before, and record the poll."""
    now = _aware(now or datetime.now(UTC))
    feed = registry.get(feed_url)
    if feed is None:
        return PollReport(feed_url, failed=[(feed_url, "not subscribed to this feed")])
    report = PollReport(feed.url, title=feed.title)
    handled: list[str] = []  # keys of the entries stored, not to be read again
    try:
        parsed = _parse_feed(fetcher(feed.url, policy, kind="feed"))
        feed.title = report.title = clean_text(parsed.feed.get("title") or "") or feed.title
        seen = set(feed.seen)
        articles: list[tuple[str, Article]] = []  # (entry key, article) of the new entries
        for entry in _oldest_first(parsed.entries):
            key = _entry_key(entry)
            if key in seen:
                report.skipped += 1
                continue
            seen.add(key)  # the same entry twice in one feed is read once
            article = _read_entry(entry, feed.title, policy, fetcher, report)
            if article is not None:
                articles.append((key, article))
        handled = _ingest(articles, sink, limits, report) if articles else []
    except (FetchError, ParseError) as error:
        # Still recorded as polled below, so a broken feed waits its interval like any other.
        report.failed.append((feed.url, str(error)))
    except Exception as error:  # the background poller must survive whatever one feed does
        logger.exception("polling %s failed", feed.url)
        report.failed.append((feed.url, f"{type(error).__name__}: {error}".splitlines()[0]))
    registry._record_poll(feed.url, now, feed.title, handled)
    return report


def _ingest(
    articles: list[tuple[str, Article]], sink: ArticleSink, limits: ChunkLimits, report: PollReport
) -> list[str]:
    """Ingest the new articles in one batch; return the keys of the entries stored."""
    recorder = _RecordingSink(sink)
    result = ingest_articles(recorder, [article for _, article in articles], limits=limits)
    report.added, report.updated, report.unchanged = result.added, result.updated, result.unchanged
    report.failed.extend(result.failed)
    report.titles = [info.title for info, status in recorder.statuses if status == "added"]
    # Articles that could not be stored stay unseen, to be tried again next poll.
    stored = {info.article_id for info, _ in recorder.statuses} | recorder.current
    return [key for key, article in articles if article.article_id in stored]
