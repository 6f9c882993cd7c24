"""The keyword index: BM25 over committed passages in tantivy, updated article by article.

Chroma stays the source of truth; this index is derived from it and follows its change feed
(`PassageStore.changes_since`). The writing process applies its commits as it makes them, so an
article is searchable by keywords as soon as it is committed; every other process applies the
others' commits at its next search, reading only what changed. Each passage carries its
article's revision and commit stamp, so applying a change twice, or one already held, costs a
lookup. A commit of tantivy is atomic: a crash leaves the last commit, and the change feed
(read again from the stamp saved *after* each commit) brings back whatever was lost.

Why tantivy (a Rust full-text engine): of the engines measured, it is the one whose search stays
fast at a million passages while an article's update costs the same at any size
(docs/measurements.md#the-keyword-engine, docs/architecture.md#why-tantivy). Passages are
indexed as our own tokens (storage/tokenizer.py), so questions and passages are read alike,
whatever the engine's tokenizers do. The index's files are handled in storage/lexical_files.py,
its queries built in storage/lexical_search.py.

Several processes may share one index directory (a bot and an admin's CLI on one data dir):
tantivy allows one writer at a time, so each write takes `writer.lock` (a file lock) for the
moment of its commit. A full rebuild happens only when the index is missing, unreadable or of
another schema; for a large store it runs in a background thread while searches use the dense
side alone.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.models import Passage, SearchFilters
from retrieval.storage import lexical_search
from retrieval.storage.changes import CHANGE_WINDOW_US, FeedPosition, next_seq
from retrieval.storage.lexical_files import (
    SCHEMA,
    STATE,
    document,
    merge,
    new_writer,
    open_index,
    read_state,
    schema,
    tantivy,
    write_state,
    write_whole,
)
from retrieval.storage.tokenizer import Tokenizer

if TYPE_CHECKING:
    from retrieval.storage.changes import Change
    from retrieval.storage.store import PassageStore

logger = logging.getLogger(__name__)

# Stores up to this many passages are rebuilt before the search that needs it; larger ones in
# the background (seconds against minutes).
SYNC_REBUILD_PASSAGES = 50_000
# A search that finds the store's newest commits still being indexed by this process's writer
# waits this long for them (the keyword commit right after the store's: milliseconds), so that
# an article is searchable by keywords when it is committed; past it, it goes on without them.
LEAVE_TO_WRITER_S = 1.0
_IDF_CACHE = 4096


class LexicalIndex:
    """BM25 over committed passages, with per-passage dates and outlets for filtering."""

    def __init__(self, path: Path):
        self.path = Path(path)  # a directory
        self.tokenize = Tokenizer()
        self._schema = schema()
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
        query = tantivy().Query.term_query(self._schema, "article", article_id)
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
            (aid, revision, seq, [document(p, revision, seq, self.tokenize) for p in passages])
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
                    for doc in documents:
                        writer.add_document(doc)
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
            holder = [new_writer(index)]
            try:
                yield holder[0], index.searcher()
                holder[0].commit()
                index.reload()
                self._note_applied(written)
            except BaseException:
                holder[0].rollback()
                raise
            else:
                merge(holder[0])
            finally:
                holder.clear()  # drops the writer, which releases tantivy's own lock
            index.reload()
        self._idf.clear()

    def _watermark(self) -> int:
        return int(read_state(self.path).get("watermark", 0))

    def _set_watermark(self, seq: int) -> None:
        """Save the latest change applied: only ever after the commit that applied it.

        Never waits: a search calls this, and a writer holds the lock through its commit and
        the merges it waits for (2 s at 100x, and every question waited). When the lock is
        busy the stamp is saved at a later look; until then a restart re-reads a little more.
        """
        from filelock import FileLock, Timeout

        try:
            with FileLock(str(self.path / "writer.lock"), timeout=0):
                state = read_state(self.path)
                if seq > int(state.get("watermark", 0)):
                    write_state(self.path, {**state, "watermark": seq})
        except Timeout:
            logger.debug("keyword index busy: its feed position is saved at a later look")

    # -- opening and rebuilding -------------------------------------------------------------
    def _open(self) -> bool:
        """Open the index; return False when it must be rebuilt (and say why)."""
        if not (self.path / STATE).exists():
            logger.info("no keyword index at %s yet", self.path)
            return False
        try:
            state = read_state(self.path)
            if state.get("schema") != SCHEMA or not state.get("complete"):
                logger.warning(
                    "keyword index %s is of schema %s (or incomplete), not %s; rebuilding it",
                    self.path,
                    state.get("schema"),
                    SCHEMA,
                )
                self._set_aside()
                return False
            index = open_index(self.path)
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
            documents = (
                # Stamp 0: any change in the feed is newer than what this rebuild read.
                document(passage, revisions[passage.article_id], 0, self.tokenize)
                for passage in store.iter_passages(revisions)
            )
            count = write_whole(building, documents, watermark=started - CHANGE_WINDOW_US)
            with self._state:
                if self._open():  # another process finished first: use its index
                    shutil.rmtree(building, ignore_errors=True)
                else:
                    building.rename(self.path)
                    self._index = tantivy().Index.open(str(self.path))
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
        try:
            return lexical_search.search(index, self._schema, terms, k, filters)
        except (ValueError, OSError) as error:
            self._damaged(error)
            return []

    def admitted(self, ids: list[str], filters: SearchFilters) -> list[str]:
        """Return the ids (in order) of indexed passages that pass the filters."""
        index = self._index
        if index is None or not ids:
            return []
        try:
            return lexical_search.admitted(index, self._schema, ids, filters)
        except (ValueError, OSError) as error:
            self._damaged(error)
            return []

    def idf(self, term: str) -> float:
        """Return the inverse document frequency of a (stemmed) term; unseen terms get the most."""
        cached = self._idf.get(term)
        if cached is not None:
            return cached
        value = lexical_search.idf(self._index, term)
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
