"""Finding source files under the user's paths and reading them within the size limit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.parse import ParseError, parse_source
from ingest.sources import MAX_FOLDER_DEPTH, SourceFile, find_files, read_file

MB = 1024 * 1024


def touch(root: Path, *names: str) -> None:
    """Create small text files (and their folders) under root."""
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("Headline\n\nBody.\n", encoding="utf-8")


def relative(files: list[SourceFile], root: Path) -> list[str]:
    """Return the found files as slash-separated paths relative to root."""
    return [file.path.relative_to(root).as_posix() for file in files]


def test_folders_are_searched_recursively_in_sorted_order(tmp_path: Path) -> None:
    touch(tmp_path, "b/2.txt", "top.html", "a/z.md", "a/sub/y.json", "b/1.jsonl", "a/sub/x.htm")

    files, errors = find_files([tmp_path])

    assert errors == []
    assert relative(files, tmp_path) == [
        "a/sub/x.htm",
        "a/sub/y.json",
        "a/z.md",
        "b/1.jsonl",
        "b/2.txt",
        "top.html",
    ]
    assert not any(file.explicit for file in files)


def test_hidden_unsupported_and_housekeeping_files_are_skipped_in_folders(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "news.txt",
        ".draft.txt",
        ".git/notes.txt",
        "README.md",
        "LICENSE.txt",
        "ATTRIBUTION.md",
        "report.pdf",
        "photo.png",
        "sub/story.MD",
    )

    files, errors = find_files([tmp_path])

    assert errors == []
    assert relative(files, tmp_path) == ["news.txt", "sub/story.MD"]


def test_explicit_files_are_kept_whatever_their_suffix(tmp_path: Path) -> None:
    touch(tmp_path, "report.pdf", "folder/story.txt")
    pdf = tmp_path / "report.pdf"

    files, errors = find_files([pdf, tmp_path / "folder"])

    assert errors == []
    assert files == [
        SourceFile(pdf, explicit=True),
        SourceFile(tmp_path / "folder" / "story.txt", explicit=False),
    ]
    # The user then learns why the explicit file cannot be ingested.
    with pytest.raises(ParseError, match=r"^unsupported file type '\.pdf'"):
        parse_source(read_file(pdf, MB), str(pdf))


def test_missing_paths_are_reported_and_the_rest_still_found(tmp_path: Path) -> None:
    touch(tmp_path, "story.txt")
    missing = tmp_path / "nope"

    files, errors = find_files([str(missing), str(tmp_path / "story.txt")])

    assert relative(files, tmp_path) == ["story.txt"]
    assert errors == [(str(missing), "no such file or directory")]


def test_a_folder_without_articles_is_reported(tmp_path: Path) -> None:
    touch(tmp_path, "empty/README.md", "empty/.hidden.txt")

    files, errors = find_files([tmp_path / "empty"])

    assert files == []
    assert errors == [
        (
            str(tmp_path / "empty"),
            "no supported files found (looked for .htm, .html, .json, .jsonl, .md, .txt)",
        )
    ]


def test_each_file_is_listed_once(tmp_path: Path) -> None:
    touch(tmp_path, "a.txt", "b.txt", "sub/.keep")
    same_b = f"{tmp_path}/sub/../b.txt"

    files, errors = find_files([tmp_path, tmp_path / "a.txt", same_b, tmp_path])

    assert errors == []
    assert relative(files, tmp_path) == ["a.txt", "b.txt"]
    # Named directly as well as found in the folder: it counts as named.
    assert [file.explicit for file in files] == [True, True]


def test_read_file_returns_the_bytes_within_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "exact.txt"
    path.write_bytes(b"x" * MB)

    assert read_file(path, MB) == b"x" * MB


def test_read_file_rejects_files_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * (2 * MB + 1))

    with pytest.raises(ParseError) as raised:
        read_file(path, 2 * MB)

    assert str(raised.value) == "file is larger than the 2 MB limit (NEWSBOT_MAX_FILE_MB)"


def test_read_file_reports_os_errors(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as raised:
        read_file(tmp_path / "gone.txt", MB)

    assert str(raised.value) == "cannot read file: No such file or directory"


# Root reads any folder (CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE): as root, the walk runs in a
# process that setpriv started without those two capabilities.
_NO_ROOT_READS = [
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]


def _as_a_user() -> list[str] | None:
    """Return the command prefix that runs a process bound by folder permissions (None: none)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        return None
    probe = subprocess.run(["setpriv", *_NO_ROOT_READS, "true"], capture_output=True, check=False)
    return ["setpriv", *_NO_ROOT_READS] if probe.returncode == 0 else None


AS_A_USER = _as_a_user()


@pytest.mark.skipif(AS_A_USER is None, reason="root, and setpriv cannot drop its read rights")
def test_an_unreadable_subfolder_fails_alone_and_its_neighbours_are_found(tmp_path: Path) -> None:
    assert AS_A_USER is not None
    touch(tmp_path, "a/1.txt", "b/locked/2.txt", "c/3.txt")
    locked = tmp_path / "b" / "locked"
    walk = (
        "import json, sys; from ingest.sources import find_files; "
        "files, errors = find_files([sys.argv[1]]); "
        "print(json.dumps([[str(f.path) for f in files], errors]))"
    )
    locked.chmod(0)
    try:
        done = subprocess.run(
            [*AS_A_USER, sys.executable, "-c", walk, str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parents[2],  # the repository, where `ingest` is imported from
        )
    finally:
        locked.chmod(0o755)
    files, errors = json.loads(done.stdout)

    assert [Path(f).relative_to(tmp_path).as_posix() for f in files] == ["a/1.txt", "c/3.txt"]
    assert errors == [[str(locked), "cannot read: Permission denied"]]


def test_a_folder_too_deep_is_skipped_and_the_rest_found(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["d"] * (MAX_FOLDER_DEPTH + 5))
    touch(tmp_path, "a.txt", str(deep.relative_to(tmp_path) / "lost.txt"), "d/near.txt")

    files, errors = find_files([tmp_path])

    assert relative(files, tmp_path) == ["a.txt", "d/near.txt"]
    ((shown, reason),) = errors
    assert reason == f"folder nested more than {MAX_FOLDER_DEPTH} levels deep: skipped"
    head, tail = shown.split("…")  # a long path is shown by its two ends, on one line
    skipped = str(tmp_path.joinpath(*["d"] * MAX_FOLDER_DEPTH))
    assert skipped.startswith(head) and skipped.endswith(tail) and len(shown) <= 160
