"""Reciprocal-rank fusion of dense and keyword rankings."""

from __future__ import annotations

from retrieval.search import fuse_ranks


def test_an_item_found_by_both_searches_beats_one_found_by_either() -> None:
    fused = fuse_ranks([["a", "b", "c"], ["c", "d"]], [1.0, 1.0])

    assert fused[0][0] == "c"
    assert {item for item, _ in fused} == {"a", "b", "c", "d"}


def test_weights_tilt_the_order() -> None:
    dense_heavy = fuse_ranks([["a"], ["b"]], [2.0, 1.0])
    lexical_heavy = fuse_ranks([["a"], ["b"]], [1.0, 2.0])

    assert [i for i, _ in dense_heavy] == ["a", "b"]
    assert [i for i, _ in lexical_heavy] == ["b", "a"]


def test_ties_keep_the_order_first_seen() -> None:
    fused = fuse_ranks([["a", "b"], ["b", "a"]], [1.0, 1.0])

    assert [i for i, _ in fused] == ["a", "b"]
    assert fused[0][1] == fused[1][1]
