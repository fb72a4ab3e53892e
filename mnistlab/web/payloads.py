"""JSON bodies the web API returns: predictions, numbers and pipeline-step thumbnails."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image

from mnistlab.inference import NumberReading, Prediction

STEP_THUMBNAIL = 112  # px, longest side of a pipeline-step picture on the page


def prediction_json(prediction: Prediction) -> dict[str, Any]:
    """``{"digit", "confidence", "top3", "status", "message", "open_set_score"}`` for one prediction.

    ``confidence`` and ``top3`` are calibrated (the model's decision rule); ``message`` says why when
    ``status`` is not "ok".
    """
    return {
        "digit": prediction.digit,
        "confidence": round(float(prediction.confidence), 6),
        "top3": [{"digit": int(d), "probability": round(float(p), 6)} for d, p in prediction.top3],
        "status": prediction.status,
        "message": prediction.message,
        "open_set_score": round(float(prediction.open_set_score), 6),
    }


def number_json(reading: NumberReading) -> dict[str, Any]:
    """The number read left to right (``?`` for a digit not read confidently) and every piece's answer.

    Pieces that are not digits are left out of ``number`` and ``confidence``; ``message`` lists them.
    """
    kept = reading.kept
    status = "not-a-digit" if not kept else "ok" if all(p.status == "ok" for p in kept) else "unsure"
    return {
        "number": reading.text,
        "confidence": round(reading.confidence, 6),
        "status": status,
        "message": reading.skipped_note(),
        "digits": [prediction_json(p) for p in reading.digits],
    }


def no_number_json(message: str) -> dict[str, Any]:
    """What ``/api/number`` answers for a picture without any digit (a blank page)."""
    return {"number": "", "confidence": 0.0, "status": "not-a-digit", "message": message, "digits": []}


def _as_uint8(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    if image.dtype == bool:
        return image.astype(np.uint8) * 255
    image = image.astype(np.float32)
    top = float(image.max()) if image.size else 0.0
    scale = 255.0 if top <= 1.0 else 255.0 / top  # flattened "ink" images can exceed 1
    return np.clip(image * scale, 0, 255).astype(np.uint8)


def png_data_url(image: np.ndarray, size: int = STEP_THUMBNAIL) -> str:
    """A small PNG of a pipeline image as a ``data:`` URL, ready for an ``<img src>``."""
    picture = Image.fromarray(np.squeeze(_as_uint8(image)))
    if max(picture.size) > size:
        picture.thumbnail((size, size), Image.Resampling.BILINEAR)
    else:  # enlarge tiny images (the 28x28 result) with visible pixels
        factor = max(1, size // max(picture.size))
        picture = picture.resize((picture.width * factor, picture.height * factor), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def steps_json(steps) -> list[dict[str, str]]:
    """Every step of :class:`mnistlab.images.PipelineSteps` as ``{"name", "image"}`` in pipeline order."""
    if steps is None:
        return []
    return [{"name": name, "image": png_data_url(image)} for name, image in steps]
