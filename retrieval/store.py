"""Chroma, the source of truth: passages with their embeddings, and the article catalogue.

Writes follow a small commit protocol so that an article is visible whole or not at all:

1. the new revision's passages are upserted under ids that include the revision, so they
   overwrite nothing and stay invisible (searches only show passages of the committed revision);
2. the article's catalogue record is upserted with the new revision: this is the commit;
3. passages of other revisions of the article are deleted, then the record is marked clean.

A crash or Ctrl-C between any two steps leaves the old or the new article, never a mix, and
re-running the ingest finishes the job. Every write also stamps a new *generation*, which tells
derived indexes (the lexical one) in this or another process that they must catch up.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.syndication import decode
from retrieval.types import (
    ArticleInfo,
    Passage,
    Publication,
    SearchFilters,
    date_number,
    utc_now,
)

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

_META_ID = "generation"
_PAGE = 1000
_ARTICLES_PER_READ = 200


class StoreError(RuntimeError):
    """The store cannot be used as configured; the message says why and what to do."""


@dataclass(frozen=True)
class ChromaLocation:
    """Where Chroma lives: a directory (embedded) or a server."""

    path: Path | None = None
    host: str | None = None
    port: int = 8000
    ssl: bool = False

    def describe(self) -> str:
        if self.host:
            scheme = "https" if self.ssl else "http"
            return f"Chroma server {scheme}://{self.host}:{self.port}"
        return f"embedded Chroma in {self.path}"


def open_client(location: ChromaLocation) -> Any:
    """Return a Chroma client for the location (telemetry off)."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if location.host:
        try:
            return chromadb.HttpClient(
                host=location.host, port=location.port, ssl=location.ssl, settings=settings
            )
        except Exception as exc:
            raise StoreError(f"cannot reach {location.describe()}: {exc}") from exc
    if location.path is None:
        raise StoreError("no Chroma path or host configured")
    location.path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(location.path), settings=settings)


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

    def __init__(self, client: Any, *, prefix: str, embedding_model: str):
        self.client = client
        self.embedding_model = embedding_model
        try:
            # Collections carry no embedding function: Chroma's default would download a model.
            self.passages = client.get_or_create_collection(
                f"{prefix}_passages",
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedding_model": embedding_model},
            )
            self.articles = client.get_or_create_collection(
                f"{prefix}_articles", embedding_function=None
            )
            self.meta = client.get_or_create_collection(f"{prefix}_meta", embedding_function=None)
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma collections '{prefix}_*': {exc}") from exc
        built_with = (self.passages.metadata or {}).get("embedding_model")
        if built_with and built_with != embedding_model:
            raise StoreError(
                f"this index was built with the embedding model {built_with!r}, but "
                f"NEWSBOT_EMBEDDING_MODEL is {embedding_model!r}; use the same model, or another "
                "NEWSBOT_DATA_DIR / NEWSBOT_CHROMA_COLLECTION for the new one"
            )
        self._batch = max(1, min(int(client.get_max_batch_size()), 5000))
        self._catalogue_cache: tuple[dict[str, str], tuple[str, ...]] | None = None
        self._catalogue_generation: str | None = None
        self._signatures: tuple[list[str], np.ndarray] | None = None
        self._signatures_generation: str | None = None

    # -- generation -------------------------------------------------------------------------
    def generation(self) -> str:
        """Return the stamp of the last write; it changes with every write by any process."""
        got = self.meta.get(ids=[_META_ID], include=["documents"])
        docs = got.get("documents") or []
        return str(docs[0]) if docs else ""

    def _bump(self) -> None:
        self.meta.upsert(ids=[_META_ID], documents=[uuid.uuid4().hex], embeddings=[[1.0]])

    # -- catalogue --------------------------------------------------------------------------
    def article(self, article_id: str) -> ArticleInfo | None:
        got = self.articles.get(ids=[article_id], include=["metadatas"])
        if not got["ids"]:
            return None
        return _info_from_record(article_id, dict(got["metadatas"][0]))

    def is_clean(self, article_id: str) -> bool:
        got = self.articles.get(ids=[article_id], include=["metadatas"])
        return bool(got["ids"]) and bool(got["metadatas"][0].get("clean"))

    def list_articles(self) -> list[ArticleInfo]:
        infos = []
        offset = 0
        while True:
            got = self.articles.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for aid, meta in zip(got["ids"], got["metadatas"], strict=True):
                infos.append(_info_from_record(aid, dict(meta)))
            if len(got["ids"]) < _PAGE:
                return infos
            offset += _PAGE

    def _catalogue(self) -> tuple[dict[str, str], tuple[str, ...]]:
        """Return (article id → committed revision, outlet names), cached per generation."""
        generation = self.generation()
        if self._catalogue_cache is None or generation != self._catalogue_generation:
            articles = self.list_articles()
            revisions = {a.article_id: a.revision for a in articles}
            outlets = {a.outlet for a in articles if a.outlet}
            self._catalogue_cache = (revisions, tuple(sorted(outlets)))
            self._catalogue_generation = generation
        return self._catalogue_cache

    def committed_revisions(self) -> dict[str, str]:
        """Return article id → committed revision, cached until the generation changes."""
        return self._catalogue()[0]

    def outlets(self) -> tuple[str, ...]:
        """Return the names of the outlets the stored articles come from."""
        return self._catalogue()[1]

    def signatures(self) -> tuple[list[str], np.ndarray]:
        """Return (article ids, MinHash matrix) of stored articles, cached per generation."""
        import numpy as np

        generation = self.generation()
        if self._signatures is None or generation != self._signatures_generation:
            ids: list[str] = []
            rows: list[np.ndarray] = []
            offset = 0
            while True:
                got = self.articles.get(include=["metadatas"], limit=_PAGE, offset=offset)
                for aid, meta in zip(got["ids"], got["metadatas"], strict=True):
                    if meta.get("minhash"):
                        ids.append(aid)
                        rows.append(decode(str(meta["minhash"])))
                if len(got["ids"]) < _PAGE:
                    break
                offset += _PAGE
            matrix = np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.uint32)
            self._signatures = (ids, matrix)
            self._signatures_generation = generation
        return self._signatures

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
        self._bump()
        return True

    # -- writes -----------------------------------------------------------------------------
    def write_article(
        self,
        info: ArticleInfo,
        passages: Sequence[Passage],
        embeddings: np.ndarray,
        minhash: str | None = None,
    ) -> None:
        """Store an article's passages and commit it (see the module docstring)."""
        ids = [p.passage_id for p in passages]
        for start in range(0, len(ids), self._batch):
            end = start + self._batch
            self.passages.upsert(
                ids=ids[start:end],
                embeddings=embeddings[start:end],
                documents=[p.text for p in passages[start:end]],
                metadatas=[_passage_metadata(p, info.revision) for p in passages[start:end]],
            )
        record: dict[str, Any] = {
            "title": info.title,
            "revision": info.revision,
            "passages": len(passages),
            "published_ts": date_number(info.published_at),
            "ingested_at": info.ingested_at or utc_now(),
            "clean": False,
        }
        previous = self.articles.get(ids=[info.article_id], include=["metadatas"])
        also = previous["metadatas"][0].get("also_published") if previous["ids"] else None
        optional = {
            "outlet": info.outlet,
            "published_at": info.published_at,
            "url": info.url,
            "canonical_url": info.canonical_url,
            "minhash": minhash,
            "also_published": also,  # an update keeps the story's other publications
        }
        record.update({k: v for k, v in optional.items() if v})
        self.articles.upsert(
            ids=[info.article_id], documents=[info.title], embeddings=[[1.0]], metadatas=[record]
        )
        self._bump()
        self.clean_up(info.article_id, info.revision)

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

    def delete_article(self, article_id: str) -> bool:
        """Remove an article and all its passages; return whether it existed."""
        existed = bool(self.articles.get(ids=[article_id], include=[])["ids"])
        # The catalogue record goes first: from then on its passages are invisible.
        self.articles.delete(ids=[article_id])
        self.passages.delete(where={"article_id": article_id})
        if existed:
            self._bump()
        return existed

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
        got = self.passages.query(  # Chroma 1.x returns fewer when it holds fewer
            query_embeddings=[list(map(float, embedding))],
            n_results=k,
            where=_where(filters),
            include=["documents", "metadatas", "distances"],
        )
        hits = []
        for pid, doc, meta, dist in zip(
            got["ids"][0],
            got["documents"][0],
            got["metadatas"][0],
            got["distances"][0],
            strict=True,
        ):
            if self._visible(dict(meta), revisions):
                hits.append((passage_from_record(pid, doc, dict(meta)), 1.0 - float(dist)))
        return hits

    def nearest_ids(self, embedding: Sequence[float], k: int) -> list[tuple[str, float]]:
        """Return up to k passage ids nearest to the embedding, with cosine similarity.

        Ids only: reading metadata is what makes a wide query slow (21 ms against 2 ms for 200
        results here). Some ids may be of uncommitted revisions; callers check them.
        """
        if k <= 0:
            return []
        got = self.passages.query(
            query_embeddings=[list(map(float, embedding))], n_results=k, include=["distances"]
        )
        return [
            (pid, 1.0 - float(dist))
            for pid, dist in zip(got["ids"][0], got["distances"][0], strict=True)
        ]

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

    def article_passages(self, article_id: str) -> list[Passage]:
        """Return the committed passages of one article in order."""
        revision = self.committed_revisions().get(article_id)
        if revision is None:
            return []
        got = self.passages.get(
            where={"$and": [{"article_id": article_id}, {"revision": revision}]},
            include=["documents", "metadatas"],
        )
        passages = [
            passage_from_record(pid, doc, dict(meta))
            for pid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]
        return sorted(passages, key=lambda p: p.position)

    def iter_passages(self) -> Iterator[Passage]:
        """Yield every committed passage (for rebuilding derived indexes).

        Read by batches of articles rather than by offset pages: Chroma skips an offset by
        walking it, so offset paging grows quadratically with the index.
        """
        revisions = self.committed_revisions()
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
