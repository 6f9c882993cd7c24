"""Find the source files behind the paths a user gives, and read them within a size limit."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.parse import SUPPORTED_SUFFIXES, ParseError, supported_list

_MEGABYTE = 1024 * 1024
# Files that travel with data sets but are not articles.
_NOT_ARTICLES = ("README", "LICENSE", "LICENCE", "ATTRIBUTION")


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest, and whether the user named it directly (vs found inside a folder)."""

    path: Path
    explicit: bool


def find_files(paths: Iterable[str | Path]) -> tuple[list[SourceFile], list[tuple[str, str]]]:
    """Return the files to ingest under the given files and folders, and the paths that failed.

    Folders are searched recursively in sorted order, keeping only supported, non-hidden files
    that are not READMEs or licences. Files named directly are kept whatever their suffix, so
    parsing can tell the user why an unsupported one was rejected. Each file is listed once.
    """
    found: dict[Path, SourceFile] = {}
    errors: list[tuple[str, str]] = []
    for given in paths:
        path = Path(given).expanduser()
        problem = None
        if path.is_dir():
            problem = _add_folder(path, found)
        elif path.is_file():
            # Keep where it was first listed, but a file named anywhere counts as named.
            first = found.get(path.resolve(), SourceFile(path, explicit=True))
            found[path.resolve()] = SourceFile(first.path, explicit=True)
        elif path.exists():
            problem = "not a regular file or folder"
        else:
            problem = "no such file or directory"
        if problem:
            errors.append((str(given), problem))
    return list(found.values()), errors


def _add_folder(folder: Path, found: dict[Path, SourceFile]) -> str | None:
    """Add the article files under a folder to `found`; return why it yielded none, if so."""
    files = 0
    try:
        for file in _walk(folder):
            found.setdefault(file.resolve(), SourceFile(file, explicit=False))
            files += 1
    except OSError as error:
        return f"cannot read folder: {error.strerror or error}"
    if not files:
        return f"no supported files found (looked for {supported_list()})"
    return None


def _walk(folder: Path) -> Iterator[Path]:
    """Yield the ingestible files under a folder, depth first, in name order."""
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        # Linked folders are not followed: a link to a parent would loop forever.
        if entry.is_dir() and not entry.is_symlink():
            yield from _walk(entry)
        elif entry.is_file() and _is_article_file(entry):
            yield entry


def _is_article_file(path: Path) -> bool:
    """Return whether a file found in a folder looks like a source of articles."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return False
    return not path.name.upper().startswith(_NOT_ARTICLES)


def read_file(path: Path, max_bytes: int) -> bytes:
    """Return the file's bytes; raise ParseError when it is over `max_bytes` or unreadable."""
    too_large = ParseError(
        f"file is larger than the {max_bytes / _MEGABYTE:g} MB limit (NEWSBOT_MAX_FILE_MB)"
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
