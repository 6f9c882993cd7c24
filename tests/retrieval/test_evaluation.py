"""The MultiHop-RAG scoring rules, as the benchmark's authors apply them."""

from __future__ import annotations

import pytest

from retrieval.evaluation import Summary, score_query


def test_facts_match_ignoring_spaces_and_newlines() -> None:
    score = score_query(["noise", "The  cat\nsat on the mat."], ["cat sat"], "inference_query")

    assert (score.hits4, score.hits10, score.mrr10, score.map10) == (1.0, 1.0, 0.5, 0.5)


def test_map_counts_each_fact_once_at_the_rank_it_is_first_found() -> None:
    passages = ["fact one", "x", "fact one again", "fact two"]

    score = score_query(passages, ["fact one", "fact two"], "comparison_query")

    assert score.map10 == pytest.approx((1 / 1 + 1 / 4) / 2)
    assert score.mrr10 == 1.0


def test_only_the_top_ten_count() -> None:
    passages = ["x"] * 10 + ["the fact"]

    score = score_query(passages, ["the fact"], "temporal_query")

    assert (score.hits10, score.mrr10, score.map10) == (0.0, 0.0, 0.0)
    hits4_miss = score_query(["x"] * 4 + ["the fact"], ["the fact"], "temporal_query")
    assert (hits4_miss.hits4, hits4_miss.hits10) == (0.0, 1.0)


def test_the_summary_has_an_overall_row_then_one_per_type() -> None:
    summary = Summary([score_query(["a"], ["a"], "t1"), score_query(["b"], ["a"], "t2")])

    rows = summary.table()

    assert [(r[0], r[1], r[3]) for r in rows] == [("all", 2, 0.5), ("t1", 1, 1.0), ("t2", 1, 0.0)]
