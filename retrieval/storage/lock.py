"""The data-directory lock: embedded Chroma must have one process at a time."""

from __future__ import annotations

import errno
import logging
from pathlib import Path
from typing import Any

from retrieval.errors import DataDirBusyError

logger = logging.getLogger(__name__)

_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)  # the lock file cannot be opened to write


class DataDirLock:
    """An exclusive, non-blocking lock on a data directory, released when the process ends.

    Embedded Chroma is not process-safe (chroma-core/chroma #961, #3792): a second process on
    the same directory corrupts it or reads stale vectors. So the second one is refused.
    """

    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / "newsbot.lock"
        self._lock: Any = None
        self.read_only = False  # the directory cannot be written (set by acquire)

    def acquire(self) -> None:
        from filelock import FileLock, Timeout

        self.directory.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path), timeout=0)
        try:
            lock.acquire()
        except Timeout as exc:  # before OSError: filelock's Timeout is a TimeoutError
            raise DataDirBusyError(
                f"the data directory {self.directory} is in use by another newsbot process. "
                "Stop that process (or use the bot's admin commands while it runs), or run a "
                "Chroma server and set NEWSBOT_CHROMA_HOST so several processes can share it."
            ) from exc
        except OSError as exc:
            if exc.errno not in _READ_ONLY:
                raise
            # No process of this user can write here either: nothing to keep out. Reading
            # goes on without the lock; writes are refused (NewsIndex checks `read_only`).
            logger.info("%s is read-only (%s): opened for reading only", self.directory, exc)
            self.read_only = True
            return
        self._lock = lock

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
