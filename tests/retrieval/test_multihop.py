"""Retrieval quality on real news: a slice of the MultiHop-RAG development split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.chunk import ChunkLimits
from ingest.parse import parse_source
from ingest.pipeline import ingest_articles
from retrieval.storage.location import ChromaLocation
from tests.conftest import CORPUS, QUERIES, IndexFactory

pytestmark = pytest.mark.model


def _norm(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")  # the benchmark authors' matching rule


def test_a_slice_of_the_benchmark_finds_its_evidence(
    make_index: IndexFactory, tmp_path: Path
) -> None:
    if not (CORPUS.exists() and QUERIES.exists()):
        pytest.skip("the MultiHop-RAG data in ../shared is absent")
    queries = [q for q in json.loads(QUERIES.read_text(encoding="utf-8")) if q["evidence_list"]][
        :20
    ]
    urls = {e["url"] for q in queries for e in q["evidence_list"]}
    articles = [
        a for a in parse_source(CORPUS.read_bytes(), "corpus.json").articles if a.url in urls
    ]
    assert len(articles) == len(urls)
    index = make_index(ChromaLocation(path=tmp_path / "chroma"))

    report = ingest_articles(index, articles, limits=ChunkLimits())

    assert (report.added, report.failed) == (len(articles), [])
    hits10 = 0
    grounded = 0
    for q in queries:
        texts = [_norm(h.passage.text) for h in index.search(q["query"], k=10)]
        facts = [_norm(e["fact"]) for e in q["evidence_list"]]
        hits10 += any(f in t for f in facts for t in texts)
        grounded += index.ask(q["query"]).grounded
    assert hits10 / len(queries) >= 0.8
    assert grounded / len(queries) >= 0.8
