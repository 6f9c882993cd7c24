"""Syndicated copies: the same wire story republished by several outlets with small edits.

Each article's text gets a MinHash signature (word 5-shingles). A new article whose estimated
Jaccard similarity to a stored one reaches the threshold is not indexed again; it is recorded
as another publication of that story, so answers can say "also published by …".
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

import numpy as np

NUM_PERM = 64
SHINGLE = 5
_WORD = re.compile(r"\w+")


def signature(text: str) -> np.ndarray:
    """Return the MinHash signature (uint32, NUM_PERM values) of a text's word shingles."""
    from datasketch import MinHash

    words = _WORD.findall(text.lower())
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    minhash = MinHash(num_perm=NUM_PERM, seed=7)
    minhash.update_batch([s.encode("utf-8") for s in shingles])
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


def encode(sig: np.ndarray) -> str:
    """Return the signature as text, to keep in Chroma metadata."""
    return base64.b64encode(np.asarray(sig, dtype="<u4").tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<u4").astype(np.uint32)


def best_match(sig: np.ndarray, ids: Sequence[str], matrix: np.ndarray) -> tuple[str, float]:
    """Return the stored article most similar to the signature and the estimated similarity."""
    if not len(ids):
        return "", 0.0
    scores = (matrix == sig[None, :]).mean(axis=1)
    best = int(np.argmax(scores))
    return ids[best], float(scores[best])
