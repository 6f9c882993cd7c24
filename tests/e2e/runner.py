"""Run the real `newsbot` command in a subprocess, with the test's environment."""

from __future__ import annotations

import os
import subprocess
import sys

NEWSBOT = [sys.executable, "-m", "bot.cli"]
# The keys of every citation in `--json` output (`ask`, `timeline`, `compare`, `brief`).
CITATION_KEYS = {
    "n",
    "article_id",
    "title",
    "outlet",
    "published_at",
    "url",
    "passage_id",
    "text",
    "also_published",
}


def newsbot(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NEWSBOT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
        check=False,
    )
