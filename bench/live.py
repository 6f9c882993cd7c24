"""Live benchmark: questions at a steady rate while articles are ingested, on MultiHop-RAG.

    .venv/bin/python bench/live.py --quick --json-out live.json

1. Ingest the corpus but its last `--ingest` articles (not timed), grown to the largest scale
   with replicas when asked (`--scales`; bench/replicas.py, through the public API).
2. Idle: `--rate` questions a second (search + extractive answer, `NewsIndex.ask`) for
   `--seconds`; their p50 / p95 / max.
3. Live: the held-back articles are ingested as `/ingest` does (`ingest_articles`) while the
   same stream of questions goes on; latencies of the questions answered during the ingest, and
   for each article the time from its commit (the stamp in its catalogue record) to its first
   appearance in a search for its headline.
4. The keyword index's work for one new article at each scale (median of 50, one commit each).
5. A cold `newsbot ask` in another process, after this one ingested (the index closed first).

Progress goes to stderr, a summary to stdout; `--json-out FILE` writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

if TYPE_CHECKING:
    from retrieval.index import NewsIndex
    from retrieval.models import Article

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "multihop-rag"
_GIVE_UP_S = 30.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--corpus", type=Path, default=DATA / "corpus.json", metavar="FILE")
    add("--queries", type=Path, default=DATA / "queries-dev.json", metavar="FILE")
    add("--quick", action="store_true", help="a run of about five minutes (see --help)")
    add("--articles", type=int, metavar="N", help="use only the first N articles of the corpus")
    add("--ingest", type=int, default=50, metavar="N", help="articles ingested live (50)")
    add("--scales", default="1", metavar="LIST", help="keyword cost at these scales (1)")
    add("--rate", type=float, default=2.0, metavar="Q", help="questions per second (2)")
    add("--seconds", type=float, default=30.0, metavar="S", help="idle phase length (30)")
    add("--jitter", type=float, default=0.05, metavar="X", help="replica embedding noise")
    add("--json-out", type=Path, metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.quick:  # about five minutes on 2 cores: 200 articles, 1x and 2x
        args.articles = args.articles or 200
        args.scales = "1,2" if args.scales == "1" else args.scales
        args.seconds = min(args.seconds, 20.0)
    for path in (args.corpus, args.queries):
        if not path.is_file():
            parser.exit(2, f"error: {path} not found (pass --corpus / --queries)\n")
    try:
        args.scales = sorted({int(s) for s in args.scales.split(",") if s.strip()})
    except ValueError:
        parser.exit(2, f"error: --scales wants integers like 1,10, not {args.scales!r}\n")
    if not args.scales or args.scales[0] < 1 or args.ingest < 1 or args.rate <= 0:
        parser.exit(2, "error: --scales, --ingest and --rate want positive numbers\n")
    return args


def percentiles(ms: list[float]) -> dict[str, float | int | None]:
    if not ms:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(ms), "p50": statistics.median(ms), "p95": p95, "max": ordered[-1]}


class QuestionStream:
    """Ask questions at a steady rate in a thread of their own; record each one's latency."""

    def __init__(self, index: NewsIndex, questions: list[str], rate: float):
        self.index = index
        self.questions = questions
        self.interval = 1.0 / rate
        self.timings: list[tuple[float, float]] = []  # (started, ms)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="questions")

    def __enter__(self) -> QuestionStream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        n = 0
        next_at = time.perf_counter()
        while not self._stop.is_set():
            started = time.perf_counter()
            self.index.ask(self.questions[n % len(self.questions)])
            self.timings.append((started, (time.perf_counter() - started) * 1000))
            n += 1
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.perf_counter()))

    def between(self, start: float, end: float) -> list[float]:
        return [ms for at, ms in self.timings if start <= at <= end]


def watch_commits(
    index: NewsIndex, articles: list[Article], done: threading.Event
) -> dict[str, float]:
    """Return article id → seconds from its commit to its first appearance in a search."""
    pending = {a.article_id: a.title for a in articles}
    committed_at: dict[str, float] = {}  # when this watcher first saw it committed
    seen: dict[str, float] = {}
    while pending and not (done.is_set() and not _committed(index, pending)):
        for aid in _committed(index, pending):
            committed_at.setdefault(aid, time.perf_counter())
            hits = index.search(pending[aid], k=10)
            waited = time.perf_counter() - committed_at[aid]
            if any(hit.passage.article_id == aid for hit in hits):
                seen[aid] = waited
                del pending[aid]
            elif waited > _GIVE_UP_S:  # its headline does not find it: not a latency to count
                log(f"  not found by its headline after {waited:.0f} s: {pending.pop(aid)!r}")
        time.sleep(0.01)
    return seen


def _committed(index: NewsIndex, pending: dict[str, str]) -> list[str]:
    revisions = index.store.committed_revisions()
    return [aid for aid in pending if aid in revisions]


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one benchmark, step by step
    args = parse_args(argv)
    from replicas import keyword_ms_per_article, read_snapshot, replicate

    from bot.settings import Settings
    from bot.wiring import chunk_limits, configure_logging, open_index
    from ingest.parse import parse_source
    from ingest.pipeline import ingest_articles

    started_run = time.perf_counter()
    parsed = parse_source(args.corpus.read_bytes(), args.corpus.name).articles
    corpus = parsed[: args.articles] if args.articles else parsed
    if len(corpus) <= args.ingest:
        log(f"error: {len(corpus)} articles: too few to hold back {args.ingest}")
        return 2
    base, live = corpus[: -args.ingest], corpus[-args.ingest :]
    questions = [q["query"] for q in json.loads(args.queries.read_text(encoding="utf-8"))]
    results: dict[str, Any] = {"options": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="newsbot-live-", ignore_cleanup_errors=True) as tmp:
        settings = Settings().model_copy(
            update={"data_dir": Path(tmp), "chroma_path": None, "chroma_host": None, "llm": None}
        )
        configure_logging(settings)
        index = open_index(settings)
        try:
            log(f"ingesting {len(base)} articles (not timed)")
            ingest_articles(index, base, limits=chunk_limits(settings))
            keyword_ms: dict[str, float] = {}
            keyword_single: dict[str, float] = {}
            snap = read_snapshot(index)
            current = 1
            for factor in args.scales:
                if factor > current:
                    log(f"{factor}x: writing replicas")
                    replicate(index, snap, current, factor, jitter=args.jitter)
                    current = factor
                cost = keyword_ms_per_article(index, snap)
                keyword_ms[str(factor)], keyword_single[str(factor)] = cost.batched, cost.single
                log(f"{factor}x: keyword work {cost.batched:.1f} ms per article in batches, ")
                log(f"  {cost.single:.1f} ms one article per commit")
            results["keyword_ms_per_article"] = keyword_ms
            results["keyword_ms_per_article_single_commit"] = keyword_single
            index.ask(questions[0])  # warm up
            log(f"idle: {args.rate:g} questions/s for {args.seconds:g} s")
            with QuestionStream(index, questions, args.rate) as stream:
                time.sleep(args.seconds)
            idle = percentiles([ms for _, ms in stream.timings])
            log(f"live: ingesting {len(live)} articles while questions go on")
            done = threading.Event()
            commits: dict[str, float] = {}
            watcher = threading.Thread(
                target=lambda: commits.update(watch_commits(index, live, done))
            )
            with QuestionStream(index, questions[len(stream.timings) :], args.rate) as during:
                began = time.perf_counter()
                watcher.start()
                report = ingest_articles(index, live, limits=chunk_limits(settings))
                ended = time.perf_counter()
                done.set()
                watcher.join()
            busy = percentiles(during.between(began, ended))
            results |= {
                "scale": index.store.count_passages(),
                "articles": len(index.store.committed_revisions()),
                "idle": idle,
                "during_ingest": busy,
                "idle_p95_ms": idle["p95"],
                "during_ingest_p95_ms": busy["p95"],
                "during_ingest_max_ms": busy["max"],
                "ingest_s": ended - began,
                "ingested": {"added": report.added, "syndicated": report.syndicated},
                "commit_to_search_s": max(commits.values()) if commits else None,
                "commit_to_search_median_s": statistics.median(commits.values())
                if commits
                else None,
                "commits_seen": len(commits),
            }
        finally:
            index.close()
        log("a cold `newsbot ask` in another process")
        began = time.perf_counter()
        env = {**os.environ, "NEWSBOT_DATA_DIR": tmp, "NEWSBOT_CHROMA_HOST": ""}
        cold = subprocess.run(
            [sys.executable, "-m", "bot.cli", "ask", questions[0], "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
        )
        results["cold_ask_s"] = time.perf_counter() - began
        results["cold_ask_ok"] = cold.returncode == 0
    results["total_s"] = time.perf_counter() - started_run
    summary = {k: v for k, v in results.items() if k not in ("options", "idle", "during_ingest")}
    print(json.dumps(summary, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
