"""Fast prediction for user images: top-3 digits, "not a digit", folders, whole numbers."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeAlias

import numpy as np

from mnistlab import decision, images
from mnistlab.data import IMAGE_SHAPE, INPUT_SHAPE
from mnistlab.decision import DecisionRule
from mnistlab.images import ImageSource

# ok: a digit read with confidence; unsure: refused by the decision rule, but one or two digits fit (the
# top-3 are still given); not-a-digit: nothing digit-like (blank, marks unlike handwriting, or no digit fits
# by the rule: a letter, a symbol, a drawing); error: the file could not be read. See mnistlab.decision.
Status: TypeAlias = Literal["ok", "unsure", "not-a-digit", "error"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")
MIN_CONFIDENCE = decision.MIN_CONFIDENCE  # the uncalibrated rule's threshold (a model without a decision file)
# Ink coverage of a prepared 28x28 image (fraction of pixels above 0.5). MNIST test digits:
# 1st-99th percentile 0.046-0.24; far outside that range the picture is not digit-like.
INK_RANGE = (0.02, 0.45)


@dataclass
class Prediction:
    """The model's answer for one image."""

    name: str
    digit: int | None  # None: not a digit, or not sure enough
    confidence: float  # CALIBRATED probability of the top digit (0 when nothing could be read)
    top3: list[tuple[int, float]] = field(default_factory=list)  # calibrated probabilities
    status: Status = "ok"
    message: str = ""  # why it is not "ok", in plain words
    image: np.ndarray | None = None  # the prepared (28, 28, 1) input, when there was one
    open_set_score: float = 0.0  # the decision rule's score (higher = more digit-like); 0 when nothing was read

    @property
    def is_digit(self) -> bool:
        return self.status == "ok"

    def summary(self) -> str:
        """One line for people: ``name: 7 (98.1 %)  top-3 7 98.1 %, 1 1.2 %, 9 0.3 %``."""
        top = ", ".join(f"{d} {p:.1%}" for d, p in self.top3)
        if self.status == "ok":
            return f"{self.name}: {self.digit} ({self.confidence:.1%})  top-3 {top}"
        if self.status == "unsure":
            return f"{self.name}: not sure: {self.message}  top-3 {top}"
        return f"{self.name}: {self.status.replace('-', ' ')}: {self.message}"


@dataclass
class NumberReading:
    """Several digits read left to right."""

    name: str
    digits: list[Prediction]  # every piece found, left to right, including those that are not digits

    @property
    def kept(self) -> list[Prediction]:
        """The pieces that belong to the number: all but those judged "not-a-digit"."""
        return [p for p in self.digits if p.status != "not-a-digit"]

    @property
    def skipped(self) -> list[Prediction]:
        """The pieces judged "not-a-digit" (a dash, a letter, a doodle): left out of :attr:`text`."""
        return [p for p in self.digits if p.status == "not-a-digit"]

    @property
    def text(self) -> str:
        """The number as a string; ``?`` where a digit could not be read with confidence; skipped pieces left out."""
        return "".join(str(p.digit) if p.digit is not None else "?" for p in self.kept)

    @property
    def confidence(self) -> float:
        """Probability that every digit kept is right (product of their calibrated confidences); 0 without any."""
        kept = self.kept
        return float(np.prod([p.confidence for p in kept])) if kept else 0.0

    def skipped_note(self) -> str:
        """``skipped 1 piece that is not a digit: piece 3 (why)``, or "" when nothing was skipped."""
        skipped = [(i, p) for i, p in enumerate(self.digits, start=1) if p.status == "not-a-digit"]
        if not skipped:
            return ""
        pieces = "; ".join(f"piece {i} ({p.message})" for i, p in skipped)
        return (f"skipped {len(skipped)} piece{'s' if len(skipped) > 1 else ''} that "
                f"{'are' if len(skipped) > 1 else 'is'} not a digit: {pieces}")


def load_default_model():
    """The course's default model (trained once, then cached by :mod:`mnistlab.training`)."""
    from mnistlab import training

    return training.load_or_train_default()


def load_model(path: str | os.PathLike):
    """A saved Keras model; a missing or damaged file raises :class:`mnistlab.store.ModelFileError`."""
    from mnistlab import store

    return store.load_model(Path(path).expanduser())


def as_batch(batch) -> np.ndarray:
    """Prepared digits as a float32 batch (N, 28, 28, 1): one digit or a batch, with or without its channel axis."""
    batch = np.asarray(batch, dtype=np.float32)
    if batch.shape in (INPUT_SHAPE, IMAGE_SHAPE):
        batch = batch.reshape(1, *INPUT_SHAPE)
    if batch.ndim == 3 and batch.shape[1:] == IMAGE_SHAPE:
        batch = batch[..., np.newaxis]
    if batch.ndim != 4 or batch.shape[1:] != INPUT_SHAPE:
        raise ValueError(f"expected prepared images of shape (N, 28, 28, 1), got {batch.shape}")
    return batch


def default_rule() -> DecisionRule:
    """The decision rule stored with the course's default model of the current mode (uncalibrated if none)."""
    from mnistlab import store

    return decision.load_rule(store.default_model_path())


class Predictor:
    """Wraps a Keras model for interactive use: one compiled graph call per image, no ``predict``.

    ``model.predict`` builds a data pipeline on every call (~150 ms for one image); calling a
    ``tf.function`` of the model costs about a millisecond for the course's CNNs.

    ``rule`` (:class:`mnistlab.decision.DecisionRule`) turns probabilities into "ok", "unsure" or
    "not-a-digit". Without one: the rule stored with the default model when ``model`` is None too,
    else :meth:`DecisionRule.uncalibrated` (for a file, :func:`mnistlab.deploy.load_predictor` finds its rule).
    """

    def __init__(self, model=None, rule: DecisionRule | None = None):
        import tensorflow as tf

        if model is None:
            model = load_default_model()
            rule = rule if rule is not None else default_rule()
        self.model = model
        self.rule = rule if rule is not None else DecisionRule.uncalibrated()
        spec = tf.TensorSpec(shape=(None, *INPUT_SHAPE), dtype=tf.float32)
        self._call = tf.function(lambda x: self.model(x, training=False), input_signature=[spec])
        self._call(tf.zeros((1, *INPUT_SHAPE)))  # trace once now, not on the first real image

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """RAW softmax rows (N, 10), before calibration, for prepared images (N, 28, 28, 1) or (28, 28, 1)."""
        return np.asarray(self._call(as_batch(batch)))

    def calibrated_probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Calibrated rows (N, 10): :meth:`probabilities` through the rule's temperature, as predictions show them."""
        return decision.calibrated_probabilities(self.probabilities(batch), self.rule)

    def judge(self, prepared: np.ndarray, probabilities: np.ndarray, name: str) -> Prediction:
        """Turn one raw probability row into a :class:`Prediction` by :attr:`rule` (:func:`mnistlab.decision.decide`).

        The ink check comes first: marks covering far less or far more of the box than a handwritten
        digit are "not-a-digit" whatever the model says. Confidence and top-3 are calibrated.
        """
        verdict = decision.decide(probabilities, self.rule)
        coverage = float((np.asarray(prepared) > 0.5).mean())
        if not INK_RANGE[0] <= coverage <= INK_RANGE[1]:
            return Prediction(name, None, verdict.confidence, verdict.top3, "not-a-digit",
                              f"the marks found cover {coverage:.0%} of the digit box, unlike a "
                              f"handwritten digit", prepared, verdict.score)
        return Prediction(name, verdict.digit, verdict.confidence, verdict.top3, verdict.status, verdict.message,
                          prepared, verdict.score)

    def predict_prepared(self, prepared: np.ndarray, name: str = "image") -> Prediction:
        """Prediction for an image already shaped (28, 28, 1) by :func:`mnistlab.images.prepare_image`."""
        return self.judge(prepared, self.probabilities(prepared)[0], name)

    def predict(self, source: ImageSource, name: str | None = None) -> Prediction:
        """Prepare and predict one image. Unreadable input raises :class:`images.ImageError`;
        a blank image gives a ``not-a-digit`` prediction instead of a wrong digit."""
        label = images.describe_source(source, name)
        try:
            prepared = images.prepare_image(source, name=label)
        except images.NoDigitError as error:
            return _no_digit(label, error)
        return self.predict_prepared(prepared, label)

    def predict_with_steps(self, source: ImageSource,
                           name: str | None = None) -> tuple[Prediction, images.PipelineSteps | None]:
        """Like :meth:`predict`, plus every pipeline step (:class:`images.PipelineSteps`, or ``None``
        when no digit was found), reading and preparing the image only once."""
        label = images.describe_source(source, name)
        try:
            steps = images.prepare_steps(source, name=label)
        except images.NoDigitError as error:
            return _no_digit(label, error), None
        return self.predict_prepared(steps.result, label), steps

    def predict_many(self, sources: Iterable[ImageSource]) -> list[Prediction]:
        """Predict several images in one model call; a bad one becomes an ``error`` result."""
        results: list[Prediction | None] = []
        ready: list[tuple[int, np.ndarray, str]] = []
        for source in sources:
            label = images.describe_source(source)
            try:
                ready.append((len(results), images.prepare_image(source, name=label), label))
                results.append(None)
            except images.NoDigitError as error:
                results.append(_no_digit(label, error))
            except images.ImageError as error:
                results.append(Prediction(label, None, 0.0, [], "error", str(error)))
        if ready:
            rows = self.probabilities(np.stack([prepared for _, prepared, _ in ready]))
            for (slot, prepared, label), row in zip(ready, rows, strict=True):
                results[slot] = self.judge(prepared, row, label)
        return [r for r in results if r is not None]

    def predict_folder(self, folder: str | os.PathLike, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[Prediction]:
        """Predict every image file in ``folder`` (sorted by name); bad files are reported, not fatal."""
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"No folder at {folder}. Check the path.")
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
        return self.predict_many(files)

    def read_number(self, source: ImageSource, name: str | None = None) -> NumberReading:
        """Read several digits written in a row, left to right; pieces that are not digits are skipped from
        :attr:`NumberReading.text` and listed in :attr:`NumberReading.skipped`."""
        label = images.describe_source(source, name)
        pieces = images.split_digits(source, name=label)
        rows = self.probabilities(np.stack(pieces))
        digits = [
            self.judge(piece, row, f"{label} digit {i + 1}")
            for i, (piece, row) in enumerate(zip(pieces, rows, strict=True))
        ]
        return NumberReading(label, digits)


def _no_digit(label: str, error: images.NoDigitError) -> Prediction:
    return Prediction(label, None, 0.0, [], "not-a-digit", str(error))


def predictions_table(predictions: list[Prediction]):
    """A pandas DataFrame with one row per prediction (name, digit, confidence, status, top-3)."""
    import pandas as pd

    return pd.DataFrame([
        {
            "name": Path(p.name).name if os.sep in p.name else p.name,
            "digit": p.digit,
            "confidence": round(p.confidence, 4),
            "status": p.status,
            "top3": ", ".join(f"{d}:{q:.2f}" for d, q in p.top3),
            "message": p.message,
        }
        for p in predictions
    ])
