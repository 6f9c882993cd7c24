"""A data dir keeps the precision its passages were embedded in, as a user at a terminal sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SEED
from tests.e2e.runner import newsbot

pytestmark = pytest.mark.model


def test_an_int8_index_refuses_float32_passages_and_auto_follows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_EMBEDDING_PRECISION", "int8")
    first = newsbot("ingest", str(EXAMPLE_SEED))
    assert first.returncode == 0, first.stderr
    assert "1 added" in first.stdout
    other = tmp_path / "volcano.txt"
    other.write_text(
        "Volcano erupts on the Reykjanes peninsula\n\n"
        "A volcano on the Reykjanes peninsula erupted on Monday evening, sending lava towards "
        "the town of Grindavik, which had been evacuated the week before.\n",
        encoding="utf-8",
    )

    monkeypatch.setenv("NEWSBOT_EMBEDDING_PRECISION", "float32")
    refused = newsbot("ingest", str(other))

    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert "embedded in int8" in refused.stderr and "PRECISION is float32" in refused.stderr

    monkeypatch.delenv("NEWSBOT_EMBEDDING_PRECISION")  # auto: whatever the index holds
    added = newsbot("ingest", str(other))
    answer = newsbot("ask", "what did Putin say about India's oil?", "--json")

    assert added.returncode == 0, added.stderr
    assert "1 added" in added.stdout
    assert answer.returncode == 0, answer.stderr
    found = json.loads(answer.stdout)
    assert found["grounded"] is True
    assert "why should India be deprived of this right?" in found["answer"]
