"""Questions beside a thread busy in Python: what Python's lock costs a question, and what the
short switch interval while a question is answered (retrieval/storage/questions_first.py) wins.

    .venv/bin/python bench/busy_thread.py --index /tmp/mh --questions 40

On an index already built (`speed.py --index DIR` or `newsbot ingest` into DIR), asks the same
questions (search + extractive answer, `NewsIndex.ask`) three ways, one after the other in one
process: alone; beside a thread that runs Python without pause (as an ingest's sentence
splitting and parsing do), with the switch interval questions get; and the same beside that
thread with Python's default interval, as before that change. Prints p50 / p95 / max of each and
the ratios to "alone" (one run, so the ratios hold on a noisy machine); `--json-out FILE`
writes them.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "multihop-rag"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--index", type=Path, required=True, metavar="DIR", help="a data dir already indexed")
    add("--queries", type=Path, default=DATA / "queries-dev.json", metavar="FILE")
    add("--questions", type=int, default=40, metavar="N", help="questions each way (40)")
    add("--json-out", type=Path, metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if not (args.index / "chroma").is_dir():
        parser.exit(2, f"error: {args.index} holds no index (build one with speed.py --index)\n")
    if not args.queries.is_file():
        parser.exit(2, f"error: {args.queries} not found (pass --queries)\n")
    return args


@contextmanager
def busy_python() -> Iterator[None]:
    """Run a thread that executes Python bytecode without pause until the block ends."""
    stop = threading.Event()

    def spin() -> None:
        total = 0
        while not stop.is_set():
            for i in range(1000):
                total += i * i

    thread = threading.Thread(target=spin, name="busy", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def timed(index: Any, questions: list[str]) -> dict[str, Any]:
    from live import percentiles

    ms = []
    for question in questions:
        started = time.perf_counter()
        index.ask(question)
        ms.append((time.perf_counter() - started) * 1000)
    return percentiles(ms)


def main(argv: list[str] | None = None) -> int:
    from retrieval import configure_process

    configure_process()  # first: before torch or onnxruntime loads
    args = parse_args(argv)
    from bot.settings import Settings
    from bot.wiring import open_index
    from retrieval.storage import questions_first

    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    questions = [q["query"] for q in queries][: args.questions]
    index = open_index(Settings().model_copy(update={"data_dir": args.index}).without_chat())
    results: dict[str, Any] = {"switch_interval_s": questions_first.SWITCH_INTERVAL_S}
    try:
        for question in questions:
            index.ask(question)  # warm up: the model, its onnxruntime copy, the caches
        results["alone"] = timed(index, questions)
        with busy_python():
            results["beside_busy_thread"] = timed(index, questions)
            questions_first.SWITCH_INTERVAL_S = sys.getswitchinterval()  # as before the change
            results["beside_busy_thread_default_interval"] = timed(index, questions)
    finally:
        index.close()
    alone = results["alone"]["p95"]
    for way in ("beside_busy_thread", "beside_busy_thread_default_interval"):
        results[way]["p95_to_alone"] = results[way]["p95"] / alone
    print(json.dumps(results, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
