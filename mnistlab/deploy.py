"""Ship a trained model small: TFLite float32 and full-int8 export, and a LiteRT predictor like ``Predictor``."""

# TensorFlow converts (``tf.lite.TFLiteConverter``); the LiteRT runtime (``ai-edge-litert``) runs the
# file. LiteRT is what a phone, a Raspberry Pi or a small server installs instead of TensorFlow:
# a few MB instead of hundreds, and no graph tracing at start-up.

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnistlab import config, data, decision, inference
from mnistlab.decision import DecisionRule
from mnistlab.errors import MnistlabError

TFLITE_SUFFIX = ".tflite"
# How many training digits calibrate the int8 ranges. 1,000 rather than 300 halved the inputs on which the int8
# model's ok / unsure / not-a-digit decision differs from the float model's (benchmarks/RESULTS.md, "Decision").
REPRESENTATIVE_SIZE = 1000
INPUT_SHAPE = data.INPUT_SHAPE


class ExportError(MnistlabError, RuntimeError):
    """A model could not be converted or a ``.tflite`` file could not be used; the message says why."""


# --------------------------------------------------------------------------- file names


def tflite_path(model_path: str | os.PathLike, int8: bool) -> Path:
    """Where the TFLite export of ``model_path`` goes: the same name with ``-int8`` or ``-float32``."""
    model_path = Path(model_path)
    stem = model_path.name.removesuffix(".keras")
    return model_path.with_name(f"{stem}-{'int8' if int8 else 'float32'}{TFLITE_SUFFIX}")


# --------------------------------------------------------------------------- conversion


def representative_images(count: int = REPRESENTATIVE_SIZE, seed: int = config.SEED) -> np.ndarray:
    """``count`` class-balanced training digits as CNN input (N, 28, 28, 1) float32 in [0, 1].

    They come from the training set, never the test set, so the test accuracy of the int8 model
    stays an honest estimate.
    """
    from mnistlab import data

    (x_train, y_train), _ = data.load_mnist()
    subset, _ = data.stratified_subset(x_train, y_train, count, seed=seed)
    return data.to_cnn_input(subset)


def _representative_dataset(images: np.ndarray) -> Callable[[], Iterable[list[np.ndarray]]]:
    """The generator the converter calls: one single-image batch at a time, like real traffic."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1:] != INPUT_SHAPE or len(images) == 0:
        raise ExportError(f"representative images must have shape (N, 28, 28, 1) with N >= 1, got {images.shape}")

    def batches():
        for image in images:
            yield [image[np.newaxis]]

    return batches


@contextlib.contextmanager
def _native_stderr_captured():
    """Send what C++ code writes to file descriptor 2 (the converter's MLIR and SavedModel log lines,
    which a notebook shows as a wall of W0000/I0000 lines) into a temporary file; yields a function
    that returns what was written, so a failure can still report it."""
    import sys
    import tempfile

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (some embedded interpreters): leave it alone
        yield lambda: ""
        return
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield lambda: (captured.seek(0), captured.read().decode(errors="replace"))[1]
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@contextlib.contextmanager
def _quiet():
    """Hide the converter's chatter: with Keras 3 it exports a SavedModel first, and Keras prints its
    signature while TensorFlow logs where it wrote the assets. Errors still raise, with the tail of
    the native log in the message."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), \
                _native_stderr_captured() as native_log:
            # uint8 input with a representative dataset is fine; the converter warns regardless
            warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
            try:
                yield
            except Exception as error:
                tail = "\n".join(native_log().strip().splitlines()[-5:])
                if tail:
                    error.add_note(f"converter log (last lines):\n{tail}")
                raise
    finally:
        logger.setLevel(level)


def convert(model, int8: bool = False, representative: np.ndarray | None = None) -> bytes:
    """The TFLite flatbuffer of a Keras model taking (N, 28, 28, 1) float images.

    ``int8=True`` gives a *fully* integer model: weights and activations int8, input and output
    uint8 (pixels 0..255 in, probabilities in 1/256 steps out), so it also runs on integer-only
    accelerators. The activation ranges are calibrated on ``representative`` images (default:
    :func:`representative_images`).
    """
    import tensorflow as tf

    shape = tuple(model.input_shape[1:]) if hasattr(model, "input_shape") else None
    if shape != INPUT_SHAPE:
        raise ExportError(f"expected a model taking (None, 28, 28, 1) images, got input shape {shape}")
    with _quiet():
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        images = representative_images() if representative is None else representative
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = _representative_dataset(images)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    try:
        with _quiet():
            return converter.convert()
    except Exception as error:  # the converter raises ConverterError and plain RuntimeErrors
        notes = "".join(f"\n{note}" for note in getattr(error, "__notes__", []))
        raise ExportError(f"TFLite conversion failed ({type(error).__name__}: {error}){notes}") from error


def export_tflite(model, path: str | os.PathLike, int8: bool = False,
                  representative: np.ndarray | None = None, rule: DecisionRule | None = None) -> Path:
    """Convert ``model`` (see :func:`convert`) and write it to ``path`` (must end in ``.tflite``).

    ``rule``: the source model's calibrated decision rule (:func:`mnistlab.decision.load_rule`), stored next
    to the new file with ITS checksum, so the export decides exactly like the source. Without one (or with an
    uncalibrated one) any old decision file at ``path`` is removed: it described the file being replaced.
    """
    path = Path(path).expanduser()
    if path.suffix != TFLITE_SUFFIX:
        raise ExportError(f"{path}: a TFLite model file must end in {TFLITE_SUFFIX}")
    flatbuffer = convert(model, int8=int8, representative=representative)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")  # per process: two writers never share it
    partial.write_bytes(flatbuffer)
    partial.replace(path)  # never leave a half-written file under the real name
    if rule is not None and rule.calibrated:
        decision.save_rule(rule, path)
    else:
        decision.rule_path(path).unlink(missing_ok=True)
    return path


# --------------------------------------------------------------------------- running


def _interpreter(source: str | os.PathLike | bytes, threads: int | None):
    from ai_edge_litert.interpreter import Interpreter

    if isinstance(source, (bytes, bytearray)):
        label, content = f"TFLite model ({len(source):,} bytes)", bytes(source)
    else:
        path = Path(source).expanduser()
        label = str(path)
        if not path.is_file():
            raise ExportError(f"No TFLite model at {path}. Create it with: python -m mnistlab export --int8 "
                              f"(or without --int8 for float32), or check the path.")
        content = path.read_bytes()
    try:
        interpreter = Interpreter(model_content=content, num_threads=threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        raise ExportError(f"{label} is not a usable TFLite model ({error}). Export it again with "
                          f"python -m mnistlab export.") from None
    return interpreter, label


class LiteRTPredictor(inference.Predictor):
    """:class:`mnistlab.inference.Predictor` running a ``.tflite`` file with the LiteRT interpreter.

    Same methods and answers as ``Predictor`` (``predict``, ``predict_with_steps``, ``predict_many``,
    ``predict_folder``, ``read_number``): only :meth:`probabilities` differs. Quantised inputs and
    outputs are converted with the scale and zero point stored in the file. One interpreter
    is not thread-safe, so calls are serialised by a lock (each call takes well under a millisecond).

    ``rule``: the decision rule (default :meth:`DecisionRule.uncalibrated`); :func:`load_predictor` passes
    the one stored next to the file.
    """

    def __init__(self, source: str | os.PathLike | bytes, rule: DecisionRule | None = None,
                 threads: int | None = 1):
        # Predictor.__init__ traces a Keras model with TensorFlow; a LiteRT predictor has neither.
        self.model = None
        self.rule = rule if rule is not None else DecisionRule.uncalibrated()
        self._interpreter, self.name = _interpreter(source, threads)
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        if tuple(self._input["shape"][1:]) != INPUT_SHAPE:
            raise ExportError(f"{self.name} takes input of shape {tuple(self._input['shape'])}, "
                              f"not (N, 28, 28, 1) digits")
        self._batch = int(self._input["shape"][0])
        self._lock = threading.Lock()

    @property
    def input_dtype(self) -> np.dtype:
        """``float32`` for a float model, ``uint8`` for the full-int8 export."""
        return np.dtype(self._input["dtype"])

    def _quantise(self, batch: np.ndarray) -> np.ndarray:
        scale, zero_point = self._input["quantization"]
        if self.input_dtype == np.float32 or scale == 0:
            return batch.astype(self.input_dtype)
        info = np.iinfo(self.input_dtype)
        return np.clip(np.round(batch / scale + zero_point), info.min, info.max).astype(self.input_dtype)

    def _dequantise(self, raw: np.ndarray) -> np.ndarray:
        scale, zero_point = self._output["quantization"]
        if raw.dtype == np.float32 or scale == 0:
            return raw.astype(np.float32)
        return ((raw.astype(np.float32) - zero_point) * scale).astype(np.float32)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Raw softmax rows (N, 10), before calibration, for prepared images (N, 28, 28, 1) or (28, 28, 1)."""
        batch = inference.as_batch(batch)
        with self._lock:
            if len(batch) != self._batch:  # the file has a dynamic batch axis: resize once per size
                self._interpreter.resize_tensor_input(self._input["index"], [len(batch), *INPUT_SHAPE])
                self._interpreter.allocate_tensors()
                self._batch = len(batch)
            self._interpreter.set_tensor(self._input["index"], self._quantise(batch))
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._output["index"])
        return self._dequantise(raw)


def model_file(path: str | os.PathLike | None = None) -> Path:
    """The model file a command works on: ``path``, or the course's default model of the current mode."""
    if path is None:
        from mnistlab import store  # imports Keras: only when the default .keras model is meant anyway

        return store.default_model_path()
    return Path(path).expanduser()


def load_predictor(path: str | os.PathLike | None = None) -> inference.Predictor:
    """The one loader of every command: a predictor for a ``.keras`` file (Keras) or a ``.tflite`` file (LiteRT).

    ``None`` means the course's saved default model. It never trains (only ``python -m mnistlab
    train`` does): a missing file raises :class:`mnistlab.store.ModelFileError` (or, for
    ``.tflite``, :class:`ExportError`) whose message names the command that makes it.
    A ``.tflite`` file is run without importing TensorFlow at all (faster start, far less memory).
    The predictor decides by the rule stored next to that exact file (:func:`mnistlab.decision.load_rule`;
    uncalibrated when there is none, :class:`mnistlab.decision.DecisionFileError` when it is stale).
    """
    path = model_file(path)
    if path.suffix == TFLITE_SUFFIX:
        predictor = LiteRTPredictor(path)  # a missing or broken file is reported before its rule
        predictor.rule = decision.load_rule(path)
        return predictor
    from mnistlab import store

    model = store.load_model(path)
    return inference.Predictor(model, rule=decision.load_rule(path))


# --------------------------------------------------------------------------- measuring


def predict_probabilities(predictor: inference.Predictor, images: np.ndarray, batch_size: int = 250) -> np.ndarray:
    """The raw softmax rows (N, 10) for prepared images (N, 28, 28, 1), computed in batches."""
    images = np.asarray(images, dtype=np.float32)
    rows = [predictor.probabilities(images[start:start + batch_size]) for start in range(0, len(images), batch_size)]
    return np.concatenate(rows) if rows else np.zeros((0, data.NUM_CLASSES), dtype=np.float32)


def judge_prepared(
    predictor: inference.Predictor, images: np.ndarray, batch_size: int = 250
) -> list[inference.Prediction]:
    """The predictor's decision (:meth:`inference.Predictor.judge`, by its rule) for each prepared image, in batches."""
    rows = predict_probabilities(predictor, images, batch_size)
    return [predictor.judge(image, row, "image") for image, row in zip(images, rows, strict=True)]


def predict_labels(predictor: inference.Predictor, images: np.ndarray, batch_size: int = 250) -> np.ndarray:
    """The top digit for each prepared image (N, 28, 28, 1), computed in batches."""
    return predict_probabilities(predictor, images, batch_size).argmax(axis=1)


def time_calls(function: Callable[[Any], Any], inputs: Iterable[Any], warmup: int = 3) -> np.ndarray:
    """Wall-clock milliseconds of ``function(x)`` for each ``x`` in ``inputs`` (after ``warmup`` untimed calls)."""
    inputs = list(inputs)
    for item in inputs[:warmup]:
        function(item)
    timings = []
    for item in inputs:
        start = time.perf_counter()
        function(item)
        timings.append((time.perf_counter() - start) * 1000)
    return np.asarray(timings)


@dataclass
class QuantisedTensor:
    """One constant weight tensor of an int8 TFLite model: integer values and their scales."""

    name: str
    values: np.ndarray  # int8 (or int32 for biases)
    scales: np.ndarray  # one per output channel, or a single one
    zero_points: np.ndarray
    axis: int  # the axis the per-channel scales run along

    def dequantised(self) -> np.ndarray:
        """The real numbers the integers stand for: ``(values - zero_point) * scale``."""
        shape = [1] * self.values.ndim
        if self.scales.size > 1:
            shape[self.axis] = -1
        scales, zero_points = self.scales.reshape(shape), self.zero_points.reshape(shape)
        return ((self.values.astype(np.float32) - zero_points) * scales).astype(np.float32)


def quantised_weights(source: str | os.PathLike | bytes) -> list[QuantisedTensor]:
    """The int8 weight tensors (kernels) of a quantised TFLite model, largest first.

    Kernels are quantised per output channel (one scale each); activations share one scale, which
    is how the two are told apart (the interpreter also hands out activation buffers).
    """
    interpreter, _ = _interpreter(source, threads=1)
    found = []
    for detail in interpreter.get_tensor_details():
        params = detail.get("quantization_parameters", {})
        if detail["dtype"] != np.int8 or len(params.get("scales", [])) < 2:
            continue
        values = np.array(interpreter.get_tensor(detail["index"]))
        found.append(QuantisedTensor(detail["name"], values, np.asarray(params["scales"]),
                                     np.asarray(params["zero_points"]), int(params.get("quantized_dimension", 0))))
    return sorted(found, key=lambda tensor: tensor.values.size, reverse=True)


def _tensor_role(detail: dict, input_index: int, output_index: int, batch: int) -> str:
    """What a tensor is for, from what the interpreter reports (no private API): see :func:`quantisation_table`."""
    scales = detail["quantization_parameters"]["scales"]
    if detail["index"] == input_index:
        return "input"
    if detail["index"] == output_index:
        return "output"
    if len(scales) == 0:
        return "not quantised"  # shapes and indices the graph uses (int32, no scale)
    if detail["dtype"] == np.int32:
        return "bias"  # int32: a sum of many int8 x int8 products needs the range
    if len(scales) > 1:
        return "weights"  # one scale per output channel: only constant kernels are quantised this way
    shape = tuple(int(size) for size in detail["shape"])
    return "activation" if len(shape) >= 2 and shape[0] == batch else "constant"


def quantisation_table(source: str | os.PathLike | bytes):
    """Every tensor of a TFLite file with its dtype and quantisation, as the LiteRT interpreter reports it.

    A DataFrame, one row per tensor (``get_tensor_details()``): ``tensor`` (name), ``role``, ``dtype``,
    ``shape``, ``scales`` (how many: one per output channel for per-channel weights), ``scale`` and
    ``zero point`` (the first ones), and ``all scales`` / ``all zero points`` (arrays). An integer ``q`` of
    a quantised tensor stands for the real number ``scale * (q - zero_point)``.

    ``role`` is read from what the interpreter reports: ``input`` / ``output`` (the model's own),
    ``bias`` (int32), ``weights`` (int8 with one scale per channel), ``activation`` (one scale, and
    the batch axis first), ``constant`` (other quantised constants, such as an unfolded batch
    normalisation's factors) and ``not quantised`` (int32 shapes and indices).
    """
    import pandas as pd

    interpreter, _ = _interpreter(source, threads=1)
    model_input, model_output = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    batch = int(model_input["shape"][0])
    rows = []
    for detail in interpreter.get_tensor_details():
        params = detail["quantization_parameters"]
        scales, zero_points = np.asarray(params["scales"]), np.asarray(params["zero_points"])
        rows.append({
            "tensor": detail["name"],
            "role": _tensor_role(detail, model_input["index"], model_output["index"], batch),
            "dtype": np.dtype(detail["dtype"]).name,
            "shape": tuple(int(size) for size in detail["shape"]),
            "scales": len(scales),
            "scale": float(scales[0]) if len(scales) else np.nan,
            "zero point": int(zero_points[0]) if len(zero_points) else np.nan,
            "all scales": scales,
            "all zero points": zero_points,
        })
    table = pd.DataFrame(rows).rename_axis("index")
    table["zero point"] = table["zero point"].astype("Int64")  # integers, empty where not quantised
    return table
