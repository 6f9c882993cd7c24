"""Telling a write that failed because the disk is full from other failures.

Chroma does not always say so: on a full disk its first failures read "Error in compaction:
Failed to apply logs to the metadata segment", and only a later one "database or disk is full".
So besides what the error says, the free space where the index lives decides.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterable
from pathlib import Path

LOW_SPACE = 1 << 20  # bytes: with less free, a failed write is taken for a full disk
_SAYS_FULL = ("database or disk is full", "no space left on device", "disk quota exceeded")


def says_disk_full(error: BaseException) -> bool:
    """Return whether the error, or one it was raised from, says the disk is full."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(words in str(current).lower() for words in _SAYS_FULL):
            return True
        current = current.__cause__ or current.__context__
    return False


def short_of_space(folders: Iterable[Path]) -> bool:
    """Return whether any of the folders (that exist) has less than LOW_SPACE free."""
    for folder in folders:
        try:
            if shutil.disk_usage(folder).free < LOW_SPACE:
                return True
        except OSError:
            continue
    return False
