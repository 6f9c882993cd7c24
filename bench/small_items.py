"""Ingest speed of small items (one paragraph each, as feeds mostly send): batched vs one by one.

Both runs go through `ingest.pipeline.ingest_articles` into a fresh index with the real model:
"one by one" calls it once per article (so every article is its own embedding call and its own
store write, as the ingest did before writes were batched), "batched" once for all of them (the
pipeline then embeds and commits ~128 passages at a time). Chroma calls are counted on the
store's three collections. Run: `.venv/bin/python bench/small_items.py [--items 400] [--server
HOST:PORT]`; prints one line per run and a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class CountingCollection:
    """Pass every call on to a Chroma collection, counting the calls."""

    def __init__(self, collection: Any, counts: dict[str, int]):
        self._collection = collection
        self._counts = counts

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._counts["calls"] += 1
            self._counts[name] = self._counts.get(name, 0) + 1
            return attribute(*args, **kwargs)

        return counted


_WORDS = [
    "harbour",
    "vessel",
    "berth",
    "cargo",
    "grain",
    "timber",
    "council",
    "budget",
    "school",
    "hospital",
    "river",
    "bridge",
    "storm",
    "election",
    "minister",
    "court",
    "ruling",
    "strike",
    "union",
    "factory",
    "market",
    "shares",
    "bank",
    "rates",
    "inflation",
    "festival",
    "museum",
    "library",
    "drought",
    "harvest",
    "airport",
    "runway",
    "rail",
    "station",
    "tunnel",
    "wildfire",
    "flood",
    "police",
    "inquiry",
    "mayor",
    "village",
    "coast",
    "fishing",
    "quota",
    "energy",
    "turbine",
    "solar",
    "reactor",
    "treaty",
    "border",
]


def items(count: int, run: str) -> list[Any]:
    """Distinct one-paragraph articles (random words: no two are near copies of each other)."""
    import random

    from retrieval.models import Article

    def paragraph(seed: str) -> str:
        rng = random.Random(seed)
        return " ".join(rng.choice(_WORDS) for _ in range(40)).capitalize() + "."

    return [
        Article(
            title=f"Harbour report {run} {i}",
            paragraphs=(paragraph(f"{run}{i}"),),
            outlet=f"Port Wire {i % 7}",
            published_at="2025-03-04",
            url=f"https://port.example/{run}/{i}",
            origin=f"bench:{run}:{i}",
        )
        for i in range(count)
    ]


def measure(index: Any, articles: list[Any], *, batched: bool) -> dict[str, float]:
    from ingest.chunk import ChunkLimits
    from ingest.pipeline import ingest_articles

    counts = {"calls": 0}
    store = index.store
    originals = (store.passages, store.articles, store.changes)
    store.passages, store.articles, store.changes = (
        CountingCollection(c, counts) for c in originals
    )
    started = time.perf_counter()
    try:
        groups = [articles] if batched else [[a] for a in articles]
        added = sum(ingest_articles(index, g, limits=ChunkLimits()).added for g in groups)
    finally:
        store.passages, store.articles, store.changes = originals
    seconds = time.perf_counter() - started
    assert added == len(articles), added
    print(counts, file=sys.stderr)
    return {
        "articles_per_s": len(articles) / seconds,
        "ms_per_article": 1000 * seconds / len(articles),
        "chroma_calls_per_article": counts["calls"] / len(articles),
    }


def main() -> None:
    from retrieval import configure_process

    configure_process()  # first: before torch or onnxruntime loads
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400, help="one-paragraph articles per run")
    parser.add_argument("--server", help="HOST:PORT of a Chroma server (default: embedded)")
    args = parser.parse_args()

    from retrieval.index import IndexConfig, NewsIndex
    from retrieval.storage.location import ChromaLocation

    with tempfile.TemporaryDirectory() as tmp:
        if args.server:
            host, port = args.server.rsplit(":", 1)
            location = ChromaLocation(host=host, port=int(port))
        else:
            location = ChromaLocation(path=Path(tmp) / "chroma")
        collection = f"bench{int(time.time())}"
        index = NewsIndex.open(
            IndexConfig(data_dir=Path(tmp), chroma=location, collection=collection)
        )
        try:
            index.embedder.embed(["warm up"])
            results: dict[str, list[dict[str, float]]] = {}
            # Alternating halves, so drift of a shared machine hits both ways alike.
            half = args.items // 2
            for run, batched in (("a", False), ("b", True), ("c", False), ("d", True)):
                figures = measure(index, items(half, run), batched=batched)
                key = "batched" if batched else "one_by_one"
                results.setdefault(key, []).append(figures)
                print(
                    f"{key:>10}: {figures['articles_per_s']:6.1f} articles/s, "
                    f"{figures['ms_per_article']:6.1f} ms/article, "
                    f"{figures['chroma_calls_per_article']:5.2f} Chroma calls/article",
                    flush=True,
                )
        finally:
            index.close()
    summary = {
        key: {name: sum(r[name] for r in runs) / len(runs) for name in runs[0]}
        for key, runs in results.items()
    }
    summary["speedup"] = {
        "articles_per_s": summary["batched"]["articles_per_s"]
        / summary["one_by_one"]["articles_per_s"]
    }
    print(json.dumps({"items": args.items, "where": location.describe(), **summary}, indent=2))


if __name__ == "__main__":
    main()
