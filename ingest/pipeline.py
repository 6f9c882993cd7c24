"""ingest(paths) → report: parse, chunk, embed and store, one broken file never stopping a batch."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ingest.chunk import ChunkLimits, capped_passages
from ingest.parse import ParseError, parse_source
from ingest.sources import find_files, read_file
from retrieval import (
    Article,
    ArticleInfo,
    DamagedStoreError,
    DiskFullError,
    Passage,
    StoreUnavailable,
    first_line,
)

if TYPE_CHECKING:
    from ingest.fetch import Fetched, FetchPolicy

    # fetch(url, policy, *, kind="html" | "feed") -> Fetched; replaceable for tests.
    Fetcher = Callable[..., Fetched]

logger = logging.getLogger(__name__)

# Articles are embedded together until about this many passages are waiting: the model is far
# faster on full batches than on one short article at a time.
_BATCH_PASSAGES = 128
NOT_STORED = "not stored: the index stopped answering"
DISK_FULL = "not stored: the disk is full"
DAMAGED = "not stored: the index is damaged"


class ArticleSink(Protocol):
    """What the pipeline needs of the index (retrieval.NewsIndex provides it)."""

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def is_current(self, article_id: str, revision: str) -> bool: ...

    def put_articles(
        self, articles: Sequence[tuple[ArticleInfo, Sequence[Passage]]]
    ) -> Sequence[str]: ...

    def refresh(self) -> None: ...

    def give_way(self) -> object:
        """Wait while a question is being answered: bulk work goes after it."""
        ...


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    syndicated: int = 0  # near copies of stored stories, recorded as further publications
    failed: list[tuple[str, str]] = field(default_factory=list)  # (origin, one-line reason)
    files: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (origin, what was repaired)
    error: str | None = None  # why the batch stopped early: the index stopped answering
    added_ids: list[str] = field(default_factory=list)  # the articles added, for follows

    def count(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    def merge(self, other: IngestReport) -> IngestReport:
        """Add another report's counts and failures to this one."""
        for name in ("added", "updated", "unchanged", "syndicated", "files"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed.extend(other.failed)
        self.warnings.extend(other.warnings)
        self.added_ids.extend(other.added_ids)
        self.error = self.error or other.error
        return self

    def as_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "syndicated": self.syndicated,
            "failed": [{"source": origin, "reason": reason} for origin, reason in self.failed],
            "warnings": [{"source": origin, "note": note} for origin, note in self.warnings],
            "error": self.error,
        }


Progress = Callable[[str], None]


def article_info(article: Article, passages: Sequence[Passage]) -> ArticleInfo:
    return ArticleInfo(
        article_id=article.article_id,
        title=article.title,
        outlet=article.outlet,
        published_at=article.published_at,
        url=article.url,
        passages=len(passages),
        revision=article.revision,
        canonical_url=article.canonical_url,
    )


class Ingester:
    """Feed articles into an index in embedding-sized batches and keep the score."""

    def __init__(
        self,
        sink: ArticleSink,
        limits: ChunkLimits,
        report: IngestReport,
        on_stored: Callable[[int], None] | None = None,
    ):
        self.sink = sink
        self.on_stored = on_stored
        self.limits = ChunkLimits(
            max_tokens=min(limits.max_tokens, sink.max_tokens),
            target_tokens=min(limits.target_tokens, sink.max_tokens),
            context_tokens=limits.context_tokens,
            max_passages=limits.max_passages,
        )
        self.report = report
        self._batch: list[tuple[Article, list[Passage]]] = []

    def add(self, article: Article) -> None:
        if not article.paragraphs:
            self.report.failed.append((article.origin, "article has no body"))
            return
        if any(a.article_id == article.article_id for a, _ in self._batch):
            self.flush()  # the same article twice in one batch: the later one wins, in order
        if self.sink.is_current(article.article_id, article.revision):
            self.report.count("unchanged")  # nothing to chunk or embed
            return
        # Chunking is Python's work (sentence splitting): on few cores a question in flight
        # would share the CPU and Python's lock with it, so it goes first.
        self.sink.give_way()
        passages, cut = capped_passages(article, self.sink.count_tokens, self.limits)
        if cut:
            self.report.warnings.append((article.origin, cut))
        self._batch.append((article, passages))
        if sum(len(p) for _, p in self._batch) >= _BATCH_PASSAGES:
            self.flush()

    def flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        try:
            statuses = self.sink.put_articles([(article_info(a, p), p) for a, p in batch])
        except (KeyboardInterrupt, SystemExit):
            raise
        except StoreUnavailable as exc:
            self.report.failed.extend((a.origin, _not_stored(exc)) for a, _ in batch)
            raise  # every later batch would wait for the same server, or the same disk: stop
        except Exception as exc:
            logger.exception("storing a batch failed")
            reason = f"could not store the article: {first_line(exc)}"
            self.report.failed.extend((a.origin, reason) for a, _ in batch)
            return
        for (article, _), status in zip(batch, statuses, strict=True):
            self.report.count(status)
            if status == "added":
                self.report.added_ids.append(article.article_id)
        if self.on_stored:
            self.on_stored(len(statuses))


def ingest_paths(
    sink: ArticleSink,
    paths: Iterable[str | Path],
    *,
    limits: ChunkLimits,
    max_bytes: int,
    on_file: Progress | None = None,
    on_start: Callable[[int], None] | None = None,
    on_stored: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest files and folders; every failure is reported with its source and a reason."""
    files, missing = find_files(paths)
    report = IngestReport(files=len(files), failed=list(missing))
    if on_start:
        on_start(len(files))
    ingester = Ingester(sink, limits, report, on_stored)
    read = 0
    try:
        for source in files:
            _ingest_file(source.path, max_bytes, ingester)
            read += 1
            if on_file:
                on_file(str(source.path))
        ingester.flush()
        sink.refresh()
    except StoreUnavailable as exc:
        _stopped(report, exc, f"after {read} of {len(files)} files")
    return report


def _ingest_file(path: Path, max_bytes: int, ingester: Ingester) -> None:
    """Read one file and queue its articles; whatever goes wrong with it is its own failure."""
    report, name = ingester.report, str(path)
    try:
        parsed = parse_source(read_file(path, max_bytes), name)
    except ParseError as exc:
        report.failed.append((name, str(exc)))
    except Exception as exc:  # one odd file must never stop the batch
        logger.exception("reading %s failed", name)
        report.failed.append(
            (name, f"cannot read the file: {type(exc).__name__}: {first_line(exc)}")
        )
    else:
        report.failed.extend(parsed.errors)
        report.warnings.extend(parsed.warnings)
        for article in parsed.articles:
            ingester.add(article)


def _not_stored(error: StoreUnavailable) -> str:
    """Return the reason given for each article a stopped batch did not store."""
    if isinstance(error, DiskFullError):
        return DISK_FULL
    return DAMAGED if isinstance(error, DamagedStoreError) else NOT_STORED


def _stopped(report: IngestReport, error: StoreUnavailable, where: str) -> None:
    """Record that the batch stopped because the index stopped answering."""
    logger.error("ingest stopped %s: %s", where, error)
    if isinstance(error, DamagedStoreError):  # running it again meets the same damage
        report.error = f"{error} (stopped {where})"
        return
    report.error = (
        f"{error} (stopped {where}; what was stored is complete: run the same command again "
        "to finish)"
    )


def ingest_articles(
    sink: ArticleSink, articles: Iterable[Article], *, limits: ChunkLimits
) -> IngestReport:
    """Ingest already-parsed articles (from a URL, a feed or an upload)."""
    report = IngestReport()
    ingester = Ingester(sink, limits, report)
    articles = list(articles)
    pending: list[Article] = []  # not stored yet when the index stops answering
    try:
        for i, article in enumerate(articles):
            pending = articles[i:]
            ingester.add(article)
        pending = []
        ingester.flush()
        sink.refresh()
    except StoreUnavailable as exc:
        reason = _not_stored(exc)
        listed = {origin for origin, why in report.failed if why == reason}
        report.failed.extend((a.origin, reason) for a in pending if a.origin not in listed)
        _stopped(report, exc, "early")
    return report


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def fetch_article(
    url: str,
    policy: FetchPolicy,
    *,
    fetcher: Fetcher | None = None,
    notes: list[tuple[str, str]] | None = None,
) -> Article:
    """Fetch a web page and extract its article; raise FetchError or ParseError with a reason.

    The article is stored under the address actually fetched (after redirects), or the page's
    canonical URL when that is on the same site: a page cannot replace another site's article.
    Fetching and reading the page share one deadline, `policy.total_timeout` from now.
    """
    from ingest.fetch import fetch
    from ingest.formats import parse_html

    deadline = time.monotonic() + policy.total_timeout
    page = (fetcher or fetch)(url, policy, kind="html")
    return parse_html(
        page.text,
        page.url,
        page_url=page.url,
        deadline=deadline,
        outlet_names=dict(policy.outlet_names),
        notes=notes,
    )


def ingest_urls(
    sink: ArticleSink, urls: Iterable[str], *, policy: FetchPolicy, limits: ChunkLimits
) -> IngestReport:
    """Fetch and ingest article pages; each failure is reported with its url and a reason."""
    from ingest.fetch import FetchError

    articles = []
    failed: list[tuple[str, str]] = []
    notes: list[tuple[str, str]] = []
    for url in urls:
        try:
            articles.append(replace(fetch_article(url, policy, notes=notes), origin=url))
        except (FetchError, ParseError) as exc:
            failed.append((url, str(exc)))
    report = ingest_articles(sink, articles, limits=limits)
    report.failed[:0] = failed
    report.warnings[:0] = notes
    report.files = len(failed) + len(articles)
    return report
