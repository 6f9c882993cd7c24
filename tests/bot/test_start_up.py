"""Every `newsbot` command, the Discord bot's `run` included, starts by loading the settings,
which configures the process (retrieval/runtime.py) before anything loads torch."""

from __future__ import annotations

from pathlib import Path

from tests.retrieval.test_runtime import child


def test_the_commands_start_configures_the_process(tmp_path: Path) -> None:
    got = child(
        """
before = state()
from bot.cli.common import load_settings
load_settings()
print(json.dumps({"before": before, "after": state(), "torch": "torch" in sys.modules}))
""",
        tmp_path,
        NEWSBOT_DATA_DIR=str(tmp_path / "data"),
    )

    assert got["before"]["OMP_WAIT_POLICY"] is None
    assert got["after"]["OMP_WAIT_POLICY"] == "PASSIVE"
    assert got["after"]["HF_HUB_OFFLINE"] == "1"
    assert got["torch"] is False  # set in time: OpenMP reads it when torch loads
