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


# -- answers and story views ------------------------------------------------------------------
@dataclass
class AnswerScores:
    """How much of each query's gold evidence the answers cite (not only retrieve)."""

    evidence: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    all_outlets: list[float] = field(default_factory=list)  # comparison queries
    # Inference queries: the answer's text names the benchmark's gold answer (a name).
    names_answer: list[float] = field(default_factory=list)
    # Comparison and temporal queries: every gold evidence article (one per part) is cited.
    every_part: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    compare_evidence: list[float] = field(default_factory=list)
    compare_all_outlets: list[float] = field(default_factory=list)
    timeline_found: list[float] = field(default_factory=list)  # ≥ 2 gold articles on the timeline
    timeline_ordered: list[float] = field(default_factory=list)  # …and in publication order
    timeline_cited_lines: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def table(self) -> list[tuple[str, int, float]]:
        """Rows (measure, n, value)."""
        every = [v for values in self.evidence.values() for v in values]
        rows = [("ask: share of gold evidence articles cited, all", len(every), _mean(every))]
        rows += [
            (f"ask: share of gold evidence articles cited, {kind}", len(v), _mean(v))
            for kind, v in sorted(self.evidence.items())
        ]
        rows += [
            ("ask: comparison queries citing every outlet named", *_n_mean(self.all_outlets)),
            (
                "ask: inference queries whose answer names the gold answer",
                *_n_mean(self.names_answer),
            ),
        ]
        rows += [
            (f"ask: {kind} queries citing evidence for every part", *_n_mean(v))
            for kind, v in sorted(self.every_part.items())
        ]
        rows += [
            ("compare: share of gold evidence articles cited", *_n_mean(self.compare_evidence)),
            ("compare: queries citing every outlet named", *_n_mean(self.compare_all_outlets)),
            ("timeline: temporal queries with ≥ 2 gold articles", *_n_mean(self.timeline_found)),
            ("timeline: … of those, in publication order", *_n_mean(self.timeline_ordered)),
            ("timeline: share of lines with a citation", *_n_mean(self.timeline_cited_lines)),
        ]
        return rows


def _n_mean(values: list[float]) -> tuple[int, float]:
    return len(values), _mean(values)


def _gold(item: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Gold evidence articles: url → (outlet, published_at)."""
    return {
        _squash(e["url"]): (e.get("source", ""), e.get("published_at", ""))
        for e in item["evidence_list"]
    }


def _names(text: str, gold: str) -> bool:
    """Whether an answer's text names the gold answer ("Sam Bankman-Fried"), ignoring case,
    spacing and punctuation."""

    def squeeze(value: str) -> str:
        return "".join(ch for ch in value.casefold() if ch.isalnum())

    return bool(squeeze(gold)) and squeeze(gold) in squeeze(text)


def _share_cited(urls: set[str], gold: dict[str, tuple[str, str]]) -> tuple[float, float]:
    """(share of gold articles cited, whether every gold outlet is cited)."""
    if not gold:
        return 0.0, 0.0
    cited = [u for u in gold if u in urls]
    outlets = {o for o, _ in gold.values()}
    cited_outlets = {gold[u][0] for u in cited}
    return len(cited) / len(gold), float(outlets <= cited_outlets)


def evaluate_answers(
    index: NewsIndex, queries: Sequence[dict[str, Any]], *, views: bool = True
) -> AnswerScores:
    """Score what the answers cite on the answerable queries; with `views`, also `compare` on
    comparison queries and `timeline` on temporal ones."""
    scores = AnswerScores()
    started = time.perf_counter()
    for item in queries:
        kind = item["question_type"]
        if kind == "null_query":
            continue
        gold = _gold(item)
        answer = index.ask(item["query"])
        urls = {_squash(c.passage.url or "") for c in answer.citations}
        share, every_outlet = _share_cited(urls, gold)
        scores.evidence[kind].append(share)
        if kind == "comparison_query":
            scores.all_outlets.append(every_outlet)
        if kind == "inference_query":
            scores.names_answer.append(float(_names(answer.text, item.get("answer", ""))))
        else:
            scores.every_part[kind].append(float(share == 1.0))
        if not views:
            continue
        if kind == "comparison_query":
            comparison = index.compare(item["query"])
            urls = {_squash(c.passage.url or "") for r in comparison.outlets for c in r.citations}
            share, every_outlet = _share_cited(urls, gold)
            scores.compare_evidence.append(share)
            scores.compare_all_outlets.append(every_outlet)
        elif kind == "temporal_query":
            _score_timeline(index, item["query"], gold, scores)
    scores.seconds = time.perf_counter() - started
    return scores


def _score_timeline(
    index: NewsIndex, query: str, gold: dict[str, tuple[str, str]], scores: AnswerScores
) -> None:
    timeline = index.timeline(query)
    if timeline.events:
        cited = sum(1 for e in timeline.events if e.citations)
        scores.timeline_cited_lines.append(cited / len(timeline.events))
    first_line: dict[str, int] = {}
    for line, event in enumerate(timeline.events):
        for citation in event.citations:
            url = _squash(citation.passage.url or "")
            if url in gold:
                first_line.setdefault(url, line)
    found = len(first_line) >= 2
    scores.timeline_found.append(float(found))
    if found:
        by_line = sorted(first_line, key=lambda u: first_line[u])
        published = [gold[u][1][:10] for u in by_line]
        scores.timeline_ordered.append(float(published == sorted(published)))
