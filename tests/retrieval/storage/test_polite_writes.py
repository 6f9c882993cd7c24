"""An ingest's writes give way to questions: embedded Chroma holds Python's lock for a whole
write, so a question's own Python would wait for it. Real embedded Chroma; no model needed."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.index import NewsIndex
from retrieval.models import ArticleInfo, Passage, passage_id
from retrieval.storage.embedder import Embedder
from retrieval.storage.lexical import LexicalIndex
from retrieval.storage.location import ChromaLocation, open_client
from retrieval.storage.store import PassageStore
from tests.helpers import wait_until_parked


class Recording:
    """The passages collection, with the size of each write it is asked for."""

    def __init__(self, collection: Any):
        self.collection = collection
        self.writes: list[int] = []

    def upsert(self, **kwargs: Any) -> Any:
        self.writes.append(len(kwargs["ids"]))
        return self.collection.upsert(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)


def open_index(folder: Path) -> tuple[NewsIndex, Recording]:
    client = open_client(ChromaLocation(path=folder / "chroma"))
    store = PassageStore(client, prefix="p", embedding_model="m")
    recording = Recording(store.passages.collections[0])
    store.passages.collections[0] = recording
    index = NewsIndex(store, LexicalIndex(folder / "keywords"), Embedder())  # model not loaded
    return index, recording


def long_article(n: int, passages: int = 100) -> tuple[ArticleInfo, list[Passage], np.ndarray]:
    aid, revision = f"a{n}", f"r{n}"
    texts = [f"paragraph {i} of report {n} on the harbour works" for i in range(passages)]
    items = [Passage(passage_id(aid, revision, i), aid, i, t, f"t{n}") for i, t in enumerate(texts)]
    info = ArticleInfo(aid, f"report {n}", None, None, None, passages, revision)
    vectors = np.random.default_rng(n).standard_normal((passages, 8)).astype(np.float32)
    return info, items, vectors


def test_a_write_waits_for_the_question_in_flight_then_goes_in_small_pieces(
    tmp_path: Path,
) -> None:
    index, recording = open_index(tmp_path)
    writer = threading.Thread(target=index.put_embedded, args=([long_article(1)],))
    with index.embedder.answering_question():
        writer.start()
        wait_until_parked(writer, "give_way")  # held back before its first write
        assert recording.writes == []  # nothing written while the question is answered
    writer.join(timeout=30)

    assert "a1" in dict(index.store.committed_revisions())
    assert sum(recording.writes) == 100 and max(recording.writes) <= 32
    index.close()


def test_with_no_questions_lately_an_ingest_writes_at_full_speed(tmp_path: Path) -> None:
    index, recording = open_index(tmp_path)

    index.put_embedded([long_article(2)])

    assert recording.writes == [100]
    index.close()
