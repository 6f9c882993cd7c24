"""Find the source files behind the paths a user gives, and read them within a size limit."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.fetch_policy import MB
from ingest.parse import SUPPORTED_SUFFIXES, ParseError, supported_list

# Files that travel with data sets but are not articles.
_NOT_ARTICLES = ("README", "LICENSE", "LICENCE", "ATTRIBUTION")


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest, and whether the user named it directly (vs found inside a folder)."""

    path: Path
    explicit: bool


# Deeper than this, a folder is skipped with a reason: no collection of articles nests so deep,
# and paths past it outgrow what the system allows (PATH_MAX) anyway.
MAX_FOLDER_DEPTH = 64
_SHOWN_PATH = 160  # a longer path is shown by its two ends in a failure's one line


def find_files(paths: Iterable[str | Path]) -> tuple[list[SourceFile], list[tuple[str, str]]]:
    """Return the files to ingest under the given files and folders, and the paths that failed.

    Folders are searched recursively in sorted order, keeping only supported, non-hidden files
    that are not READMEs or licences. Files named directly are kept whatever their suffix, so
    parsing can tell the user why an unsupported one was rejected. Each file is listed once.
    A path that cannot be read (too deep, a link loop, no permission) fails alone, in one line.
    """
    found: dict[str, SourceFile] = {}
    errors: list[tuple[str, str]] = []
    for given in paths:
        path = Path(given).expanduser()
        try:
            problem = _add_path(path, found, errors)
        except (OSError, RuntimeError) as error:  # RuntimeError: a symbolic link loop
            problem = _reason(error)
        if problem:
            errors.append((_shown(str(given)), problem))
    return list(found.values()), errors


def _add_path(
    path: Path, found: dict[str, SourceFile], errors: list[tuple[str, str]]
) -> str | None:
    if path.is_dir():
        return _add_folder(path, found, errors)
    if path.is_file():
        # Keep where it was first listed, but a file named anywhere counts as named.
        key = _key(path)
        first = found.get(key, SourceFile(path, explicit=True))
        found[key] = SourceFile(first.path, explicit=True)
        return None
    if path.is_symlink():
        return "a broken or looping symbolic link"
    if path.exists():
        return "not a regular file or folder"
    return "no such file or directory"


def _add_folder(
    folder: Path, found: dict[str, SourceFile], errors: list[tuple[str, str]]
) -> str | None:
    """Add the article files under a folder to `found` (a subfolder that cannot be read is
    added to `errors`); return why the folder yielded none, if so."""
    try:
        entries = _entries(folder)
    except OSError as error:
        return f"cannot read folder: {_reason(error)}"
    files = 0
    for file in _walk(entries, errors):
        found.setdefault(_key(file), SourceFile(file, explicit=False))
        files += 1
    if not files and not errors:
        return f"no supported files found (looked for {supported_list()})"
    return None


def _walk(top: list[os.DirEntry[str]], errors: list[tuple[str, str]]) -> Iterator[Path]:
    """Yield the ingestible files under a folder's entries, depth first, in name order.

    A loop over a stack, not recursion: a folder thousands of levels deep cannot exhaust
    Python's stack. Linked folders are not followed (a link to a parent would loop forever).
    """
    stack = [iter(top)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                if len(stack) >= MAX_FOLDER_DEPTH:
                    errors.append(
                        (
                            _shown(entry.path),
                            f"folder nested more than {MAX_FOLDER_DEPTH} levels deep: skipped",
                        )
                    )
                    continue
                stack.append(iter(_entries(Path(entry.path))))
            elif entry.is_file() and _is_article_file(Path(entry.path)):
                yield Path(entry.path)
        except OSError as error:
            errors.append((_shown(entry.path), f"cannot read: {_reason(error)}"))


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as listing:
        return sorted(listing, key=lambda entry: entry.name)


def _key(path: Path) -> str:
    """Return the name that tells one file from another (the same file named twice is one)."""
    try:
        return str(path.resolve())
    except (OSError, RuntimeError):
        return str(path.absolute())


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError):
        return str(error.strerror or error)
    return str(error).split("\n", 1)[0]


def _shown(path: str) -> str:
    if len(path) <= _SHOWN_PATH:
        return path
    half = _SHOWN_PATH // 2 - 1
    return f"{path[:half]}…{path[-half:]}"


def _is_article_file(path: Path) -> bool:
    """Return whether a file found in a folder looks like a source of articles."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return False
    return not path.name.upper().startswith(_NOT_ARTICLES)


def read_file(path: Path, max_bytes: int) -> bytes:
    """Return the file's bytes; raise ParseError when it is over `max_bytes` or unreadable."""
    too_large = ParseError(
        f"file is larger than the {max_bytes / MB:g} MB limit (NEWSBOT_MAX_FILE_MB)"
    )
    try:
        if path.stat().st_size > max_bytes:
            raise too_large
        with path.open("rb") as handle:
            # One byte more than allowed tells a file that grew since stat() from one that fits.
            data = handle.read(max_bytes + 1)
    except OSError as error:
        raise ParseError(f"cannot read file: {error.strerror or error}") from error
    if len(data) > max_bytes:
        raise too_large
    return data
