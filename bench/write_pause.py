"""How long a question waits for a write to embedded Chroma: one collection against shards.

Chroma persists a collection's whole HNSW index every 1,000 passages written to it, holding
Python's lock meanwhile (retrieval/storage/shards.py). This writes `--passages` random unit
vectors (384 dimensions, no model) into one collection, then into collections of
`--shard-passages`, and in each layout writes `--writes` more in pieces of 32 (as an ingest does
while questions come) while another thread runs a nearest-neighbour query every 50 ms. It prints
JSON: for each layout the write and query n / p50 / p95 / max in ms, and the collections used.

    python bench/write_pause.py --passages 300000 --shard-passages 100000 --writes 3000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.storage.location import ChromaLocation, open_client
from retrieval.storage.shards import Shards

_DIM = 384
_BUILD = 5000
_PIECE = 32
_QUERY_EVERY_S = 0.05


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, _DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _write(shards: Shards, rng: np.random.Generator, start: int, n: int, piece: int) -> list[float]:
    times = []
    for at in range(start, start + n, piece):
        count = min(piece, start + n - at)
        _, collection = shards.writable(count)
        began = time.perf_counter()
        ids = [f"p{i}" for i in range(at, at + count)]
        collection.upsert(ids=ids, embeddings=_unit(rng, count))
        times.append(time.perf_counter() - began)
    return times


def measure(folder: Path, passages: int, capacity: int, writes: int) -> dict[str, Any]:
    from live import percentiles

    client = open_client(ChromaLocation(path=folder))
    shards = Shards(client, "pause", {"hnsw:space": "cosine"}, capacity)
    rng = np.random.default_rng(0)
    began = time.perf_counter()
    step = min(_BUILD, shards.capacity)
    for start in range(0, passages, step):
        _write(shards, rng, start, min(step, passages - start), step)
        print(f"  {min(start + step, passages):,}/{passages:,}", file=sys.stderr, flush=True)
    built = time.perf_counter() - began
    queries: list[float] = []
    done = threading.Event()

    def ask() -> None:
        asker = np.random.default_rng(1)
        while not done.is_set():
            began = time.perf_counter()
            shards.nearest(_unit(asker, 1)[0], 10)
            queries.append(time.perf_counter() - began)
            time.sleep(_QUERY_EVERY_S)

    thread = threading.Thread(target=ask)
    thread.start()
    written = _write(shards, rng, passages, writes, _PIECE)
    done.set()
    thread.join()
    return {
        "collections": len(shards.collections),
        "build_s": built,
        "write_ms": percentiles([1000 * t for t in written]),
        "query_ms": percentiles([1000 * t for t in queries]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=300_000)
    parser.add_argument("--shard-passages", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=3000)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    result: dict[str, Any] = {"passages": args.passages, "writes": args.writes}
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        for name, capacity in (
            ("one_collection", args.passages + args.writes),
            ("shards", args.shard_passages),
        ):
            print(f"{name}:", file=sys.stderr, flush=True)
            result[name] = measure(Path(tmp) / name, args.passages, capacity, args.writes)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json_out:
        args.json_out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
