"""The embedding model run by onnxruntime: torch's vectors, one export per machine (in the user's
cache), and torch again wherever the copy cannot be made or trusted."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from retrieval.storage import embedder as embedder_module
from retrieval.storage import onnx_model
from retrieval.storage.embedder import Embedder, EmbedderError

pytestmark = pytest.mark.model

TEXTS = [
    "Putin said India has the right to buy Russian oil, just as the United States buys uranium.",
    "Lava.",
    "A volcano on the Reykjanes peninsula erupted on Monday evening. " * 30,  # past 256 tokens
]


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return Embedder(runtime="torch", precision="float32").embed(TEXTS)


def copies(folder: Path) -> list[Path]:
    """The float32 copies (the int8 copies sit beside their float32 one)."""
    return sorted(p for p in folder.glob("*.onnx") if ".int8" not in p.name)


def int8_copies(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.int8*.onnx"))


def test_questions_and_passages_get_torchs_vectors_from_one_export(
    tmp_path: Path, torch_vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Embedder(precision="float32", cache_dir=tmp_path)

    assert np.abs(first.embed(TEXTS) - torch_vectors).max() < 1e-4
    assert np.abs(first.embed(TEXTS[:1]) - torch_vectors[:1]).max() < 1e-4  # a question alone
    assert first._onnx is not None, "the vectors came from onnxruntime"
    (copy,) = copies(tmp_path)
    written = copy.stat().st_mtime_ns

    def no_export(*args: object) -> None:
        raise AssertionError("the model was exported again")

    monkeypatch.setattr(onnx_model, "_export", no_export)
    later = Embedder(precision="float32", cache_dir=tmp_path)  # another process, later
    assert np.abs(later.embed(TEXTS) - torch_vectors).max() < 1e-4
    assert later._onnx is not None
    assert copies(tmp_path) == [copy] and copy.stat().st_mtime_ns == written


def test_a_damaged_copy_is_exported_again(
    tmp_path: Path, torch_vectors: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    Embedder(precision="float32", cache_dir=tmp_path).embed(["warm up"])
    (copy,) = copies(tmp_path)
    copy.write_bytes(copy.read_bytes()[:5000])  # a disk that filled up, a copy cut short

    with caplog.at_level(logging.WARNING):
        vectors = Embedder(precision="float32", cache_dir=tmp_path).embed(TEXTS)

    assert np.abs(vectors - torch_vectors).max() < 1e-4
    assert "unusable" in caplog.text and "exporting it again" in caplog.text
    assert copies(tmp_path) == [copy] and copy.stat().st_size > 1_000_000


@pytest.mark.parametrize("failure", ["export fails", "copy disagrees", "folder unwritable"])
def test_without_a_trustworthy_copy_auto_stays_on_torch_and_onnx_says_why(
    failure: str,
    tmp_path: Path,
    torch_vectors: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if failure == "export fails":

        def broken(*args: object) -> None:
            raise EmbedderError("cannot export the embedding model to ONNX: unsupported op")

        monkeypatch.setattr(onnx_model, "_export", broken)
        reason = "unsupported op"
    elif failure == "copy disagrees":
        monkeypatch.setattr(onnx_model, "_TOLERANCE", -1.0)  # no copy can agree
        reason = "disagrees with torch"
    else:
        (tmp_path / "models").write_text("a file where the folder should be")
        tmp_path = tmp_path / "models"
        reason = "cannot write the ONNX copy"

    with caplog.at_level(logging.WARNING):
        auto = Embedder(precision="float32", cache_dir=tmp_path)
        assert np.abs(auto.embed(TEXTS) - torch_vectors).max() < 1e-6
    assert auto._onnx is None
    assert "embedding with torch: " in caplog.text and reason in caplog.text
    assert copies(tmp_path) == []  # nothing untrusted is left for the next process

    strict = Embedder(precision="float32", runtime="onnx", cache_dir=tmp_path)
    with pytest.raises(EmbedderError, match=f"cannot embed with onnxruntime: .*{reason}"):
        strict.embed(TEXTS)


def test_the_onnx_runtime_needs_a_folder_and_a_known_name() -> None:
    with pytest.raises(EmbedderError, match="folder"):
        Embedder(runtime="onnx")
    with pytest.raises(EmbedderError, match="runtime 'tensorrt'"):
        Embedder(runtime="tensorrt")


def test_questions_and_an_ingest_embed_side_by_side(tmp_path: Path) -> None:
    embedder = Embedder(precision="float32", cache_dir=tmp_path)
    embedder.embed(["warm up"])
    passages = [f"{TEXTS[2]} (part {i})" for i in range(24)]
    questions = [f"What did Putin say about oil, question {i}?" for i in range(6)]
    exact = Embedder(runtime="torch", precision="float32")
    results: dict[str, np.ndarray] = {}
    ingest = threading.Thread(target=lambda: results.update(ingest=embedder.embed(passages)))
    ingest.start()
    answered = np.vstack([embedder.embed([question]) for question in questions])
    ingest.join(timeout=120)

    assert embedder._onnx is not None, "both ran on onnxruntime"
    assert np.abs(results["ingest"] - exact.embed(passages)).max() < 1e-4
    assert np.abs(answered - exact.embed(questions)).max() < 1e-4


def test_an_answers_sentences_stay_on_onnxruntime_where_bulk_work_uses_bfloat16(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the CPU multiplies bfloat16 natively, an ingest's calls run on torch in bfloat16;
    # a question's calls, however many sentences, stay on onnxruntime (one native call a
    # batch, so a thread busy in Python beside it delays it less).
    embedder = Embedder(precision="auto", cache_dir=tmp_path, question_precision="float32")
    embedder._bfloat16 = True  # as on such a CPU, whatever this one does
    embedder.embed(["warm up"])  # the copy is made and checked against torch
    on_torch: list[int] = []
    encode = embedder.model.encode

    def counted(texts: list[str], **kwargs: object) -> np.ndarray:
        on_torch.append(len(texts))
        return encode(texts, **kwargs)

    monkeypatch.setattr(embedder.model, "encode", counted)
    sentences = [f"{TEXTS[0]} Sentence {i}." for i in range(12)]
    with embedder.answering_question():
        answered = embedder.embed(sentences)
    assert on_torch == [] and embedder._onnx is not None
    exact = Embedder(runtime="torch", precision="float32").embed(sentences)
    assert np.abs(answered - exact).max() < 1e-4

    embedder.embed([f"{s} (an ingest)" for s in sentences])
    assert sum(on_torch) == len(sentences)  # bulk work: torch, in bfloat16


def test_a_questions_texts_run_on_the_int8_copy_and_a_passages_never_do(
    tmp_path: Path, torch_vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = Embedder(precision="float32", cache_dir=tmp_path)  # question_precision int8
    with embedder.answering_question():  # a search, an answer's sentences
        asked = embedder.embed(TEXTS)
    passages = embedder.embed(TEXTS)  # an ingest: the same texts, after the question

    # the question's vectors are int8's: close to torch's, not the same
    cosine = np.sum(asked * torch_vectors, axis=1)
    assert cosine.min() > 0.97 and np.abs(asked - torch_vectors).max() > 1e-3
    # a passage's vector is float32's, not the int8 one the question just remembered
    assert np.abs(passages - torch_vectors).max() < 1e-4
    (made,) = int8_copies(tmp_path)  # the first copy, beside float32 passages
    assert made.name.endswith(f".{onnx_model.FIRST_INT8}.onnx")
    assert made.stat().st_size < copies(tmp_path)[0].stat().st_size / 2

    def no_quantizing(*args: object) -> None:
        raise AssertionError("the int8 copy was made again")

    monkeypatch.setattr(onnx_model, "_quantize", no_quantizing)
    later = Embedder(precision="float32", cache_dir=tmp_path)  # another process, later
    with later.answering_question():
        assert np.array_equal(later.embed(TEXTS), asked)
    assert int8_copies(tmp_path) == [made]


def test_questions_stay_in_float32_when_asked_or_when_the_int8_copy_fails(
    tmp_path: Path,
    torch_vectors: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    exact = Embedder(precision="float32", cache_dir=tmp_path, question_precision="float32")
    with exact.answering_question():
        assert np.abs(exact.embed(TEXTS) - torch_vectors).max() < 1e-4
    assert int8_copies(tmp_path) == []

    monkeypatch.setattr(onnx_model, "_INT8_AGREEMENT", 1.5)  # no int8 copy can agree
    with caplog.at_level(logging.WARNING):
        fallback = Embedder(precision="float32", cache_dir=tmp_path)
        with fallback.answering_question():
            assert np.abs(fallback.embed(TEXTS) - torch_vectors).max() < 1e-4
    assert "float32 instead" in caplog.text and "disagrees" in caplog.text
    assert int8_copies(tmp_path) == []  # nothing untrusted is left for the next process
    with pytest.raises(EmbedderError, match="question precision 'int4'"):
        Embedder(question_precision="int4")


def test_passages_embed_in_int8_only_when_asked(
    tmp_path: Path, torch_vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = Embedder(precision="int8", cache_dir=tmp_path)
    passages = chosen.embed(TEXTS)  # not a question's: an ingest's

    assert chosen.passage_precision == onnx_model.INT8  # what the index records
    cosine = np.sum(passages * torch_vectors, axis=1)
    assert cosine.min() > 0.99 and np.abs(passages - torch_vectors).max() > 1e-3
    with chosen.answering_question():  # its questions run on the same copy
        asked = chosen.embed(TEXTS[:1])
    assert np.array_equal(asked, Embedder(precision="int8", cache_dir=tmp_path).embed(TEXTS[:1]))

    monkeypatch.setattr(embedder_module, "_native_bfloat16", lambda: False)
    assert np.array_equal(Embedder(precision="int8", cache_dir=tmp_path).embed(TEXTS), passages)
    kept = Embedder(cache_dir=tmp_path)  # auto on a CPU without bfloat16
    assert np.abs(kept.embed(TEXTS) - torch_vectors).max() < 1e-4
    assert kept.passage_precision == "float32"

    monkeypatch.setattr(embedder_module, "_native_bfloat16", lambda: True)
    assert Embedder(cache_dir=tmp_path).passage_precision == "bfloat16"


def test_the_smoothed_int8_copy_is_closer_to_float32_and_an_old_index_keeps_the_first(
    tmp_path: Path, torch_vectors: np.ndarray
) -> None:
    """The first int8 copy gave each product's input one scale, which its few outsized
    channels set; the smoothed one evens them out first. An index whose passages the first
    copy embedded keeps embedding with it (a question compares with every passage)."""
    texts = [*TEXTS, *(f"{text} Officials said more would follow." for text in TEXTS[:2])]
    expected = Embedder(runtime="torch", precision="float32").embed(texts)
    smoothed = Embedder(precision="int8", cache_dir=tmp_path)
    first = Embedder(precision="int8", cache_dir=tmp_path, int8_copy=onnx_model.FIRST_INT8)

    near = np.sum(smoothed.embed(texts) * expected, axis=1)
    far = np.sum(first.embed(texts) * expected, axis=1)

    assert first.passage_precision == "int8"  # what indexes of the first copy recorded
    assert (tmp_path / f"{copies(tmp_path)[0].stem}.int8.onnx").exists()  # its old name
    # on 2,000 MultiHop-RAG passages: 0.9978 against 0.9944 (docs/measurements.md)
    assert near.mean() > far.mean() and 1 - near.mean() < (1 - far.mean()) * 0.75
    with pytest.raises(EmbedderError, match="unknown int8 copy"):
        Embedder(int8_copy="int4")


def test_a_quiet_ingest_runs_on_two_sessions_side_by_side_with_the_same_vectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no question lately, a bulk call's chunks are shared between two sessions run by
    two threads; each passage still gets its own vector, in the caller's order."""
    texts = [f"{word} " * n + "story" for n, word in enumerate(["oil", "lava", "chess"] * 12, 1)]
    one = Embedder(precision="int8", cache_dir=tmp_path)
    alone = np.vstack([one.embed([text]) for text in texts])  # small calls: one session
    assert one._pairs == {}
    embedder = Embedder(precision="int8", cache_dir=tmp_path)
    monkeypatch.setattr(embedder, "_threads", lambda: 2)  # as on two cores, whatever this has
    ran: list[str] = []
    run = onnx_model.OnnxModel.embed

    def counted(self: onnx_model.OnnxModel, features: dict[str, object]) -> np.ndarray:
        ran.append(threading.current_thread().name)
        return run(self, features)

    monkeypatch.setattr(onnx_model.OnnxModel, "embed", counted)
    together = embedder.embed(texts)

    assert np.abs(together - alone).max() < 1e-5
    assert len(embedder._pairs) == 1  # the int8 copy's two sessions
    assert len({name for name in ran if name.startswith("embed")}) == 2


def test_int8_passages_without_an_int8_copy_are_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(EmbedderError, match="cannot embed passages in int8"):
        Embedder(precision="int8", runtime="torch").embed(TEXTS)

    monkeypatch.setattr(onnx_model, "_INT8_AGREEMENT", 1.5)  # no int8 copy can agree
    with pytest.raises(EmbedderError, match=r"cannot embed passages in int8.*disagrees"):
        Embedder(precision="int8", cache_dir=tmp_path).embed(TEXTS)


def test_every_data_dir_uses_the_copy_made_once_in_the_users_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrieval.index import IndexConfig, NewsIndex
    from retrieval.storage.location import ChromaLocation

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shared = tmp_path / "cache" / "newsbot" / "models"
    passages = [f"{text} ({n})" for n in range(4) for text in TEXTS]  # an ingest's bulk call
    expected = Embedder(runtime="torch", precision="float32").embed(passages)

    def embed_in_a_fresh_data_dir(name: str) -> np.ndarray:
        data = tmp_path / name
        config = IndexConfig(
            data_dir=data,
            chroma=ChromaLocation(path=data / "chroma"),
            embedding_precision="float32",
        )
        index = NewsIndex.open(config)
        try:
            vectors = index.embedder.embed(passages)
            assert index.embedder._onnx is not None, "the vectors came from onnxruntime"
            return vectors
        finally:
            index.close()

    assert np.abs(embed_in_a_fresh_data_dir("first") - expected).max() < 1e-4
    (copy,) = copies(shared)
    written = copy.stat().st_mtime_ns

    def no_export(*args: object) -> None:
        raise AssertionError("the model was exported again")

    monkeypatch.setattr(onnx_model, "_export", no_export)
    assert np.abs(embed_in_a_fresh_data_dir("second") - expected).max() < 1e-4
    assert copies(shared) == [copy] and copy.stat().st_mtime_ns == written
    assert not (tmp_path / "first" / "models").exists()
    assert not (tmp_path / "second" / "models").exists()


def test_without_a_writable_users_cache_the_copy_goes_to_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cache").write_text("a file where the folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    assert onnx_model.shared_model_cache() is None
