"""Followed-topic posts survive whatever stops `newsbot ingest`: the real command killed with -9
or interrupted (SIGINT) while the store's file grows, and SIGTERM once everything is committed.
A re-run delivers what the stopped process left: the posts queued equal a clean run's, none
twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.runner import NEWSBOT

pytestmark = pytest.mark.model

TOTAL = 300  # one-paragraph articles: three batches, so a kill lands between commits
TOPICS = ("harbour container cargo", "school budget teachers")

Post = tuple[str, str]  # (topic, article id)


def _items(folder: Path) -> Path:
    folder.mkdir()
    for i in range(TOTAL):
        kind = i % 3
        if kind == 0:
            text = (
                f"Harbour report {i}\n\nThe harbour master logged cargo vessel {i} unloading "
                f"{i * 3} containers at berth {i % 40}, the busiest container traffic this year."
            )
        elif kind == 1:
            text = (
                f"School budget {i}\n\nThe school board cut the budget of school {i} by {i % 9} "
                f"percent, and {i % 17} teachers will lose their jobs, the board said."
            )
        else:
            text = (
                f"Bakery notes {i}\n\nA bakery on street {i} sold {i * 2} loaves of rye bread "
                "on Saturday and plans a second oven for the winter market."
            )
        (folder / f"item{i:04}.txt").write_text(text)
    return folder


def _env(data: Path) -> dict[str, str]:
    return {**os.environ, "NEWSBOT_DATA_DIR": str(data)}


def _run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NEWSBOT, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(data),
        check=False,
    )


def _follow(data: Path) -> None:
    for topic in TOPICS:
        assert _run(data, "follow", "add", topic).returncode == 0


def _printed(result_stdout: str) -> list[Post]:
    return [(p["topic"], p["article_id"]) for p in json.loads(result_stdout)["follows"]]


def _queued(data: Path) -> list[Post]:
    """Every post queued for the bot, as the follows database holds them."""
    with sqlite3.connect(data / "follows.sqlite3") as db:
        rows = db.execute(
            "SELECT f.topic, p.article_id FROM follow_posts p JOIN follows f ON f.id = p.follow_id"
        ).fetchall()
    return sorted((str(t), str(a)) for t, a in rows)


def _store_size(data: Path) -> int:
    path = data / "chroma" / "chroma.sqlite3"
    return path.stat().st_size if path.exists() else 0


def _ingest_until(data: Path, folder: Path, stop: Callable[[int], bool], sig: int) -> str:
    """Start `newsbot ingest --json` and send it `sig` once `stop(store size)` holds; return
    what it printed (nothing, when it died before the end)."""
    ingest = subprocess.Popen(
        [*NEWSBOT, "ingest", str(folder), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(data),
    )
    try:
        deadline = time.monotonic() + 600
        while not stop(_store_size(data)):
            assert ingest.poll() is None, "the ingest ended before the signal could be sent"
            assert time.monotonic() < deadline, "the store never grew that far"
            time.sleep(0.005)
        ingest.send_signal(sig)
        stdout, _ = ingest.communicate(timeout=120)
    finally:
        ingest.kill()
    assert ingest.returncode != 0 or stdout  # died, or (just) finished
    return stdout


def test_posts_survive_kill_9_and_sigterm_and_are_never_queued_twice(tmp_path: Path) -> None:
    folder = _items(tmp_path / "items")

    clean_data = tmp_path / "clean"
    _follow(clean_data)
    empty = _store_size(clean_data)
    clean = _run(clean_data, "ingest", str(folder), "--json")
    assert clean.returncode == 0, clean.stderr
    expected = sorted(_printed(clean.stdout))
    assert {topic for topic, _ in expected} == set(TOPICS)  # both follows match something
    assert _queued(clean_data) == expected
    full = _store_size(clean_data)
    assert full > empty

    # kill -9 and Ctrl-C part-way through (a batch or more committed), SIGTERM once all is.
    points = [
        (signal.SIGKILL, lambda size: size >= empty + (full - empty) * 0.6),
        (signal.SIGINT, lambda size: size >= empty + (full - empty) * 0.6),
        (signal.SIGTERM, lambda size: size >= empty + (full - empty) * 0.97),
    ]
    for n, (sig, stop) in enumerate(points):
        data = tmp_path / f"stopped{n}"
        _follow(data)
        first = _ingest_until(data, folder, stop, sig)
        before = _printed(first) if first.strip() else []

        rerun = _run(data, "ingest", str(folder), "--json")

        assert rerun.returncode == 0, rerun.stderr
        report = json.loads(rerun.stdout)
        assert report["unchanged"] > 0  # the stopped run had committed articles
        assert report["added"] + report["unchanged"] == TOTAL
        after = _printed(rerun.stdout)
        assert sorted(before + after) == expected, sig  # what the stopped run left is delivered
        assert not set(before) & set(after)
        assert _queued(data) == expected
        again = _run(data, "ingest", str(folder), "--json")
        assert _printed(again.stdout) == []  # none twice
        assert _queued(data) == expected
