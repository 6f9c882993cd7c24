"""Chroma, the source of truth: passages with their embeddings, and the article catalogue.

Writes follow a small commit protocol so that an article is visible whole or not at all:

1. the new revision's passages are upserted under ids that include the revision, so they
   overwrite nothing and stay invisible (searches only show passages of the committed revision);
2. the article's catalogue record is upserted with the new revision: this is the commit;
3. passages of other revisions of the article are deleted, then the record is marked clean.

A crash or Ctrl-C between any two steps leaves the old or the new article, never a mix, and
re-running the ingest finishes the job. Each commit is stamped for the change feed
(storage/changes.py), which other processes read to catch up; what the records hold is in
storage/records.py.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, NamedTuple

from retrieval.errors import StoreError
from retrieval.models import (
    ArticleInfo,
    Passage,
    Publication,
    SearchFilters,
    passage_id,
    passage_place,
)
from retrieval.storage.catalogue import Catalogue
from retrieval.storage.changes import Change, FeedPosition, next_seq
from retrieval.storage.onnx_model import INT8, INT8_COPIES
from retrieval.storage.records import (
    StoredArticle,
    commit_record,
    info_from_record,
    passage_from_record,
    passage_metadata,
    publications,
    where_clause,
)
from retrieval.storage.shards import SHARD_PASSAGES, Shards

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

_PAGE = 1000
_ARTICLES_PER_READ = 200
_POLITE_WRITE = 32  # passages per write while questions come (see write_articles)


_PRECISION = "passage_precision"  # the passage collection's metadata key


def _family(precision: str) -> str:
    return "int8" if precision.startswith("int8") else "float32"


class PassageSetting(NamedTuple):
    """How an Embedder writing into an index embeds its passages (see passage_setting)."""

    precision: str  # auto, float32, bfloat16 or int8
    int8_copy: str  # the int8 copy passages embed with in int8 (onnx_model.INT8_COPIES)


def precision_conflict(stored: str, wanted: str) -> str:
    """Say, in one line, that passages in `wanted` cannot join an index of `stored` ones."""
    fits = "auto or int8" if _family(stored) == "int8" else "auto, float32 or bfloat16"
    return (
        f"this index's passages are embedded in {stored}, but NEWSBOT_EMBEDDING_PRECISION is "
        f"{wanted}: a question's vector is compared with every passage's, so they must agree; "
        f"use {fits} with this index, or another NEWSBOT_DATA_DIR / NEWSBOT_CHROMA_COLLECTION"
    )


def passage_setting(setting: str, stored: str | None) -> PassageSetting:
    """Return how an Embedder writing into an index whose passages are in `stored` (None: none
    yet) embeds under the setting; StoreError where the setting names a precision the stored
    passages are not in. "auto" follows an int8 index, with the int8 copy its passages were
    embedded with (the first copy, "int8", for an index made before the smoothed one); on a
    new index it never picks int8 (docs/measurements.md#int8-passages)."""
    if stored is None:
        return PassageSetting(setting, INT8)
    if _family(stored) == "int8":
        if setting in {"float32", "bfloat16"}:
            raise StoreError(precision_conflict(stored, setting))
        if stored not in INT8_COPIES:  # a later newsbot's copy: not one this one can make
            raise StoreError(
                f"this index's passages are embedded with an int8 copy of the model this "
                f"version of newsbot does not know ({stored}); use the newsbot that made it"
            )
        return PassageSetting("int8", stored)
    if setting == "int8":
        raise StoreError(precision_conflict(stored, setting))
    return PassageSetting(setting, INT8)


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
        """What the stored passages were embedded in (bfloat16, float32 or an int8 copy's
        name, as recorded by the first write; float32 for an index from before the record);
        None: no passage yet, any precision will do."""
        return self._precision

    def record_passage_precision(self, precision: str) -> None:
        """Note what this index's passages are embedded in, before its first passages are
        written; later writes must be alike (the same int8 copy, or float32 / bfloat16, which
        agree to a cosine of 0.99998): StoreError otherwise."""
        if self._precision is not None:
            mixed = _family(self._precision) != _family(precision) or (
                _family(precision) == "int8" and precision != self._precision
            )
            if mixed:
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
        return info_from_record(article_id, dict(got["metadatas"][0]))

    def records(self, article_ids: Sequence[str]) -> dict[str, StoredArticle]:
        """Return the catalogue records of those of the articles that are stored, in one call."""
        if not article_ids:
            return {}
        got = self.articles.get(ids=list(dict.fromkeys(article_ids)), include=["metadatas"])
        return {
            aid: StoredArticle(info_from_record(aid, dict(meta)), bool(meta.get("clean")))
            for aid, meta in zip(got["ids"], got["metadatas"], strict=True)
        }

    def is_clean(self, article_id: str) -> bool:
        got = self.articles.get(ids=[article_id], include=["metadatas"])
        return bool(got["ids"]) and bool(got["metadatas"][0].get("clean"))

    def list_articles(self) -> list[ArticleInfo]:
        return [info_from_record(aid, record) for aid, record in self._catalogue_records()]

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
        known = list(publications(meta))
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
            metadatas += [passage_metadata(p, info.revision) for p in passages]
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
            commit_record(info, len(passages), minhash, previous.get(info.article_id), shard)
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
        got = self.passages.query(list(map(float, embedding)), k, where_clause(filters))
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

    def committed_ids(self, found: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
        """Return those of `found` (`nearest_ids`' pairs) whose passage is of its article's
        committed revision, as its id tells (an id that does not tell is kept: reading the
        passage checks its metadata)."""
        revisions = self.committed_revisions()
        kept = []
        for pid, similarity in found:
            place = passage_place(pid)
            committed = place and revisions.get(place[0])
            if place is None or (committed and passage_id(place[0], committed, place[1]) == pid):
                kept.append((pid, similarity))
        return kept

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
