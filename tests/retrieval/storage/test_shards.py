"""Passages in several Chroma collections (storage/shards.py) read and write as one index.

Real parts: Chroma embedded and as a server, the bundled model where an index is searched.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.models import Article
from retrieval.storage.location import ChromaLocation, open_client
from retrieval.storage.shards import Shards
from retrieval.storage.store import PassageStore
from tests.conftest import IndexFactory
from tests.helpers import put
from tests.retrieval.storage.test_live_index import story


def _ids_of(index_store: PassageStore, article_id: str) -> list[str]:
    return list(index_store.passages.get(where={"article_id": article_id}, include=[])["ids"])


@pytest.mark.model
def test_an_index_in_several_collections_finds_updates_and_forgets_like_one(
    make_index: IndexFactory, location: ChromaLocation
) -> None:
    index = make_index(location, shard_passages=10)
    stories = [story(n) for n in range(8)]  # four passages each: a new collection every two
    for s in stories:
        put(index, s)

    shards = index.store.passages
    assert len(shards.collections) >= 3
    assert all(collection.count() <= 10 for collection in shards.collections)
    assert index.store.count_passages() == sum(len(s.paragraphs) for s in stories)
    for n, s in enumerate(stories):
        assert index.search(f"codeword{n} milestone")[0].passage.article_id == s.article_id

    first, second = stories[0], stories[1]  # both in the first collection
    assert index.forget(first.article_id)
    updated = Article(
        title=second.title,
        paragraphs=("The codeword1 project was cancelled by a narrow vote of the council.",),
        outlet=second.outlet,
        published_at=second.published_at,
        url=second.url,
        origin=second.origin,
    )
    put(index, updated)

    assert _ids_of(index.store, first.article_id) == []
    assert len(_ids_of(index.store, second.article_id)) == 1  # the old revision's are gone
    texts = [hit.passage.text for hit in index.search("codeword1 cancelled vote")]
    assert texts[0] == updated.paragraphs[0]
    assert all(hit.passage.article_id != first.article_id for hit in index.search("codeword0"))


@pytest.mark.model
def test_a_second_process_opens_the_collections_another_started(
    make_index: IndexFactory, location: ChromaLocation
) -> None:
    index = make_index(location, shard_passages=6)
    put(index, story(0))
    prefix = index.store.passages.prefix
    model = index.embedder.model_name
    reader = PassageStore(open_client(location), prefix=prefix, embedding_model=model)
    assert len(reader.passages.collections) == 1
    reader.sync()

    put(index, story(1), story(2))  # into collections the reader has not seen
    changes = reader.changes_since(reader.feed_since() or 0)
    reader.sync(changes)

    assert len(reader.passages.collections) == len(index.store.passages.collections) >= 2
    vector = index.embedder.embed(["codeword2 milestone"])[0]
    nearest = reader.query(vector, 3)
    assert nearest[0][0].article_id == story(2).article_id


def test_a_passage_written_again_into_a_newer_collection_is_read_once(tmp_path: Path) -> None:
    client = open_client(ChromaLocation(path=tmp_path / "chroma"))
    shards = Shards(client, "dup", {"hnsw:space": "cosine"}, capacity=2)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3, 8)).astype(np.float32)
    number, collection = shards.writable(2)
    meta = [{"article_id": "x"}] * 2
    collection.upsert(ids=["a", "b"], embeddings=vectors[:2], documents=["a", "b"], metadatas=meta)
    # a retry after a crash writes "a" again: the first collection is full, so into a new one
    number_again, newer = shards.writable(2)
    newer.upsert(
        ids=["a", "c"], embeddings=[vectors[0], vectors[2]], documents=["a", "c"], metadatas=meta
    )

    assert (number, number_again) == (0, 1)
    assert sorted(shards.get(ids=["a", "b", "c"])["ids"]) == ["a", "b", "c"]
    assert sorted(pid for pid, _, _ in shards.nearest(vectors[0], 3)) == ["a", "b", "c"]
    assert shards.nearest(vectors[0], 1)[0][0] == "a"
    assert [pid for pid, *_ in shards.query(vectors[2], 1)] == ["c"]


def test_several_vectors_are_searched_in_every_collection_at_once(tmp_path: Path) -> None:
    """A search's vectors (the question's parts) go to each collection in one query, the
    collections read side by side; each vector gets its own nearest of the whole index."""
    client = open_client(ChromaLocation(path=tmp_path / "chroma"))
    shards = Shards(client, "many", {"hnsw:space": "cosine"}, capacity=4)
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((12, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for start in range(0, 12, 4):
        _, collection = shards.writable(4)
        ids = [f"p{i}" for i in range(start, start + 4)]
        collection.upsert(
            ids=ids,
            embeddings=vectors[start : start + 4],
            documents=ids,
            metadatas=[{"article_id": pid} for pid in ids],
        )
    assert len(shards.collections) == 3
    asked = rng.standard_normal((3, 8)).astype(np.float32)

    found = shards.nearest_each(list(asked), 5)

    for vector, nearest in zip(asked, found, strict=True):
        cosine = vectors @ vector / np.linalg.norm(vector)
        expected = [f"p{i}" for i in np.argsort(-cosine)[:5]]
        assert [pid for pid, _, _ in nearest] == expected
        assert all(int(pid[1:]) // 4 == shard for pid, _, shard in nearest)
    assert [hit[0] for hit in shards.nearest(asked[1], 5)] == [hit[0] for hit in found[1]]
    shards.close()  # the reading threads go; a later read still works
    assert [hit[0] for hit in shards.nearest(asked[2], 5)] == [hit[0] for hit in found[2]]
