"""Self-checks for notebook 08 (deployment): an int8 export that really is int8 and still reads digits."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mnistlab.exercises.checks import describe_error, failed, is_missing, not_done, passed

MAX_ACCURACY_DROP = 0.01  # a well-calibrated int8 model loses far less than a percentage point


def check_int8_export(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray, reference_accuracy: float,
                      what: str, hint: str | None = None, default_export: str | os.PathLike | None = None) -> bool:
    """Pass when ``path`` is a full-int8 TFLite file whose accuracy on ``images`` is close to ``reference_accuracy``.

    A wrong answer is told which of the usual mistakes it looks like: no file, a float model (``int8``
    forgotten), or a model calibrated on images that were not scaled like the model's input. With
    ``default_export`` (the file exported with the library's own calibration digits), a file with the
    same bytes fails too: the conversion is deterministic, so it was not calibrated on the learner's images.
    """
    from mnistlab import deploy

    if is_missing(path):
        return not_done(what, hint)
    if not isinstance(path, str | os.PathLike) or not Path(path).is_file():
        return failed(what, f"{path!r} is not a file: store the path that deploy.export_tflite returned", hint)
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
        accuracy = float((deploy.predict_labels(predictor, images) == np.asarray(labels)).mean())
    except Exception as error:
        return failed(what, f"the file could not be run ({describe_error(error)})", hint)
    if accuracy < reference_accuracy - MAX_ACCURACY_DROP:
        return failed(what, f"it reads {accuracy:.2%} of the digits right against {reference_accuracy:.2%} for the "
                            f"Keras model: the int8 ranges do not fit real input. Were the calibration images "
                            f"scaled to [0, 1] with a channel axis, like the model's input?", hint)
    return passed(what, f"int8 model at {accuracy:.2%} (Keras {reference_accuracy:.2%})")
