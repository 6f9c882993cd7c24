"""The article catalogue held in memory: committed revisions, outlet names, MinHash signatures.

Read whole from Chroma once per process, then kept current change by change: the writer applies
its own commits as it makes them, and every process applies the others' from the store's change
feed (`PassageStore.changes_since`). Nothing here re-reads the catalogue after a write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from retrieval.storage.signatures import SIGNATURE_LENGTH, decode


class Catalogue:
    """article id → committed revision, the outlets in use, and the articles' signatures."""

    def __init__(self) -> None:
        self.revisions: dict[str, str] = {}
        self._outlet_of: dict[str, str] = {}
        self._outlet_counts: Counter[str] = Counter()
        self._outlets: tuple[str, ...] | None = None
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._matrix = np.zeros((64, SIGNATURE_LENGTH), dtype=np.uint32)

    def put(self, article_id: str, record: Mapping[str, Any]) -> None:
        """Record an article's committed catalogue record (added or replaced)."""
        self.revisions[article_id] = str(record.get("revision", ""))
        self._set_outlet(article_id, record.get("outlet"))
        if record.get("minhash"):
            self._set_signature(article_id, decode(str(record["minhash"])))
        else:
            self._drop_signature(article_id)

    def drop(self, article_id: str) -> None:
        """Forget an article."""
        self.revisions.pop(article_id, None)
        self._set_outlet(article_id, None)
        self._drop_signature(article_id)

    def outlets(self) -> tuple[str, ...]:
        """Return the names of the outlets of the committed articles, sorted."""
        if self._outlets is None:
            self._outlets = tuple(sorted(self._outlet_counts))
        return self._outlets

    def signatures(self) -> tuple[list[str], np.ndarray]:
        """Return (article ids, MinHash matrix), one row per article that has a signature."""
        n = len(self._ids)
        return list(self._ids), self._matrix[:n]

    def _set_outlet(self, article_id: str, outlet: object) -> None:
        old = self._outlet_of.pop(article_id, None)
        if old is not None:
            self._outlet_counts[old] -= 1
            if self._outlet_counts[old] <= 0:
                del self._outlet_counts[old]
        if isinstance(outlet, str) and outlet:
            self._outlet_of[article_id] = outlet
            self._outlet_counts[outlet] += 1
        if old != outlet:
            self._outlets = None

    def _set_signature(self, article_id: str, row: np.ndarray) -> None:
        at = self._rows.get(article_id)
        if at is None:
            at = len(self._ids)
            if at == len(self._matrix):  # grow by doubling: appends stay cheap
                grown = np.zeros((2 * len(self._matrix), SIGNATURE_LENGTH), dtype=np.uint32)
                grown[:at] = self._matrix
                self._matrix = grown
            self._ids.append(article_id)
            self._rows[article_id] = at
        self._matrix[at] = row

    def _drop_signature(self, article_id: str) -> None:
        at = self._rows.pop(article_id, None)
        if at is None:
            return
        last = len(self._ids) - 1
        if at != last:  # move the last row into the hole
            moved = self._ids[last]
            self._ids[at] = moved
            self._rows[moved] = at
            self._matrix[at] = self._matrix[last]
        self._ids.pop()
