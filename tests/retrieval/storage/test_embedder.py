"""The embedding model's arithmetic: bfloat16 where the CPU has it, the same vectors either way."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.storage.embedder import Embedder, EmbedderError

TEXTS = [
    "Putin said India has the right to buy Russian oil, just as the United States buys uranium.",
    "A volcano on the Reykjanes peninsula erupted on Monday evening.",
]


def test_bfloat16_vectors_match_float32_ones() -> None:
    exact = Embedder(precision="float32")
    fast = Embedder(precision="bfloat16")
    assert not exact.bfloat16 and fast.bfloat16

    cosine = np.sum(exact.embed(TEXTS) * fast.embed(TEXTS), axis=1)

    assert cosine.min() > 0.9995
    assert np.allclose(np.linalg.norm(fast.embed(TEXTS), axis=1), 1.0, atol=1e-3)


def test_an_unknown_precision_is_refused_with_the_choices() -> None:
    with pytest.raises(EmbedderError, match="precision 'half'"):
        Embedder(precision="half")


def test_repeated_and_remembered_texts_each_get_their_own_vector() -> None:
    embedder = Embedder(precision="float32")
    question, other = TEXTS
    first = embedder.embed([question, other])  # a small call: remembered for the answer

    again = embedder.embed([other, "An unrelated headline about football.", question, other])

    assert np.array_equal(again[0], first[1]) and np.array_equal(again[3], first[1])
    assert np.array_equal(again[2], first[0])
    assert float(again[1] @ first[0]) < 0.5  # the new text got its own vector, not a neighbour's
