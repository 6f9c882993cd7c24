"""An index keeps the precision its passages were embedded in: int8 passages and float32 ones
are never mixed in one index, nor two int8 copies' passages; an index from before the record
stays float32, and one of the first int8 copy's passages keeps that copy."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from retrieval.errors import StoreError
from retrieval.index import EmbeddingPrecision, IndexConfig, NewsIndex
from retrieval.models import ArticleInfo, Passage, passage_id
from retrieval.storage.embedder import BUNDLED_MODEL
from retrieval.storage.location import ChromaLocation, open_client
from retrieval.storage.onnx_model import FIRST_INT8, INT8
from retrieval.storage.store import PassageSetting, PassageStore, passage_setting


def article(n: int, vector: list[float]) -> tuple[ArticleInfo, list[Passage], np.ndarray]:
    aid, revision = f"a{n}", f"r{n}"
    passage = Passage(passage_id(aid, revision, 0), aid, 0, f"report {n}", f"t{n}")
    info = ArticleInfo(aid, f"report {n}", None, None, None, 1, revision)
    return info, [passage], np.asarray([vector], dtype=np.float32)


def config(folder: Path, precision: EmbeddingPrecision = "auto") -> IndexConfig:
    chroma = ChromaLocation(path=folder / "chroma")
    return IndexConfig(data_dir=folder, chroma=chroma, embedding_precision=precision)


def test_the_first_write_records_the_precision_and_a_reopened_index_keeps_it(
    tmp_path: Path,
) -> None:
    location = ChromaLocation(path=tmp_path / "chroma")
    store = PassageStore(open_client(location), prefix="newsbot", embedding_model=BUNDLED_MODEL)
    assert store.passage_precision is None  # nothing stored: any precision will do

    store.record_passage_precision("int8")
    with closing(NewsIndex.open(config(tmp_path))) as index:
        assert index.store.passage_precision == "int8"
        assert index.embedder.precision == "int8"  # auto follows the index
        assert index.embedder.int8_copy == FIRST_INT8  # "int8": recorded by the first copy
        index.put_embedded([article(1, [1.0, 0.0]), article(2, [0.0, 1.0])])
        # Recording rewrote the collection's metadata: the distance is still the cosine's.
        hits = index.store.passages.collections[0].query(
            query_embeddings=[[3.0, 0.0]], n_results=2, include=["distances"]
        )
        assert hits["distances"][0] == pytest.approx([0.0, 1.0], abs=1e-5)


def test_the_record_keeps_the_model_and_the_distance_on_embedded_chroma_and_a_server(
    location: ChromaLocation, request: pytest.FixtureRequest
) -> None:
    prefix = f"p{abs(hash(request.node.nodeid)) % 10**8}"  # the server is shared
    store = PassageStore(open_client(location), prefix=prefix, embedding_model="m")
    store.record_passage_precision("int8")
    store.write_articles([(*article(1, [1.0, 0.0]), None), (*article(2, [0.0, 1.0]), None)])

    reopened = PassageStore(open_client(location), prefix=prefix, embedding_model="m")

    assert reopened.passage_precision == "int8"
    hits = reopened.passages.collections[0].query(
        query_embeddings=[[3.0, 0.0]], n_results=2, include=["distances"]
    )
    assert hits["distances"][0] == pytest.approx([0.0, 1.0], abs=1e-5)
    with pytest.raises(StoreError, match="built with the embedding model 'm'"):
        PassageStore(open_client(location), prefix=prefix, embedding_model="other")


def test_a_precision_that_would_mix_with_the_stored_passages_is_a_one_line_error(
    tmp_path: Path,
) -> None:
    with closing(NewsIndex.open(config(tmp_path, "int8"))) as index:
        index.store.record_passage_precision("int8")

    for precision in ("float32", "bfloat16"):
        with pytest.raises(StoreError) as refused:
            NewsIndex.open(config(tmp_path, precision))
        message = str(refused.value)
        assert "\n" not in message
        assert "embedded in int8" in message and f"PRECISION is {precision}" in message
        assert "use auto or int8" in message

    # The refusal let the data dir go: the index opens with a precision that fits.
    with closing(NewsIndex.open(config(tmp_path, "auto"))) as index:
        assert index.embedder.precision == "int8"


def test_an_index_from_before_the_record_stays_float32(tmp_path: Path) -> None:
    with closing(NewsIndex.open(config(tmp_path))) as index:
        index.put_embedded([article(1, [1.0, 0.0])])  # vectors from elsewhere: no record
        assert index.store.passage_precision is None

    with closing(NewsIndex.open(config(tmp_path))) as index:
        assert index.store.passage_precision == "float32"
        assert index.embedder.precision == "auto"  # bfloat16 where the CPU has it, else float32
        with pytest.raises(StoreError, match="embedded in float32"):
            index.store.record_passage_precision("int8")
        index.store.record_passage_precision("bfloat16")  # agrees with float32: allowed

    with pytest.raises(StoreError, match="use auto, float32 or bfloat16"):
        NewsIndex.open(config(tmp_path, "int8"))


def test_auto_and_the_explicit_precisions_against_each_kind_of_index() -> None:
    # a new index: int8 (the smoothed copy) only when asked
    assert passage_setting("auto", None) == PassageSetting("auto", INT8)
    assert passage_setting("int8", None) == PassageSetting("int8", INT8)
    # an int8 index keeps the copy that embedded its passages
    assert passage_setting("auto", INT8) == PassageSetting("int8", INT8)
    assert passage_setting("int8", "int8") == PassageSetting("int8", FIRST_INT8)
    assert passage_setting("auto", "float32").precision == "auto"
    assert passage_setting("auto", "bfloat16").precision == "auto"
    assert passage_setting("float32", "bfloat16").precision == "float32"
    with pytest.raises(StoreError, match=f"embedded in {INT8}.*use auto or int8"):
        passage_setting("bfloat16", INT8)


def test_passages_of_two_int8_copies_never_mix_and_an_unknown_copy_is_refused(
    tmp_path: Path,
) -> None:
    with closing(NewsIndex.open(config(tmp_path))) as index:
        index.store.record_passage_precision(INT8)
        index.store.record_passage_precision(INT8)  # the same copy again: fine
        with pytest.raises(StoreError, match=f"embedded in {INT8}"):
            index.store.record_passage_precision(FIRST_INT8)

    with pytest.raises(StoreError) as refused:
        passage_setting("auto", "int8-later")  # a later newsbot's copy
    assert "\n" not in str(refused.value) and "does not know (int8-later)" in str(refused.value)
