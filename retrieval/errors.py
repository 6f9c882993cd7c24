"""The errors the index raises for a user to read: each message is one line saying what to do.

Front ends catch `RetrievalError` (or one of its kinds) and print the message as it is.
"""

from __future__ import annotations


def first_line(error: BaseException, limit: int = 200) -> str:
    """Return an exception's first line (its type's name when it has no text), cut to `limit`."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RetrievalError(RuntimeError):
    """The index cannot do what was asked, for a reason the user can act on."""


class StoreError(RetrievalError):
    """The store cannot be used as configured; the message says why and what to do."""


class StoreUnavailable(StoreError):  # noqa: N818 - a kind of StoreError, named for the state
    """The Chroma server cannot be reached, stopped answering in time, or is not Chroma.

    What was committed before is whole; trying again once the server is back finishes the job.
    """


class EmbedderError(RetrievalError):
    """The embedding model could not be loaded; the message says what to do."""


class DataDirBusyError(RetrievalError):
    """Another process holds the data directory (embedded Chroma is one process's at a time)."""


class DiskFullError(StoreUnavailable):
    """A write failed because the disk holding the index is full.

    Like a server that went away, it stops the batch at the first failed write: every later
    write would fail the same way. What was committed before is whole; once there is space,
    running the same command again finishes the job.
    """


class DamagedStoreError(StoreUnavailable):
    """The embedded Chroma database is damaged (SQLite says so): a write that meets the damage
    stops the batch, and the message says to restore a backup or rebuild; running the same
    command again does not help."""


class ReadOnlyError(StoreUnavailable):
    """The data directory can be read but not written: a write is refused (and stops a batch)."""
