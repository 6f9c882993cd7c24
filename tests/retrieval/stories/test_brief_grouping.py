"""How a brief groups, ranks and names stories (the grouping alone, on known vectors)."""

from __future__ import annotations

import numpy as np

from retrieval.models import ArticleInfo
from retrieval.stories.brief import group_stories


def _info(aid: str, outlet: str, day: str, title: str = "") -> ArticleInfo:
    return ArticleInfo(aid, title or aid, outlet, day, None, 1, "r")


def _unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_separate_events_stay_apart_even_when_a_third_resembles_both() -> None:
    # game A and game B share a middle article's words; single linkage chained all three
    vectors = {
        "a": _unit(1.0, 0.0, 0.0),
        "mid": _unit(0.75, 0.66, 0.0),
        "b": _unit(0.0, 1.0, 0.0),
    }
    articles = [_info(k, "Sports Wire", f"2023-11-0{i + 1}") for i, k in enumerate(vectors)]

    stories = group_stories(articles, vectors, same_story=0.6)

    groups = sorted(sorted(a.article_id for a in s.articles) for s in stories)
    assert ["a", "b"] not in groups and all(not {"a", "b"} <= set(g) for g in groups)


def test_stories_rank_by_how_widely_they_were_covered_and_are_named_by_their_centre() -> None:
    vectors = {
        # one outlet's series of three
        "s1": _unit(1.0, 0.0, 0.05),
        "s2": _unit(1.0, 0.0, -0.05),
        "s3": _unit(1.0, 0.02, 0.0),
        # one story from two outlets; the newest article is off to one side
        "p1": _unit(0.0, 1.0, 0.0),
        "p2": _unit(0.0, 1.0, 0.1),
        "p3": _unit(0.0, 1.0, 0.45),
    }
    articles = [
        _info("s1", "Fantasy Weekly", "2023-12-01"),
        _info("s2", "Fantasy Weekly", "2023-12-02"),
        _info("s3", "Fantasy Weekly", "2023-12-03"),
        _info("p1", "Wire", "2023-12-01", "Exchange founder pleads guilty"),
        _info("p2", "Times", "2023-12-02", "Founder admits breaking money laundering law"),
        _info("p3", "Times", "2023-12-03", "Why the plea matters for crypto"),
    ]

    stories = group_stories(articles, vectors, same_story=0.6)

    lead = stories[0]
    assert {a.article_id for a in lead.articles} == {"p1", "p2", "p3"}
    assert lead.outlets == ("Wire", "Times")
    assert lead.representative.article_id == "p2"  # nearest the centre, not the oldest
    assert lead.newest.article_id == "p3"
