"""Live benchmark: questions at a steady rate while articles are ingested, on MultiHop-RAG.

    .venv/bin/python bench/live.py --quick --json-out live.json

1. Ingest the corpus but its last `--ingest` articles (not timed). Then, at each `--scales`
   step (the corpus grown with replicas first; bench/replicas.py, through the public API),
   steps 2 to 5, the live articles forgotten again before the next step:
2. Idle: `--rate` questions a second (search + extractive answer, `NewsIndex.ask`) for
   `--seconds`; their p50 / p95 / max.
3. Live: the held-back articles are ingested as `/ingest` does (`ingest_articles`) while the
   same stream of questions goes on; latencies of the questions answered during the ingest, and
   for each article the time from its commit (the stamp in its catalogue record) to its first
   appearance in a search for its headline.
4. The keyword index's work per new article (50 articles, in ingest batches and one per commit).
5. A cold `newsbot ask` in another process, after this one ingested (the index closed first),
   with that process's peak memory.

With `--index DIR` the index is kept in DIR, and a later run with the same corpus reuses what
is there: no step 1 for the corpus or the replicas it already holds (the held-back articles
are forgotten first if a run left them).

Progress goes to stderr, a summary to stdout; `--json-out FILE` writes the figures as JSON: the
largest scale's at the top level, every scale's under `by_scale`.
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

if TYPE_CHECKING:
    from bot.settings import Settings
    from ingest.chunk import ChunkLimits
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
    add(
        "--index",
        type=Path,
        metavar="DIR",
        help="keep the index in DIR (a data dir) and reuse what a run left there: the corpus"
        " and the replicas already written are not written again (100x takes ~40 min to build)",
    )
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


def live_phase(
    index: NewsIndex,
    questions: list[str],
    live: list[Article],
    args: argparse.Namespace,
    limits: ChunkLimits,
) -> dict[str, Any]:
    """Steps 2 and 3 at the index's present scale: idle questions, then questions during an
    ingest of the `live` articles; their latencies and each article's commit-to-search time."""
    from ingest.pipeline import ingest_articles

    index.warm_up()  # as `newsbot run` does before the bot connects
    index.ask(questions[0])
    log(f"  idle: {args.rate:g} questions/s for {args.seconds:g} s")
    with QuestionStream(index, questions, args.rate) as stream:
        time.sleep(args.seconds)
    idle = percentiles([ms for _, ms in stream.timings])
    log(f"  live: ingesting {len(live)} articles while questions go on")
    done = threading.Event()
    commits: dict[str, float] = {}
    watcher = threading.Thread(target=lambda: commits.update(watch_commits(index, live, done)))
    with QuestionStream(index, questions[len(stream.timings) :], args.rate) as during:
        began = time.perf_counter()
        watcher.start()
        report = ingest_articles(index, live, limits=limits)
        ended = time.perf_counter()
        done.set()
        watcher.join()
    busy = percentiles(during.between(began, ended))
    return {
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
        "commit_to_search_median_s": statistics.median(commits.values()) if commits else None,
        "commits_seen": len(commits),
        "rss_mb": rss_mb(),
    }


# Runs `newsbot` and then reports the process's own peak memory: VmHWM belongs to the program
# exec'd (getrusage's ru_maxrss of a child starts from the forking parent's, 4 GB at 100x).
_PEAK_REPORTING = """
import atexit, pathlib, sys
def report():
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            print("peak-rss-kb", line.split()[1], file=sys.stderr)
atexit.register(report)
sys.argv[0] = "newsbot"
from bot.cli import app
app()
"""


def cold_ask(data_dir: str, question: str) -> dict[str, Any]:
    """Step 5: time `newsbot ask` in a fresh process on data_dir; its peak memory too."""
    began = time.perf_counter()
    env = {**os.environ, "NEWSBOT_DATA_DIR": data_dir, "NEWSBOT_CHROMA_HOST": ""}
    cold = subprocess.run(
        [sys.executable, "-c", _PEAK_REPORTING, "ask", question, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    took = time.perf_counter() - began
    if cold.returncode:
        log(f"  cold ask failed ({cold.returncode}): {cold.stderr[-500:]}")
    peaks = [line.split()[1] for line in cold.stderr.splitlines() if line.startswith("peak-rss")]
    return {
        "cold_ask_s": took,
        "cold_ask_ok": cold.returncode == 0 and bool(json.loads(cold.stdout or "{}")),
        "cold_ask_peak_rss_mb": int(peaks[-1]) / 1024 if peaks else None,
    }


def rss_mb() -> float:
    """The process's resident memory now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_scales(
    settings: Settings,
    base: list[Article],
    live: list[Article],
    questions: list[str],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Steps 1 to 5 in settings.data_dir: keyword costs per scale, and every scale's figures."""
    from replicas import keyword_ms_per_article, read_snapshot, replicate

    from bot.wiring import open_index
    from ingest.pipeline import ingest_articles

    keyword_ms: dict[str, float] = {}
    keyword_single: dict[str, float] = {}
    by_scale: dict[str, dict[str, Any]] = {}
    index = open_index(settings)
    try:
        held = {a.article_id for a in index.articles()}
        for article in live:  # left by an earlier run on a kept index: new again here
            if article.article_id in held:
                index.forget(article.article_id)
        todo = [a for a in base if a.article_id not in held]
        log(f"ingesting {len(todo)} articles (not timed; {len(base) - len(todo)} already held)")
        ingest_articles(index, todo, limits=settings.chunks.build())
        snap = read_snapshot(index)
        current = replicas_held(held, base)
        if current > 1:
            log(f"the index holds the corpus {current} times already")
        for factor in args.scales:
            if factor > current:
                log(f"{factor}x: writing replicas")
                replicate(index, snap, current, factor, jitter=args.jitter)
                current = factor
            cost = keyword_ms_per_article(index, snap)
            keyword_ms[str(factor)], keyword_single[str(factor)] = cost.batched, cost.single
            log(f"{factor}x: keyword work {cost.batched:.1f} ms per article in batches, ")
            log(f"  {cost.single:.1f} ms one article per commit")
            figures = live_phase(index, questions, live, args, settings.chunks.build())
            index.close()  # embedded Chroma: one process at a time
            log(f"{factor}x: a cold `newsbot ask` in another process")
            figures |= cold_ask(str(settings.data_dir), questions[0])
            log(f"{factor}x: " + json.dumps({k: v for k, v in figures.items() if "_" in k}))
            by_scale[str(factor)] = figures
            index = open_index(settings)
            if factor != args.scales[-1]:  # new again at the next scale
                for article in live:
                    index.forget(article.article_id)
    finally:
        index.close()
    return {
        "keyword_ms_per_article": keyword_ms,
        "keyword_ms_per_article_single_commit": keyword_single,
        "by_scale": by_scale,
    }


def replicas_held(article_ids: set[str], base: list[Article]) -> int:
    """Return how many times the index already holds the `base` corpus (1 + the highest
    replica written in full; replicas are written in order, bench/replicas.py)."""
    from replicas import REPLICA

    originals = sum(1 for a in base if a.article_id in article_ids)
    counts: dict[int, int] = {}
    for aid in article_ids:
        if REPLICA in aid and (n := aid.rsplit(REPLICA, 1)[1]).isdigit():
            counts[int(n)] = counts.get(int(n), 0) + 1
    current = 1
    while originals and counts.get(current, 0) >= originals:
        current += 1
    return current


def main(argv: list[str] | None = None) -> int:
    from retrieval import configure_process

    configure_process()  # first: before torch or onnxruntime loads
    args = parse_args(argv)
    from bot.settings import Settings
    from bot.wiring import configure_logging
    from ingest.parse import parse_source

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
        where = args.index or Path(tmp)
        settings = Settings().embedded_in(where).without_chat()
        configure_logging(settings)
        measured = measure_scales(settings, base, live, questions, args)
    by_scale = measured.pop("by_scale")
    results |= measured | by_scale[str(args.scales[-1])]  # top level: the largest scale's
    results["by_scale"] = by_scale
    results["total_s"] = time.perf_counter() - started_run
    shown = ("options", "idle", "during_ingest", "by_scale")
    summary = {k: v for k, v in results.items() if k not in shown}
    summary["by_scale"] = {
        scale: {k: v for k, v in figures.items() if k not in shown}
        for scale, figures in by_scale.items()
    }
    print(json.dumps(summary, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
