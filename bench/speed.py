"""Speed benchmark on MultiHop-RAG: ingest throughput, time per question, memory, and search
time as the index grows to 10x and 100x the corpus's passages.

    .venv/bin/python bench/speed.py --articles 30 --scales 1,10 --queries-limit 40

Progress goes to stderr, the summary to stdout (see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.settings import Settings
    from retrieval.index import NewsIndex

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "multihop-rag"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rss_mb() -> float:
    """Return the process's resident memory now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def heartbeat(label: str, every: float = 60.0) -> Iterator[None]:
    """Log elapsed time and RSS every `every` seconds while a long, silent step runs."""
    started = time.perf_counter()
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every):
            log(f"  {label}: {time.perf_counter() - started:.0f} s, RSS {rss_mb():,.0f} MB")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def disk_mb(directory: Path) -> float:
    """Return the size of the files under directory, in MB."""
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file()) / 2**20


def peak_rss_mb() -> float:
    """Return the process's peak resident memory so far (ru_maxrss is in KB on Linux), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Latency:
    """Milliseconds per question."""

    n: int
    p50: float
    p95: float
    mean: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latency:
        import numpy as np

        ms = np.asarray(seconds, dtype=np.float64) * 1000
        p50, p95 = np.percentile(ms, [50, 95])
        return cls(len(ms), float(p50), float(p95), float(ms.mean()))

    def __str__(self) -> str:
        return f"p50 {self.p50:.0f} ms, p95 {self.p95:.0f} ms"


@dataclass
class IngestResult:
    articles: int  # in the corpus file that was ingested
    added: int
    updated: int
    unchanged: int
    syndicated: int
    failed: int
    passages: int  # visible in the index afterwards
    body_chars: int  # of all the corpus file's articles
    model_load_s: float
    wall_s: float | None  # None: everything was indexed already, nothing was timed
    rss_mb: float

    @property
    def complete(self) -> bool:
        """Whether the whole corpus was ingested in the timed run (so rates mean something)."""
        return self.wall_s is not None and not self.unchanged

    @property
    def chars_per_s(self) -> float | None:
        return self.body_chars / self.wall_s if self.complete and self.wall_s else None

    @property
    def passages_per_s(self) -> float | None:
        return self.passages / self.wall_s if self.complete and self.wall_s else None


@dataclass
class ScaleResult:
    factor: int
    passages: int
    articles: int
    replicate_s: float | None  # writing the replicas added at this step (keyword index included)
    keyword_ms_per_article: float  # the keyword index's work per new article, ingest batches
    keyword_ms_single: float  # the same, one article per commit
    first_ask_ms: float  # the warm-up: the first question after the index changed
    search: Latency
    ask: Latency
    rss_mb: float
    disk_mb: float  # of the data dir


# -- setup ----------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--corpus", type=Path, default=DATA / "corpus.json", metavar="FILE", help="%(default)s")
    add(
        "--queries",
        type=Path,
        default=DATA / "queries-dev.json",
        metavar="FILE",
        help="%(default)s",
    )
    add("--articles", type=int, metavar="N", help="ingest only the first N articles")
    add("--queries-limit", type=int, metavar="N", help="time only the first N queries")
    add("--scales", default="1,10,100", metavar="LIST", help="index sizes, x the corpus")
    add("--k", type=int, default=10, metavar="N", help="passages per search (%(default)s)")
    add(
        "--jitter",
        type=float,
        default=0.05,
        metavar="X",
        help="norm of the noise added to replica embeddings (%(default)s; 0: exact copies)",
    )
    add(
        "--index",
        type=Path,
        metavar="DIR",
        help="data dir to ingest into and keep (reused: ingest not timed if already there); "
        "replicas go to a temporary copy of it",
    )
    add("--json-out", type=Path, metavar="FILE", help="also write the results as JSON")
    add(
        "--profile",
        type=Path,
        metavar="DIR",
        help="profile the timed asks of each scale (cProfile): DIR/ask-<N>x.prof, and the top "
        "functions by cumulative time on stderr",
    )
    args = parser.parse_args(argv)
    for path in (args.corpus, args.queries):
        if not path.is_file():
            parser.exit(2, f"error: {path} not found (pass --corpus / --queries)\n")
    try:
        args.scales = sorted({int(s) for s in args.scales.split(",") if s.strip()})
    except ValueError:
        parser.exit(2, f"error: --scales wants integers like 1,10,100, not {args.scales!r}\n")
    if not args.scales or args.scales[0] < 1:
        parser.exit(2, "error: --scales wants integers of at least 1\n")
    for name in ("articles", "queries_limit", "k"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.exit(2, f"error: --{name.replace('_', '-')} wants a number of at least 1\n")
    return args


def load_corpus(path: Path, limit: int | None, workdir: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Return the corpus file to ingest (trimmed to the first `limit` articles) and its items."""
    items = json.loads(path.read_text(encoding="utf-8"))
    if limit is None or limit >= len(items):
        return path, items
    items = items[:limit]
    trimmed = workdir / "corpus" / "corpus.json"
    trimmed.parent.mkdir(parents=True)
    trimmed.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return trimmed, items


def bench_settings(data_dir: Path) -> Settings:
    """The user's settings with embedded Chroma in data_dir and no chat model (as eval does)."""
    from bot.settings import Settings
    from bot.wiring import configure_logging

    settings = Settings().embedded_in(data_dir).without_chat()
    configure_logging(settings)
    return settings


def close_index(index: NewsIndex) -> None:
    index.close()  # stops embedded Chroma, so its files can be copied or deleted


def working_copy(index: NewsIndex, settings: Settings, target: Path) -> NewsIndex:
    """Close the index, copy its data dir to target and open the copy."""
    from bot.wiring import open_index

    close_index(index)
    started = time.perf_counter()
    shutil.copytree(settings.data_dir, target)
    log(f"copied {settings.data_dir} to {target} ({time.perf_counter() - started:.1f} s)")
    return open_index(settings.model_copy(update={"data_dir": target}))


def machine() -> dict[str, Any]:
    import chromadb
    import torch

    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    meminfo = Path("/proc/meminfo")
    mem = [line for line in meminfo.read_text().splitlines() if line.startswith("MemTotal")]
    return {
        "cpu": models[0] if models else platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "torch_threads": torch.get_num_threads(),
        "memory_mb": int(mem[0].split()[1]) // 1024 if mem else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "chromadb": chromadb.__version__,
        "platform": platform.platform(),
        "omp": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "MKL_"))},
        "load_avg_start": os.getloadavg(),
    }


# -- measurements ---------------------------------------------------------------------------
def measure_ingest(
    index: NewsIndex, settings: Settings, corpus: Path, items: list[dict[str, Any]]
) -> IngestResult:
    """Ingest the corpus as `newsbot eval multihop` does: parse, chunk, embed, store."""
    from ingest.pipeline import ingest_paths

    started = time.perf_counter()
    index.embedder.embed(["warm up"])  # the model's load is not ingest throughput
    model_load_s = time.perf_counter() - started
    log(f"embedding model loaded ({model_load_s:.1f} s); ingesting {len(items)} articles")
    started = time.perf_counter()
    report = ingest_paths(index, [corpus], limits=settings.chunks.build(), max_bytes=1 << 30)
    wall_s = time.perf_counter() - started
    if report.failed:
        log(f"{len(report.failed)} failed, first: {report.failed[0]}")
    timed = bool(report.added or report.updated)
    return IngestResult(
        articles=len(items),
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        syndicated=report.syndicated,
        failed=len(report.failed),
        passages=sum(1 for _ in index.store.iter_passages()),
        body_chars=sum(len(item.get("body") or "") for item in items),
        model_load_s=model_load_s,
        wall_s=wall_s if timed else None,
        rss_mb=rss_mb(),
    )


def measure_questions(
    index: NewsIndex, questions: list[str], k: int
) -> tuple[float, Latency, Latency]:
    """Time one warm-up ask, then search alone and search + extractive answer per question."""
    started = time.perf_counter()
    index.ask(questions[0])
    first_ms = (time.perf_counter() - started) * 1000
    timings: dict[str, list[float]] = {"search": [], "ask": []}
    calls: dict[str, Callable[[str], object]] = {
        "search": lambda q: index.search(q, k=k),
        "ask": index.ask,
    }
    for name, call in calls.items():
        for i, question in enumerate(questions, start=1):
            started = time.perf_counter()
            call(question)
            timings[name].append(time.perf_counter() - started)
            if i % 50 == 0:
                log(f"  {name}: {i}/{len(questions)} questions, last {timings[name][-1]:.2f} s")
    return first_ms, Latency.of(timings["search"]), Latency.of(timings["ask"])


@contextmanager
def profiled(path: Path | None) -> Iterator[None]:
    """Profile the block into `path` (nothing when None) and log the costliest functions."""
    if path is None:
        yield
        return
    import cProfile
    import io
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        path.parent.mkdir(parents=True, exist_ok=True)
        profile.dump_stats(path)
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(30)
        log(text.getvalue())


# -- report ---------------------------------------------------------------------------------
def print_summary(info: dict[str, Any], ingest: IngestResult, scales: list[ScaleResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(width=None if sys.stdout.isatty() else 150, soft_wrap=True)
    out.print(
        f"[bold]machine[/bold]: {info['cpu']}, {info['cores']} cores "
        f"({info['usable_cores']} usable), {info['memory_mb']:,} MB RAM, "
        f"torch {info['torch']} with {info['torch_threads']} threads, "
        f"Python {info['python']}, chromadb {info['chromadb']}"
    )
    counts = (
        f"{ingest.articles} articles ({ingest.added} added, {ingest.updated} updated, "
        f"{ingest.unchanged} unchanged, {ingest.syndicated} syndicated, {ingest.failed} failed) "
        f"→ {ingest.passages:,} passages, {ingest.body_chars:,} body chars"
    )
    if ingest.chars_per_s and ingest.passages_per_s:
        speed = (
            f"{ingest.wall_s:.1f} s: {ingest.chars_per_s:,.0f} chars/s, "
            f"{ingest.passages_per_s:.1f} passages/s"
        )
    elif ingest.wall_s:
        speed = f"{ingest.wall_s:.1f} s, partly indexed before: no rates"
    else:
        speed = "already indexed, not timed"
    out.print(f"[bold]ingest[/bold]: {counts}; {speed}")
    out.print(
        f"  model load {ingest.model_load_s:.1f} s (not counted); RSS {ingest.rss_mb:,.0f} MB"
    )
    table = Table(
        "scale",
        "passages",
        "articles",
        "replicate s",
        "keyword ms/article (batch / single)",
        "1st ask ms",
        "search p50/p95 ms",
        "ask p50/p95 ms",
        "RSS MB",
        "disk MB",
        title="time per question (search: index.search; ask: search + extractive answer)",
    )
    for r in scales:
        table.add_row(
            f"{r.factor}x",
            f"{r.passages:,}",
            f"{r.articles:,}",
            "-" if r.replicate_s is None else f"{r.replicate_s:.1f}",
            f"{r.keyword_ms_per_article:.1f} / {r.keyword_ms_single:.1f}",
            f"{r.first_ask_ms:.0f}",
            f"{r.search.p50:.0f} / {r.search.p95:.0f}",
            f"{r.ask.p50:.0f} / {r.ask.p95:.0f}",
            f"{r.rss_mb:,.0f}",
            f"{r.disk_mb:,.0f}",
        )
    out.print(table)
    out.print(f"[bold]peak memory[/bold] (max RSS): {peak_rss_mb():,.0f} MB")
    start, end = info["load_avg_start"], os.getloadavg()
    out.print(
        f"load average (1 min) {start[0]:.1f} at the start, {end[0]:.1f} at the end"
        + (f"; {' '.join(f'{k}={v}' for k, v in info['omp'].items())}" if info["omp"] else "")
    )


# -- main -----------------------------------------------------------------------------------
def measure_scales(
    index: NewsIndex,
    settings: Settings,
    questions: list[str],
    *,
    args: argparse.Namespace,
    workdir: Path,
    stack: ExitStack,
) -> list[ScaleResult]:
    """Time the questions at each scale, growing the index with replicas between steps."""
    from replicas import keyword_ms_per_article, read_snapshot, replicate

    data_dir = settings.data_dir
    results: list[ScaleResult] = []
    if args.index and args.scales[-1] > 1:  # keep the user's data dir free of replicas
        data_dir = workdir / "scaled"
        index = working_copy(index, settings, data_dir)
        stack.callback(close_index, index)
    started = time.perf_counter()
    snap = read_snapshot(index)
    took = time.perf_counter() - started
    log(f"read {snap.passage_count:,} passages with embeddings ({took:.1f} s)")
    current = 1
    for factor in args.scales:
        replicate_s = None
        if factor > current:
            log(f"{factor}x: writing replicas {current}..{factor - 1}")
            replicate_s = replicate(index, snap, current, factor, jitter=args.jitter)
            log(f"{factor}x: replicas written ({replicate_s:.1f} s), RSS {rss_mb():,.0f} MB")
            current = factor
        cost = keyword_ms_per_article(index, snap)
        log(f"{factor}x: timing {len(questions)} questions")
        with profiled(args.profile and args.profile / f"ask-{factor}x.prof"):
            first_ms, search, ask = measure_questions(index, questions, args.k)
        result = ScaleResult(
            factor=factor,
            passages=index.store.count_passages(),
            articles=len(index.store.committed_revisions()),
            replicate_s=replicate_s,
            keyword_ms_per_article=cost.batched,
            keyword_ms_single=cost.single,
            first_ask_ms=first_ms,
            search=search,
            ask=ask,
            rss_mb=rss_mb(),
            disk_mb=disk_mb(data_dir),
        )
        log(f"{factor}x: search {search}; ask {ask}; RSS {result.rss_mb:,.0f} MB")
        results.append(result)
    return results


def write_json(
    path: Path,
    *,
    args: argparse.Namespace,
    info: dict[str, Any],
    ingest: IngestResult,
    scales: list[ScaleResult],
    total_s: float,
) -> None:
    payload = {
        "machine": info,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "ingest": asdict(ingest)
        | {"chars_per_s": ingest.chars_per_s, "passages_per_s": ingest.passages_per_s},
        "scales": [asdict(r) for r in scales],
        "peak_rss_mb": peak_rss_mb(),
        "load_avg_end": os.getloadavg(),
        "total_s": total_s,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from retrieval import configure_process

    configure_process()  # first: before torch or onnxruntime loads
    args = parse_args(argv)
    from bot.wiring import open_index

    run_started = time.perf_counter()
    info = machine()
    with (
        tempfile.TemporaryDirectory(prefix="newsbot-bench-", ignore_cleanup_errors=True) as tmp,
        ExitStack() as stack,  # closes the indexes before the directory goes
    ):
        workdir = Path(tmp)
        corpus, items = load_corpus(args.corpus, args.articles, workdir)
        queries = json.loads(args.queries.read_text(encoding="utf-8"))
        questions = [q["query"] for q in queries[: args.queries_limit]]
        if not questions:
            log("error: no queries to time")
            return 2
        settings = bench_settings(args.index or workdir / "data")
        log(f"data dir {settings.data_dir}")
        index = open_index(settings)
        stack.callback(close_index, index)
        ingest = measure_ingest(index, settings, corpus, items)
        took = f"{ingest.wall_s:.1f} s" if ingest.wall_s is not None else "already indexed"
        log(f"ingest: {ingest.passages:,} passages, {took}")
        results = measure_scales(
            index, settings, questions, args=args, workdir=workdir, stack=stack
        )
    print_summary(info, ingest, results)
    total_s = time.perf_counter() - run_started
    if args.json_out:
        write_json(
            args.json_out, args=args, info=info, ingest=ingest, scales=results, total_s=total_s
        )
    log(f"done in {total_s:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
