"""Self-checks for notebooks 05 and 06 on cases the learner has not seen."""

# Metrics from a confusion matrix, the most confused pair, McNemar, calibration (ECE, temperature scaling,
# the coverage-accuracy curve) and one Grad-CAM step.


from __future__ import annotations

import numpy as np

from mnistlab.exercises.checks import (
    NO_RESULT,
    call_learner,
    failed,
    learner_array,
    passed,
    require_function,
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
    if not require_function(function, what, hint):
        return False
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
    if not require_function(function, what, hint):
        return False
    rng = np.random.default_rng(9)
    feature_maps = np.maximum(rng.normal(size=(3, 5, 4, 6)), 0.0)
    gradients = rng.normal(size=(3, 5, 4, 6))
    want = _cam_reference(feature_maps, gradients)
    got = learner_array(function, (feature_maps.copy(), gradients.copy()), what, hint)
    if got is NO_RESULT:
        return False
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

    if not require_function(function, what, hint):
        return False
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


# --------------------------------------------------------------------------- calibration (reference: calibration.py)


def _random_logits(rng, n: int, sharpness: float) -> tuple[np.ndarray, np.ndarray]:
    """Class scores of a made-up 10-class model and labels drawn from its own softmax(raw scores).

    The scores returned are the raw ones times ``sharpness``: below 1 the model is under-confident
    (the best temperature is about ``sharpness``), above 1 over-confident.
    """
    from scipy import special

    raw = rng.normal(size=(n, 10)) * 2.0
    raw[np.arange(n), rng.integers(0, 10, n)] += 4.0
    y = np.array([rng.choice(10, p=p) for p in special.softmax(raw, axis=1)])
    return raw * sharpness, y


def _calibration_cases() -> list[tuple[np.ndarray, np.ndarray, int, str]]:
    """(labels, probabilities, bins, label): over- and under-confident models, rows exactly sure, 5 bins."""
    from scipy import special

    rng = np.random.default_rng(23)
    logits, y_over = _random_logits(rng, 600, 2.0)
    over = special.softmax(logits, axis=1)
    logits, y_under = _random_logits(rng, 500, 0.4)
    under = special.softmax(logits, axis=1)
    under[:25] = np.eye(10)[rng.integers(0, 10, 25)]  # confidence exactly 1: it belongs in the last bin
    # Mixed: over-confident bins and under-confident ones, whose gaps must not cancel
    mixed_y, mixed = np.concatenate([y_over, y_under]), np.concatenate([over, under])
    return [(y_over, over, 10, "600 predictions of an over-confident model"),
            (y_under, under, 10, "500 predictions of an under-confident model, 25 of them exactly 1.0"),
            (mixed_y, mixed, 10, "both models' 1,100 predictions together"),
            (mixed_y, mixed, 5, "the same 1,100 predictions in 5 bins")]


def _bin_parts(y, proba, bins):
    confidence, correct = proba.max(axis=1), proba.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    filled = [b for b in range(bins) if (which == b).any()]
    gaps = np.array([confidence[which == b].mean() - correct[which == b].mean() for b in filled])
    return confidence, correct, gaps


def check_expected_calibration_error(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(y_true, probabilities, bins)`` must return :func:`mnistlab.calibration.expected_calibration_error`.

    Run on probabilities made here (over- and under-confident, some exactly 1, 10 and 5 bins).
    Averaging the bins equally, one overall gap, a signed gap and ignoring ``bins`` are named.
    """
    from mnistlab import calibration

    if not require_function(function, what, hint):
        return False
    for y, proba, bins, label in _calibration_cases():
        result = call_learner(function, (y.copy(), proba.copy(), bins), what, hint, on=label)
        if result is NO_RESULT:
            return False
        value = _as_number(result)
        if value is None:
            return failed(what, f"expected one number, got a {type(result).__name__}", hint)
        want = calibration.expected_calibration_error(y, proba, bins)
        if np.isclose(value, want, rtol=0, atol=1e-6):
            continue
        confidence, correct, gaps = _bin_parts(y, proba, bins)
        if np.isclose(value, np.abs(gaps).mean(), atol=1e-6) or np.isclose(value, np.abs(gaps).sum() / bins, atol=1e-6):
            problem = "you averaged the bins' gaps equally; weight each bin by its share of the predictions (n_b / N)"
        elif np.isclose(value, abs(confidence.mean() - correct.mean()), atol=1e-6):
            problem = ("that is |mean confidence - accuracy| over all predictions, one bin where over- and "
                       "under-confident predictions cancel: take |confidence - accuracy| in each bin")
        elif bins != 10 and np.isclose(value, calibration.expected_calibration_error(y, proba, 10), atol=1e-6):
            problem = f"asked for {bins} bins you used 10: use the bins argument"
        else:
            problem = "the value differs"
        return failed(what, f"on {label} your ECE is {value:.4f}, the reference gives {want:.4f}: {problem}", hint)
    return passed(what, "(checked against calibration.expected_calibration_error on predictions you had not seen)")


def check_softmax_with_temperature(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(logits, temperature)`` must return ``softmax(logits / temperature)`` row by row.

    Multiplying by T, a softmax over the wrong axis and overflow on large scores (no max subtracted) are named.
    """
    from scipy import special

    if not require_function(function, what, hint):
        return False
    rng = np.random.default_rng(31)
    logits = rng.normal(size=(40, 10)) * 3
    cases = [(logits, 0.5, "scores of 40 made-up digits at T = 0.5"), (logits, 2.0, "the same at T = 2"),
             (logits * 150, 0.5, "large scores (up to about 1,500 / T) at T = 0.5")]
    for scores, temperature, label in cases:
        with np.errstate(all="ignore"):
            got = learner_array(function, (scores.copy(), temperature), what, hint, on=label)
        if got is NO_RESULT:
            return False
        want = special.softmax(scores / temperature, axis=-1)
        if got.shape != want.shape:
            return failed(what, f"on {label} the result has shape {got.shape}; expected {want.shape}, "
                                f"one row of probabilities per row of scores", hint)
        if np.allclose(got, want, atol=1e-6):
            continue
        if not np.isfinite(got).all():
            problem = ("the result holds NaN or inf: exp overflows on large scores; subtract each row's maximum "
                       "first (softmax(z) = softmax(z - max z))")
        elif np.allclose(got, special.softmax(scores * temperature, axis=-1), atol=1e-6):
            problem = "you multiplied the scores by T; temperature scaling divides them: softmax(logits / T)"
        elif not np.allclose(got.sum(axis=-1), 1, atol=1e-6):
            problem = "the rows do not sum to 1: normalise each row (sum over axis=-1 with keepdims=True)"
        else:
            problem = "the probabilities differ from softmax(logits / T)"
        return failed(what, f"on {label}: {problem}", hint)
    return passed(what)


def check_fit_temperature(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(logits, labels)`` must return the T minimising the NLL of ``softmax(logits / T)``.

    Two made-up models (under-confident, best T about 0.4; over-confident, about 2.5). A T within
    5 % of :func:`mnistlab.calibration.fit_temperature`'s, or whose NLL is within 0.1 % of the best,
    passes (a grid search is fine). 1/T (multiplying) and a search that never leaves T = 1 are named.
    """
    from mnistlab import calibration

    if not require_function(function, what, hint):
        return False
    rng = np.random.default_rng(37)
    for sharpness, kind in ((0.4, "under"), (2.5, "over")):
        logits, y = _random_logits(rng, 1500, sharpness)
        label = f"1,500 scores of an {kind}-confident model"
        with np.errstate(all="ignore"):
            result = call_learner(function, (logits.copy(), y.copy()), what, hint, on=label)
        if result is NO_RESULT:
            return False
        value = _as_number(result)
        if value is None or not np.isfinite(value) or value <= 0:
            return failed(what, f"on {label}: expected one positive temperature, got {result!r}", hint)
        best = calibration.fit_temperature(logits, y)
        best_nll = calibration.negative_log_likelihood(logits, y, best)
        nll = calibration.negative_log_likelihood(logits, y, value)
        if abs(value - best) <= 0.05 * best or nll - best_nll <= 1e-3 * best_nll:
            continue
        if abs(1 / value - best) <= 0.05 * best:
            problem = ("that is 1 / T: you multiplied the scores by T somewhere; temperature scaling divides them, "
                       "softmax(logits / T)")
        elif abs(value - 1) < 1e-3:
            problem = "T stayed at 1: did the search include temperatures below and above 1?"
        else:
            problem = f"its mean NLL is {nll:.4f}, at the best T it is {best_nll:.4f}"
        return failed(what, f"on {label} you found T = {value:.3f}, the NLL is lowest at T = {best:.3f}: {problem}",
                      hint)
    return passed(what, "(checked against calibration.fit_temperature on scores you had not seen)")


def check_coverage_accuracy(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(y_true, probabilities, thresholds)`` must return ``(coverage, accuracy)``, one value per threshold.

    An answer is kept when its confidence is at least the threshold; accuracy is that of the kept
    answers (:func:`mnistlab.calibration.coverage_accuracy_curve`). Dividing by all answers, a
    reversed comparison and a swapped pair are named.
    """
    from scipy import special

    from mnistlab import calibration

    if not require_function(function, what, hint):
        return False
    rng = np.random.default_rng(41)
    logits, y = _random_logits(rng, 700, 1.0)
    proba = special.softmax(logits, axis=1)
    thresholds = np.array([0.0, 0.35, 0.5, 0.6, 0.75, 0.9])
    label = "700 made-up predictions and thresholds 0, 0.35, 0.5, 0.6, 0.75, 0.9"
    result = call_learner(function, (y.copy(), proba.copy(), thresholds.copy()), what, hint, on=label)
    if result is NO_RESULT:
        return False
    try:
        coverage, accuracy = (np.asarray(part, dtype=float).ravel() for part in result)
    except Exception:
        return failed(what, "return two arrays: (coverage, accuracy), one value per threshold", hint)
    _, want_coverage, want_accuracy = calibration.coverage_accuracy_curve(y, proba, thresholds)
    if coverage.shape != want_coverage.shape or accuracy.shape != want_accuracy.shape:
        return failed(what, f"for {len(thresholds)} thresholds return {len(thresholds)} coverages and "
                            f"{len(thresholds)} accuracies, got {coverage.size} and {accuracy.size}", hint)
    if np.allclose(coverage, want_coverage, atol=1e-9) and np.allclose(accuracy, want_accuracy, atol=1e-9):
        return passed(what, "(checked against calibration.coverage_accuracy_curve on predictions you had not seen)")
    confidence = proba.max(axis=1)
    if np.allclose(coverage, want_accuracy, atol=1e-9) and np.allclose(accuracy, want_coverage, atol=1e-9):
        problem = "coverage and accuracy are swapped: return (coverage, accuracy)"
    elif np.allclose(accuracy, want_accuracy * want_coverage, atol=1e-9):
        problem = ("your accuracy divides the right answers kept by ALL answers; it is the accuracy of the kept "
                   "answers: right and kept / kept")
    elif np.allclose(coverage, [(confidence < t).mean() for t in thresholds], atol=1e-9):
        problem = "the comparison is reversed: an answer is kept when its confidence is at least the threshold"
    elif np.allclose(coverage, want_coverage, atol=1e-9):
        problem = f"coverage is right but accuracy is {np.round(accuracy, 4)}, expected {np.round(want_accuracy, 4)}"
    else:
        problem = f"coverage {np.round(coverage, 4)}, expected {np.round(want_coverage, 4)}"
    return failed(what, f"on {label}: {problem}", hint)
