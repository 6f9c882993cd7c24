"""Chunking: paragraph-sized passages that never cut a sentence nor exceed the token limit."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from ingest.chunk import ChunkLimits, chunk_article
from retrieval.answer.sentences import split_sentences
from retrieval.storage.embedder import Embedder
from tests.helpers import article


def words(texts: Sequence[str]) -> list[int]:
    """Count whitespace words: a stand-in tokenizer with the same additivity as word pieces."""
    return [len(t.split()) for t in texts]


def sentence(i: int, n: int = 10) -> str:
    return " ".join([f"w{i}"] * (n - 1)) + " end."


def test_short_paragraphs_are_merged_up_to_the_target() -> None:
    art = article("Title", [sentence(i) for i in range(6)])

    passages = chunk_article(art, words, ChunkLimits(max_tokens=100, target_tokens=25))

    assert [p.text.count("end.") for p in passages] == [2, 2, 2]
    assert [p.paragraph for p in passages] == [0, 2, 4]


def test_a_long_paragraph_is_split_at_sentence_boundaries_within_the_limit() -> None:
    paragraph = " ".join(sentence(i) for i in range(12))  # 120 words
    art = article("T", [paragraph])

    passages = chunk_article(art, words, ChunkLimits(max_tokens=40, target_tokens=40))

    assert all(words([p.text])[0] <= 40 - 1 - 1 for p in passages)  # room left for the title
    assert " ".join(p.text for p in passages) == paragraph  # nothing lost, nothing cut
    assert all(p.text.endswith("end.") for p in passages)


def test_a_sentence_longer_than_a_passage_is_cut_between_words_not_truncated() -> None:
    art = article("T", [" ".join(f"x{i}" for i in range(100))])

    passages = chunk_article(art, words, ChunkLimits(max_tokens=32, target_tokens=32))

    assert max(words([p.text for p in passages])) <= 32
    assert " ".join(p.text for p in passages).split() == art.paragraphs[0].split()


def test_passage_ids_are_stable_and_follow_position() -> None:
    art = article("T", [sentence(i, 30) for i in range(4)])
    limits = ChunkLimits(max_tokens=40, target_tokens=35)

    first = chunk_article(art, words, limits)
    again = chunk_article(art, words, limits)

    assert [p.passage_id for p in first] == [p.passage_id for p in again]
    assert [p.position for p in first] == list(range(len(first)))
    assert len({p.passage_id for p in first}) == len(first)
    assert all(p.passage_id.startswith(art.article_id) for p in first)


def test_each_passage_carries_the_articles_metadata_and_previous_context() -> None:
    art = article("Headline", [sentence(0, 30), sentence(1, 30)], url="https://x.example/a")

    first, second = chunk_article(art, words, ChunkLimits(max_tokens=80, target_tokens=35))

    assert (second.title, second.outlet, second.url, second.published_at) == (
        "Headline",
        "Test Wire",
        "https://x.example/a",
        "2025-01-15",
    )
    assert first.context == ""
    assert second.context == first.text  # the end of the previous passage, whole sentences
    assert second.contextual_text.startswith("Headline\n")


def test_context_never_pushes_the_embedded_text_past_the_limit() -> None:
    art = article("Six word headline for the test", [sentence(i, 20) for i in range(8)])
    limits = ChunkLimits(max_tokens=64, target_tokens=60, context_tokens=48)

    for p in chunk_article(art, words, limits):
        assert words([p.contextual_text])[0] <= 64


@pytest.mark.model
def test_real_passages_fit_the_models_limit_and_end_on_sentences(embedder: Embedder) -> None:
    from tests.conftest import SEED

    if not SEED.exists():
        pytest.skip("shared seed article is absent")
    from ingest.parse import parse_source

    art = parse_source(SEED.read_bytes(), SEED.name).articles[0]
    long_paragraph = " ".join(art.paragraphs)  # ~700 tokens in one paragraph
    art = article(art.title, [*art.paragraphs, long_paragraph])

    passages = chunk_article(art, embedder.count_tokens, ChunkLimits(max_tokens=256))

    counts = embedder.count_tokens([p.contextual_text for p in passages])
    assert max(counts) <= embedder.max_tokens
    assert max(embedder.count_tokens([p.text for p in passages])) <= 256
    for p in passages:
        last = split_sentences(p.text.replace("\n\n", " "))[-1]
        assert re.search(r"[.?!”\"]$", last), last
