"""Questions before bulk work: an ingest in the same process must not slow a question down.

Two things slow a question that runs beside an ingest, on a machine with few cores:
- The ingest's embedding takes the cores. Bulk work calls `give_way` between its pieces: it
  waits while a question is being answered.
- Python's lock. A question's thread lets go of it at every call into native code (an
  onnxruntime run, a tokenizer call, a Chroma or tantivy query), and each time it wants it back
  while the ingest's thread runs Python (sentence splitting, parsing), it waits one switch
  interval (5 ms by default) before that thread is made to let go. A question makes hundreds
  of such calls, so those waits, not its own work, would make most of its time. So while a
  question is being answered, Python switches threads every `SWITCH_INTERVAL_S`
  (`sys.setswitchinterval`; the previous value comes back when the last question is done).
  The interval is the whole process's, so it is changed only in a process a front end
  configured (retrieval/runtime.py). `bench/busy_thread.py` measures what it saves:
  docs/measurements.md#questions-beside-a-busy-thread.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from retrieval.runtime import process_configured

SWITCH_INTERVAL_S = 0.0005  # while a question is answered (Python's default: 0.005)
RECENT_S = 60.0  # questions this recent make bulk work go in small pieces
GIVE_WAY_S = 5.0  # the longest bulk work waits for questions before it goes on anyway


class QuestionsFirst:
    """Which questions are being answered now, so that bulk work gives way to them."""

    def __init__(self) -> None:
        self._answering = 0  # questions being answered now, in any thread
        self._asked_at = float("-inf")  # time.monotonic() of the latest question
        self._saved_interval: float | None = None  # to restore when the last question is done
        self._here = threading.local()  # this thread's depth of `answering()`
        self._quiet = threading.Condition()

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Mark a question as being answered in this thread until the block ends."""
        depth = self.depth()
        self._here.depth = depth + 1
        with self._quiet:
            if self._answering == 0:
                # Only a process a front end configured is ours to tune (retrieval/runtime.py).
                self._saved_interval = sys.getswitchinterval() if process_configured() else None
                if self._saved_interval is not None:
                    sys.setswitchinterval(min(self._saved_interval, SWITCH_INTERVAL_S))
            self._answering += 1
            self._asked_at = time.monotonic()
        try:
            yield
        finally:
            self._here.depth = depth
            with self._quiet:
                self._answering -= 1
                if self._answering == 0:
                    if self._saved_interval is not None:
                        sys.setswitchinterval(self._saved_interval)
                    self._quiet.notify_all()

    def depth(self) -> int:
        """Return how many `answering()` blocks this thread is in (0: it is not answering)."""
        return int(getattr(self._here, "depth", 0))

    def give_way(self) -> bool:
        """Wait while a question is being answered (at most GIVE_WAY_S); then tell whether
        questions came in the last RECENT_S. Bulk work calls it between its pieces."""
        with self._quiet:
            if not self.depth():  # a question's own work never waits for itself
                self._quiet.wait_for(lambda: self._answering == 0, timeout=GIVE_WAY_S)
            return time.monotonic() - self._asked_at < RECENT_S
