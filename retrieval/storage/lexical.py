"""The keyword index: BM25 over committed passages in tantivy, updated article by article.

Chroma stays the source of truth; this index is derived from it and follows its change feed
(`PassageStore.changes_since`). The writing process applies its commits as it makes them, so an
article is searchable by keywords as soon as it is committed; every other process applies the
others' commits at its next search, reading only what changed. Each passage carries its
article's revision and commit stamp, so applying a change twice, or one already held, costs a
lookup. A commit of tantivy is atomic: a crash leaves the last commit, and the change feed
(read again from the stamp saved *after* each commit) brings back whatever was lost.

Why tantivy (a Rust full-text engine): of the engines measured (README, "keyword index"), it is
the one whose search stays fast at a million passages (10 ms against 1.5 s for SQLite FTS5) while
an article's update costs the same at any size (bm25s could only be rebuilt whole). Passages are
indexed as our own tokens (stopwords dropped, Snowball-stemmed: `Tokenizer`), so questions and
passages are read alike, whatever the engine's tokenizers do.

Several processes may share one index directory (a bot and an admin's CLI on one data dir):
tantivy allows one writer at a time, so each write takes `writer.lock` (a file lock) for the
moment of its commit. A full rebuild happens only when the index is missing, unreadable or of
another schema; for a large store it runs in a background thread while searches use the dense
side alone.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.days import date_number
from retrieval.errors import first_line
from retrieval.models import Passage, SearchFilters
from retrieval.storage.store import CHANGE_WINDOW_US, FeedPosition, next_seq

if TYPE_CHECKING:
    from retrieval.storage.store import Change, PassageStore

logger = logging.getLogger(__name__)

SCHEMA = "tantivy-1"  # change when the tokens or the fields change: the index is then rebuilt
# Stores up to this many passages are rebuilt before the search that needs it; larger ones in
# the background (seconds against minutes).
SYNC_REBUILD_PASSAGES = 50_000
# A search that finds the store's newest commits still being indexed by this process's writer
# waits this long for them (the keyword commit right after the store's: milliseconds), so that
# an article is searchable by keywords when it is committed; past it, it goes on without them.
LEAVE_TO_WRITER_S = 1.0
_IDF_CACHE = 4096
_WRITER_HEAP = 15_000_000  # bytes; tantivy's minimum for one thread is 3 MB
_REBUILD_HEAP = 200_000_000
_FAR = 99_999_999  # a date number after any real one

_TOKEN = re.compile(r"(?u)\b\w\w+\b|\b\d\b")
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves say said says tell told""".split()  # noqa: SIM905 - a word list reads better as text
)


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


class Tokenizer:
    """Lowercase, drop stopwords, stem: the same for passages and questions."""

    def __init__(self) -> None:
        self._stem = _stemmer()
        self._lock = threading.Lock()  # PyStemmer's stemmer object is not thread-safe

    def __call__(self, text: str) -> list[str]:
        words = [w for w in _TOKEN.findall(text.lower().replace("’", "'")) if w not in _STOPWORDS]
        with self._lock:
            return list(self._stem.stemWords(words))


def _tantivy() -> Any:
    import tantivy

    return tantivy


def _schema() -> Any:
    builder = _tantivy().SchemaBuilder()
    builder.add_text_field("pid", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("article", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("revision", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("seq", stored=True)
    builder.add_text_field("outlet", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("ts", indexed=True, fast=True)
    # Our own stems, joined by spaces: split on whitespace, nothing else done to them.
    builder.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
    return builder.build()


class LexicalIndex:
    """BM25 over committed passages, with per-passage dates and outlets for filtering."""

    def __init__(self, path: Path):
        self.path = Path(path)  # a directory
        self.tokenize = Tokenizer()
        self._schema = _schema()
        self._index: Any = None  # tantivy.Index, once open
        self._state = threading.RLock()
        self._writes = threading.Lock()  # one writer per process (the file lock: per directory)
        self._rebuilding: threading.Thread | None = None
        self._idf: dict[str, float] = {}
        self._position: FeedPosition | None = None  # where this process reads the feed from
        # What this object itself wrote (article → (revision, or "" when removed, seq)) since
        # the feed's read position: its own commits come back in the feed, and are then known
        # without a search each (a bulk ingest made the next look one search per article).
        self._applied: dict[str, tuple[str, int]] = {}
        self._applied_lock = threading.Lock()
        self._published = threading.Condition(self._applied_lock)  # a commit of this object's
        # What this process is committing to the store now and indexes itself right after
        # (article → revision, "" when forgotten): see `committing`.
        self._committing: dict[str, str] = {}

    @property
    def ready(self) -> bool:
        """Whether the index can be searched (it is not missing or being rebuilt)."""
        return self._index is not None

    def __len__(self) -> int:
        index = self._index
        return int(index.searcher().num_docs) if index is not None else 0

    # -- keeping up with the store ----------------------------------------------------------
    def feed_since(self) -> int | None:
        """Return the stamp this index reads the change feed from (None: not open)."""
        if self._index is None:
            return None
        if self._position is None:
            self._position = FeedPosition(seen=self._watermark())
        return self._position.since()

    def catch_up(
        self,
        store: PassageStore,
        changes: Sequence[Change] | None = None,
        looked: int | None = None,
        *,
        wait: bool = True,
    ) -> int:
        """Apply the store's changes since this index last looked; return how many were new.

        Opens the index on first use, and rebuilds it when it is missing, unreadable or of
        another schema (see the module docstring). `changes`, read from the feed at `looked`
        from no later than `feed_since()`, save reading the feed again.

        A search passes `wait=False`: changes this process is committing are left to the
        writer (`committing`; the search waits up to LEAVE_TO_WRITER_S for its keyword
        commit, not for its merges), and when another thread of this process is writing to
        the index, the others are left to a later look; either way the read position stays
        where it is, so nothing is skipped for good. At a million passages a question that
        applied the writer's new articles itself read them back from Chroma and then waited
        for the writer's commit and merges: 2.2 s.
        """
        with self._state:
            if self._index is None and self._rebuilding is None and not self._open():
                self._start_rebuild(store)
            index = self._index
            if index is None:
                return 0
        try:
            index.reload()
            since = self.feed_since()
            assert since is not None and self._position is not None
            if changes is None or looked is None:
                looked = next_seq()
                changes = store.changes_since(since)
            searcher = index.searcher()
            if not wait and not self._writer_done_with(changes):
                return 0  # the writer here is at it: this look leaves the feed to a later one
            todo = [c for c in changes if self._wanted(searcher, c)]
            if not wait and todo and self._writes.locked():
                return 0
            applied = 0
            puts = []
            for change in todo:
                if change.record is None:
                    applied += self.remove(change.article_id, change.seq)
                    continue
                revision = str(change.record.get("revision", ""))
                shard = change.record.get("shard")
                passages = store.revision_passages(
                    change.article_id, revision, None if shard is None else int(shard)
                )
                if passages:  # else replaced since: the newer commit is in the feed too
                    puts.append((change.article_id, revision, change.seq, passages))
            applied += self.put_many(puts)
            if self._index is None or self._position is None:
                return applied  # failed meanwhile: the next look starts again
            self._position.advance(changes, looked)
            if changes:
                self._set_watermark(self._position.seen)
            self._forget_applied_before(self._position.since())
            return applied
        except (ValueError, OSError) as error:
            self._damaged(error)
            return 0

    @contextmanager
    def committing(self, articles: dict[str, str]) -> Iterator[None]:
        """Mark articles (id → revision, "" for one being forgotten) that this process is
        committing to the store and then indexes itself: a search's look at the feed leaves
        them to it instead of reading them back from the store and waiting to write them.
        """
        with self._applied_lock:
            self._committing.update(articles)
        try:
            yield
        finally:
            with self._published:
                for article_id in articles:
                    self._committing.pop(article_id, None)
                self._published.notify_all()

    def _writer_done_with(self, changes: Sequence[Change]) -> bool:
        """Return whether this process's writer is done with the changes it is committing,
        waiting up to LEAVE_TO_WRITER_S for it: it indexes them right after the store's
        commit (milliseconds), and a search waits for that, but not for more."""
        with self._published:
            return self._published.wait_for(
                lambda: not any(_being_committed(c, self._committing) for c in changes),
                timeout=LEAVE_TO_WRITER_S,
            )

    def _wanted(self, searcher: Any, change: Change) -> bool:
        """Return whether a change is news to this index (it may have been applied already)."""
        with self._applied_lock:
            mine = self._applied.get(change.article_id)
        if mine is not None and mine[1] >= change.seq:
            return False  # written by this object, at this change or a later one
        held = self._held(searcher, change.article_id)
        if change.record is None:
            return held is not None and held[1] <= change.seq
        return held is None or (held[0] != change.record.get("revision") and held[1] <= change.seq)

    def _held(self, searcher: Any, article_id: str) -> tuple[str, int] | None:
        """Return (revision, seq) of the article as indexed, or None."""
        query = _tantivy().Query.term_query(self._schema, "article", article_id)
        hits = searcher.search(query, limit=1, count=False).hits
        if not hits:
            return None
        doc = searcher.doc(hits[0][1])
        return str(doc.get_first("revision")), int(doc.get_first("seq"))

    def put(self, article_id: str, revision: str, seq: int, passages: Sequence[Passage]) -> bool:
        """Index one committed revision of an article in place of any other; False if held."""
        return bool(self.put_many([(article_id, revision, seq, passages)]))

    def put_many(self, articles: Sequence[tuple[str, str, int, Sequence[Passage]]]) -> int:
        """Index committed revisions of articles in one commit; return how many changed.

        An article already held at this revision, or at a newer one, is left as it is.
        """
        if self._index is None or not articles:
            return 0  # during a rebuild: it, or the catch-up after it, adds them
        docs = [
            (aid, revision, seq, [self._document(p, revision, seq) for p in passages])
            for aid, revision, seq, passages in articles
        ]
        changed = 0
        written: dict[str, tuple[str, int]] = {}
        try:
            with self._writer(written) as (writer, searcher):
                for aid, revision, seq, documents in docs:
                    held = self._held(searcher, aid)
                    if held is not None and (held[0] == revision or held[1] > seq):
                        continue  # the same revision, or a newer one already indexed
                    writer.delete_documents_by_term("article", aid)
                    for document in documents:
                        writer.add_document(document)
                    written[aid] = (revision, seq)
                    changed += 1
        except (ValueError, OSError) as error:
            self._damaged(error)
            return 0
        return changed

    def remove(self, article_id: str, seq: int) -> bool:
        """Drop an article forgotten at `seq` (unless it was indexed again after that)."""
        if self._index is None:
            return False
        written: dict[str, tuple[str, int]] = {}
        try:
            with self._writer(written) as (writer, searcher):
                held = self._held(searcher, article_id)
                if held is None or held[1] > seq:
                    return False
                writer.delete_documents_by_term("article", article_id)
                written[article_id] = ("", seq)
        except (ValueError, OSError) as error:
            self._damaged(error)
            return False
        return True

    def _note_applied(self, written: dict[str, tuple[str, int]]) -> None:
        """Remember what this object committed (and tell the searches waiting for it)."""
        with self._published:
            for article_id, (revision, seq) in written.items():
                known = self._applied.get(article_id)
                if known is None or known[1] < seq:
                    self._applied[article_id] = (revision, seq)
                if self._committing.get(article_id) == revision:
                    del self._committing[article_id]
            self._published.notify_all()

    def _forget_applied_before(self, seq: int) -> None:
        """Drop what the feed will not show again (its read position has passed it)."""
        with self._applied_lock:
            if len(self._applied) > 1024:
                self._applied = {a: v for a, v in self._applied.items() if v[1] >= seq}

    def _document(self, passage: Passage, revision: str, seq: int) -> Any:
        return _tantivy().Document(
            pid=passage.passage_id,
            article=passage.article_id,
            revision=revision,
            seq=seq,
            outlet=(passage.outlet or "").lower(),
            ts=date_number(passage.published_at),
            body=" ".join(self.tokenize(passage.contextual_text)),
        )

    @contextmanager
    def _writer(self, written: dict[str, tuple[str, int]]) -> Iterator[tuple[Any, Any]]:
        """Yield (writer, searcher of the latest commit); commit on success, else roll back.

        The writer is held only for this one change, under a file lock: other processes on
        the same directory wait their turn (tantivy refuses a second writer outright). What
        the caller put in `written` is published as soon as the commit is read back, before
        the merges it waits for.
        """
        from filelock import FileLock

        with self._writes, FileLock(str(self.path / "writer.lock")):
            index = self._index
            index.reload()
            holder = [_new_writer(index)]
            try:
                yield holder[0], index.searcher()
                holder[0].commit()
                index.reload()
                self._note_applied(written)
            except BaseException:
                holder[0].rollback()
                raise
            else:
                _merge(holder[0])
            finally:
                holder.clear()  # drops the writer, which releases tantivy's own lock
            index.reload()
        self._idf.clear()

    def _watermark(self) -> int:
        return int(self._read_state().get("watermark", 0))

    def _set_watermark(self, seq: int) -> None:
        """Save the latest change applied: only ever after the commit that applied it.

        Never waits: a search calls this, and a writer holds the lock through its commit and
        the merges it waits for (2 s at 100x, and every question waited). When the lock is
        busy the stamp is saved at a later look; until then a restart re-reads a little more.
        """
        from filelock import FileLock, Timeout

        try:
            with FileLock(str(self.path / "writer.lock"), timeout=0):
                state = self._read_state()
                if seq > int(state.get("watermark", 0)):
                    _write_state(self.path, {**state, "watermark": seq})
        except Timeout:
            logger.debug("keyword index busy: its feed position is saved at a later look")

    def _read_state(self) -> dict[str, Any]:
        return dict(json.loads((self.path / _STATE).read_text(encoding="utf-8")))

    # -- opening and rebuilding -------------------------------------------------------------
    def _open(self) -> bool:
        """Open the index; return False when it must be rebuilt (and say why)."""
        if not (self.path / _STATE).exists():
            logger.info("no keyword index at %s yet", self.path)
            return False
        try:
            state = self._read_state()
            if state.get("schema") != SCHEMA or not state.get("complete"):
                logger.warning(
                    "keyword index %s is of schema %s (or incomplete), not %s; rebuilding it",
                    self.path,
                    state.get("schema"),
                    SCHEMA,
                )
                self._set_aside()
                return False
            index = _open_index(self.path)
        except (ValueError, OSError) as error:
            logger.warning("keyword index %s is unreadable (%s); rebuilding it", self.path, error)
            self._set_aside()
            return False
        self._index = index
        return True

    def _set_aside(self) -> None:
        """Move an unusable index out of the way (kept for a human to look at)."""
        self._index = None
        self._position = None
        aside = self.path.with_name(self.path.name + ".unusable")
        if self.path.exists():
            shutil.rmtree(aside, ignore_errors=True)
            self.path.rename(aside)

    def _damaged(self, error: Exception) -> None:
        """Close the index after a failure; the next catch-up opens it again, or rebuilds it.

        Most failures pass (another process's commit removed a file this one was about to
        read, a writer still held): only an index that cannot be opened is set aside.
        """
        logger.warning("keyword index %s failed (%s); opening it again", self.path, error)
        with self._state:
            self._index = None
            self._position = None
        with self._applied_lock:
            self._applied.clear()

    def _start_rebuild(self, store: PassageStore) -> None:
        """Rebuild from the store: now when it is small, else in a background thread."""
        passages = store.count_passages()
        if passages <= SYNC_REBUILD_PASSAGES:
            self._rebuild(store)
            return
        logger.warning(
            "rebuilding the keyword index from %d passages in the background; until it is "
            "done, answers use dense search alone",
            passages,
        )
        self._rebuilding = threading.Thread(
            target=self._rebuild, args=(store,), name="keyword-rebuild"
        )
        self._rebuilding.start()

    def _rebuild(self, store: PassageStore) -> None:
        started = next_seq()
        # One building directory per process: two processes may find the index missing at once.
        building = self.path.with_name(f"{self.path.name}.building-{os.getpid()}")
        try:
            store.sync()
            revisions = dict(store.committed_revisions())
            shutil.rmtree(building, ignore_errors=True)
            building.mkdir(parents=True)
            index = _tantivy().Index(self._schema, path=str(building))
            writer = index.writer(_REBUILD_HEAP, 1)
            count = 0
            for passage in store.iter_passages(revisions):
                # Stamp 0: any change in the feed is newer than what this rebuild read.
                writer.add_document(self._document(passage, revisions[passage.article_id], 0))
                count += 1
            writer.commit()
            writer.wait_merging_threads()
            state = {"schema": SCHEMA, "complete": True, "watermark": started - CHANGE_WINDOW_US}
            _write_state(building, state)
            with self._state:
                if self._open():  # another process finished first: use its index
                    shutil.rmtree(building, ignore_errors=True)
                else:
                    building.rename(self.path)
                    self._index = _tantivy().Index.open(str(self.path))
                self._position = None  # read from the index's own saved position
                self._rebuilding = None
            logger.info("keyword index rebuilt: %d passages", count)
        except Exception:
            logger.exception("rebuilding the keyword index failed; answers use dense search")
            shutil.rmtree(building, ignore_errors=True)
            with self._state:
                self._rebuilding = None

    def wait(self) -> None:
        """Wait for a background rebuild to finish (before the store goes away)."""
        thread = self._rebuilding
        if thread is not None:
            thread.join()

    def close(self) -> None:
        self.wait()
        self._index = None

    # -- search -----------------------------------------------------------------------------
    def search(
        self, query: str, k: int, filters: SearchFilters | None = None
    ) -> list[tuple[str, float]]:
        """Return up to k (passage id, BM25 score) pairs with a positive score, best first."""
        index = self._index
        if index is None or k <= 0:
            return []
        terms = list(dict.fromkeys(self.tokenize(query)))
        if not terms:
            return []
        t = _tantivy()
        words = t.Query.boolean_query(
            [
                (
                    t.Occur.Should,
                    t.Query.term_query(self._schema, "body", term, index_option="freq"),
                )
                for term in terms
            ]
        )
        try:
            searcher = index.searcher()
            hits = searcher.search(self._filtered(words, filters), limit=k, count=False).hits
            return [
                (str(searcher.doc(address).get_first("pid")), float(score))
                for score, address in hits
                if score > 0
            ]
        except (ValueError, OSError) as error:
            self._damaged(error)
            return []

    def _term(self, field: str, value: str) -> Any:
        return _tantivy().Query.term_query(self._schema, field, value, index_option="freq")

    def admitted(self, ids: list[str], filters: SearchFilters) -> list[str]:
        """Return the ids (in order) of indexed passages that pass the filters."""
        index = self._index
        if index is None or not ids:
            return []
        t = _tantivy()
        query = self._filtered(t.Query.term_set_query(self._schema, "pid", list(ids)), filters)
        try:
            searcher = index.searcher()
            hits = searcher.search(query, limit=len(ids), count=False).hits
            found = {str(searcher.doc(address).get_first("pid")) for _, address in hits}
        except (ValueError, OSError) as error:
            self._damaged(error)
            return []
        return [pid for pid in ids if pid in found]

    def _filtered(self, query: Any, filters: SearchFilters | None) -> Any:
        """Return the query restricted to the filters' outlets and dates (scores unchanged)."""
        if filters is None or filters.empty:
            return query
        t = _tantivy()
        clauses = [(t.Occur.Must, query)]
        if filters.outlets:
            outlets = sorted({o.lower() for o in filters.outlets})
            clauses.append((t.Occur.Must, t.Query.term_set_query(self._schema, "outlet", outlets)))
        if filters.since or filters.until:
            since = date_number(filters.since) if filters.since else 0
            until = date_number(filters.until) if filters.until else _FAR
            dates = t.Query.range_query(self._schema, "ts", t.FieldType.Integer, since, until)
            clauses.append((t.Occur.Must, dates))
        # Only the words score: the filters add nothing to a passage's BM25.
        return t.Query.boolean_query(
            [clauses[0]] + [(occur, t.Query.const_score_query(q, 0.0)) for occur, q in clauses[1:]]
        )

    def idf(self, term: str) -> float:
        """Return the inverse document frequency of a (stemmed) term; unseen terms get the most."""
        cached = self._idf.get(term)
        if cached is not None:
            return cached
        index = self._index
        n, df = 1, 0
        if index is not None:
            try:
                searcher = index.searcher()
                n, df = max(1, int(searcher.num_docs)), int(searcher.doc_freq("body", term))
            except (ValueError, OSError):
                pass
        value = math.log(1 + (n - df + 0.5) / (df + 0.5))
        if len(self._idf) < _IDF_CACHE:
            self._idf[term] = value
        return value


def _being_committed(change: Change, committing: dict[str, str]) -> bool:
    """Return whether a change is one this process is committing (see `committing`)."""
    revision = committing.get(change.article_id)
    if revision is None:
        return False
    if change.record is None:
        return revision == ""
    return revision == str(change.record.get("revision", ""))


_STATE = "newsbot.json"
_OPEN_TRIES = 3


def _new_writer(index: Any) -> Any:
    """Return a writer; a writer just dropped (here or elsewhere) may hold tantivy's lock a
    moment longer than our file lock, so a busy lock is tried again for a few seconds."""
    for attempt in range(50):
        try:
            return index.writer(_WRITER_HEAP, 1)
        except ValueError as error:
            if "LockBusy" not in str(error) or attempt == 49:
                raise
            time.sleep(0.1)
    raise AssertionError("unreachable")


def _merge(writer: Any) -> None:
    """Let the merges a commit started finish, then drop the writer.

    They run on the writer's threads: dropping it kills them, and then every commit leaves its
    segments for good (150 commits: 350 segments, a one-article commit 1.4 s, a search 80 ms;
    waiting: 13 segments, 15 ms and 0.1 ms). Only writers wait for the merges; a merge that
    fails leaves the committed segments as they are, searchable.
    """
    try:
        writer.wait_merging_threads()
    except (ValueError, OSError) as error:
        logger.warning("keyword index: segments not merged this time (%s)", first_line(error))


def _open_index(path: Path) -> Any:
    """Open a tantivy index and read its segments, trying again a moment later on failure.

    Another process's commit may delete a file between listing and opening it: only an index
    that fails three times running is unreadable.
    """
    for attempt in range(_OPEN_TRIES):
        try:
            index = _tantivy().Index.open(str(path))
            index.searcher().num_docs  # noqa: B018 - reads the segments: fails if they are broken
            return index
        except (ValueError, OSError):
            if attempt == _OPEN_TRIES - 1:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


def _write_state(directory: Path, state: dict[str, Any]) -> None:
    """Write the index's own state file atomically."""
    temp = directory / f"{_STATE}.tmp"
    temp.write_text(json.dumps(state), encoding="utf-8")
    temp.replace(directory / _STATE)
