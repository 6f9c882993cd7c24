"""Sentence splitting for news text (pysbd: rule-based, no data download)."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str) -> list[str]:
    """Return the sentences of a paragraph, verbatim, without surrounding whitespace."""
    return [s.strip() for s in _segmenter().segment(text) if s.strip()]
