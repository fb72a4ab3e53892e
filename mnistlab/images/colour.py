"""Section 2, colour and grey: one grey image in which the writing stands out, at a working size."""

from __future__ import annotations

import numpy as np
from PIL import Image

from mnistlab.images.background import estimate_background
from mnistlab.images.constants import (
    CHANNEL_ADVANTAGE,
    COLOUR_ADVANTAGE,
    GREY_CHROMA,
    SCORE_SIZE,
    WORK_SIZE,
)
from mnistlab.images.measure import noise_level, tail_strength


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def to_grey(image: Image.Image) -> np.ndarray:
    """Grey float32 in [0, 1] (0 black, 1 white) from any PIL mode.

    Transparent pixels are composited on the background that contrasts with the opaque
    content: black strokes on a transparent canvas land on white, white strokes on black.
    16- and 32-bit images are scaled by their bit depth.
    """
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return (np.asarray(image, dtype=np.float64) / 65535.0).astype(np.float32)
    if mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        high = float(values.max()) if values.size else 0.0
        scale = 1.0 if (mode == "F" and high <= 1.0) else 255.0 if high <= 255 else 65535.0
        if high > 65535 or values.min() < 0:
            values, scale = values - values.min(), max(np.ptp(values), 1e-9)
        return np.clip(values / scale, 0, 1).astype(np.float32)
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in mode or "transparency" in image.info else "RGB")
    array = np.asarray(image, dtype=np.float32) / 255.0
    if image.mode == "L":
        return array
    if image.mode == "RGB":
        return _luminance(array).astype(np.float32)
    colour, alpha = array[..., :-1], array[..., -1]
    grey = colour[..., 0] if image.mode == "LA" else _luminance(colour)
    if alpha.min() >= 1.0:
        return grey.astype(np.float32)
    weight = alpha.sum()
    content = float((grey * alpha).sum() / weight) if weight > 0 else 0.0
    background = 1.0 if content < 0.5 else 0.0  # contrast with what is drawn
    return (grey * alpha + background * (1 - alpha)).astype(np.float32)


def colour_channels(image: Image.Image) -> dict[str, np.ndarray]:
    """The red, green and blue channels of an opaque colour image as greys in [0, 1]; ``{}`` otherwise.

    The channels come at the working size (see :func:`limit_size`), like the brightness image.

    Grey images, images with transparency (see :func:`to_grey`) and colour images whose pixels
    are all nearly grey give ``{}``: for them brightness is all there is.
    """
    if image.mode in ("1", "L", "LA", "I", "F", "PA") or image.mode.startswith("I;16"):
        return {}
    if "A" in image.mode or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA"))
        if rgba[..., 3].min() < 255:
            return {}
    rgb_image = image.convert("RGB")
    size = working_size(rgb_image.width, rgb_image.height)
    if size != rgb_image.size:  # shrink first: a 50-megapixel photo as float RGB would need 600 MB
        rgb_image = rgb_image.resize(size, Image.BOX)
    rgb = np.asarray(rgb_image, dtype=np.float32) / 255.0
    if float(np.percentile(rgb.max(axis=-1) - rgb.min(axis=-1), 99)) < GREY_CHROMA:
        return {}
    return {name: np.ascontiguousarray(rgb[..., k]) for k, name in enumerate(("red", "green", "blue"))}


def contrast_score(grey: np.ndarray) -> float:
    """How strongly the strongest marks stand out from the typical pixel, in units of the noise.

    Deliberately rough (no lighting correction): it only ranks channels of one picture.
    """
    residual = grey - float(np.median(grey))
    strength = max(tail_strength(residual.ravel()), tail_strength(-residual.ravel()))
    return strength / max(noise_level(residual), 0.005)


def colour_distance(channels: dict[str, np.ndarray]) -> np.ndarray:
    """How far each pixel's colour is from the colour of the background around it, in [0, 1].

    The background colour is estimated per channel like the lighting (see
    :func:`mnistlab.images.background.estimate_background`), so it follows a gradient from one
    colour to another; the writing is whatever differs from it, in any direction of colour.
    The result is light ink (large distance) on a dark background (zero distance).
    """
    rgb = np.stack([channels[name] for name in ("red", "green", "blue")], axis=-1)
    local = np.stack([estimate_background(channels[name]) for name in ("red", "green", "blue")], axis=-1)
    return (np.sqrt(((rgb - local) ** 2).sum(axis=-1)) / np.sqrt(3)).astype(np.float32)


def strongest_grey(image: Image.Image, grey: np.ndarray) -> tuple[np.ndarray, str]:
    """``(grey, channel)``: brightness, or the colour view in which the writing stands out far more.

    Brightness serves nearly every picture, but coloured ink about as bright as its paper (a
    yellow or light-green pen on white, red on green) all but disappears in it, while one of
    the red, green or blue channels still shows it clearly; and a saturated pen on a
    multi-colour gradient is best told apart by its colour distance from the background around
    it (:func:`colour_distance`). The colour distance is used when the strongest marks differ
    from their surround :data:`COLOUR_ADVANTAGE` times more in colour than in brightness; a
    channel when its :func:`contrast_score` is :data:`CHANNEL_ADVANTAGE` times that of brightness.
    """
    channels = colour_channels(image)
    if not channels:
        return grey, "brightness"
    # Scored on small copies: only the ranking matters, and it costs a few milliseconds.
    small = {name: limit_size(channel, SCORE_SIZE) for name, channel in channels.items()}
    small_grey = limit_size(grey, SCORE_SIZE)
    # Colour distance against brightness's own distance from its background: the same measure, so
    # ink that differs from its surround in brightness (nearly all ink) scores alike in both.
    by_colour = tail_strength(colour_distance(small).ravel())
    by_brightness = tail_strength(np.abs(small_grey - estimate_background(small_grey)).ravel())
    if by_colour >= COLOUR_ADVANTAGE * by_brightness:
        return colour_distance(channels), "colour distance"
    scores = {name: contrast_score(channel) for name, channel in small.items()}
    best = max(scores, key=scores.get)
    if scores[best] < CHANNEL_ADVANTAGE * contrast_score(small_grey):
        return grey, "brightness"
    return channels[best], best


def working_size(width: int, height: int, max_side: int = WORK_SIZE) -> tuple[int, int]:
    """``(width, height)`` shrunk so the longest side is at most ``max_side``, keeping the aspect ratio."""
    if max(height, width) <= max_side:
        return width, height
    factor = max_side / max(height, width)
    return max(1, round(width * factor)), max(1, round(height * factor))


def limit_size(grey: np.ndarray, max_side: int = WORK_SIZE) -> np.ndarray:
    """Shrink so the longest side is at most ``max_side`` (area averaging, so thin lines fade, not vanish)."""
    height, width = grey.shape
    size = working_size(width, height, max_side)
    if size == (width, height):
        return grey
    return np.asarray(Image.fromarray(grey).resize(size, Image.BOX), dtype=np.float32)
