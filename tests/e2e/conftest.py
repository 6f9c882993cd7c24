"""Fixtures for whole-flow tests of the `newsbot` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_SEED
from tests.e2e.runner import newsbot


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    result = newsbot("ingest", str(EXAMPLE_SEED))
    assert result.returncode == 0, result.stderr
    assert "1 added" in result.stdout
    return tmp_path
