"""Syndicated copies: the same wire story republished by several outlets with small edits.

Each article's text gets a MinHash signature (word 5-shingles). A new article whose estimated
Jaccard similarity to a stored one reaches the threshold is not indexed again; the index records
it as another publication of that story, so answers can say "also published by …". The index
asks this policy under its writer lock, so two writers never both take a copy for an original.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval import SIGNATURE_LENGTH, best_match

SHINGLE = 5
_WORD = re.compile(r"\w+")


def signature(text: str) -> np.ndarray:
    """Return the MinHash signature (uint32, SIGNATURE_LENGTH values) of a text's shingles."""
    from datasketch import MinHash

    words = _WORD.findall(text.lower())
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    minhash = MinHash(num_perm=SIGNATURE_LENGTH, seed=7)
    minhash.update_batch([s.encode("utf-8") for s in shingles])
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


@dataclass(frozen=True)
class Syndication:
    """The copy decision the index applies to each new article (`NewsIndex(copies=...)`)."""

    threshold: float = 0.8  # estimated Jaccard similarity from which an article is a copy

    def signature(self, text: str) -> np.ndarray:
        return signature(text)

    def copy_of(
        self, sig: np.ndarray, ids: Sequence[str], matrix: np.ndarray
    ) -> tuple[str, float] | None:
        """Return (original's id, similarity) when the article is a copy of a stored one."""
        original, similarity = best_match(sig, ids, matrix)
        return (original, similarity) if similarity >= self.threshold else None
