"""The errors the index raises for a user to read: each message is one line saying what to do."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be used as configured; the message says why and what to do."""


class StoreUnavailable(StoreError):  # noqa: N818 - a kind of StoreError, named for the state
    """The Chroma server cannot be reached, stopped answering in time, or is not Chroma.

    What was committed before is whole; trying again once the server is back finishes the job.
    """
