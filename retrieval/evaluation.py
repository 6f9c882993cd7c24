"""Retrieval scoring exactly as the MultiHop-RAG authors score it (their retrieval_evaluate.py).

Null queries are skipped; spaces and newlines are removed from facts and passages before
matching; a passage is relevant when a whole gold fact is a substring of it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.index import NewsIndex


def _squash(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


@dataclass(frozen=True)
class QueryScore:
    question_type: str
    hits4: float
    hits10: float
    mrr10: float
    map10: float


def score_query(passages: Sequence[str], facts: Sequence[str], question_type: str) -> QueryScore:
    """Return Hits@4, Hits@10, MRR@10 and MAP@10 of one ranked list against its gold facts."""
    texts = [_squash(p) for p in passages[:10]]
    gold = [_squash(f) for f in facts]
    relevant = [any(f in t for f in gold) for t in texts]
    first = next((rank for rank, hit in enumerate(relevant, start=1) if hit), 0)
    found: set[str] = set()
    precision_sum = 0.0
    for rank, text in enumerate(texts, start=1):
        new = [f for f in gold if f in text and f not in found]
        if new:
            found.update(new)
            precision_sum += len(new) / rank
    return QueryScore(
        question_type,
        hits4=float(any(relevant[:4])),
        hits10=float(any(relevant)),
        mrr10=1.0 / first if first else 0.0,
        map10=precision_sum / min(len(gold), 10) if gold else 0.0,
    )


@dataclass
class Summary:
    scores: list[QueryScore] = field(default_factory=list)
    null_total: int = 0
    null_refused: int = 0

    def table(self) -> list[tuple[str, int, float, float, float, float]]:
        """Return rows (type, n, Hits@4, Hits@10, MRR@10, MAP@10): overall first, then each type."""
        groups: dict[str, list[QueryScore]] = defaultdict(list)
        for s in self.scores:
            groups[s.question_type].append(s)
        rows = [("all", self.scores), *sorted(groups.items())]
        return [
            (
                name,
                len(group),
                _mean([s.hits4 for s in group]),
                _mean([s.hits10 for s in group]),
                _mean([s.mrr10 for s in group]),
                _mean([s.map10 for s in group]),
            )
            for name, group in rows
        ]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


@dataclass
class Run:
    """What scoring one set of MultiHop-RAG queries against an index gave."""

    summary: Summary
    retrieved: list[dict[str, object]]  # per scored query: the query and its passages, in order
    seconds_per_query: float


def evaluate(index: NewsIndex, queries: Sequence[dict[str, Any]], *, k: int = 10) -> Run:
    """Score the index's search on MultiHop-RAG queries; null queries count when refused."""
    summary = Summary()
    retrieved: list[dict[str, object]] = []
    started = time.perf_counter()
    for item in queries:
        if item["question_type"] == "null_query":
            summary.null_total += 1
            summary.null_refused += not index.ask(item["query"]).grounded
            continue
        hits = index.search(item["query"], k=k)
        passages = [h.passage.text for h in hits]
        retrieved.append({"query": item["query"], "passages": passages})
        facts = [e["fact"] for e in item["evidence_list"]]
        summary.scores.append(score_query(passages, facts, item["question_type"]))
    per_query = (time.perf_counter() - started) / max(1, len(queries))
    return Run(summary, retrieved, per_query)
