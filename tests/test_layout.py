"""The architecture, checked: bot → ingest → retrieval, one way, and retrieval's front door."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import retrieval
from tests.conftest import ROOT

PACKAGES = ("bot", "ingest", "retrieval")


def imported_modules(path: Path) -> list[str]:
    """Return every module a file imports (absolute imports, any depth, TYPE_CHECKING too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def files_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_layers_import_only_downwards(package: str) -> None:
    below = PACKAGES[PACKAGES.index(package) :]
    for path in files_of(package):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in PACKAGES:
                assert top in below, f"{path.relative_to(ROOT)} imports {module}"


@pytest.mark.parametrize("package", ["bot", "ingest"])
def test_front_ends_use_retrieval_through_its_front_door(package: str) -> None:
    for path in files_of(package):
        for module in imported_modules(path):
            assert not module.startswith("retrieval."), f"{path.relative_to(ROOT)}: {module}"


def names_imported_from_retrieval() -> set[str]:
    """Return every name the front ends, the tests and the benchmarks import from `retrieval`."""
    names = set()
    for package in ("bot", "ingest", "tests", "bench"):
        for path in files_of(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "retrieval":
                    names |= {alias.name for alias in node.names}
    return names


def test_the_front_door_names_resolve_and_are_all_listed() -> None:
    assert len(retrieval.__all__) == len(set(retrieval.__all__)) >= 40
    assert names_imported_from_retrieval() <= set(retrieval.__all__)
    for name in retrieval.__all__:
        module = importlib.import_module(retrieval._WHERE[name])
        assert getattr(retrieval, name) is getattr(module, name)
    with pytest.raises(AttributeError, match="no attribute 'LexicalIndex'"):
        _ = retrieval.LexicalIndex  # inside, not at the front door


def test_the_cogs_never_import_the_discord_app_back() -> None:
    """The app loads the cogs; a cog importing the app back (even lazily) would be a cycle."""
    cogs = [
        f"bot.discord.cogs.{p.stem}"
        for p in sorted((ROOT / "bot" / "discord" / "cogs").glob("[!_]*.py"))
    ]
    modules = ", ".join([*cogs, "bot.discord.checks", "bot.discord.buttons", "bot.discord.render"])
    code = f"import sys, {modules}; print('bot.discord.app' in sys.modules)"
    run = [sys.executable, "-c", code]
    loaded = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, check=False)
    assert loaded.returncode == 0, loaded.stderr
    assert (len(cogs), loaded.stdout.strip()) == (5, "False")


def test_only_the_discord_room_imports_discord_py() -> None:
    """bot/discord/ is the Discord front end; nothing else loads discord.py (the CLI's `run`
    reaches it through bot.discord.launch, lazily)."""
    for package in PACKAGES:
        for path in files_of(package):
            inside = (ROOT / "bot" / "discord") in path.parents
            for module in imported_modules(path):
                if module.split(".")[0] == "discord":
                    assert inside, f"{path.relative_to(ROOT)} imports {module}"
