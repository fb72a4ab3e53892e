"""Self-checks for notebook 08 (deployment): percentiles, quantisation by hand, an honest int8 export, the API."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mnistlab import data
from mnistlab.exercises.checks import (
    check_choice,
    check_function,
    describe_error,
    failed,
    is_missing,
    not_done,
    passed,
)

MAX_ACCURACY_DROP = 0.01  # a well-calibrated int8 model loses far less than a percentage point
_NOT_GIVEN = object()  # "the check was not given the calibration digits" (``...`` means "not done yet")


# --------------------------------------------------------------------------- Exercise 1: p95 by nearest rank


def p95_cases(seed: int | None = None) -> list[tuple]:
    """Cases for :func:`check_p95_nearest_rank`: timing-like values the learner has not seen, as lists and
    arrays, of lengths where nearest rank and NumPy's interpolating default disagree (and a single value)."""
    rng = np.random.default_rng(seed)
    cases = []
    for length, as_list in [(200, True), (37, False), (15, False), (7, True), (1, False)]:
        values = np.round(rng.lognormal(mean=0.0, sigma=0.6, size=length), 4)
        expected = float(np.percentile(values, 95, method="inverted_cdf"))  # NumPy's name for nearest rank
        cases.append(((values.tolist() if as_list else values,), expected,
                      f"{length} timing{'s' if length > 1 else ''} as a {'list' if as_list else 'NumPy array'}"))
    return cases


def check_p95_nearest_rank(function: Callable, what: str = "p95 by nearest rank", seed: int | None = None) -> bool:
    """Run the learner's ``function(values) -> float`` on unseen values: the nearest-rank 95th percentile?"""
    hint = ("sort the values; the nearest rank is the smallest rank r with r / n >= 0.95 (ranks count from 1, "
            "Python's indices from 0)")
    return check_function(function, p95_cases(seed), what, hint=hint)


# --------------------------------------------------------------------------- Exercise 2: quantise a layer


def check_quantised_kernel(scales: object, q_kernel: object, stored, what: str) -> bool:
    """The learner's per-output-channel ``scales`` and int8 ``q_kernel`` (inputs, outputs) against ``stored``,
    the :class:`mnistlab.deploy.QuantisedTensor` the converter wrote (its values are stored (outputs, inputs))."""
    hint = ("one scale per output (column), chosen so that the column's largest absolute weight maps to 127; "
            "then divide by the scale, round, keep within ±127 and store as int8")
    if is_missing(scales) or is_missing(q_kernel):
        return not_done(what, hint)
    expected_scales, expected_values = np.asarray(stored.scales, dtype=np.float64), np.asarray(stored.values).T
    try:
        scales, q_kernel = np.asarray(scales, dtype=np.float64), np.asarray(q_kernel)
    except (TypeError, ValueError) as error:
        return failed(what, f"expected arrays of numbers ({describe_error(error)})", hint)
    if scales.shape == (1, *expected_scales.shape):  # max(..., keepdims=True): the same scales
        scales = scales[0]
    if scales.shape != expected_scales.shape:
        per_input = scales.shape == (expected_values.shape[0],)
        problem = (f"`scales` has shape {scales.shape}, one per input: the converter uses one per output, shape "
                   f"{expected_scales.shape} (axis=0 takes the max over each column)" if per_input else
                   f"`scales` has shape {scales.shape}, expected one per output channel: {expected_scales.shape}")
        return failed(what, problem, hint)
    if not np.allclose(scales, expected_scales, rtol=1e-5, atol=0):
        ratio = float(np.median(scales / expected_scales))
        return failed(what, f"`scales` differ from the file's (yours are {ratio:.3g} times the converter's): "
                            f"the largest |w| of each output maps to 127", hint)
    if q_kernel.shape != expected_values.shape:
        return failed(what, f"`q_kernel` has shape {q_kernel.shape}, expected the kernel's {expected_values.shape}",
                      hint)
    if q_kernel.dtype != np.int8:
        return failed(what, f"`q_kernel` has dtype {q_kernel.dtype}: the file stores int8 (.astype(np.int8))", hint)
    differ = q_kernel.astype(np.int64) != expected_values
    if differ.any():
        first = tuple(int(i) for i in np.argwhere(differ)[0])
        return failed(what, f"{int(differ.sum())} of {differ.size} integers differ from the file's (at {first}: "
                            f"{int(q_kernel[first])}, the file has {int(expected_values[first])}): round to the "
                            f"nearest integer, do not truncate", hint)
    return passed(what, f"{len(expected_scales)} scales and {differ.size:,} integers, exactly the converter's")


# --------------------------------------------------------------------------- Exercise 3: calibrate int8


def _pixel_rows(images) -> np.ndarray:
    """Digits as rows of 784 integer pixels 0..255, whether given as uint8 pixels or as [0, 1] floats."""
    array = np.asarray(images, dtype=np.float64)
    if array.size and array.max() <= 1.0 + 1e-6:
        array = array * 255
    return np.clip(np.round(array), 0, 255).astype(np.uint8).reshape(len(array), -1)


def _rows_found_in(rows: np.ndarray, digits) -> np.ndarray:
    """Which of ``rows`` (pixel rows) are exactly one of ``digits``."""
    known = {row.tobytes() for row in _pixel_rows(digits)}
    return np.array([row.tobytes() in known for row in rows], dtype=bool)


def _check_calibration(calibration, test_digits, what: str, hint: str | None) -> bool | None:
    """``False`` (after printing why) when the calibration digits are wrongly prepared or come from the test
    set; ``None`` when they look right."""
    try:
        array = np.asarray(calibration, dtype=np.float64)
    except (TypeError, ValueError) as error:
        return failed(what, f"`calibration` should be an array of digits ({describe_error(error)})", hint)
    if array.ndim != 4 or array.shape[1:] != data.INPUT_SHAPE or len(array) == 0:
        return failed(what, f"`calibration` has shape {array.shape}; the model takes (N, 28, 28, 1)", hint)
    if array.max() > 1.0 + 1e-6:
        return failed(what, f"`calibration` pixels go up to {array.max():g}: the model takes pixels scaled to [0, 1], "
                            f"so the int8 ranges would not fit real input", hint)
    if test_digits is None:
        _, (test_digits, _) = data.load_mnist()
    from_test = _rows_found_in(_pixel_rows(array), test_digits)
    if from_test.any():
        return failed(what, f"calibrated on test digits: {int(from_test.sum())} of your {len(array)} calibration "
                            f"digits are test digits. Calibrate on training digits (x_train), so that the test "
                            f"accuracy of the int8 model stays an honest estimate", hint)
    return None


def check_int8_export(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray, reference_accuracy: float,
                      what: str, hint: str | None = None, default_export: str | os.PathLike | None = None,
                      calibration: object = _NOT_GIVEN, model=None, test_digits: np.ndarray | None = None) -> bool:
    """Pass when ``path`` is a full-int8 TFLite file whose accuracy on ``images`` is close to ``reference_accuracy``.

    A wrong answer is told which of the usual mistakes it looks like: no file, a float model (``int8``
    forgotten), or a model calibrated on images that were not scaled like the model's input. With
    ``default_export`` (the file exported with the library's own calibration digits), a file with the
    same bytes fails too: the conversion is deterministic, so it was not calibrated on the learner's images.

    With ``calibration`` (the learner's representative digits) the digits themselves are checked: shaped
    and scaled like the model's input, and none of them a test digit (``test_digits``, default MNIST's
    10,000), compared pixel by pixel. With ``model`` as well, the file must be the conversion of ``model``
    calibrated on exactly those digits (about a second), so the digits checked are the ones that were used.
    """
    from mnistlab import deploy

    if is_missing(path) or is_missing(calibration):
        return not_done(what, hint)
    if not isinstance(path, str | os.PathLike) or not Path(path).is_file():
        return failed(what, f"{path!r} is not a file: store the path that deploy.export_tflite returned", hint)
    if calibration is not _NOT_GIVEN:
        verdict = _check_calibration(calibration, test_digits, what, hint)
        if verdict is not None:
            return verdict
    if default_export is not None and Path(default_export).is_file() and (
        Path(path).read_bytes() == Path(default_export).read_bytes()
    ):
        return failed(what, "this is the file exported with the library's own 300 calibration digits, not one "
                            "calibrated on your digits: pass them as representative=...", hint)
    try:
        predictor = deploy.LiteRTPredictor(path)
        if predictor.input_dtype != np.uint8:
            return failed(what, f"the model takes {predictor.input_dtype} input, so it is not fully integer: "
                                f"pass int8=True", hint)
        if calibration is not _NOT_GIVEN and model is not None and (
            deploy.convert(model, int8=True, representative=np.asarray(calibration, dtype=np.float32))
            != Path(path).read_bytes()
        ):
            return failed(what, "the file is not the int8 export of the model calibrated on `calibration`: "
                                "export with representative=calibration", hint)
        accuracy = float((deploy.predict_labels(predictor, images) == np.asarray(labels)).mean())
    except Exception as error:
        return failed(what, f"the file could not be run ({describe_error(error)})", hint)
    if accuracy < reference_accuracy - MAX_ACCURACY_DROP:
        return failed(what, f"it reads {accuracy:.2%} of the digits right against {reference_accuracy:.2%} for the "
                            f"Keras model: the int8 ranges do not fit real input. Were the calibration images "
                            f"scaled to [0, 1] with a channel axis, like the model's input?", hint)
    source = "" if calibration is _NOT_GIVEN else f", calibrated on {len(calibration)} training digits"
    return passed(what, f"int8 model at {accuracy:.2%} (Keras {reference_accuracy:.2%}){source}")


# --------------------------------------------------------------------------- Exercise 4: what calibration is for

REPRESENTATIVE_OPTIONS = {
    "a": "fine-tune the weights so that they survive rounding",
    "b": "measure the range of every layer's activations, which sets their int8 scales and zero points",
    "c": "measure the range of the weights, which sets their int8 scales",
    "d": "compress the file by storing only the digits it contains",
}


def check_representative_purpose(answer: object, what: str = "representative dataset") -> bool:
    """Exercise 4 of notebook 08 (multiple choice): what the converter needs the representative dataset for."""
    return check_choice(answer, "b", REPRESENTATIVE_OPTIONS, what, why={
        "a": "Post-training quantisation changes no weight by training; quantisation-aware training would.",
        "b": "Weights are known constants, but activations depend on the input: only real inputs show their range.",
        "c": "The weights are in the model already: their ranges need no data (see section 5).",
        "d": "The file holds no images at all; the data is used during conversion only.",
    })


# --------------------------------------------------------------------------- Exercise 5: the JSON API


def check_api_number(answer: object, expected: str, what: str, hint: str | None = None) -> bool:
    """The number the API read (a string, as the JSON holds it) against what the library reads."""
    hint = hint or ("post the picture's bytes as the file field of a multipart form to /api/number, "
                    "then read the number from the JSON reply")
    if is_missing(answer):
        return not_done(what, hint)
    if isinstance(answer, dict):
        keys = ", ".join(repr(key) for key in list(answer)[:5])
        return failed(what, f"you stored the whole JSON answer (a dict with keys {keys}); the exercise asks for "
                            f"its \"number\" entry", hint)
    if hasattr(answer, "status_code") and hasattr(answer, "json"):
        return failed(what, f"you stored the HTTP response (status {answer.status_code}); call .json() and take "
                            f"its \"number\" entry", hint)
    if isinstance(answer, int | float | np.number) and not isinstance(answer, bool):
        same = str(answer) == expected
        return failed(what, f"you stored the number {answer!r} as a {type(answer).__name__}"
                            f"{' (the right digits)' if same else ''}; the API answers a string, which can hold "
                            f"'?' for a digit it is unsure of: store it as it comes", hint)
    if not isinstance(answer, str):
        return failed(what, f"expected a string, got a {type(answer).__name__}", hint)
    if answer != expected:
        return failed(what, f"got {answer[:40]!r}, but the library reads {expected!r} in the same picture: did "
                            f"you send number_00.jpg to /api/number?", hint)
    return passed(what, f"the API read {answer!r}, like the library")
