"""Follow replay on MultiHop-RAG: topics saved first, then the corpus arrives day by day.

Every dev query is saved as a followed topic (null queries too: they should trigger nothing),
then the corpus is replayed in publication order into an empty index, one day's articles per
commit, through `NewsIndex.put_embedded` (the vectors come from an ingested copy of the corpus,
so nothing is re-embedded) and `NewsIndex.match_follows` runs on each day's new articles, as
the bot does after each ingest or poll. Reported:

- recall: the share of (topic, gold evidence article) pairs that triggered a post when the
  article arrived; precision: the share of posts that went to a gold evidence article of that
  topic. Both for a range of relevance bars, from one run's scores (`Stories.scores`); the bar
  in use is `StoryConfig.follow_bar`.
- the matching cost per new article with 1× and 10× the topics (10×: each topic ten times).

Run: `.venv/bin/python bench/follow_replay.py --index /tmp/mh [--json-out FILE]`, where
/tmp/mh holds the corpus ingested by `newsbot ingest` (or `bench/speed.py --index /tmp/mh`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

QUERIES = ROOT.parent / "shared" / "data" / "multihop-rag" / "queries-dev.json"
BARS = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="data dir of an ingested 1x")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--topic-scales", default="1,10", help="topics x the dev queries")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument(
        "--posts-out",
        type=Path,
        help="write the 1x posts at the lowest bar tried as JSON lines (topic, headline, "
        "score, gold), to read samples by hand",
    )
    return parser.parse_args(argv)


def open_index(data_dir: Path) -> Any:
    from bot.settings import Settings
    from bot.wiring import open_index as open_configured

    settings = Settings(data_dir=data_dir)
    return open_configured(settings)


def main(argv: list[str] | None = None) -> int:
    from replicas import read_snapshot

    from retrieval import Topic, configure_process

    configure_process()  # first: before torch or onnxruntime loads

    args = parse_args(argv)
    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    source = open_index(args.index)
    try:
        snap = read_snapshot(source)
    finally:
        source.close()
    log(f"read {len(snap.articles)} articles, {snap.passage_count:,} passages")
    by_url = {a.url: a.article_id for a in snap.articles if a.url}
    topics = [Topic(str(i), q["query"]) for i, q in enumerate(queries)]
    gold = {
        str(i): {by_url[e["url"]] for e in q["evidence_list"] if e["url"] in by_url}
        for i, q in enumerate(queries)
    }
    days: dict[str, list[Any]] = defaultdict(list)
    for info in snap.articles:
        days[(info.published_at or "")[:10]].append(info)
    scales = [int(s) for s in args.topic_scales.split(",")]
    results: dict[str, Any] = {"topics": len(topics), "articles": len(snap.articles)}
    for scale in scales:
        with tempfile.TemporaryDirectory(prefix="newsbot-follow-") as tmp:
            index = open_index(Path(tmp))
            try:
                many = [
                    Topic(f"{t.key}~{n}" if n else t.key, t.text)
                    for n in range(scale)
                    for t in topics
                ]
                index.stories.prepare(many)  # topics are embedded when they are saved
                scored: list[tuple[str, str, float]] = []
                spent = 0.0
                for day in sorted(days):
                    batch = [
                        (info, snap.passages[info.article_id], vectors(snap, info.article_id))
                        for info in days[day]
                    ]
                    index.put_embedded(batch)
                    ids = [info.article_id for info, _, _ in batch]
                    started = time.perf_counter()
                    found = index.stories.scores(many, ids)
                    spent += time.perf_counter() - started
                    scored += [(t.key, aid, score) for t, aid, score, _ in found]
                ms = spent * 1000 / len(snap.articles)
                log(f"{scale}x topics ({len(many):,}): scoring {ms:.1f} ms per new article")
                results[f"score_ms_per_article_{scale}x"] = round(ms, 2)
                if scale == 1:
                    results["bars"] = _quality(scored, gold)
                    if args.posts_out:
                        _write_posts(
                            args.posts_out,
                            scored=scored,
                            gold=gold,
                            topics=topics,
                            snap=snap,
                        )
            finally:
                index.close()
    for row in results.get("bars", []):
        log(
            f"bar {row['bar']:.2f}: recall {row['recall']:.3f}, precision {row['precision']:.3f}, "
            f"{row['posts']} posts ({row['posts_to_null_topics']} to null topics)"
        )
    print(json.dumps(results, indent=1))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


def _write_posts(
    path: Path,
    *,
    scored: list[tuple[str, str, float]],
    gold: dict[str, set[str]],
    topics: list[Any],
    snap: Any,
) -> None:
    bar = min(BARS)
    texts = {t.key: t.text for t in topics}
    titles = {a.article_id: a.title for a in snap.articles}
    with path.open("w", encoding="utf-8") as out:
        for key, article_id, score in scored:
            if score >= bar:
                row = {
                    "topic": texts[key],
                    "headline": titles.get(article_id),
                    "score": round(score, 3),
                    "gold": article_id in gold.get(key, set()),
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


def vectors(snap: Any, article_id: str) -> Any:
    """The stored vectors of an article's passages, in passage order."""
    import numpy as np

    return np.stack([snap.embeddings[p.passage_id] for p in snap.passages[article_id]])


def _quality(
    scored: list[tuple[str, str, float]], gold: dict[str, set[str]]
) -> list[dict[str, Any]]:
    pairs = sum(len(g) for g in gold.values())
    rows = []
    for bar in BARS:
        posts = [(t, a) for t, a, s in scored if s >= bar]
        right = sum(1 for t, a in posts if a in gold.get(t, set()))
        rows.append(
            {
                "bar": bar,
                "posts": len(posts),
                "recall": right / pairs if pairs else 0.0,
                "precision": right / len(posts) if posts else 0.0,
                # Topics with no evidence (MultiHop-RAG's null queries) should get nothing.
                "posts_to_null_topics": sum(1 for t, _ in posts if not gold.get(t)),
            }
        )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
