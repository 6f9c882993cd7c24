"""How passages and articles are written in Chroma's metadata, and read back.

A passage's metadata carries its article's revision (searches show only the committed one); an
article's catalogue record is its commit (see storage/store.py), stamped for the change feed
(storage/changes.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from retrieval.days import date_number, utc_now
from retrieval.models import ArticleInfo, Passage, Publication, SearchFilters
from retrieval.storage.changes import next_seq


@dataclass(frozen=True)
class StoredArticle:
    """An article's catalogue record: what is committed, and whether its clean-up was done."""

    info: ArticleInfo
    clean: bool


def where_clause(filters: SearchFilters | None, *extra: dict[str, Any]) -> dict[str, Any] | None:
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


def passage_metadata(p: Passage, revision: str) -> dict[str, Any]:
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


def commit_record(
    info: ArticleInfo,
    passages: int,
    minhash: str | None,
    previous: dict[str, Any] | None,
    shard: int,
) -> dict[str, Any]:
    """Return the catalogue record that commits an article (see storage/store.py)."""
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


def publications(meta: dict[str, Any]) -> tuple[Publication, ...]:
    raw = meta.get("also_published")
    if not raw:
        return ()
    return tuple(Publication(**item) for item in json.loads(str(raw)))


def info_from_record(aid: str, meta: dict[str, Any]) -> ArticleInfo:
    return ArticleInfo(
        article_id=aid,
        title=str(meta.get("title", "")),
        outlet=meta.get("outlet"),
        published_at=meta.get("published_at"),
        url=meta.get("url"),
        passages=int(meta.get("passages", 0)),
        revision=str(meta.get("revision", "")),
        ingested_at=str(meta.get("ingested_at", "")),
        also_published=publications(meta),
        canonical_url=meta.get("canonical_url"),
    )
