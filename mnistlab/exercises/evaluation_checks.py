"""Self-checks for notebook 05: metrics from a confusion matrix and one Grad-CAM step, on unseen cases."""

from __future__ import annotations

import numpy as np

from mnistlab.exercises.checks import describe_error, failed, is_missing, not_done, not_written, passed

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
        try:
            result = function(counts.copy())
        except NotImplementedError:
            return not_written(what, hint)
        except Exception as error:
            return failed(what, f"on {label} your function raised {describe_error(error)}", hint)
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
    try:
        result = function(feature_maps.copy(), gradients.copy())
    except NotImplementedError:
        return not_written(what, hint)
    except Exception as error:
        return failed(what, f"your function raised {describe_error(error)}", hint)
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
