"""The benchmarks run end to end on a tiny slice of MultiHop-RAG (figures come from full runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, QUERIES, ROOT

pytestmark = pytest.mark.model


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    if not (CORPUS.exists() and QUERIES.exists()):
        pytest.skip("the MultiHop-RAG data in ../shared is absent")
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )


def test_the_speed_benchmark_measures_1x_and_2x(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"

    done = run(
        "speed.py",
        "--index",
        str(tmp_path / "index"),
        "--articles",
        "8",
        "--scales",
        "1,2",
        "--queries-limit",
        "3",
        "--json-out",
        str(out),
    )

    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    one, two = figures["scales"]
    assert (one["factor"], two["factor"]) == (1, 2)
    assert two["passages"] == 2 * one["passages"] > 0
    assert two["articles"] == 2 * one["articles"]
    assert one["search"]["n"] == 3 and two["ask"]["p95"] > 0
    assert one["keyword_ms_per_article"] > 0 and two["keyword_ms_single"] > 0

    # questions beside a thread busy in Python, on the index speed.py kept
    busy = run("busy_thread.py", "--index", str(tmp_path / "index"), "--questions", "3")
    assert busy.returncode == 0, busy.stderr[-2000:]
    ways = json.loads(busy.stdout)
    assert ways["alone"]["p95"] > 0
    assert ways["beside_busy_thread"]["p95_to_alone"] > 0
    assert ways["beside_busy_thread_default_interval"]["max"] > 0


def test_the_live_benchmark_reports_what_the_issue_asks_for(tmp_path: Path) -> None:
    out = tmp_path / "live.json"

    done = run(
        "live.py",
        "--articles",
        "12",
        "--ingest",
        "3",
        "--scales",
        "1,2",
        "--seconds",
        "2",
        "--rate",
        "4",
        "--json-out",
        str(out),
    )

    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert set(figures["keyword_ms_per_article"]) == {"1", "2"}
    assert figures["scale"] > 0 and figures["idle_p95_ms"] > 0
    assert figures["during_ingest"]["n"] >= 1
    assert figures["during_ingest_max_ms"] >= figures["during_ingest_p95_ms"] > 0
    assert figures["commits_seen"] >= 1 and 0 <= figures["commit_to_search_s"] < 30
    assert figures["cold_ask_ok"] is True and figures["cold_ask_peak_rss_mb"] > 0
    # every scale has its own live phase: the held-back articles are new again at the next one
    one, two = figures["by_scale"]["1"], figures["by_scale"]["2"]
    assert two["scale"] > one["scale"]
    assert one["ingested"]["added"] == two["ingested"]["added"] == 3
    assert two["scale"] == figures["scale"] and one["cold_ask_ok"] is True


def test_the_live_benchmark_reuses_a_kept_index(tmp_path: Path) -> None:
    kept = tmp_path / "index"
    small = ("--articles", "10", "--ingest", "3", "--seconds", "1", "--rate", "4")
    first = run("live.py", *small, "--scales", "2", "--index", str(kept))
    assert first.returncode == 0, first.stderr[-2000:]

    again = run(
        "live.py",
        *small,
        "--scales",
        "2",
        "--index",
        str(kept),
        "--json-out",
        str(tmp_path / "again.json"),
    )

    assert again.returncode == 0, again.stderr[-2000:]
    # nothing written again: not the corpus, not the replicas; the live articles new again
    assert "ingesting 0 articles" in again.stderr and "writing replicas" not in again.stderr
    figures = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert figures["scale"] == json.loads(first.stdout)["scale"]
    assert figures["ingested"]["added"] == 3


def test_the_write_pause_benchmark_compares_one_collection_with_shards() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "write_pause.py"),
            "--passages",
            "300",
            "--writes",
            "96",
            "--shard-passages",
            "100",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout)
    assert figures["one_collection"]["collections"] == 1
    assert figures["shards"]["collections"] == 4  # 300 + 96 passages, 100 a collection
    assert figures["shards"]["write_ms"]["n"] == 3 and figures["shards"]["query_ms"]["max"] > 0


def test_the_langchain_comparison_ingests_the_same_articles_both_ways(tmp_path: Path) -> None:
    for module in ("langchain_chroma", "langchain_huggingface", "langchain_text_splitters"):
        pytest.importorskip(module, reason='the tutorial pipeline: pip install -e ".[bench]"')
    out = tmp_path / "vs.json"

    done = run(
        "vs_langchain.py",
        *("--articles", "2", "--cold", "--json-out", str(out)),
        *("--precision", "float32", "--precision", "int8"),
    )

    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["articles"] == 2 and figures["characters"] > 0
    assert figures["runs"]["langchain"]["ratio"] == 1
    for name in (f"{ROOT} (float32)", f"{ROOT} (int8)"):  # each precision, side by side
        newsbot = figures["runs"][name]
        assert newsbot["ratio"] > 0 and newsbot["chars_per_s"] > 0
        assert figures["cold_one_article_s"][name] > 0
    assert "LangChain tutorial pipeline" in done.stdout
