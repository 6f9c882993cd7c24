"""Question → ranked passages: dense (Chroma) and keyword (BM25) search fused by rank."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import numpy as np

from retrieval.models import Passage, SearchFilters, SearchHit
from retrieval.question.outlets import OutletNames
from retrieval.question.query import QueryPlan, plan_query
from retrieval.question.speakers import quotes, surname_of
from retrieval.storage.changes import next_seq
from retrieval.storage.lexical import LexicalIndex
from retrieval.storage.store import PassageStore

logger = logging.getLogger(__name__)

_WORDS = re.compile(r"\w+")
_DUPLICATE = 0.8  # word-set overlap that makes two passages the same text for a reader
_SIDE_THREADS = 8  # for the reads a search runs beside its own work, several searches at once
_T = TypeVar("_T")


@dataclass(frozen=True)
class FusionWeights:
    """Weights of the rankings fused by reciprocal rank, chosen on the MultiHop-RAG dev split.

    News questions carry names, outlets and rare words that keyword search ranks well, so it
    outweighs dense search 4 : 1; a small rrf_k lets a first place count. The search within
    an outlet or date the question names weighs 8 times the search of the whole question.
    Figures: docs/measurements.md#retrieval-on-multihop-rag.
    """

    dense: float = 1.0
    lexical: float = 4.0
    rrf_k: int = 5
    part: float = 8.0
    # "What did Putin say": a passage quoting and naming the speaker gains as much as a first
    # place in a search of that weight (checked on the seed article, not on the benchmark).
    speaker: float = 2.0


def fuse_ranks(
    rankings: list[list[str]], weights: list[float], rrf_k: int = 60
) -> list[tuple[str, float]]:
    """Return ids by weighted reciprocal-rank fusion, best first (ties keep first-seen order)."""
    scores: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (rrf_k + rank)
    order = {item: i for i, item in enumerate(dict.fromkeys(i for r in rankings for i in r))}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


class HybridSearch:
    """Search the store and the keyword index together, keeping the latter in step."""

    def __init__(
        self,
        store: PassageStore,
        lexical: LexicalIndex,
        embed: Callable[[list[str]], np.ndarray],
        *,
        candidates: int,
        part_pool: int = 200,
        weights: FusionWeights | None = None,
        today: Callable[[], date] | None = None,
    ):
        self.store = store
        self.lexical = lexical
        self.embed = embed
        self.candidates = candidates
        self.part_pool = part_pool
        self.weights = weights or FusionWeights()
        self.today = today or date.today
        self._outlets: tuple[tuple[str, ...], OutletNames] | None = None
        self._side: ThreadPoolExecutor | None = None
        self._side_lock = threading.Lock()

    def refresh(self, *, wait: bool = True) -> None:
        """Catch up with the store's changes: the catalogue, then the keyword index.

        Reads only what changed since the last look (this or another process's writes), so it
        runs before every search, with `wait=False`: searches never wait for a writer
        (`LexicalIndex.catch_up`).
        """
        looked = next_seq()
        since = [s for s in (self.store.feed_since(), self.lexical.feed_since()) if s is not None]
        changes = self.store.changes_since(min(since)) if len(since) == 2 else None
        self.store.sync(changes, looked)  # one read of the feed serves both
        self.lexical.catch_up(self.store, changes, looked, wait=wait)

    def close(self) -> None:
        """Let the searches' side threads finish and end them (a later search starts new ones)."""
        with self._side_lock:
            side, self._side = self._side, None
        if side is not None:
            side.shutdown(wait=True)

    def _beside(self, work: Callable[..., _T], *args: Any, **kwargs: Any) -> Future[_T]:
        """Start `work` in a side thread: what waits on Chroma or the feed (not on Python's
        lock) runs while this thread embeds or searches keywords."""
        with self._side_lock:
            if self._side is None:
                self._side = ThreadPoolExecutor(_SIDE_THREADS, thread_name_prefix="search")
            return self._side.submit(work, *args, **kwargs)

    def plan(self, question: str) -> QueryPlan:
        """Return the parts of the question to search (outlets and dates it names)."""
        return plan_query(question, self.outlet_names(), self.today())

    def outlet_names(self) -> OutletNames:
        outlets = self.store.outlets()
        if self._outlets is None or self._outlets[0] != outlets:
            self._outlets = (outlets, OutletNames(outlets))
        return self._outlets[1]

    def search(
        self, question: str, k: int, filters: SearchFilters | None = None
    ) -> list[SearchHit]:
        """Return the k passages that best match the question, best first.

        The question is searched as it is; each part of it that names an outlet or a date is
        also searched within those, and all the rankings are fused: a question about two
        reports finds both, and a named outlet or day lifts its own passages.
        """
        # The store's changes are read while the question is embedded (~2 ms at 10x).
        looking = self._beside(self.refresh, wait=False)
        names = self.outlet_names()
        plan, searches, vectors = self._embedded(question, filters, names)
        looking.result()  # the catalogue and the keyword index current before they are read
        if self.outlet_names() is not names:  # the changes brought another outlet: plan again
            plan, searches, vectors = self._embedded(question, filters, self.outlet_names())
        pool = max(k, self.candidates)
        # The vector index filters slowly (a scan, ~0.5 s at 100k passages): a part takes its
        # dense candidates from a wider unfiltered search of ids instead, filtered with the
        # keyword index's per-passage outlets and dates. Dense searches run beside the
        # keyword searches.
        dense = self._beside(self._dense, vectors[0], pool, searches[0][1])
        wide = (
            self._beside(self.store.nearest_ids, list(vectors[1:]), self.part_pool)
            if len(searches) > 1
            else None
        )
        lexicals = [self.lexical.search(text, pool, where) for text, where, _ in searches]
        read = _Read(self.store, vectors[0])
        first = dense.result()
        for pid, similarity, passage in first:
            read.similarity[pid] = similarity
            if passage is not None:
                read.passages[pid] = passage
        wides = wide.result() if wide is not None else []
        denses = [[pid for pid, _, _ in first]] + [
            self.lexical.admitted([pid for pid, _ in found], where)[:pool]
            for (_, where, _), found in zip(searches[1:], wides, strict=True)
        ]
        rankings: list[list[str]] = []
        weights: list[float] = []
        lexical_scores: dict[str, float] = {}
        for (_, _, weight), dense_ids, lexical in zip(searches, denses, lexicals, strict=True):
            rankings += [dense_ids, [pid for pid, _ in lexical]]
            weights += [weight * self.weights.dense, weight * self.weights.lexical]
            for pid, score in lexical:
                lexical_scores.setdefault(pid, score)
        fused = fuse_ranks(rankings, weights, self.weights.rrf_k)
        if plan.speaker:
            fused = self._prefer_quotes(fused[: 3 * k], plan.speaker, read)
        fused = fused[: 2 * k]  # room to drop near-duplicates
        read.read([pid for pid, _ in fused])
        hits: list[SearchHit] = []
        seen: list[set[str]] = []
        for pid, score in fused:
            passage = read.passages.get(pid)
            if passage is None:  # a passage forgotten since the keyword index was built
                continue
            similarity = read.similarity[pid]
            words = set(_WORDS.findall(passage.text.lower()))
            if any(_jaccard(words, other) >= _DUPLICATE for other in seen):
                continue  # the same words again (boilerplate, a copy): one is enough
            seen.append(words)
            bm25 = lexical_scores.get(pid, 0.0)
            hits.append(SearchHit(passage, score, dense=similarity, lexical=bm25))
            if len(hits) == k:
                break
        return hits

    def _dense(
        self, vector: np.ndarray, pool: int, filters: SearchFilters
    ) -> list[tuple[str, float, Passage | None]]:
        """Return the whole question's nearest passages (id, similarity, passage if read):
        ids alone (reading all 50 passages made the query 4 ms slower at 10x; only those kept
        are read), or, where the asker filtered the question, the passages of a filtered query."""
        if filters.empty:
            nearest = self.store.nearest_ids([vector.tolist()], pool)[0]
            return [(pid, sim, None) for pid, sim in self.store.committed_ids(nearest)]
        found = self.store.query(vector.tolist(), pool, filters)
        return [(p.passage_id, sim, p) for p, sim in found]

    def _embedded(
        self, question: str, filters: SearchFilters | None, names: OutletNames
    ) -> tuple[QueryPlan, list[tuple[str, SearchFilters, float]], np.ndarray]:
        """Return the question's plan, its searches (text, filters, weight) and their vectors."""
        plan = plan_query(question, names, self.today())
        searches = [(question, filters or SearchFilters(), 1.0)]
        if plan.filtered:
            searches += [
                (part.text, narrow(filters, part.filters), self.weights.part) for part in plan.parts
            ]
        return plan, searches, self.embed([text for text, _, _ in searches])

    def _prefer_quotes(
        self, fused: list[tuple[str, float]], speaker: str, read: _Read
    ) -> list[tuple[str, float]]:
        """Lift the passages that quote the speaker the question asks about."""
        surname = surname_of(speaker)
        read.read([pid for pid, _ in fused])
        passages = read.passages
        bonus = self.weights.speaker / (self.weights.rrf_k + 1)
        lifted = [
            (pid, score + bonus if pid in passages and quotes(surname, passages[pid]) else score)
            for pid, score in fused
        ]
        return sorted(lifted, key=lambda kv: -kv[1])


class _Read:
    """The passages of one search read so far, with their similarity to the whole question:
    the dense search's own, else computed from the stored vector."""

    def __init__(self, store: PassageStore, query: np.ndarray):
        self.store = store
        self.query = query
        self.passages: dict[str, Passage] = {}
        self.similarity: dict[str, float] = {}

    def read(self, ids: list[str]) -> None:
        """Read the passages among ids not read yet (a forgotten or uncommitted one stays
        unread)."""
        missing = [pid for pid in ids if pid not in self.passages]
        for pid, (passage, vector) in self.store.get_passages(
            missing, with_embeddings=True
        ).items():
            self.passages[pid] = passage
            if pid not in self.similarity:
                self.similarity[pid] = float(np.dot(np.asarray(vector, np.float32), self.query))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def outlet_label(outlets: tuple[str, ...]) -> str:
    """Name a group of outlets as a question named them: "FOX News" for its sections."""
    heads = {re.split(r"\s+[-|:–—]\s+", o, maxsplit=1)[0] for o in outlets}
    return heads.pop() if len(heads) == 1 else " / ".join(outlets)


def narrow(given: SearchFilters | None, found: SearchFilters) -> SearchFilters:
    """Combine the asker's filters with those found in the question (the asker's win)."""
    if given is None or given.empty:
        return found
    since = max(filter(None, (given.since, found.since)), default=None)
    until = min(filter(None, (given.until, found.until)), default=None)
    return SearchFilters(outlets=given.outlets or found.outlets, since=since, until=until)
