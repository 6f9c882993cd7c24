"""Stored article signatures: how a MinHash signature is kept in Chroma metadata and looked up.

What a signature is computed from, and when two articles are copies of one story, is ingest's
decision (`ingest.syndication`); the index only keeps each article's signature and finds the
nearest stored one.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np

SIGNATURE_LENGTH = 64  # uint32 values per signature


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
