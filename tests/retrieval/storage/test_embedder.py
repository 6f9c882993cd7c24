"""The embedding model's arithmetic: bfloat16 where the CPU has it, the same vectors either way."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from retrieval.storage.embedder import Embedder, EmbedderError
from tests.helpers import wait_until_parked

pytestmark = pytest.mark.model

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


def test_an_ingest_gets_each_passage_its_own_vector_in_its_own_place() -> None:
    """A bulk call is embedded longest first in small chunks; the vectors come back in the
    caller's order (a mix-up would file every passage under another's meaning)."""
    embedder = Embedder(precision="float32")
    texts = [f"{word} " * n + "story" for n, word in enumerate(["oil", "lava", "chess"] * 12, 1)]

    together = embedder.embed(texts)
    alone = np.vstack([Embedder(precision="float32").embed([text]) for text in texts])

    assert np.sum(together * alone, axis=1).min() > 0.999


def test_an_ingest_gives_way_while_a_question_is_answered() -> None:
    embedder = Embedder(precision="float32")
    embedder.embed(["warm up"])
    passages = [f"{text} (part {i})" for i in range(20) for text in TEXTS]
    finished: list[float] = []
    ingest = threading.Thread(
        target=lambda: finished.append((embedder.embed(passages), time.monotonic())[1])
    )
    with embedder.answering_question():
        ingest.start()
        wait_until_parked(ingest, "give_way")  # the bulk call waits at its first chunk
        assert not finished
        released = time.monotonic()
    ingest.join(timeout=60)

    assert finished and finished[0] >= released
