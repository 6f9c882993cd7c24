"""Grow an index to N times its corpus with replicas, through the index's public API only.

Replica n of article A is a committed article `A~rn` (its own catalogue record, same text)
whose passages reuse the original embeddings, nudged by a little noise: exact duplicate vectors
are a degenerate case for Chroma's HNSW graph and unlike real articles. They are written with
`NewsIndex.put_embedded` (no re-embedding, no syndication check), which commits each batch to
Chroma and to the keyword index as an ingest does.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from retrieval.index import NewsIndex
    from retrieval.models import ArticleInfo, Passage

REPLICA = "~r"  # replica n of article or passage X has the id f"X~r{n}"
_READ = 500  # passages read back per call
_WRITE = 2000  # passages per put_embedded call
_INGEST_BATCH = 128  # passages the ingester embeds and commits together (ingest.pipeline)


@dataclass
class Snapshot:
    """The committed articles of the original corpus, their passages and embeddings."""

    articles: list[ArticleInfo]
    passages: dict[str, list[Passage]]  # article id → passages in order
    embeddings: dict[str, np.ndarray]  # passage id → embedding

    @property
    def passage_count(self) -> int:
        return sum(len(p) for p in self.passages.values())


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_snapshot(index: NewsIndex) -> Snapshot:
    """Read every original (not replica) article with its passages and their embeddings."""
    import numpy as np

    articles = [a for a in index.store.list_articles() if REPLICA not in a.article_id]
    wanted = {a.article_id for a in articles}
    revisions = {
        aid: rev for aid, rev in index.store.committed_revisions().items() if aid in wanted
    }
    passages: dict[str, list[Passage]] = {}
    for passage in index.store.iter_passages(revisions):
        passages.setdefault(passage.article_id, []).append(passage)
    ids = [p.passage_id for group in passages.values() for p in group]
    embeddings: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), _READ):
        found = index.store.get_passages(ids[start : start + _READ], with_embeddings=True)
        for pid, (_, vector) in found.items():
            embeddings[pid] = np.asarray(vector, dtype=np.float32)
    if not ids:
        raise SystemExit("error: the index holds no passages to replicate")
    return Snapshot([a for a in articles if a.article_id in passages], passages, embeddings)


def replica_article(
    snap: Snapshot, info: ArticleInfo, n: int, noise: np.ndarray | None
) -> tuple[ArticleInfo, list[Passage], np.ndarray]:
    """Return replica n of one article: its info, passages and (nudged) embeddings."""
    import numpy as np

    aid = f"{info.article_id}{REPLICA}{n}"
    passages = [
        replace(p, passage_id=f"{p.passage_id}{REPLICA}{n}", article_id=aid)
        for p in sorted(snap.passages[info.article_id], key=lambda p: p.position)
    ]
    vectors = np.vstack([snap.embeddings[p.passage_id] for p in snap.passages[info.article_id]])
    if noise is not None:
        vectors = vectors + noise[: len(vectors)]
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return replace(info, article_id=aid, passages=len(passages)), passages, vectors


def replicate(index: NewsIndex, snap: Snapshot, first: int, stop: int, *, jitter: float) -> float:
    """Write replicas first..stop-1 of every snapshot article; return the seconds it took."""
    import numpy as np

    rng = np.random.default_rng(first)
    dim = len(next(iter(snap.embeddings.values())))
    total = (stop - first) * snap.passage_count
    written = 0
    started = last_log = time.perf_counter()
    batch: list[tuple[ArticleInfo, list[Passage], np.ndarray]] = []
    for n in range(first, stop):
        for info in snap.articles:
            size = len(snap.passages[info.article_id])
            noise = None
            if jitter > 0:
                noise = rng.standard_normal((size, dim), dtype=np.float32) * (jitter / np.sqrt(dim))
            batch.append(replica_article(snap, info, n, noise))
            if sum(len(p) for _, p, _ in batch) >= _WRITE:
                index.put_embedded(batch)
                written += sum(len(p) for _, p, _ in batch)
                batch = []
                now = time.perf_counter()
                if now - last_log > 10:
                    last_log = now
                    rate = written / (now - started)
                    log(f"  replicas: {written:,}/{total:,} passages, {rate:,.0f}/s")
    if batch:
        index.put_embedded(batch)
    return time.perf_counter() - started


def keyword_ms_per_article(index: NewsIndex, snap: Snapshot, articles: int = 50) -> KeywordCost:
    """Time the keyword index's work for `articles` new articles, in ms per article.

    Twice: committed in batches of about 128 passages, as an ingest commits them, and one
    article per commit (a single `/ingest url:`). The articles are fresh replicas (number -1),
    forgotten again afterwards, so the index is left as it was.
    """
    index.refresh()  # the keyword index opens on first use: time its work, not its opening
    items = [replica_article(snap, info, -1, None) for info in snap.articles[:articles]]
    entries = [(info.article_id, info.revision, 1, passages) for info, passages, _ in items]
    batches: list[list[tuple[str, str, int, list[Passage]]]] = [[]]
    for entry in entries:
        if sum(len(e[3]) for e in batches[-1]) + len(entry[3]) > _INGEST_BATCH and batches[-1]:
            batches.append([])
        batches[-1].append(entry)
    started = time.perf_counter()
    for batch in batches:
        index.lexical.put_many(batch)
    batched = (time.perf_counter() - started) * 1000 / len(entries)
    _forget(index, entries, 2)
    started = time.perf_counter()
    for entry in entries:
        index.lexical.put_many([(entry[0], entry[1], 3, entry[3])])
    single = (time.perf_counter() - started) * 1000 / len(entries)
    _forget(index, entries, 4)
    return KeywordCost(batched, single)


@dataclass
class KeywordCost:
    """The keyword index's work per new article, in ms."""

    batched: float  # committed in ingest-sized batches
    single: float  # one article per commit


def _forget(index: NewsIndex, entries: list[tuple[str, str, int, list[Passage]]], seq: int) -> None:
    for article_id, _, _, _ in entries:
        index.lexical.remove(article_id, seq)
