"""Run the real `newsbot` command in a subprocess, with the test's environment."""

from __future__ import annotations

import os
import subprocess
import sys

NEWSBOT = [sys.executable, "-m", "bot.cli"]


def newsbot(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NEWSBOT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
        check=False,
    )
