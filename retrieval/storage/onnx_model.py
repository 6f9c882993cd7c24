"""The embedding model run by onnxruntime: torch's vectors, sooner for the few texts of a question.

For the few texts of a question, onnxruntime in float32 takes a half to a third of torch's time
on the same cores, with the same vectors (largest difference 1.4e-7): a question's time is
mostly embedding (docs/measurements.md#time-per-question-1-to-100), so questions run here.
sentence-transformers' own ONNX backend needs optimum-onnx, which pins transformers below the
version this project runs, so the model is exported here with torch's exporter, once, into a
cache folder (by default the user's, `shared_model_cache`: once per machine, not once per data
dir), and every later process loads that file. Each load checks the file against torch on probe
texts; a file that is unreadable or disagrees is exported again, and a model that cannot be
exported stays on torch (the caller decides; see `Embedder`).

Questions run on a second copy with int8 weights (`quantized`, made from the first with
onnxruntime's dynamic quantization: weights one scale per output channel, each product's input
one scale per run): on the same 2 cores a MultiHop-RAG question embeds in 9 ms instead of 13-15,
an answer's 12 sentences in 54 ms instead of 76-96, and retrieval on the dev split moved by at
most 0.002 (docs/measurements.md#questions-in-int8). That first copy ("int8") loses the most
where a few of a product's input channels run 10-15x larger than the rest: they set the one
scale, and the others keep few levels. Passages in int8 (precision int8, a choice) use a
smoothed copy ("int8-smoothed"), and so do the questions asked of them: it first divides each
product's input channels by how much larger than the median they run (measured on
`_CALIBRATION`, a dozen news sentences) and multiplies the weights' rows back, so the arithmetic
is the same and the int8 levels go round evenly. On 2,000 MultiHop-RAG passages its vectors are
0.9975 (cosine, mean) from float32's against 0.9944 (docs/measurements.md#int8-passages). A
passage's vector is what every later question is compared with, so an index keeps the copy its
passages were embedded with (see store.passage_setting): one of "int8" passages stays on it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.errors import EmbedderError

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

_FORMAT = 1  # the export's own version: a change here makes every process export again
_PROBES = (
    "Putin said India was free to buy oil from whoever it chose.",
    "Oil.",
    "The minister's remarks, reported by three outlets on Tuesday, came hours after the "
    "central bank held rates and the currency fell to its lowest level in a decade, while "
    "analysts warned that the new tariffs would weigh on exports well into next year.",
)
_TOLERANCE = 1e-4  # the largest difference allowed between the two runtimes' unit vectors
_INT8_AGREEMENT = 0.97  # the lowest cosine allowed between the int8 copy's vectors and torch's
# The int8 copies, by the name an index records for passages embedded with one (and the copy's
# file name): the smoothed one, for int8 passages now, and the first, which questions beside
# float32 / bfloat16 passages run on (and indexes whose passages it embedded keep).
INT8 = "int8-smoothed"
FIRST_INT8 = "int8"
INT8_COPIES = (INT8, FIRST_INT8)
# What the smoothed copy measures its products' inputs on (per channel, the largest value): news
# sentences of several kinds and lengths, built in, so any machine makes the same copy. A dozen
# find the same few outsized channels as 150 MultiHop-RAG passages did: on 300 other passages,
# vectors 0.9978 against 0.9982 (cosine to float32's, mean).
_CALIBRATION = (
    *_PROBES,
    "Shares of the chipmaker rose 7% in early trading after it raised its full-year forecast, "
    "citing demand for data-centre hardware.",
    "The striker scored twice in the second half as the visitors came from behind to win 3-2 "
    "and move top of the table.",
    "A jury found the former executive guilty on all seven counts of fraud and conspiracy; "
    "sentencing is set for March.",
    "Heavy rain flooded roads across the region on Sunday, and officials urged residents near "
    "the river to leave their homes.",
    "The company said the update, which rolls out next week, fixes a flaw that let attackers "
    "read users' messages.",
    "Lawmakers passed the spending bill 52-48 late Friday, averting a shutdown with hours to "
    "spare.",
    "In an interview, the director said the film took nine years to make and nearly bankrupted "
    "her studio.",
    "What did the report say about inflation in the third quarter, and how did markets react?",
    "Scientists at the university found that the drug reduced symptoms in 60 percent of "
    "patients in a trial of 1,200 adults.",
)
_SMOOTHING = 0.7  # how much of a channel's excess over the median goes into the weights
# onnxruntime is fastest on small batches (2 cores, length-sorted texts): 64 passages took 0.92 s
# in batches of 1 or 4 and 1.16 s in 16; an answer's 8 sentences 40-42 ms against 52.
BATCH = 4
# An ingest's passages (longer than a question's texts: ~170 word pieces) go one at a time: on
# the same 2 cores (busy with other work), 150 MultiHop-RAG passages, sorted by length, took
# 9-28% less CPU time one by one than in runs of 4, and 2.6x less than in runs of 64 (the
# matrix products, not the padding). One text pads nothing, so its length order is moot.
BULK = 1


class OnnxModel:
    """One exported sentence-transformers model, run by onnxruntime on the CPU.

    `embed` takes what the model's own tokenizer produced and returns unit vectors; sessions
    are thread-safe, so questions and an ingest run side by side.
    """

    def __init__(self, path: Path, inputs: Sequence[str], threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Like torch's OpenMP threads (see embedder.py), onnxruntime's spin while they wait: on
        # a busy two-core host, that takes the CPU from the other work.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Texts come in every length: the arena and the memory plans keep the largest batch's
        # buffers for good. Without them, 400 passages in batches of 1-16 leave the process
        # 133 MB larger instead of 384, at the same speed.
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        self.path = path
        self.inputs = tuple(inputs)
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def embed(self, features: dict[str, Any]) -> np.ndarray:
        import numpy as np

        feeds = {name: np.asarray(features[name], dtype=np.int64) for name in self.inputs}
        (vectors,) = self._session.run(None, feeds)
        vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


def shared_model_cache() -> Path | None:
    """Return the user's folder for the model's copies ($XDG_CACHE_HOME/newsbot/models, by
    default ~/.cache/newsbot/models), made if needed; None where it cannot be written."""
    try:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        folder = folder / "newsbot" / "models"
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError) as exc:  # RuntimeError: no home directory
        logger.info("no shared model cache: %s", exc)
        return None
    return folder if os.access(folder, os.W_OK) else None


def load_onnx_model(model: Any, folder: Path, *, name: str, threads: int) -> OnnxModel:
    """Return `model` (a loaded SentenceTransformer) as an ONNX model kept under `folder`.

    The file is reused when present and in agreement with torch on the probe texts; else it
    is exported (again). Raises EmbedderError when the model cannot be exported or disagrees.
    """
    probe = model.preprocess(["probe"])
    inputs = tuple(name for name, value in probe.items() if hasattr(value, "dtype"))
    constants = {name: value for name, value in probe.items() if name not in inputs}
    path = folder / f"{_slug(name)}-{_fingerprint(model, inputs)}.onnx"

    def checked() -> OnnxModel:
        onnx = OnnxModel(path, inputs, threads)
        _check(model, onnx)
        return onnx

    return _kept(
        path,
        checked,
        lambda: _export(model, inputs, constants, path),
        what="ONNX copy of the embedding model",
        again="exporting it again",
    )


def quantized(model: Any, exact: OnnxModel, threads: int, copy: str) -> OnnxModel:
    """Return the int8 copy `copy` (one of INT8_COPIES) of `exact` (the checked float32 copy
    of `model`), kept beside it.

    Made once (the float32 copy's name names it too); reused when present and within
    `_INT8_AGREEMENT` of torch on the probe texts, else made again. Raises EmbedderError when
    it cannot be made or disagrees (the caller stays on float32).
    """
    if copy not in INT8_COPIES:
        raise EmbedderError(f"unknown int8 copy {copy!r}: {' or '.join(INT8_COPIES)}")
    path = exact.path.with_name(f"{exact.path.stem}.{copy}.onnx")

    def checked() -> OnnxModel:
        copy = OnnxModel(path, exact.inputs, threads)
        _check(model, copy, cosine=_INT8_AGREEMENT)
        return copy

    return _kept(
        path,
        checked,
        lambda: _quantize(exact, path, smoothed=copy == INT8, model=model),
        what="int8 copy of the embedding model",
        again="making it again",
    )


def _kept(
    path: Path,
    checked: Callable[[], OnnxModel],
    make: Callable[[], None],
    *,
    what: str,
    again: str,
) -> OnnxModel:
    """Return the copy at `path` opened and checked (`checked`); one that is missing, damaged
    or disagrees is made (again) with `make` and checked once more. A copy that still fails
    is removed (nothing untrusted is left for the next process) and EmbedderError raised."""
    if path.exists():
        try:
            return checked()
        except Exception as exc:  # a damaged file of ours is made again
            logger.warning("the %s is unusable (%s); %s", what, exc, again)
    make()
    try:
        onnx = checked()
    except EmbedderError:
        path.unlink(missing_ok=True)
        raise
    except Exception as exc:
        path.unlink(missing_ok=True)
        raise EmbedderError(f"onnxruntime cannot run the {what}: {exc}") from exc
    logger.info("%s made: %s", what, path)
    return onnx


def _quantize(exact: OnnxModel, path: Path, *, smoothed: bool, model: Any) -> None:
    """Write `exact` with int8 weights (per output channel; activations stay float32 between
    the products): `smoothed` first evens out each product's input channels (_smoothed); the
    first copy also kept the embedding tables in int8."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".int8-", suffix=".onnx")
        os.close(handle)
    except (ImportError, OSError) as exc:
        raise EmbedderError(f"cannot make the int8 copy of the embedding model: {exc}") from exc
    source = partial + ".float.onnx"
    try:
        options: dict[str, Any] = {}
        if smoothed:
            onnx.save(_smoothed(exact, model), source)
            options["op_types_to_quantize"] = ["MatMul"]  # the tables stay float32
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                source if smoothed else exact.path,
                partial,
                weight_type=QuantType.QInt8,
                per_channel=True,
                # the exported graph carries no shapes for its inner products: all float32
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
                **options,
            )
        Path(partial).replace(path)  # other processes see a whole file or none
    except Exception as exc:
        raise EmbedderError(f"cannot make the int8 copy of the embedding model: {exc}") from exc
    finally:
        Path(partial).unlink(missing_ok=True)
        Path(source).unlink(missing_ok=True)


def _smoothed(exact: OnnxModel, model: Any) -> Any:
    """Return `exact`'s graph with each matrix product's input channels evened out.

    int8 runs give a product's whole input one scale, and in this model family a few input
    channels run 10-15x larger than the rest (after the attention's layer norm above all): the
    others get a few of the 256 levels. Each input x gets a multiplication by 1/s per channel and
    the weights' rows W by s (x/s · sW = x·W), with s the channel's excess over the median of
    its largest values on `_CALIBRATION` (to the power `_SMOOTHING`; never below 1, so a channel
    the calibration saw little of is left alone). Products sharing an input share its s.
    """
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    graph = onnx.load(str(exact.path))
    weights = {tensor.name: tensor for tensor in graph.graph.initializer}
    uses = Counter(name for node in graph.graph.node for name in node.input)
    products: dict[str, list[Any]] = {}  # a product's input → the products taking it
    for node in graph.graph.node:
        weight = weights.get(node.input[1]) if node.op_type == "MatMul" else None
        if weight is not None and len(weight.dims) == 2 and uses[weight.name] == 1:
            products.setdefault(node.input[0], []).append(node)
    probe = onnx.load(str(exact.path))
    for name in products:
        probe.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    largest: dict[str, Any] = {}
    for text in _CALIBRATION:
        features = model.preprocess([text])
        feeds = {name: np.asarray(features[name], dtype=np.int64) for name in exact.inputs}
        for name, values in zip(names, session.run(None, feeds), strict=True):
            if name in products:
                seen = np.abs(values).reshape(-1, values.shape[-1]).max(axis=0)
                largest[name] = np.maximum(largest.get(name, seen), seen)
    nodes = list(graph.graph.node)
    for name, users in products.items():
        excess = largest[name] / max(float(np.median(largest[name])), 1e-12)
        scale = (np.maximum(excess, 1.0) ** _SMOOTHING).astype(np.float32)
        inverse = numpy_helper.from_array(1.0 / scale, f"{name}/smoothing")
        graph.graph.initializer.append(inverse)
        evened = f"{name}/smoothed"
        first = min(nodes.index(node) for node in users)
        graph.graph.node.insert(first, helper.make_node("Mul", [name, inverse.name], [evened]))
        nodes = list(graph.graph.node)
        for node in users:
            tensor = weights[node.input[1]]
            rows = numpy_helper.to_array(tensor) * scale[:, None]
            tensor.CopyFrom(numpy_helper.from_array(rows.astype(np.float32), tensor.name))
            node.input[0] = evened
    return graph


def _export(model: Any, inputs: tuple[str, ...], constants: dict[str, Any], path: Path) -> None:
    """Trace the model from token ids to its sentence embedding; `constants` are the
    tokenizer's other outputs (such as the modality), the same for every text."""
    import torch

    class Forward(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            features = {**constants, **dict(zip(inputs, tensors, strict=True))}
            return self.model(features)["sentence_embedding"]

    sample = model.preprocess(list(_PROBES[:2]))
    axes = {name: {0: "texts", 1: "tokens"} for name in inputs}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=".onnx")
        os.close(handle)
    except OSError as exc:
        raise EmbedderError(
            f"cannot write the ONNX copy of the model in {path.parent}: {exc}"
        ) from exc
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on what it could not see
            torch.onnx.export(
                Forward().eval(),
                tuple(sample[name] for name in inputs),
                partial,
                input_names=list(inputs),
                output_names=["sentence_embedding"],
                dynamic_axes={**axes, "sentence_embedding": {0: "texts"}},
                opset_version=17,
                dynamo=False,
            )
        Path(partial).replace(path)  # other processes see a whole file or none
    except Exception as exc:
        raise EmbedderError(f"cannot export the embedding model to ONNX: {exc}") from exc
    finally:
        Path(partial).unlink(missing_ok=True)


def _check(model: Any, onnx: OnnxModel, *, cosine: float | None = None) -> None:
    """Compare the copy's vectors of the probe texts with torch's: each number within
    `_TOLERANCE`, or with `cosine`, each vector at least that close."""
    import numpy as np

    expected = np.asarray(
        model.encode(
            list(_PROBES),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ),
        dtype=np.float32,
    )
    got = np.vstack([onnx.embed(model.preprocess([text])) for text in _PROBES])
    if cosine is not None:
        closest = float((expected * got).sum(axis=1).min())
        if not closest >= cosine:
            raise EmbedderError(
                f"the int8 copy of the embedding model disagrees with torch (cosine {closest:.3f})"
            )
        return
    worst = float(np.abs(expected - got).max())
    if not worst <= _TOLERANCE:
        raise EmbedderError(
            f"the ONNX copy of the embedding model disagrees with torch by {worst:.2g}"
        )


def _fingerprint(model: Any, inputs: tuple[str, ...]) -> str:
    """Name what the export depends on: the weights, the modules, the exporter's versions."""
    import onnxruntime
    import torch

    digest = hashlib.sha256(f"{_FORMAT} {torch.__version__} {onnxruntime.__version__}".encode())
    digest.update(repr(inputs).encode())
    digest.update(repr(model).encode())  # the modules and their settings
    for key, tensor in model.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()[:16]


def _slug(name: str) -> str:
    tail = name.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in tail)[:60] or "model"
