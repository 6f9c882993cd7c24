"""Importing the library leaves the process as it was; a front end's `configure_process` makes
the process-wide settings newsbot runs with (retrieval/runtime.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# What the child prints: the process-wide state the library could change.
STATE = """
import gc, json, os, sys
def state():
    return {
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE"),
        "environ": len(os.environ),
        "switch_interval": sys.getswitchinterval(),
        "frozen": gc.get_freeze_count(),
    }
"""


def child(script: str, tmp_path: Path, **env: str) -> dict[str, dict[str, object]]:
    """Run a fresh interpreter without the variables the library could set; return its JSON."""
    clean = {k: v for k, v in os.environ.items() if k not in {"OMP_WAIT_POLICY", "HF_HUB_OFFLINE"}}
    clean["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", STATE + script],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_every_library_module_changes_nothing_process_wide(tmp_path: Path) -> None:
    got = child(
        """
import importlib, pkgutil
before = state()
import retrieval, ingest
for package in (retrieval, ingest):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
from retrieval import configure_process  # the front door loads it: importing is not calling
from retrieval.storage.questions_first import QuestionsFirst
with QuestionsFirst().answering():  # a question answered in a process no front end set up
    during = state()
print(json.dumps({"before": before, "after": state(), "during": during}))
""",
        tmp_path,
    )

    assert got["after"] == got["before"]
    assert got["during"] == got["before"]
    assert got["before"]["OMP_WAIT_POLICY"] is None


def test_a_front_end_configures_the_process_once_at_start(tmp_path: Path) -> None:
    got = child(
        """
from retrieval import configure_process
from retrieval.storage.questions_first import QuestionsFirst
before = state()
configure_process()
after = state()
with QuestionsFirst().answering():
    during = state()
print(json.dumps({"before": before, "after": after, "during": during, "end": state()}))
""",
        tmp_path,
    )

    assert got["after"]["OMP_WAIT_POLICY"] == "PASSIVE"
    assert got["after"]["HF_HUB_OFFLINE"] == "1"  # the bundled model never reaches the network
    assert got["during"]["switch_interval"] == pytest.approx(0.0005, rel=0.05)
    assert got["end"]["switch_interval"] == got["before"]["switch_interval"]


def test_the_users_own_variables_and_another_models_download_are_kept(tmp_path: Path) -> None:
    got = child(
        """
from retrieval import configure_process
configure_process("sentence-transformers/all-mpnet-base-v2")
print(json.dumps({"after": state()}))
""",
        tmp_path,
        OMP_WAIT_POLICY="ACTIVE",
    )

    assert got["after"]["OMP_WAIT_POLICY"] == "ACTIVE"
    assert got["after"]["HF_HUB_OFFLINE"] is None  # a hub model may still be downloaded
