"""Where Chroma lives (a directory or a server), opening a client there, and telling a damaged
or missing database from other failures, in one line a user can act on."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.errors import DamagedStoreError, StoreError
from retrieval.storage.chroma_server import DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT


@dataclass(frozen=True)
class ChromaLocation:
    """Where Chroma lives: a directory (embedded) or a server."""

    path: Path | None = None
    host: str | None = None
    port: int = 8000
    ssl: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT  # server only: seconds to connect
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT  # server only: seconds to wait for an answer

    def describe(self) -> str:
        if self.host:
            scheme = "https" if self.ssl else "http"
            return f"Chroma server {scheme}://{self.host}:{self.port}"
        return f"embedded Chroma in {self.path}"


def open_client(location: ChromaLocation) -> Any:
    """Return a Chroma client for the location (telemetry off)."""
    import chromadb
    from chromadb.config import Settings

    if location.host:
        from retrieval.storage.chroma_server import open_server_client

        return open_server_client(
            location.host,
            location.port,
            location.ssl,
            connect_timeout=location.connect_timeout,
            request_timeout=location.request_timeout,
        )
    if location.path is None:
        raise StoreError("no Chroma path or host configured")
    location.path.mkdir(parents=True, exist_ok=True)
    settings = Settings(anonymized_telemetry=False)
    try:
        return chromadb.PersistentClient(path=str(location.path), settings=settings)
    except Exception as exc:
        if (damaged := damaged_store(exc, location)) is not None:
            raise damaged from exc
        raise


# What SQLite says of a file that is not (or no longer) a whole database (SQLITE_NOTADB: 26,
# SQLITE_CORRUPT: 11), as Chroma passes it on.
_DAMAGED = ("file is not a database", "database disk image is malformed", "(code: 26)")


def damaged_store(error: BaseException, location: ChromaLocation) -> DamagedStoreError | None:
    """Return the one-line error for a damaged Chroma database, when `error` says it is one."""
    text = str(error)
    if location.path is None or not any(words in text for words in _DAMAGED):
        return None
    reason = "file is not a database" if "not a database" in text else "malformed"
    return DamagedStoreError(
        f"the Chroma database {location.path / 'chroma.sqlite3'} is damaged ({reason}): "
        "restore the folder from a backup, or move it aside and ingest your sources again"
    )


def check_store(location: ChromaLocation) -> DamagedStoreError | None:
    """Return the damaged-database error when SQLite finds the embedded database damaged.

    A read of the whole file (`PRAGMA quick_check`): run only after an operation failed for a
    reason Chroma does not name (damage in its log reads "Failed to pull logs from the log
    store"), never on every start.
    """
    import sqlite3

    if location.path is None or not (location.path / "chroma.sqlite3").exists():
        return None
    uri = f"{(location.path / 'chroma.sqlite3').as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            rows = db.execute("PRAGMA quick_check").fetchall()
        problem = None if rows == [("ok",)] else str(rows[0][0])
    except sqlite3.DatabaseError as exc:
        problem = str(exc)
    if problem is None:
        return None
    return damaged_store(RuntimeError("database disk image is malformed"), location)


def missing_store(location: ChromaLocation, keywords: Path) -> StoreError | None:
    """Return the error for a Chroma database that is gone while its index data is not (its
    folders, the keyword index): opening would start an empty index and hide the loss."""
    if location.path is None or (location.path / "chroma.sqlite3").exists():
        return None
    leftovers = [p for p in (location.path, keywords) if p.is_dir() and any(p.iterdir())]
    if not leftovers:
        return None
    named = " and ".join(str(p) for p in leftovers)
    return StoreError(
        f"the Chroma database {location.path / 'chroma.sqlite3'} is missing, but {named} "
        f"still {'hold' if len(leftovers) > 1 else 'holds'} index data: the articles are gone. "
        f"Restore the database from a backup, or to rebuild move {named} aside and ingest your "
        "sources again"
    )
