"""The documents hold together: every link and every pointer from the code resolves, and the
architecture's tree names files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCUMENTS = sorted(
    [ROOT / "README.md", ROOT / "bench" / "README.md", *(ROOT / "docs").glob("*.md")]
)
CODE = sorted(
    p
    for folder in ("bot", "ingest", "retrieval", "bench", "tests")
    for p in (ROOT / folder).rglob("*.py")
)

LINK = re.compile(r"\]\(([^)\s]+)\)")
POINTER = re.compile(r"\b((?:docs/[\w-]+|bench/README|README)\.md)(?:#([\w-]+))?")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def slug(heading: str) -> str:
    """Return the anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    kept = "".join(c for c in heading.strip().lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}


def test_slugs_are_githubs() -> None:
    assert slug("Time per question, 1× to 100×") == "time-per-question-1-to-100"
    assert slug("Fetching from the web, safely") == "fetching-from-the-web-safely"
    assert slug("`newsbot ask`: answers") == "newsbot-ask-answers"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_in_a_document_resolves(document: Path) -> None:
    text = FENCE.sub("", document.read_text(encoding="utf-8"))
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # https:, mailto: … are not checked offline
            continue
        name, _, anchor = target.partition("#")
        path = (document.parent / name).resolve() if name else document
        assert path.exists(), f"{document.relative_to(ROOT)} links to a missing {name}"
        if anchor:
            assert anchor in anchors(path), (
                f"{document.relative_to(ROOT)}: no #{anchor} in {name or 'itself'}"
            )


def test_every_pointer_from_the_code_to_a_document_resolves() -> None:
    for path in CODE:
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{line_no}"
            assert not re.search(r"README[,:]? \"", line), (
                f"{where} names a README heading: link an anchor"
            )
            for name, anchor in POINTER.findall(line):
                target = ROOT / name
                assert target.exists(), f"{where} points at a missing {name}"
                if anchor:
                    assert anchor in anchors(target), f"{where}: no #{anchor} in {name}"


def test_the_architectures_tree_names_files_that_exist() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    tree = next(block for block in FENCE.findall(text) if "retrieval/" in block and "bot/" in block)
    on_disk = {
        p.name
        for folder in ("bot", "ingest", "retrieval", "tests", "bench")
        for p in (ROOT / folder).rglob("*")
    }
    folders = re.findall(r"^([a-z_/]+/)\s", tree.split("\n", 1)[1], re.M)
    assert folders, "the tree lists no folders"
    for folder in folders:
        assert (ROOT / folder).is_dir(), f"the tree names a missing folder {folder}"
    for name in set(re.findall(r"\b([a-z_]+\.py)\b", tree)):
        assert name in on_disk, f"the tree names a missing file {name}"
