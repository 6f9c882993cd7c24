"""Time `ask` (search + extractive answer) of two or more releases on the same index.

Each release (a git revision) is unpacked with `git archive` into a temporary folder and run in
a process of its own, the releases alternating for `--rounds` rounds on the same questions (each
first in turn); per question the fastest of its rounds counts (noise only ever adds time). It
prints p50 / p95 / mean per release, and the ratio of each to the first: how issue 27's "p95
of `ask` at 10× within 1.2× of the release before" is checked.

    python bench/ask_releases.py --index DIR --scale 10 --rev 518f06e --rev HEAD

`--index` is a data dir holding the corpus (`newsbot eval multihop --index DIR`, or
`bench/speed.py --index DIR`); with `--scale N` a temporary copy grown to N× with
`bench/replicas.py` is timed instead (DIR is never written).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from speed import Latency, bench_settings, log  # bench/ is the script's folder

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT.parent / "shared" / "data" / "multihop-rag" / "queries-dev.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="a data dir with the corpus")
    parser.add_argument("--rev", action="append", default=[], help="a git revision (2 or more)")
    parser.add_argument("--scale", type=int, default=1, help="grow a copy to N× (replicas)")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--questions", type=int, default=150, help="the first N dev questions")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # where to write times
    args = parser.parse_args(argv)
    if not args.child and len(args.rev) < 2:
        parser.error("give two or more --rev")
    return args


def child(args: argparse.Namespace) -> int:
    """Run in a release's own folder: time each question's `ask` once, write the times.

    As the release's own `newsbot` runs: its process settings (`configure_process`, where the
    release has it) and its logging."""
    import retrieval

    if hasattr(retrieval, "configure_process"):
        retrieval.configure_process()
    from bot.settings import Settings
    from bot.wiring import configure_logging, open_index

    questions = [q["query"] for q in json.loads(args.queries.read_text())][: args.questions]
    # the settings' spelling that every release since 518f06e understands
    settings = Settings().model_copy(
        update={"data_dir": args.index, "chroma_path": None, "chroma_host": None, "llm": None}
    )
    configure_logging(settings)
    index = open_index(settings)
    try:
        index.warm_up()
        index.ask(questions[0])  # untimed: the first question loads what the rest reuse
        times = []
        for question in questions:
            started = time.perf_counter()
            index.ask(question)
            times.append(1000 * (time.perf_counter() - started))
    finally:
        index.close()
    args.child.write_text(json.dumps({"code": retrieval.__file__, "ms": times}))
    return 0


def unpack(rev: str, folder: Path) -> Path:
    """Return a folder holding the release's files (`git archive`)."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    target = folder / sha
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", sha], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def grown(index: Path, scale: int, folder: Path) -> Path:
    """Return a copy of the index grown to `scale`× with replicas."""
    from replicas import read_snapshot, replicate

    from bot.wiring import open_index

    copy = folder / f"index-{scale}x"
    shutil.copytree(index, copy, ignore=shutil.ignore_patterns("*.lock"))
    opened = open_index(bench_settings(copy))
    try:
        snap = read_snapshot(opened)
        seconds = replicate(opened, snap, 1, scale, jitter=0.05)
        passages = opened.store.count_passages()
        log(f"grew {index} to {scale}× ({passages:,} passages, {seconds:.0f} s)")
    finally:
        opened.close()
    return copy


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as temp:
        folder = Path(temp)
        releases = {rev: unpack(rev, folder) for rev in args.rev}
        index = grown(args.index, args.scale, folder) if args.scale > 1 else args.index
        runs: dict[str, list[list[float]]] = {rev: [] for rev in args.rev}
        for round_ in range(1, args.rounds + 1):
            # each release first in turn: none always runs just after another's process
            turn = (round_ - 1) % len(releases)
            for rev in args.rev[turn:] + args.rev[:turn]:
                code = releases[rev]
                out = folder / f"{code.name}-{round_}.json"
                env = {**os.environ, "PYTHONPATH": str(code), "HF_HUB_OFFLINE": "1"}
                command = [sys.executable, str(Path(__file__).resolve()), "--child", str(out)]
                command += ["--index", str(index), "--queries", str(args.queries)]
                command += ["--questions", str(args.questions)]
                subprocess.run(command, cwd=code, env=env, check=True)
                result = json.loads(out.read_text())
                if not Path(result["code"]).is_relative_to(code):
                    raise SystemExit(f"{rev} ran {result['code']}, not its own code")
                runs[rev].append(result["ms"])
                log(f"round {round_}: {rev} {Latency.of([ms / 1000 for ms in result['ms']])}")
    summary: dict[str, Any] = {"index": str(args.index), "scale": args.scale, "releases": {}}
    first = None
    print(f"ask at {args.scale}×, {args.questions} questions, fastest of {args.rounds} rounds:")
    for rev, rounds in runs.items():
        fastest = [min(times) for times in zip(*rounds, strict=True)]
        latency = Latency.of([ms / 1000 for ms in fastest])
        first = first or latency.p95
        ratio = latency.p95 / first
        print(f"  {rev:>12}: {latency} ({ratio:.2f}×), mean {latency.mean:.0f} ms")
        summary["releases"][rev] = {**asdict(latency), "ms": fastest}
    if args.json_out:
        args.json_out.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
