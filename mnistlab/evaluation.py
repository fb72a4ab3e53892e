"""Metrics and error analysis for digit classifiers: scores, confusions, mistakes, calibration."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mnistlab.calibration import expected_calibration_error
from mnistlab.data import NUM_CLASSES

DIGITS = tuple(range(NUM_CLASSES))
AVERAGES = ("macro", "weighted")
# Keras clips probabilities to [epsilon, 1 - epsilon] before taking the log; so do we.
EPSILON = 1e-7


# --------------------------------------------------------------------------- checking input


def _labels(values, name: str = "y_true") -> np.ndarray:
    """A 1-D integer label array in 0..9, or a ValueError naming ``name``."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of digit labels, got shape {array.shape}; "
            f"if these are probabilities or one-hot rows, take .argmax(axis=1) first."
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty: pass at least one label.")
    if not np.issubdtype(array.dtype, np.integer):
        if not np.issubdtype(array.dtype, np.number) or not np.all(np.equal(np.mod(array, 1), 0)):
            raise ValueError(f"{name} must hold whole-number digit labels, got dtype {array.dtype}.")
        array = array.astype(int)
    if array.min() < 0 or array.max() >= NUM_CLASSES:
        raise ValueError(
            f"{name} must lie in 0..{NUM_CLASSES - 1}, got values {array.min()}..{array.max()}."
        )
    return array.astype(int)


INT8_SUM_TOLERANCE = 0.05


def _probabilities(values, name: str = "probabilities") -> np.ndarray:
    """An (N, 10) array of rows that sum to 1, or a ValueError naming ``name``."""
    array = np.asarray(values, dtype="float64")
    if array.ndim != 2 or array.shape[1] != NUM_CLASSES:
        raise ValueError(
            f"{name} must have shape (N, {NUM_CLASSES}) (one probability per digit), "
            f"got {array.shape}; pass the softmax output of model.predict."
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty: pass at least one row.")
    # An int8 model's softmax comes in steps of 1/256, so its rows sum to 1 only within about 10 steps.
    if array.min() < -1e-6 or not np.allclose(array.sum(axis=1), 1.0, atol=INT8_SUM_TOLERANCE):
        raise ValueError(
            f"{name} rows must be probabilities (non-negative, summing to 1); "
            f"apply a softmax first if these are logits."
        )
    return array


def _same_length(y_true: np.ndarray, other: np.ndarray, other_name: str) -> None:
    if len(y_true) != len(other):
        raise ValueError(
            f"y_true has {len(y_true)} labels but {other_name} has {len(other)} rows; "
            f"pass predictions for exactly the examples you have labels for."
        )


# --------------------------------------------------------------------------- predicting


def _accepts_verbose(method) -> bool:
    try:
        return "verbose" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def _raw_output(model, x, batch_size: int) -> np.ndarray:
    """What the model gives for ``x``: probability rows if it can, else labels."""
    if hasattr(model, "predict_proba"):  # scikit-learn (an SVC without probability=True has none)
        out = model.predict_proba(x)
    elif hasattr(model, "predict"):
        if _accepts_verbose(model.predict):  # Keras: quiet, batched
            out = model.predict(x, batch_size=batch_size, verbose=0)
        else:
            out = model.predict(x)
    elif callable(model):
        out = model(x)
    else:
        raise TypeError(
            f"{type(model).__name__} cannot predict: pass a Keras model, a scikit-learn "
            f"classifier or a function that maps images to labels or probabilities."
        )
    return np.asarray(out)


def predict_proba(model, x, batch_size: int = 512) -> np.ndarray | None:
    """Per-digit probabilities (N, 10) from any model, or None if it can only give labels.

    Works with Keras models (``predict`` returns softmax rows), scikit-learn classifiers
    (``predict_proba``) and plain functions that return either.
    """
    out = _raw_output(model, x, batch_size)
    if out.ndim == 2 and out.shape[1] == NUM_CLASSES:
        return out.astype("float64")
    return None


def predict_labels(model, x, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray | None]:
    """``(labels, probabilities)`` for any model that can predict (probabilities may be None)."""
    out = _raw_output(model, x, batch_size)
    if out.ndim == 2 and out.shape[1] == NUM_CLASSES:
        return out.argmax(axis=1), out.astype("float64")
    return _labels(out.ravel(), "the model's predictions"), None


# --------------------------------------------------------------------------- headline metrics


def accuracy(y_true, y_pred) -> float:
    """Fraction of labels predicted exactly right (scikit-learn's ``accuracy_score``)."""
    from sklearn.metrics import accuracy_score

    y_true, y_pred = _labels(y_true), _labels(y_pred, "y_pred")
    _same_length(y_true, y_pred, "y_pred")
    return float(accuracy_score(y_true, y_pred))


def log_loss(y_true, probabilities) -> float:
    """Mean cross-entropy of the true digit, clipped like Keras (what ``model.evaluate`` reports)."""
    y_true, proba = _labels(y_true), _probabilities(probabilities)
    _same_length(y_true, proba, "probabilities")
    picked = np.clip(proba[np.arange(len(y_true)), y_true], EPSILON, 1 - EPSILON)
    return float(-np.mean(np.log(picked)))


def metrics_table(y_true, y_pred) -> pd.DataFrame:
    """Precision, recall, F1 and support per digit, then the macro and weighted averages.

    Computed by scikit-learn's ``precision_recall_fscore_support``. Rows are ``"0"``..``"9"``,
    ``"macro"`` and ``"weighted"``. The averages run over the digits that occur in
    ``y_true`` or ``y_pred`` (scikit-learn's default), so a tiny sample is not dragged down by
    digits it never contains. A digit that is never predicted gets precision 0
    (``zero_division=0``) instead of a warning; a digit absent from both has zeros, support 0.
    """
    from sklearn.metrics import precision_recall_fscore_support

    y_true, y_pred = _labels(y_true), _labels(y_pred, "y_pred")
    _same_length(y_true, y_pred, "y_pred")
    rows = {}
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=list(DIGITS), zero_division=0
    )
    for digit in DIGITS:
        rows[str(digit)] = (p[digit], r[digit], f[digit], int(s[digit]))
    for average in AVERAGES:
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
        rows[average] = (p, r, f, len(y_true))
    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=["precision", "recall", "f1", "support"]
    )
    table.index.name = "digit"
    return table


def classification_report_text(y_true, y_pred) -> str:
    """scikit-learn's ``classification_report`` as text, with 4 decimals."""
    from sklearn.metrics import classification_report

    y_true, y_pred = _labels(y_true), _labels(y_pred, "y_pred")
    _same_length(y_true, y_pred, "y_pred")
    return classification_report(
        y_true, y_pred, labels=list(DIGITS), digits=4, zero_division=0
    )


# --------------------------------------------------------------------------- confusions


def confusion(y_true, y_pred, normalize: str | None = None) -> np.ndarray:
    """10x10 confusion matrix: row = true digit, column = predicted digit.

    ``normalize="true"`` divides each row by its count, so the diagonal is the per-digit
    recall and each row sums to 1 (a digit absent from y_true gives a row of zeros).
    """
    from sklearn.metrics import confusion_matrix

    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(
            f"normalize={normalize!r} is not understood: use None (counts), 'true' (rows), "
            f"'pred' (columns) or 'all'."
        )
    y_true, y_pred = _labels(y_true), _labels(y_pred, "y_pred")
    _same_length(y_true, y_pred, "y_pred")
    return confusion_matrix(y_true, y_pred, labels=list(DIGITS), normalize=normalize)


def per_digit_accuracy(y_true, y_pred) -> pd.Series:
    """Fraction of each true digit predicted correctly (= per-class recall); NaN if never seen."""
    y_true, y_pred = _labels(y_true), _labels(y_pred, "y_pred")
    _same_length(y_true, y_pred, "y_pred")
    values = {}
    for digit in DIGITS:
        mask = y_true == digit
        values[digit] = float(np.mean(y_pred[mask] == digit)) if mask.any() else float("nan")
    series = pd.Series(values, name="accuracy")
    series.index.name = "digit"
    return series


def most_confused_pairs(y_true, y_pred, top: int = 10, symmetric: bool = False) -> pd.DataFrame:
    """The off-diagonal cells of the confusion matrix with the most mistakes, largest first.

    Columns: ``true``, ``predicted``, ``count`` and ``share`` (count / number of that true
    digit). With ``symmetric=True`` a pair {a, b} counts a→b and b→a together and the
    columns are ``digit_a`` < ``digit_b``, ``count``, ``a_as_b`` and ``b_as_a``.
    Ties are broken by digit order so the result is deterministic.
    """
    if top < 1:
        raise ValueError(f"top={top} must be at least 1.")
    counts = confusion(y_true, y_pred)
    totals = counts.sum(axis=1)
    rows = []
    if symmetric:
        for a in DIGITS:
            for b in DIGITS:
                if a < b and counts[a, b] + counts[b, a] > 0:
                    rows.append((a, b, int(counts[a, b] + counts[b, a]), int(counts[a, b]), int(counts[b, a])))
        frame = pd.DataFrame(rows, columns=["digit_a", "digit_b", "count", "a_as_b", "b_as_a"])
        frame = frame.sort_values(["count", "digit_a", "digit_b"], ascending=[False, True, True])
    else:
        for t in DIGITS:
            for p in DIGITS:
                if t != p and counts[t, p] > 0:
                    rows.append((t, p, int(counts[t, p]), counts[t, p] / totals[t]))
        frame = pd.DataFrame(rows, columns=["true", "predicted", "count", "share"])
        frame = frame.sort_values(["count", "true", "predicted"], ascending=[False, True, True])
    return frame.head(top).reset_index(drop=True)


# --------------------------------------------------------------------------- mistakes


def ranked_mistakes(y_true, probabilities) -> pd.DataFrame:
    """Every misclassified example, most confident mistake first.

    Columns: ``index`` (position in the input), ``true``, ``predicted``, ``confidence``
    (probability of the predicted digit), ``p_true`` (probability given to the right digit)
    and ``runner_up`` (the second most likely digit). Very confident mistakes are where
    a label is most often itself wrong or the digit genuinely ambiguous.
    """
    y_true, proba = _labels(y_true), _probabilities(probabilities)
    _same_length(y_true, proba, "probabilities")
    order = np.argsort(-proba, axis=1, kind="stable")
    predicted = order[:, 0]
    wrong = np.flatnonzero(predicted != y_true)
    frame = pd.DataFrame(
        {
            "index": wrong,
            "true": y_true[wrong],
            "predicted": predicted[wrong],
            "confidence": proba[wrong, predicted[wrong]],
            "p_true": proba[wrong, y_true[wrong]],
            "runner_up": order[wrong, 1],
        }
    )
    frame = frame.sort_values(["confidence", "index"], ascending=[False, True], kind="stable")
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- calibration


def calibration_table(y_true, probabilities, bins: int = 10) -> pd.DataFrame:
    """Reliability table: predictions grouped by confidence into equal-width bins.

    One row per non-empty bin with ``low``, ``high``, ``count``, ``confidence`` (mean
    top probability), ``accuracy`` (fraction right) and ``gap`` = confidence - accuracy
    (positive: over-confident). Bins are right-closed, ``(low, high]``, the first one
    also holding 0, so a confidence of exactly 1 lands in the last bin.
    """
    if bins < 1:
        raise ValueError(f"bins={bins} must be at least 1.")
    y_true, proba = _labels(y_true), _probabilities(probabilities)
    _same_length(y_true, proba, "probabilities")
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            conf, acc = float(confidence[mask].mean()), float(correct[mask].mean())
            rows.append((edges[b], edges[b + 1], int(mask.sum()), conf, acc, conf - acc))
    return pd.DataFrame(rows, columns=["low", "high", "count", "confidence", "accuracy", "gap"])


@dataclass(frozen=True)
class ConfidenceSummary:
    """How sure the model is when it is right and when it is wrong."""

    n: int
    accuracy: float
    mean_confidence: float
    mean_confidence_right: float
    mean_confidence_wrong: float
    share_wrong_above_90: float  # of the mistakes, how many had confidence > 0.9
    expected_calibration_error: float

    def as_series(self) -> pd.Series:
        return pd.Series(self.__dict__, name="value")


def confidence_summary(y_true, probabilities, bins: int = 10) -> ConfidenceSummary:
    """Mean confidence overall, on right and on wrong answers, plus the ECE (NaN if no mistakes)."""
    y_true, proba = _labels(y_true), _probabilities(probabilities)
    _same_length(y_true, proba, "probabilities")
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    wrong = confidence[~correct]
    return ConfidenceSummary(
        n=len(y_true),
        accuracy=float(correct.mean()),
        mean_confidence=float(confidence.mean()),
        mean_confidence_right=float(confidence[correct].mean()) if correct.any() else float("nan"),
        mean_confidence_wrong=float(wrong.mean()) if wrong.size else float("nan"),
        share_wrong_above_90=float(np.mean(wrong > 0.9)) if wrong.size else float("nan"),
        expected_calibration_error=expected_calibration_error(y_true, proba, bins=bins),
    )


# --------------------------------------------------------------------------- curves


def precision_recall_curves(y_true, probabilities) -> dict[int, tuple[np.ndarray, np.ndarray, float]]:
    """One-vs-rest ``(precision, recall, average_precision)`` per digit (scikit-learn)."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    y_true, proba = _labels(y_true), _probabilities(probabilities)
    _same_length(y_true, proba, "probabilities")
    curves = {}
    for digit in DIGITS:
        positive = y_true == digit
        if not positive.any():
            continue
        precision, recall, _ = precision_recall_curve(positive, proba[:, digit])
        curves[digit] = (precision, recall, float(average_precision_score(positive, proba[:, digit])))
    return curves


# --------------------------------------------------------------------------- the report


def report(model, x, y_true, name: str | None = None, batch_size: int = 512) -> pd.DataFrame:
    """A tidy (long) report for any model that can predict: one row per (scope, metric).

    Columns: ``model``, ``scope`` (``"overall"``, ``"macro"``, ``"weighted"`` or a digit
    ``"0"``..``"9"``), ``metric`` and ``value``. ``overall`` holds ``accuracy`` and, when the
    model gives probabilities, ``log_loss`` and ``ece``. ``x`` must already be in the shape
    the model takes (e.g. ``to_cnn_input`` for the CNNs, flat pixels for scikit-learn).
    Pivot with ``frame.pivot(index="scope", columns="metric", values="value")``.
    """
    y_pred, proba = predict_labels(model, x, batch_size=batch_size)
    name = name or getattr(model, "name", None) or type(model).__name__
    return tidy_report(y_true, y_pred, proba, name=name)


def tidy_report(y_true, y_pred, probabilities=None, name: str = "model") -> pd.DataFrame:
    """The long table of :func:`report`, from predictions you already have."""
    y_true, y_pred = _labels(y_true), _labels(y_pred, "the model's predictions")
    _same_length(y_true, y_pred, "the model's predictions")
    rows = [("overall", "accuracy", accuracy(y_true, y_pred))]
    if probabilities is not None:
        rows.append(("overall", "log_loss", log_loss(y_true, probabilities)))
        rows.append(("overall", "ece", expected_calibration_error(y_true, probabilities)))
    table = metrics_table(y_true, y_pred)
    for scope, values in table.iterrows():
        for metric in table.columns:
            rows.append((str(scope), metric, float(values[metric])))
    frame = pd.DataFrame(rows, columns=["scope", "metric", "value"])
    frame.insert(0, "model", name)
    return frame


@dataclass
class Evaluation:
    """Everything notebook 05 looks at, computed once from a model's test predictions."""

    y_true: np.ndarray
    probabilities: np.ndarray

    @property
    def y_pred(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def accuracy(self) -> float:
        return accuracy(self.y_true, self.y_pred)

    @property
    def loss(self) -> float:
        return log_loss(self.y_true, self.probabilities)

    def metrics(self) -> pd.DataFrame:
        return metrics_table(self.y_true, self.y_pred)

    def confusion(self, normalize: str | None = None) -> np.ndarray:
        return confusion(self.y_true, self.y_pred, normalize=normalize)

    def per_digit_accuracy(self) -> pd.Series:
        return per_digit_accuracy(self.y_true, self.y_pred)

    def most_confused_pairs(self, top: int = 10, symmetric: bool = False) -> pd.DataFrame:
        return most_confused_pairs(self.y_true, self.y_pred, top=top, symmetric=symmetric)

    def mistakes(self) -> pd.DataFrame:
        return ranked_mistakes(self.y_true, self.probabilities)

    def calibration(self, bins: int = 10) -> pd.DataFrame:
        return calibration_table(self.y_true, self.probabilities, bins=bins)

    def confidence(self, bins: int = 10) -> ConfidenceSummary:
        return confidence_summary(self.y_true, self.probabilities, bins=bins)

    def report(self, name: str = "model") -> pd.DataFrame:
        return tidy_report(self.y_true, self.y_pred, self.probabilities, name=name)


def evaluate(model, x, y_true, batch_size: int = 512) -> Evaluation:
    """Predict once and keep the probabilities, so every analysis reuses the same numbers."""
    y_true = _labels(y_true)
    proba = predict_proba(model, x, batch_size=batch_size)
    if proba is None:
        raise ValueError(
            f"{type(model).__name__} gives labels, not probabilities, so confidence and "
            f"calibration cannot be measured; use report() for label-only models."
        )
    proba = _probabilities(proba, "the model's output")
    _same_length(y_true, proba, "the model's output")
    return Evaluation(y_true=y_true, probabilities=proba)
