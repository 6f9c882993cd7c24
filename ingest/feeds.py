"""Polling one RSS/Atom feed into the index (the subscriptions themselves: `ingest.subscriptions`).

Each poll fetches the feed, reads the entries not seen before from their web pages (or, when a
page fails, from the feed's own text if that is substantial), ingests the new articles in one
batch and remembers which entries were handled, so the next poll only does the new ones.

A feed is somebody else's server, so a poll is bounded: at most `PollLimits.max_new_entries`
entries are read per poll and the whole poll keeps to `PollLimits.budget_seconds`; what is left
waits for the next poll. An entry that fails is tried again on later polls, backing off, and
given up after MAX_TRIES. The record of seen entries holds the entries the feed still lists
(and, for SEEN_KEEP_DAYS, those it dropped), so it grows with the feed, not with time.

Provenance: an entry's page is stored under the address it was fetched from (see
`ingest.pipeline.fetch_article`). When only the feed's own summary can be used, it is stored as
the feed's own item (an id of its own, `Article.item_key`), so a feed can never replace another
site's article, and it links to the entry only when that link is a web URL that the fetcher
did not refuse.
"""

from __future__ import annotations

import calendar
import dataclasses
import hashlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

from ingest import worker
from ingest.article import ParseError, build_article, clean_paragraphs, clean_text, read_date
from ingest.chunk import ChunkLimits
from ingest.durations import as_utc, parse_moment
from ingest.fetch import Fetched, FetchError, FetchPolicy, FetchRefused, fetch
from ingest.formats import host_name, outlet_name
from ingest.pipeline import ArticleSink, IngestReport, fetch_article, ingest_articles
from ingest.subscriptions import (
    Feed,
    FeedRegistry,
    PollOutcome,
    Retry,
    entry_token,
)
from retrieval import Article, ArticleInfo, Passage, normalize_url, same_site

logger = logging.getLogger(__name__)

# A failing entry is tried this many times, each after twice the wait of the one before.
MAX_TRIES = 3
# Less time than this left in a poll's budget is not enough to start reading another page.
_MIN_FETCH_SECONDS = 0.5
# A feed listing more entries than this is refused unread: parsing 100,000 entries took 33 s;
# real feeds list tens, a few archives some thousands.
MAX_FEED_ENTRIES = 10_000
_ENTRY_TAG = re.compile(r"<(?:[\w.-]+:)?(?:item|entry)[\s>/]", re.IGNORECASE)
# Below this much text a feed summary is a teaser, not an article worth indexing in its place.
MIN_SUMMARY_CHARS = 300

_BLANK_LINES = re.compile(r"\n\s*\n")
# feedparser has already removed scripts and styles, so tags can simply be dropped.
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|div|br|li|h[1-6]|blockquote|pre|tr)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class PollLimits:
    """How much one poll of one feed may do (NEWSBOT_FEED_POLL_BUDGET, _FEED_MAX_NEW_ENTRIES)."""

    budget_seconds: float = 120.0  # the whole poll: the feed and every page it reads
    max_new_entries: int = 25  # new entries read per poll; the rest wait for the next one


@dataclass(kw_only=True)
class PollReport(IngestReport):
    """An ingest report for one poll of one feed, with what only a poll has to say."""

    feed: str
    skipped: int = 0  # entries seen in an earlier poll
    deferred: int = 0  # new entries left for a later poll (limits, or waiting to be retried)
    notes: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)  # headlines of the added articles
    title: str | None = None  # the feed's title, as read in this poll (for announcements)

    def as_dict(self) -> dict[str, object]:
        return {
            "feed": self.feed,
            **super().as_dict(),
            "skipped": self.skipped,
            "deferred": self.deferred,
            "notes": self.notes,
        }


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


def _entry_date(entry: Any) -> tuple[str | None, str | None]:
    """Return the entry's date (or None) and a note when the one it gives was dropped
    (`read_date` decides, as for files): a year-0 or 2100 date costs the entry its date, never
    the feed its poll."""
    for name in ("published", "updated"):
        parsed = entry.get(f"{name}_parsed")
        if parsed:  # feedparser's struct_time is UTC
            try:
                when = datetime.fromtimestamp(calendar.timegm(parsed), UTC).isoformat()
            except (ValueError, OverflowError, OSError):  # year 0, year 10000
                return None, f"date {str(entry.get(name))[:40]!r} cannot be read: no date kept"
            return read_date(when)
        if entry.get(name):
            return read_date(entry[name])
    return None, None


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
    dates = [_entry_date(entry)[0] for entry in entries]
    if not all(dates):
        return entries[::-1]  # feeds list the newest entry first
    # Dates from feedparser are aware; a bare "2024-03-14" from a date it could not parse is
    # taken as UTC, as every naive time is.
    order = sorted(range(len(entries)), key=lambda i: parse_moment(dates[i] or ""))
    return [entries[i] for i in order]


@dataclass
class _Read:
    """What reading one entry gave: an article, or why not and whether to try again."""

    article: Article | None = None
    failure: str | None = None
    final: bool = False  # trying again cannot help (no content, a refused link)


def _read_entry(
    entry: Any,
    key: str,
    *,
    feed: Feed,
    policy: FetchPolicy,
    fetcher: Fetcher,
    report: PollReport,
) -> _Read:
    """Return the entry's article, from its page or else from the feed's own text."""
    link: str | None = entry.get("link")
    text = _entry_text(entry)
    date, date_note = _entry_date(entry)
    if date_note:
        report.notes.append(f"{link or feed.url}: {date_note}")
    failure = None
    refused = False
    if link:
        try:
            notes: list[tuple[str, str]] = []
            page = fetch_article(link, policy, fetcher=fetcher, notes=notes)
            report.notes.extend(f"{origin}: {note}" for origin, note in notes)
            outlet = page.outlet
            # A page that names no site of its own takes the feed's name when it is on the
            # feed's own site; a feed cannot put its name on another site's pages.
            own_site = bool(page.url) and same_site(page.url or "", feed.url)
            unnamed = outlet is None or outlet == host_name(page.url)
            if unnamed and own_site:
                outlet = feed_outlet(feed, policy) or outlet
            # Nor its date: a page without one takes the entry's only on the feed's own site.
            published = page.published_at or (date if own_site else None)
            return _Read(dataclasses.replace(page, published_at=published, outlet=outlet))
        except FetchRefused as error:
            failure, refused = f"link refused ({error})", True
        except FetchError as error:
            failure = f"page could not be fetched ({error})"
        except ParseError as error:
            failure = f"page could not be read ({error})"
        except Exception as error:  # one odd page must not cost the feed's other entries
            logger.exception("reading %s failed", link)
            failure = f"page could not be read ({type(error).__name__}: {error})"
        length = sum(len(paragraph) for paragraph in text)
        if length < MIN_SUMMARY_CHARS:
            reason = f"{failure}; the feed's own text is too short to use ({length} characters)"
            return _Read(failure=reason, final=refused)
    elif not text:
        return _Read(failure="entry has neither a link nor content", final=True)
    try:
        article = build_article(
            entry.get("title"),
            text,
            link or feed.url,
            outlet=feed_outlet(feed, policy),
            published_at=date,
            # A refused link (a private address, javascript:) is never kept as the address.
            url=None if refused else link,
            author=entry.get("author"),
            item_key=f"feed {normalize_url(feed.url)} {key}",
        )
    except ParseError as error:
        reason = f"{failure}; the feed's own text: {error}" if failure else str(error)
        return _Read(failure=reason, final=True)
    if failure:
        report.notes.append(f"{link}: {failure}; stored the feed's own summary as its item")
    return _Read(article)


def feed_outlet(feed: Feed, policy: FetchPolicy) -> str | None:
    """Return the outlet of the feed's own items: its title only where the title names the
    feed's site, by the rule for pages (`outlet_name`: "Reuters" at reuters.com, not at
    evil.test), else the feed's host. A feed is fetched like a page, so it cannot choose
    its name freely either."""
    return outlet_name(feed.title, feed.url, dict(policy.outlet_names))


def _parse_feed(fetched: Fetched, deadline: float) -> Any:
    """Return feedparser's reading of the fetched text; raise ParseError if it is no feed.

    The parse runs in a worker process stopped at `deadline` (`ingest.worker`), and a feed
    listing more than MAX_FEED_ENTRIES entries is refused before it is parsed: a feed too big
    to read within the poll's budget fails in one line instead of being parsed every poll.
    """
    listed = len(_ENTRY_TAG.findall(fetched.text))
    if listed > MAX_FEED_ENTRIES:
        raise ParseError(
            f"the feed lists {listed:,} entries, more than the {MAX_FEED_ENTRIES:,} read at most; "
            "not read"
        )
    parsed = worker.run(
        "feed", (fetched.text.encode("utf-8"), fetched.url), deadline=deadline, what="the feed"
    )
    if not parsed.get("entries") and (parsed.get("bozo") or not parsed.get("version")):
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
    poll_limits: PollLimits,
    now: datetime | None = None,
    fetcher: Fetcher = fetch,
) -> PollReport:
    """Fetch a subscribed feed, ingest the entries not seen before, and record the poll."""
    now = as_utc(now or datetime.now(UTC))
    deadline = time.monotonic() + poll_limits.budget_seconds
    feed = registry.get(feed_url)
    if feed is None:
        return PollReport(feed=feed_url, failed=[(feed_url, "not subscribed to this feed")])
    report = PollReport(feed=feed.url, title=feed.title)
    outcome = None
    try:
        parsed = _parse_feed(fetcher(feed.url, _within(policy, deadline), kind="feed"), deadline)
        feed.title = report.title = clean_text(parsed.feed.get("title") or "") or feed.title
        outcome = PollOutcome(feed.title, set(), [], {})
        due = _due_entries(parsed.entries, feed, now, outcome, report)
        articles: list[tuple[str, Article]] = []  # (entry token, article) of the new entries
        read_count = 0
        for token, key, entry in due[: poll_limits.max_new_entries]:
            if deadline - time.monotonic() < _MIN_FETCH_SECONDS:
                break
            read_count += 1
            read = _read_entry(
                entry,
                key,
                feed=feed,
                policy=_within(policy, deadline),
                fetcher=fetcher,
                report=report,
            )
            if read.article is not None:
                articles.append((token, read.article))
            else:
                where = entry.get("link") or feed.url
                _failed(token, where, read, feed=feed, now=now, outcome=outcome, report=report)
        if left := len(due) - read_count:
            report.deferred += left
            report.notes.append(
                f"{left} new entries left for the next poll (at most "
                f"{poll_limits.max_new_entries} per poll, within {poll_limits.budget_seconds:g} s)"
            )
        outcome.handled += _ingest(articles, sink, limits, report) if articles else []
    except (FetchError, ParseError) as error:
        # Still recorded as polled below, so a broken feed waits its interval like any other.
        report.failed.append((feed.url, str(error)))
    except Exception as error:  # the background poller must survive whatever one feed does
        logger.exception("polling %s failed", feed.url)
        report.failed.append((feed.url, f"{type(error).__name__}: {error}".splitlines()[0]))
    registry._record_poll(feed.url, now, outcome)
    return report


def _within(policy: FetchPolicy, deadline: float) -> FetchPolicy:
    """Return the policy with its timeouts cut to what is left of the poll's budget."""
    left = max(deadline - time.monotonic(), 0.001)
    return dataclasses.replace(
        policy,
        total_timeout=min(policy.total_timeout, left),
        connect_timeout=min(policy.connect_timeout, left),
    )


def _due_entries(
    entries: list[Any], feed: Feed, now: datetime, outcome: PollOutcome, report: PollReport
) -> list[tuple[str, str, Any]]:
    """Return (token, key, entry) of the entries to read now, oldest first; count the rest."""
    due = []
    for entry in _oldest_first(entries):
        key = _entry_key(entry)
        token = entry_token(key)
        if token in outcome.listed:
            continue  # the same entry twice in one feed is read once
        outcome.listed.add(token)
        retry = feed.retries.get(token)
        if token in feed.seen:
            report.skipped += 1
        elif retry is not None and parse_moment(retry.after) > now:
            report.deferred += 1
        else:
            due.append((token, key, entry))
    return due


def _failed(
    token: str,
    where: str,
    read: _Read,
    *,
    feed: Feed,
    now: datetime,
    outcome: PollOutcome,
    report: PollReport,
) -> None:
    """Note a failed entry: reported the first time, retried with backoff, then given up."""
    reason = read.failure or "unreadable"
    tries = (feed.retries[token].tries if token in feed.retries else 0) + 1
    if read.final or tries >= MAX_TRIES:
        outcome.handled.append(token)
        if tries > 1:
            logger.warning("giving up on %s after %d tries: %s", where, tries, reason)
            report.notes.append(f"{where}: gave up after {tries} tries")
        else:
            report.failed.append((where, reason))
        return
    wait = timedelta(seconds=feed.every_seconds * 2 ** (tries - 1))
    outcome.retries[token] = Retry(tries, (now + wait).isoformat(timespec="seconds"))
    if tries == 1:
        report.failed.append((where, f"{reason} (will try again, at most {MAX_TRIES} times)"))
    else:
        logger.info("%s failed again (try %d of %d): %s", where, tries, MAX_TRIES, reason)


def _ingest(
    articles: list[tuple[str, Article]], sink: ArticleSink, limits: ChunkLimits, report: PollReport
) -> list[str]:
    """Ingest the new articles in one batch; return the tokens of the entries stored."""
    recorder = _RecordingSink(sink)
    result = ingest_articles(recorder, [article for _, article in articles], limits=limits)
    report.merge(result)
    if result.error:
        report.failed.append((report.feed, result.error))
    report.titles = [info.title for info, status in recorder.statuses if status == "added"]
    # Articles that could not be stored stay unseen, to be tried again next poll.
    stored = {info.article_id for info, _ in recorder.statuses} | recorder.current
    return [token for token, article in articles if article.article_id in stored]
