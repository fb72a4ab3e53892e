"""Calibration: how far a model's confidence is from its accuracy, and temperature scaling to fix it."""

# Small NumPy/SciPy reference functions, the ones notebook 05's exercises are checked against:
#
# - :func:`expected_calibration_error` measures the gap (equal-width confidence bins, weighted by size);
# - :func:`softmax_with_temperature` / :func:`apply_temperature` turn class scores (logits) into
#   probabilities divided by a temperature ``T`` first (``T > 1`` softens, ``T < 1`` sharpens);
# - :func:`fit_temperature` picks ``T`` by minimising the negative log-likelihood on held-out
#   (validation) scores, never on the test set;
# - :func:`coverage_accuracy_curve` is the trade-off behind an "unsure" threshold: the accuracy of
#   the answers kept against the fraction kept.
#
# Temperature scaling (Guo et al., 2017) divides every score by the same ``T``, so it never changes
# which digit is predicted, only how sure the model says it is.


from __future__ import annotations

import numpy as np
from scipy import optimize, special

# Temperatures fit_temperature searches between: far wider than any trained model needs
# (the default model's is about 0.45), narrow enough to keep exp() finite.
TEMPERATURE_BOUNDS = (0.05, 20.0)


def _rows(probabilities) -> np.ndarray:
    proba = np.asarray(probabilities, dtype=float)
    if proba.ndim != 2:
        raise ValueError(f"expected one row of class probabilities per example, (N, classes); got {proba.shape}")
    return proba


def _paired(y_true, rows: np.ndarray) -> np.ndarray:
    y_true = np.asarray(y_true).ravel()
    if y_true.shape[0] != rows.shape[0]:
        raise ValueError(f"{y_true.shape[0]} labels but {rows.shape[0]} rows: pass one row per label")
    return y_true


def expected_calibration_error(y_true, probabilities, bins: int = 10) -> float:
    """ECE: the mean |confidence - accuracy| over equal-width confidence bins, weighted by bin size.

    The confidence of a row is its largest probability; bins split [0, 1] into ``bins`` equal
    parts, right-closed ``(low, high]`` (the first also holds 0, so a confidence of exactly 1
    lands in the last one). Empty bins weigh nothing. 0 is perfectly calibrated.
    """
    if bins < 1:
        raise ValueError(f"bins={bins} must be at least 1")
    proba = _rows(probabilities)
    y_true = _paired(y_true, proba)
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y_true).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    gap = np.abs(np.bincount(which, confidence, bins) - np.bincount(which, correct, bins))  # summed per bin
    return float(gap.sum() / count.sum())  # sum_b n_b/N * |mean conf_b - acc_b| = sum_b |sum conf - sum right| / N


def softmax_with_temperature(logits, temperature: float = 1.0) -> np.ndarray:
    """Probabilities ``softmax(logits / temperature)`` along the last axis (numerically stable)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    return special.softmax(np.asarray(logits, dtype=float) / temperature, axis=-1)


def apply_temperature(logits, temperature: float) -> np.ndarray:
    """Calibrated probabilities from class scores ``logits`` and a temperature from :func:`fit_temperature`."""
    return softmax_with_temperature(logits, temperature)


def negative_log_likelihood(logits, y_true, temperature: float = 1.0) -> float:
    """Mean ``-log p(true class)`` of ``softmax(logits / temperature)``: the loss temperature scaling minimises."""
    log_p = special.log_softmax(np.asarray(logits, dtype=float) / temperature, axis=-1)
    y_true = _paired(y_true, log_p)
    return float(-log_p[np.arange(len(y_true)), y_true].mean())


def fit_temperature(logits, y_true, bounds: tuple[float, float] = TEMPERATURE_BOUNDS) -> float:
    """The temperature ``T`` that minimises the negative log-likelihood of ``softmax(logits / T)``.

    Fit it on held-out scores (the validation split), then apply it to new ones: fitted on the
    test set, the test set would no longer measure anything. ``T < 1`` means the model was
    under-confident (its probabilities get sharper), ``T > 1`` over-confident.
    """
    logits = _rows(logits)
    y_true = _paired(y_true, logits)
    result = optimize.minimize_scalar(
        lambda t: negative_log_likelihood(logits, y_true, t), bounds=bounds, method="bounded",
        options={"xatol": 1e-5},
    )
    return float(result.x)


def coverage_accuracy_curve(y_true, probabilities, thresholds=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each confidence threshold: the fraction of answers kept and the accuracy of those kept.

    An answer is kept when its confidence (largest probability) is at least the threshold, as a
    predictor that says "unsure" below it does. Returns ``(thresholds, coverage, accuracy)``;
    accuracy is NaN where nothing is kept. ``thresholds`` defaults to 0, 0.01, ..., 0.99.
    """
    proba = _rows(probabilities)
    y_true = _paired(y_true, proba)
    thresholds = np.linspace(0.0, 0.99, 100) if thresholds is None else np.asarray(thresholds, dtype=float).ravel()
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_true
    kept = confidence[None, :] >= thresholds[:, None]  # (thresholds, examples)
    n_kept = kept.sum(axis=1)
    right_kept = (kept & correct[None, :]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(n_kept > 0, right_kept / np.maximum(n_kept, 1), np.nan)
    return thresholds, n_kept / len(y_true), accuracy
