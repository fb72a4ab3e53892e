"""Self-checks for notebooks 05 and 06: metrics from a confusion matrix, McNemar, one Grad-CAM step, on unseen cases."""

from __future__ import annotations

import numpy as np

from mnistlab.exercises.checks import (
    NO_RESULT,
    call_learner,
    failed,
    is_missing,
    not_done,
    passed,
)

METRIC_NAMES = ("precision", "recall", "f1")


def _confusion_cases(seed: int = 4) -> list[tuple[np.ndarray, str]]:
    """Confusion matrices built from predictions chosen here, including a digit never predicted."""
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(seed)
    cases = []
    y_true = rng.integers(0, 10, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 10, 300))
    cases.append((confusion_matrix(y_true, y_pred, labels=range(10)), "300 noisy predictions"))
    y_pred = y_pred.copy()
    y_pred[y_pred == 7] = 1  # nobody is predicted 7: its precision has a zero denominator
    cases.append((confusion_matrix(y_true, y_pred, labels=range(10)), "predictions where no digit is called 7"))
    return cases


def _expected_metrics(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's per-digit precision, recall and F1 (0 where undefined) for the labels behind ``counts``."""
    from sklearn.metrics import precision_recall_fscore_support

    y_true = np.repeat(np.repeat(np.arange(10), 10), counts.ravel())
    y_pred = np.repeat(np.tile(np.arange(10), 10), counts.ravel())
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=range(10), zero_division=0)
    return p, r, f


def check_metrics_from_confusion(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(counts)`` must return per-digit ``(precision, recall, f1)`` equal to scikit-learn's.

    The matrices are built here from predictions the learner has not seen; a digit that is never
    predicted must get precision 0 (scikit-learn's ``zero_division=0``), not NaN.
    """
    if is_missing(function):
        return not_done(what, hint)
    if not callable(function):
        return failed(what, f"expected a function, got a {type(function).__name__}", hint)
    for counts, label in _confusion_cases():
        result = call_learner(function, (counts.copy(),), what, hint, on=label)
        if result is NO_RESULT:
            return False
        try:
            answers = [np.asarray(part, dtype=float) for part in result]
        except Exception:
            return failed(what, "return three arrays: (precision, recall, f1)", hint)
        if len(answers) != 3:
            return failed(what, f"return three arrays (precision, recall, f1), got {len(answers)} things", hint)
        for name, got, want in zip(METRIC_NAMES, answers, _expected_metrics(counts), strict=True):
            if got.shape != (10,):
                return failed(what, f"{name} has shape {got.shape}; expected one value per digit, (10,)", hint)
            if np.isnan(got).any():
                digit = int(np.flatnonzero(np.isnan(got))[0])
                return failed(what, f"on {label} your {name} of digit {digit} is NaN (0 / 0); "
                                    f"scikit-learn reports 0 there", hint)
            wrong = np.flatnonzero(~np.isclose(got, want, atol=1e-9))
            if wrong.size:
                digit = int(wrong[0])
                return failed(what, f"on {label} your {name} of digit {digit} is {got[digit]:.4f}, "
                                    f"scikit-learn says {want[digit]:.4f}", hint)
    return passed(what, "(checked against scikit-learn on matrices you had not seen)")


def _cam_reference(feature_maps: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    weights = gradients.mean(axis=(1, 2), keepdims=True)
    return np.maximum((weights * feature_maps).sum(axis=-1), 0.0)


def check_grad_cam_step(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(feature_maps, gradients)`` on (N, h, w, k) arrays must give the (N, h, w) Grad-CAM map.

    The map is ``ReLU(sum_k mean_hw(gradients)_k * feature_maps_k)``; the arrays are random ones
    made here. A wrong answer is told what it looks like it got wrong (ReLU, axes, channels).
    """
    if is_missing(function):
        return not_done(what, hint)
    if not callable(function):
        return failed(what, f"expected a function, got a {type(function).__name__}", hint)
    rng = np.random.default_rng(9)
    feature_maps = np.maximum(rng.normal(size=(3, 5, 4, 6)), 0.0)
    gradients = rng.normal(size=(3, 5, 4, 6))
    want = _cam_reference(feature_maps, gradients)
    result = call_learner(function, (feature_maps.copy(), gradients.copy()), what, hint)
    if result is NO_RESULT:
        return False
    try:
        got = np.asarray(result, dtype=float)
    except Exception:
        return failed(what, f"expected an array, got a {type(result).__name__}", hint)
    if got.shape != want.shape:
        return failed(what, f"for feature maps of shape {feature_maps.shape} the map has shape {got.shape}, "
                            f"expected {want.shape}: sum over the channel axis (the last one)", hint)
    if np.allclose(got, want, atol=1e-6):
        return passed(what)
    no_relu = (np.mean(gradients, axis=(1, 2), keepdims=True) * feature_maps).sum(axis=-1)
    if np.allclose(got, no_relu, atol=1e-6):
        return failed(what, "your map has negative values: Grad-CAM keeps only evidence *for* the digit (ReLU)", hint)
    height, width = feature_maps.shape[1:3]
    if np.allclose(got, want * height * width, atol=1e-6):
        return failed(what, "your map is height x width times too large: you summed the gradients over the grid; "
                            "Grad-CAM averages them (.mean(axis=(1, 2)))", hint)
    per_pixel = np.maximum((gradients * feature_maps).sum(axis=-1), 0.0)
    if np.allclose(got, per_pixel, atol=1e-6):
        return failed(what, "you weighted each pixel by its own gradient; Grad-CAM uses one weight per channel, "
                            "the gradient averaged over height and width", hint)
    return failed(what, "the values differ from ReLU(sum over channels of mean-gradient x feature map)", hint)


# --------------------------------------------------------------------------- single answers from the notebook's numbers


def _as_number(answer) -> float | None:
    try:
        value = float(np.asarray(answer).item())
    except Exception:
        return None
    return value


def check_precision(answer, counts, digit: int, what: str = "Exercise", hint: str | None = None) -> bool:
    """``answer`` must be the precision of ``digit`` in the confusion matrix ``counts`` (rows = true digit).

    A recall (the row instead of the column) is named as such. An answer rounded to 4 decimals, as the
    notebook's tables print it, passes.
    """
    if is_missing(answer):
        return not_done(what, hint)
    value = _as_number(answer)
    if value is None:
        return failed(what, f"expected one number, got a {type(answer).__name__}", hint)
    counts = np.asarray(counts, dtype=float)
    precision = counts[digit, digit] / counts[:, digit].sum()
    recall = counts[digit, digit] / counts[digit, :].sum()
    if np.isclose(value, precision, rtol=0, atol=5e-5):
        return passed(what)
    if np.isclose(value, recall, rtol=0, atol=5e-5):
        return failed(what, f"{value:.4f} is the recall of {digit}: it divides by the row (the true {digit}s); "
                            f"precision divides by the column (everything predicted {digit})", hint)
    return failed(what, f"got {value:.4f}, which is not the precision of {digit}", hint)


def check_confident_mistakes(answer, y_true, probabilities, threshold: float = 0.5, what: str = "Exercise",
                             hint: str | None = None) -> bool:
    """``answer`` must count the mistakes made with a confidence above ``threshold``; common slips are named."""
    if is_missing(answer):
        return not_done(what, hint)
    value = _as_number(answer)
    if value is None or value != int(value):
        return failed(what, f"expected a whole number (a count), got {answer!r}", hint)
    proba, y_true = np.asarray(probabilities), np.asarray(y_true)
    confidence, wrong = proba.max(axis=1), proba.argmax(axis=1) != y_true
    want = int((wrong & (confidence > threshold)).sum())
    if value == want:
        return passed(what)
    if value == int(wrong.sum()):
        return failed(what, f"{int(value)} is every mistake; keep only those with confidence above {threshold}", hint)
    if value == int((confidence > threshold).sum()):
        return failed(what, f"{int(value)} counts every answer above {threshold}, right ones too; "
                            f"keep only the mistakes (argmax != y_test)", hint)
    if value == int((wrong & (confidence <= threshold)).sum()):
        return failed(what, f"{int(value)} counts the mistakes at or below {threshold}: the comparison is reversed",
                      hint)
    return failed(what, f"got {int(value)}, which is not the number of mistakes above {threshold} confidence", hint)


def check_worst_pair(answer, counts, what: str = "Exercise", hint: str | None = None) -> bool:
    """``answer`` must be a most frequent off-diagonal ``(true, predicted)`` cell of ``counts`` (ties all pass).

    A reversed ``(predicted, true)`` answer is told that rows are the true digit, columns the predicted one.
    """
    if is_missing(answer):
        return not_done(what, hint)
    try:
        pair = tuple(int(v) for v in answer)
    except Exception:
        return failed(what, f"expected a tuple of two ints (true digit, predicted digit), got {answer!r}", hint)
    if len(pair) != 2 or not all(0 <= v < len(counts) for v in pair):
        return failed(what, f"expected two digits (true digit, predicted digit), got {pair}", hint)
    off_diagonal = np.asarray(counts).copy()
    np.fill_diagonal(off_diagonal, -1)
    top = off_diagonal.max()
    if off_diagonal[pair] == top:
        return passed(what)
    true, predicted = pair
    if true == predicted:
        return failed(what, f"{pair} is on the diagonal: those are the right answers; zero the diagonal first", hint)
    if off_diagonal[predicted, true] == top:
        return failed(what, f"{pair} is reversed: rows are the true digit and columns the predicted one, so the "
                            f"cell [{predicted}, {true}] means true {predicted}, predicted {true}: "
                            f"answer ({predicted}, {true})", hint)
    return failed(what, f"{pair} occurs {int(off_diagonal[pair])} times; the most frequent off-diagonal cell "
                        f"occurs {int(top)} times", hint)


# --------------------------------------------------------------------------- McNemar's test


def _mcnemar_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, str]]:
    """Prediction arrays made here: models that disagree a little, a lot, and never."""
    rng = np.random.default_rng(20)
    cases = []
    y = rng.integers(0, 10, 400)
    a = np.where(rng.random(400) < 0.9, y, (y + rng.integers(1, 10, 400)) % 10)
    b = np.where(rng.random(400) < 0.8, y, (y + rng.integers(1, 10, 400)) % 10)
    b[:30] = (y[:30] + 1) % 10  # some digits both get wrong, in different ways ...
    a[:30] = (y[:30] + 2) % 10  # ... which McNemar must ignore
    cases.append((y, a, b, "400 digits where A is better"))
    y2 = rng.integers(0, 10, 60)
    a2, b2 = y2.copy(), y2.copy()
    a2[:3] = (y2[:3] + 1) % 10
    b2[3:5] = (y2[3:5] + 1) % 10
    cases.append((y2, a2, b2, "60 digits with 5 disagreements"))
    cases.append((y2, y2.copy(), y2.copy(), "two models that never disagree"))
    return cases


def check_mcnemar(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(y_true, pred_a, pred_b)`` must return ``(only_a_right, only_b_right, p_value)``.

    Compared with :func:`mnistlab.statistics.mcnemar_test` (exact, two-sided) on prediction arrays
    made here. Counting every disagreement in *prediction* (both wrong, differently, included)
    and an approximate or one-sided p-value are named.
    """
    from mnistlab import statistics

    if is_missing(function):
        return not_done(what, hint)
    if not callable(function):
        return failed(what, f"expected a function, got a {type(function).__name__}", hint)
    for y, a, b, label in _mcnemar_cases():
        result = call_learner(function, (y.copy(), a.copy(), b.copy()), what, hint, on=label)
        if result is NO_RESULT:
            return False
        try:
            only_a, only_b, p_value = (float(np.asarray(v).item()) for v in result)
        except Exception:
            return failed(what, "return three numbers: (only_a_right, only_b_right, p_value)", hint)
        want = statistics.mcnemar_test(y, a, b)
        if (only_a, only_b) != (want.only_a_right, want.only_b_right):
            differ_a, differ_b = int(((a != b) & (a == y)).sum()), int(((a != b) & (b == y)).sum())
            if (only_a, only_b) == (want.only_b_right, want.only_a_right):
                problem = "the two counts are swapped: the first is 'A right where B is wrong'"
            elif only_a + only_b == int((a != b).sum()) and (only_a, only_b) != (differ_a, differ_b):
                problem = ("you counted every digit where the two predictions differ; McNemar counts only those "
                           "where one model is right and the other wrong (both wrong says nothing)")
            else:
                problem = (f"you counted {only_a:g} and {only_b:g}; A right where B is wrong: "
                           f"{want.only_a_right}, B right where A is wrong: {want.only_b_right}")
            return failed(what, f"on {label}: {problem}", hint)
        if not np.isclose(p_value, want.p_value, rtol=1e-6, atol=1e-12):
            return failed(what, f"on {label} the counts are right but p = {p_value:.4g}; the exact two-sided test "
                                f"gives {want.p_value:.4g} (binomtest(only_a_right, disagreements, 0.5), "
                                f"two-sided; p = 1 when they never disagree)", hint)
    return passed(what, "(checked against statistics.mcnemar_test on predictions you had not seen)")
