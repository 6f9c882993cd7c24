"""Small articles are written in batches: a few Chroma calls per batch, not several per article."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from retrieval.storage.location import ChromaLocation
from tests.conftest import IndexFactory
from tests.helpers import article, put

pytestmark = pytest.mark.model


class Counting:
    """Pass calls on to a Chroma collection, counting them by method."""

    def __init__(self, collection: Any, calls: list[str]):
        self._collection, self._calls = collection, calls

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(name)
            return attribute(*args, **kwargs)

        return counted


def test_forty_one_paragraph_articles_take_a_handful_of_chroma_calls(
    make_index: IndexFactory, tmp_path: Path
) -> None:
    index = make_index(ChromaLocation(path=tmp_path / "chroma"))
    put(index, article("First notice", ["The council met for the first time this year."]))
    store = index.store  # from here on, every Chroma call is counted
    calls: list[str] = []
    store.passages.collections = [Counting(c, calls) for c in store.passages.collections]
    store.articles, store.changes = (Counting(c, calls) for c in (store.articles, store.changes))
    items = [
        article(
            f"Council notice {i}",
            [f"The council approved plan number {i} for the {word} district on Tuesday night."],
            url=f"https://council.example/{i}",
        )
        for i, word in enumerate(["north", "south", "east", "west"] * 10)
    ]

    report = put(index, *items)

    assert report.added + report.syndicated == 40 and report.failed == []
    # One batch: read the change feed, the stored records, write the passages, commit, mark
    # clean, then the keyword index reads the feed; before batching, ~7 calls per article.
    assert len(calls) <= 12, " ".join(calls)
    assert len(index.articles()) == 41
