"""The change feed: how every process learns what the others committed, reading only that.

Every commit stamps the article's catalogue record with a sequence number (`seq`, microseconds
since the epoch, increasing within a process: `next_seq`), and forgetting an article first
writes a tombstone with its own `seq` to a small changes collection. `PassageStore.changes_since`
reads both, so the in-memory catalogue and the keyword index of this or any other process catch
up by reading only what changed. The stamp is part of the commit itself, so no crash can leave a
committed article that the feed does not show. A stamp is taken a moment before its record
becomes visible (and another process's clock may differ a little), so a reader assumes only that
a commit is visible within `CHANGE_WINDOW_US` of its stamp: each look reads from the earlier of
its latest stamp and its previous look's time less that window (`FeedPosition`). Applying a
change twice is harmless.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# A commit becomes visible within this long of its stamp (see the module docstring).
CHANGE_WINDOW_US = 15_000_000


@dataclass(frozen=True)
class Change:
    """One entry of the change feed: an article committed (its record) or forgotten (None)."""

    article_id: str
    seq: int
    record: dict[str, Any] | None


@dataclass(frozen=True)
class Commit:
    """An article's commit read from the change feed: `added_seq == seq` for its first."""

    article_id: str
    seq: int
    added_seq: int


@dataclass
class FeedPosition:
    """Where a reader of the change feed is: what it has seen, and when it last looked."""

    seen: int = 0  # the latest stamp applied
    looked: int = 0  # when the last look started (microseconds since the epoch), 0: never

    def since(self) -> int:
        """Return the stamp to read from: nothing visible since the last look is missed."""
        if not self.looked:
            return self.seen - CHANGE_WINDOW_US
        return min(self.seen, self.looked - CHANGE_WINDOW_US)

    def advance(self, changes: Sequence[Change], looked: int) -> None:
        self.seen = max([self.seen, *(change.seq for change in changes)])
        self.looked = looked


_last_seq = 0
_seq_lock = threading.Lock()


def next_seq() -> int:
    """Return a new sequence number: the time in microseconds, increasing within the process."""
    global _last_seq  # noqa: PLW0603 - one counter per process, by design
    with _seq_lock:
        _last_seq = max(_last_seq + 1, time.time_ns() // 1000)
        return _last_seq
