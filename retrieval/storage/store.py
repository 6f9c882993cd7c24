"""Chroma, the source of truth: passages with their embeddings, and the article catalogue.

Writes follow a small commit protocol so that an article is visible whole or not at all:

1. the new revision's passages are upserted under ids that include the revision, so they
   overwrite nothing and stay invisible (searches only show passages of the committed revision);
2. the article's catalogue record is upserted with the new revision: this is the commit;
3. passages of other revisions of the article are deleted, then the record is marked clean.

A crash or Ctrl-C between any two steps leaves the old or the new article, never a mix, and
re-running the ingest finishes the job.

The change feed: every commit stamps the catalogue record with a sequence number (`seq`,
microseconds since the epoch, increasing within a process), and forgetting an article first
writes a tombstone with its own `seq` to a small changes collection. `changes_since(seq)` reads
both, so the in-memory catalogue and the keyword index of this or any other process catch up by
reading only what changed. The stamp is part of the commit itself, so no crash can leave a
committed article that the feed does not show. A stamp is taken a moment before its record
becomes visible (and another process's clock may differ a little), so a reader assumes only that
a commit is visible within `CHANGE_WINDOW_US` of its stamp: each look reads from the earlier of
its latest stamp and its previous look's time less that window (`FeedPosition`). Applying a
change twice is harmless.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.days import date_number, utc_now
from retrieval.errors import StoreError
from retrieval.models import ArticleInfo, Passage, Publication, SearchFilters
from retrieval.storage.catalogue import Catalogue
from retrieval.storage.chroma_server import DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT
from retrieval.storage.shards import SHARD_PASSAGES, Shards

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

_PAGE = 1000
_ARTICLES_PER_READ = 200
_POLITE_WRITE = 32  # passages per write while questions come (see write_articles)
# A commit becomes visible within this long of its stamp (see the module docstring).
CHANGE_WINDOW_US = 15_000_000


@dataclass(frozen=True)
class StoredArticle:
    """An article's catalogue record: what is committed, and whether its clean-up was done."""

    info: ArticleInfo
    clean: bool


@dataclass(frozen=True)
class Change:
    """One entry of the change feed: an article committed (its record) or forgotten (None)."""

    article_id: str
    seq: int
    record: dict[str, Any] | None


@dataclass(frozen=True)
class Commit:
    """An article's commit read from the change feed: `added_seq == seq` for its first."""

    article_id: str
    seq: int
    added_seq: int


@dataclass
class FeedPosition:
    """Where a reader of the change feed is: what it has seen, and when it last looked."""

    seen: int = 0  # the latest stamp applied
    looked: int = 0  # when the last look started (microseconds since the epoch), 0: never

    def since(self) -> int:
        """Return the stamp to read from: nothing visible since the last look is missed."""
        if not self.looked:
            return self.seen - CHANGE_WINDOW_US
        return min(self.seen, self.looked - CHANGE_WINDOW_US)

    def advance(self, changes: Sequence[Change], looked: int) -> None:
        self.seen = max([self.seen, *(change.seq for change in changes)])
        self.looked = looked


_last_seq = 0
_seq_lock = threading.Lock()


def next_seq() -> int:
    """Return a new sequence number: the time in microseconds, increasing within the process."""
    global _last_seq  # noqa: PLW0603 - one counter per process, by design
    with _seq_lock:
        _last_seq = max(_last_seq + 1, time.time_ns() // 1000)
        return _last_seq


@dataclass(frozen=True)
class ChromaLocation:
    """Where Chroma lives: a directory (embedded) or a server."""

    path: Path | None = None
    host: str | None = None
    port: int = 8000
    ssl: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT  # server only: seconds to connect
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT  # server only: seconds to wait for an answer

    def describe(self) -> str:
        if self.host:
            scheme = "https" if self.ssl else "http"
            return f"Chroma server {scheme}://{self.host}:{self.port}"
        return f"embedded Chroma in {self.path}"


def open_client(location: ChromaLocation) -> Any:
    """Return a Chroma client for the location (telemetry off)."""
    import chromadb
    from chromadb.config import Settings

    if location.host:
        from retrieval.storage.chroma_server import open_server_client

        return open_server_client(
            location.host,
            location.port,
            location.ssl,
            connect_timeout=location.connect_timeout,
            request_timeout=location.request_timeout,
        )
    if location.path is None:
        raise StoreError("no Chroma path or host configured")
    location.path.mkdir(parents=True, exist_ok=True)
    settings = Settings(anonymized_telemetry=False)
    try:
        return chromadb.PersistentClient(path=str(location.path), settings=settings)
    except Exception as exc:
        if (damaged := damaged_store(exc, location)) is not None:
            raise damaged from exc
        raise


# What SQLite says of a file that is not (or no longer) a whole database (SQLITE_NOTADB: 26,
# SQLITE_CORRUPT: 11), as Chroma passes it on.
_DAMAGED = ("file is not a database", "database disk image is malformed", "(code: 26)")


def damaged_store(error: BaseException, location: ChromaLocation) -> StoreError | None:
    """Return the one-line error for a damaged Chroma database, when `error` says it is one."""
    text = str(error)
    if location.path is None or not any(words in text for words in _DAMAGED):
        return None
    reason = "file is not a database" if "not a database" in text else "malformed"
    return StoreError(
        f"the Chroma database {location.path / 'chroma.sqlite3'} is damaged ({reason}): "
        "restore the folder from a backup, or move it aside and ingest your sources again"
    )


def check_store(location: ChromaLocation) -> StoreError | None:
    """Return the damaged-database error when SQLite finds the embedded database damaged.

    A read of the whole file (`PRAGMA quick_check`): run only after an operation failed for a
    reason Chroma does not name (damage in its log reads "Failed to pull logs from the log
    store"), never on every start.
    """
    import sqlite3

    if location.path is None or not (location.path / "chroma.sqlite3").exists():
        return None
    uri = f"{(location.path / 'chroma.sqlite3').as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            rows = db.execute("PRAGMA quick_check").fetchall()
        problem = None if rows == [("ok",)] else str(rows[0][0])
    except sqlite3.DatabaseError as exc:
        problem = str(exc)
    if problem is None:
        return None
    return damaged_store(RuntimeError("database disk image is malformed"), location)


def missing_store(location: ChromaLocation, keywords: Path) -> StoreError | None:
    """Return the error for a Chroma database that is gone while its index data is not (its
    folders, the keyword index): opening would start an empty index and hide the loss."""
    if location.path is None or (location.path / "chroma.sqlite3").exists():
        return None
    leftovers = [p for p in (location.path, keywords) if p.is_dir() and any(p.iterdir())]
    if not leftovers:
        return None
    return StoreError(
        f"the Chroma database {location.path / 'chroma.sqlite3'} is missing, but "
        f"{', '.join(str(p) for p in leftovers)} still hold index data: the articles are gone. "
        "Restore the database from a backup, or to rebuild move "
        f"{location.path} and {keywords} aside and ingest your sources again"
    )


def _where(filters: SearchFilters | None, *extra: dict[str, Any]) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = list(extra)
    if filters is not None:
        if filters.outlets:
            clauses.append({"outlet_key": {"$in": [o.lower() for o in filters.outlets]}})
        if filters.since:
            clauses.append({"published_ts": {"$gte": date_number(filters.since)}})
        if filters.until:
            clauses.append({"published_ts": {"$lte": date_number(filters.until)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _passage_metadata(p: Passage, revision: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "article_id": p.article_id,
        "revision": revision,
        "position": p.position,
        "paragraph": p.paragraph,
        "title": p.title,
        "published_ts": date_number(p.published_at),
    }
    optional = {
        "outlet": p.outlet,
        "outlet_key": p.outlet.lower() if p.outlet else None,
        "published_at": p.published_at,
        "url": p.url,
        "author": p.author,
        "context": p.context,
    }
    meta.update({k: v for k, v in optional.items() if v})
    return meta


def _record(
    info: ArticleInfo,
    passages: int,
    minhash: str | None,
    previous: dict[str, Any] | None,
    shard: int,
) -> dict[str, Any]:
    """Return the catalogue record that commits an article (see the module docstring)."""
    seq = next_seq()
    record: dict[str, Any] = {
        "title": info.title,
        "revision": info.revision,
        "passages": passages,
        "shard": shard,  # the passage collection they are in (see storage/shards.py)
        "published_ts": date_number(info.published_at),
        "ingested_at": info.ingested_at or utc_now(),
        "clean": False,
        "seq": seq,
        # the stamp of the article's first commit, kept by updates: readers of the change feed
        # tell a new article from an update by it (see `Commit`)
        "added_seq": int(previous.get("added_seq", previous.get("seq", seq))) if previous else seq,
    }
    optional = {
        "outlet": info.outlet,
        "published_at": info.published_at,
        "url": info.url,
        "canonical_url": info.canonical_url,
        "minhash": minhash,
        # an update keeps the story's other publications
        "also_published": previous.get("also_published") if previous else None,
    }
    record.update({k: v for k, v in optional.items() if v})
    return record


def passage_from_record(pid: str, text: str, meta: dict[str, Any]) -> Passage:
    """Rebuild a Passage from what Chroma returned for it."""
    return Passage(
        passage_id=pid,
        article_id=str(meta["article_id"]),
        position=int(meta.get("position", 0)),
        text=text,
        title=str(meta.get("title", "")),
        outlet=meta.get("outlet"),
        published_at=meta.get("published_at"),
        url=meta.get("url"),
        author=meta.get("author"),
        paragraph=int(meta.get("paragraph", 0)),
        context=str(meta.get("context", "")),
    )


def _publications(meta: dict[str, Any]) -> tuple[Publication, ...]:
    raw = meta.get("also_published")
    if not raw:
        return ()
    return tuple(Publication(**item) for item in json.loads(str(raw)))


_PRECISION = "passage_precision"  # the passage collection's metadata key


def _family(precision: str) -> str:
    return "int8" if precision == "int8" else "float32"


def precision_conflict(stored: str, wanted: str) -> str:
    """Say, in one line, that passages in `wanted` cannot join an index of `stored` ones."""
    fits = "auto or int8" if _family(stored) == "int8" else "auto, float32 or bfloat16"
    return (
        f"this index's passages are embedded in {stored}, but NEWSBOT_EMBEDDING_PRECISION is "
        f"{wanted}: a question's vector is compared with every passage's, so they must agree; "
        f"use {fits} with this index, or another NEWSBOT_DATA_DIR / NEWSBOT_CHROMA_COLLECTION"
    )


def passage_setting(setting: str, stored: str | None) -> tuple[str, bool]:
    """Return (precision, may auto choose int8) for an Embedder writing into an index whose
    passages are in `stored` (None: none yet), under the setting; StoreError where the setting
    names a precision the stored passages are not in. "auto" follows the index."""
    if stored is None:
        return setting, True
    if _family(stored) == "int8":
        if setting in {"float32", "bfloat16"}:
            raise StoreError(precision_conflict(stored, setting))
        return "int8", True
    if setting == "int8":
        raise StoreError(precision_conflict(stored, setting))
    return setting, False


def _info_from_record(aid: str, meta: dict[str, Any]) -> ArticleInfo:
    return ArticleInfo(
        article_id=aid,
        title=str(meta.get("title", "")),
        outlet=meta.get("outlet"),
        published_at=meta.get("published_at"),
        url=meta.get("url"),
        passages=int(meta.get("passages", 0)),
        revision=str(meta.get("revision", "")),
        ingested_at=str(meta.get("ingested_at", "")),
        also_published=_publications(meta),
        canonical_url=meta.get("canonical_url"),
    )


class PassageStore:
    """Passages and articles in two Chroma collections that share a name prefix."""

    def __init__(
        self,
        client: Any,
        *,
        prefix: str,
        embedding_model: str,
        shard_passages: int = SHARD_PASSAGES,
    ):
        self.client = client
        self.embedding_model = embedding_model
        try:
            # Collections carry no embedding function: Chroma's default would download a model.
            self.passages = Shards(
                client,
                prefix,
                {"hnsw:space": "cosine", "embedding_model": embedding_model},
                shard_passages,
            )
            self.articles = client.get_or_create_collection(
                f"{prefix}_articles", embedding_function=None
            )
            self.changes = client.get_or_create_collection(
                f"{prefix}_changes", embedding_function=None
            )
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma collections '{prefix}_*': {exc}") from exc
        built_with = (self.passages.collections[0].metadata or {}).get("embedding_model")
        if built_with and built_with != embedding_model:
            raise StoreError(
                f"this index was built with the embedding model {built_with!r}, but "
                f"NEWSBOT_EMBEDDING_MODEL is {embedding_model!r}; use the same model, or another "
                "NEWSBOT_DATA_DIR / NEWSBOT_CHROMA_COLLECTION for the new one"
            )
        first = self.passages.collections[0]
        recorded = (first.metadata or {}).get(_PRECISION)
        # An index from before the record holds float32 (or bfloat16) passages.
        self._precision: str | None = recorded or ("float32" if first.count() else None)
        self.batch_size = max(1, min(int(client.get_max_batch_size()), 5000))
        self._catalogue: Catalogue | None = None
        self._catalogue_position = FeedPosition()
        self._catalogue_lock = threading.RLock()

    # -- what the passages are embedded in -----------------------------------------------
    @property
    def passage_precision(self) -> str | None:
        """What the stored passages were embedded in (int8, bfloat16 or float32, as recorded
        by the first write; float32 for an index from before the record); None: no passage
        yet, any precision will do."""
        return self._precision

    def record_passage_precision(self, precision: str) -> None:
        """Note what this index's passages are embedded in, before its first passages are
        written; later writes must be alike (int8, or float32 / bfloat16, which agree to a
        cosine of 0.99998): StoreError otherwise."""
        if self._precision is not None:
            if _family(self._precision) != _family(precision):
                raise StoreError(precision_conflict(self._precision, precision))
            return
        first = self.passages.collections[0]
        # Chroma replaces the metadata and refuses "hnsw:" keys once made (the space is kept).
        kept = {k: v for k, v in (first.metadata or {}).items() if not k.startswith("hnsw:")}
        try:
            first.modify(metadata={**kept, _PRECISION: precision})
        except Exception as exc:
            raise StoreError(f"cannot record the passages' precision: {exc}") from exc
        self.passages.metadata = {**self.passages.metadata, _PRECISION: precision}
        self._precision = precision

    # -- the change feed --------------------------------------------------------------------
    def changes_since(self, seq: int) -> list[Change]:
        """Return the commits and forgets stamped at or after `seq`, oldest first."""
        where = {"seq": {"$gte": int(seq)}}
        found = [
            Change(aid, int(meta["seq"]), dict(meta)) for aid, meta in _paged(self.articles, where)
        ]
        found += [Change(aid, int(meta["seq"]), None) for aid, meta in _paged(self.changes, where)]
        shards = [int(c.record.get("shard", 0)) for c in found if c.record is not None]
        if shards and not self.passages.knows(max(shards)):
            self.passages.open_new()  # another process started a passage collection
        return sorted(found, key=lambda change: change.seq)

    def feed_since(self) -> int | None:
        """Return the stamp the catalogue reads the change feed from (None: not loaded yet)."""
        with self._catalogue_lock:
            return None if self._catalogue is None else self._catalogue_position.since()

    def sync(self, changes: Sequence[Change] | None = None, looked: int | None = None) -> None:
        """Bring the in-memory catalogue up to the store.

        `changes`, read from the feed since `looked` by a caller that also feeds the keyword
        index, saves a second read; without them the catalogue reads the feed itself.
        """
        with self._catalogue_lock:
            if self._catalogue is None:
                self._load_catalogue()
                return
            if changes is None or looked is None:
                looked = next_seq()
                changes = self.changes_since(self._catalogue_position.since())
            for change in changes:
                self._apply(change)
            self._catalogue_position.advance(changes, looked)

    def _load_catalogue(self) -> None:
        started = next_seq()
        catalogue = Catalogue()
        for aid, meta in self._catalogue_records():
            catalogue.put(aid, meta)
        self._catalogue = catalogue
        self._catalogue_position = FeedPosition(seen=started, looked=started)

    def _apply(self, change: Change) -> None:
        assert self._catalogue is not None
        if change.record is not None:
            self._catalogue.put(change.article_id, change.record)
        elif self._catalogue.revisions.get(change.article_id) is not None:
            # A tombstone older than the article's own commit was followed by a re-ingest.
            current = self.articles.get(ids=[change.article_id], include=["metadatas"])
            if not current["ids"] or int(current["metadatas"][0].get("seq", 0)) <= change.seq:
                self._catalogue.drop(change.article_id)

    def _catalogue_now(self) -> Catalogue:
        with self._catalogue_lock:
            if self._catalogue is None:
                self._load_catalogue()
            assert self._catalogue is not None
            return self._catalogue

    # -- catalogue --------------------------------------------------------------------------
    def article(self, article_id: str) -> ArticleInfo | None:
        got = self.articles.get(ids=[article_id], include=["metadatas"])
        if not got["ids"]:
            return None
        return _info_from_record(article_id, dict(got["metadatas"][0]))

    def records(self, article_ids: Sequence[str]) -> dict[str, StoredArticle]:
        """Return the catalogue records of those of the articles that are stored, in one call."""
        if not article_ids:
            return {}
        got = self.articles.get(ids=list(dict.fromkeys(article_ids)), include=["metadatas"])
        return {
            aid: StoredArticle(_info_from_record(aid, dict(meta)), bool(meta.get("clean")))
            for aid, meta in zip(got["ids"], got["metadatas"], strict=True)
        }

    def is_clean(self, article_id: str) -> bool:
        got = self.articles.get(ids=[article_id], include=["metadatas"])
        return bool(got["ids"]) and bool(got["metadatas"][0].get("clean"))

    def list_articles(self) -> list[ArticleInfo]:
        return [_info_from_record(aid, record) for aid, record in self._catalogue_records()]

    def _catalogue_records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        offset = 0
        while True:
            got = self.articles.get(include=["metadatas"], limit=_PAGE, offset=offset)
            yield from ((aid, dict(m)) for aid, m in zip(got["ids"], got["metadatas"], strict=True))
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE

    def committed_revisions(self) -> dict[str, str]:
        """Return article id → committed revision, as of the last `sync` or own write."""
        return self._catalogue_now().revisions

    def outlets(self) -> tuple[str, ...]:
        """Return the names of the outlets the stored articles come from."""
        return self._catalogue_now().outlets()

    def signatures(self) -> tuple[list[str], np.ndarray]:
        """Return (article ids, MinHash matrix) of stored articles."""
        return self._catalogue_now().signatures()

    def add_publication(self, article_id: str, publication: Publication) -> bool:
        """Record another publication of a stored article; False if already recorded."""
        got = self.articles.get(ids=[article_id], include=["metadatas"])
        if not got["ids"]:
            return False
        meta = dict(got["metadatas"][0])
        known = list(_publications(meta))
        if any(p.url == publication.url and p.outlet == publication.outlet for p in known):
            return False
        known.append(publication)
        meta["also_published"] = json.dumps([asdict(p) for p in known], ensure_ascii=False)
        self.articles.update(ids=[article_id], metadatas=[meta])
        return True

    # -- writes -----------------------------------------------------------------------------
    def write_article(
        self,
        info: ArticleInfo,
        passages: Sequence[Passage],
        embeddings: np.ndarray,
        minhash: str | None = None,
    ) -> int:
        """Store an article's passages and commit it (see the module docstring); return its seq."""
        return self.write_articles([(info, passages, embeddings, minhash)])[0]

    def write_articles(
        self,
        items: Sequence[tuple[ArticleInfo, Sequence[Passage], np.ndarray, str | None]],
        *,
        give_way: Callable[[], bool] | None = None,
    ) -> list[int]:
        """Store and commit several articles with a few Chroma calls in all; return their seqs.

        The commit protocol of the module docstring, done for the batch at each step: every
        passage first, then every catalogue record (each one an article's commit), then the
        clean-up of other revisions. A feed's small items cost a few calls per batch, not per
        article.
        """
        if not items:
            return []
        ids: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, Any]] = []
        vectors: list[Any] = []
        for info, passages, embeddings, _ in items:
            ids += [p.passage_id for p in passages]
            documents += [p.text for p in passages]
            metadatas += [_passage_metadata(p, info.revision) for p in passages]
            vectors += list(embeddings)
        shard, collection = self.passages.writable(len(ids))
        start = 0
        while start < len(ids):
            # `give_way` (questions came lately): small pieces, each after the question in
            # flight. Embedded Chroma holds Python's lock for a whole write, so a question's
            # Python waits meanwhile: 50 articles (1x) froze other threads 16 times, up to 191 ms.
            polite = give_way is not None and give_way()
            end = start + (_POLITE_WRITE if polite else self.batch_size)
            collection.upsert(
                ids=ids[start:end],
                embeddings=vectors[start:end],
                documents=documents[start:end],
                metadatas=metadatas[start:end],
            )
            start = end
        article_ids = [info.article_id for info, _, _, _ in items]
        got = self.articles.get(ids=article_ids, include=["metadatas"])
        previous = {aid: dict(m) for aid, m in zip(got["ids"], got["metadatas"], strict=True)}
        records = [
            _record(info, len(passages), minhash, previous.get(info.article_id), shard)
            for info, passages, _, minhash in items
        ]
        for start in range(0, len(records), self.batch_size):
            end = start + self.batch_size
            self.articles.upsert(
                ids=article_ids[start:end],
                documents=[info.title for info, _, _, _ in items[start:end]],
                embeddings=[[1.0]] * len(records[start:end]),
                metadatas=records[start:end],
            )
        with self._catalogue_lock:
            if self._catalogue is not None:
                for aid, record in zip(article_ids, records, strict=True):
                    self._catalogue.put(aid, record)
        # Only an article that had a committed revision can have another revision's passages
        # to delete (a filtered delete scans, and most of a feed's articles are new). Passages
        # of an attempt that crashed before its first commit stay invisible until the article
        # is next updated or forgotten.
        replaced = [aid for aid in article_ids if aid in previous]
        if replaced:
            revisions = sorted({str(r["revision"]) for r in records})
            self.passages.delete(
                where={
                    "$and": [{"article_id": {"$in": replaced}}, {"revision": {"$nin": revisions}}]
                }
            )
        for record in records:
            record["clean"] = True
        self.articles.update(ids=article_ids, metadatas=records)
        return [int(record["seq"]) for record in records]

    def clean_up(self, article_id: str, revision: str) -> None:
        """Delete passages of other revisions of a committed article, then mark it clean."""
        self.passages.delete(
            where={"$and": [{"article_id": article_id}, {"revision": {"$ne": revision}}]}
        )
        got = self.articles.get(ids=[article_id], include=["metadatas"])
        if got["ids"]:
            meta = dict(got["metadatas"][0])
            meta["clean"] = True
            self.articles.update(ids=[article_id], metadatas=[meta])

    def delete_article(self, article_id: str) -> int | None:
        """Remove an article and all its passages; return the tombstone's seq, None if absent."""
        if not self.articles.get(ids=[article_id], include=[])["ids"]:
            return None
        # The tombstone first: a crash before the delete leaves the article, which a reader of
        # the feed then checks; the catalogue record next: from then on its passages are hidden.
        seq = next_seq()
        self.changes.upsert(
            ids=[article_id], documents=[""], embeddings=[[1.0]], metadatas=[{"seq": seq}]
        )
        self.articles.delete(ids=[article_id])
        self.passages.delete(where={"article_id": article_id})
        with self._catalogue_lock:
            if self._catalogue is not None:
                self._catalogue.drop(article_id)
        return seq

    # -- reads ------------------------------------------------------------------------------
    def _visible(self, meta: dict[str, Any], revisions: dict[str, str]) -> bool:
        return revisions.get(str(meta.get("article_id"))) == meta.get("revision")

    def query(
        self, embedding: Sequence[float], k: int, filters: SearchFilters | None = None
    ) -> list[tuple[Passage, float]]:
        """Return up to k committed passages nearest to the embedding, with cosine similarity."""
        if k <= 0:
            return []
        revisions = self.committed_revisions()
        # Chroma 1.x returns fewer when it holds fewer
        got = self.passages.query(list(map(float, embedding)), k, _where(filters))
        return [
            (passage_from_record(pid, doc, meta), 1.0 - dist)
            for pid, doc, meta, dist in got
            if self._visible(meta, revisions)
        ]

    def nearest_ids(
        self, embeddings: Sequence[Sequence[float]], k: int
    ) -> list[list[tuple[str, float]]]:
        """Return, for each embedding, up to k passage ids nearest to it, with cosine
        similarity (all of them in one query of each vector collection).

        Ids only: reading metadata is what makes a wide query slow (21 ms against 2 ms for 200
        results here). Some ids may be of uncommitted revisions; callers check them.
        """
        if k <= 0:
            return [[] for _ in embeddings]
        found = self.passages.nearest_each(embeddings, k)  # it makes them floats
        return [[(pid, 1.0 - dist) for pid, dist, _ in got] for got in found]

    def get_passages(
        self, ids: Sequence[str], *, with_embeddings: bool = False
    ) -> dict[str, tuple[Passage, np.ndarray | None]]:
        """Return the committed passages among ids (and their embeddings when asked), by id."""
        if not ids:
            return {}
        revisions = self.committed_revisions()
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        got = self.passages.get(ids=list(ids), include=include)
        vectors = got.get("embeddings") if with_embeddings else None
        found: dict[str, tuple[Passage, np.ndarray | None]] = {}
        for i, (pid, doc, meta) in enumerate(
            zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ):
            if self._visible(dict(meta), revisions):
                vector = vectors[i] if vectors is not None else None
                found[pid] = (passage_from_record(pid, doc, dict(meta)), vector)
        return found

    def revision_passages(
        self, article_id: str, revision: str, shard: int | None = None
    ) -> list[Passage]:
        """Return the passages of one revision of an article in order (none if it is gone).

        `shard`, the collection its commit record names, saves reading the others (each read
        of a collection took 25-100 ms at a million passages, beside an ingest).
        """
        got = self.passages.get(
            shard=shard,
            where={"$and": [{"article_id": article_id}, {"revision": revision}]},
            include=["documents", "metadatas"],
        )
        passages = [
            passage_from_record(pid, doc, dict(meta))
            for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(passages, key=lambda p: p.position)

    def iter_passages(self, revisions: dict[str, str] | None = None) -> Iterator[Passage]:
        """Yield every committed passage (of `revisions`, by default the catalogue's).

        Read by batches of articles rather than by offset pages: Chroma skips an offset by
        walking it, so offset paging grows quadratically with the index.
        """
        revisions = dict(self.committed_revisions()) if revisions is None else revisions
        article_ids = sorted(revisions)
        for start in range(0, len(article_ids), _ARTICLES_PER_READ):
            batch = article_ids[start : start + _ARTICLES_PER_READ]
            got = self.passages.get(
                where={"article_id": {"$in": batch}}, include=["documents", "metadatas"]
            )
            for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                if self._visible(dict(meta), revisions):
                    yield passage_from_record(pid, doc, dict(meta))

    def count_passages(self) -> int:
        return int(self.passages.count())


def _paged(collection: Any, where: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every (id, metadata) the filter matches, a page at a time: one read of tens of thousands
    of records (another process's bulk write, 100x) fails in Chroma with "too many SQL
    variables"."""
    offset = 0
    while True:
        got = collection.get(where=where, include=["metadatas"], limit=_PAGE, offset=offset)
        yield from zip(got["ids"], got["metadatas"], strict=True)
        if len(got["ids"]) < _PAGE:
            return
        offset += _PAGE
