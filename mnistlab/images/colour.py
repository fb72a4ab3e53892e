"""Section 2.2, colour and grey: one grey image in which the writing stands out, at a working size."""

from __future__ import annotations

from typing import Literal, TypeAlias

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

# Which grey the pipeline reads the writing from (see strongest_grey).
GreyChannel: TypeAlias = Literal["brightness", "red", "green", "blue", "colour distance"]


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
    # Pillow's own 8-bit luma (ITU-R 601: 0.299 R + 0.587 G + 0.114 B), ten times faster than in floats.
    grey = image.convert("L")
    if image.mode in ("L", "RGB") or image.getchannel("A").getextrema()[0] == 255:
        return np.asarray(grey, dtype=np.float32) / 255.0
    alpha = image.getchannel("A")
    step = max(1, int((alpha.width * alpha.height / 65_536) ** 0.5))  # ~65,000 pixels tell the average
    weights = np.asarray(alpha, dtype=np.float64)[::step, ::step]
    values = np.asarray(grey, dtype=np.float64)[::step, ::step] / 255.0
    content = float((values * weights).sum() / weights.sum()) if weights.sum() > 0 else 0.0
    background = Image.new("L", grey.size, 255 if content < 0.5 else 0)  # contrast with what is drawn
    return np.asarray(Image.composite(grey, background, alpha), dtype=np.float32) / 255.0


RESIZABLE_MODES = ("L", "LA", "RGB", "RGBA", "I", "F", "CMYK", "I;16", "I;16L", "I;16B")


def working_image(image: Image.Image, max_side: int = WORK_SIZE) -> Image.Image:
    """The picture shrunk so its longest side is at most :data:`WORK_SIZE`, first of all.

    Area averaging (``Image.BOX``), so a thin line fades but does not vanish; done on the
    8-bit picture before anything is turned into floats, so a 12-megapixel photo costs about
    what a 1-megapixel one does. Palette and 1-bit images are converted first (Pillow could
    only resize them by dropping pixels).
    """
    size = working_size(image.width, image.height, max_side)
    if size == image.size:
        return image
    if image.mode not in RESIZABLE_MODES:
        image = image.convert("RGBA" if "A" in image.mode or "transparency" in image.info
                              else "L" if image.mode == "1" else "RGB")
    return image.resize(size, Image.BOX)


def _opaque_rgb(image: Image.Image) -> np.ndarray | None:
    """The working-size uint8 RGB array of an opaque, colourful image; ``None`` when brightness is all there is.

    Grey images, images with transparency (see :func:`to_grey`) and colour images whose pixels
    are nearly all grey (the 99th percentile of max - min channel under :data:`GREY_CHROMA`) give ``None``.
    """
    if image.mode in ("1", "L", "LA", "I", "F", "PA") or image.mode.startswith("I;16"):
        return None
    transparent = "A" in image.mode or "transparency" in image.info
    if transparent and image.convert("RGBA").getchannel("A").getextrema()[0] < 255:
        return None
    rgb = np.asarray(working_image(image).convert("RGB"))
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]  # in uint8: no float copy of a big photo
    spread = (np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)).ravel()
    percentile_99 = int(np.searchsorted(np.cumsum(np.bincount(spread, minlength=256)), 0.99 * spread.size))
    return rgb if percentile_99 >= GREY_CHROMA * 255 else None


def _channels(rgb: np.ndarray) -> dict[GreyChannel, np.ndarray]:
    values = rgb.astype(np.float32) / 255.0
    return {"red": np.ascontiguousarray(values[..., 0]), "green": np.ascontiguousarray(values[..., 1]),
            "blue": np.ascontiguousarray(values[..., 2])}


def colour_channels(image: Image.Image) -> dict[GreyChannel, np.ndarray]:
    """The red, green and blue channels of an opaque colour image as greys in [0, 1]; ``{}`` otherwise.

    The channels come at the working size (see :func:`working_image`), like the brightness image.
    Grey images, images with transparency (see :func:`to_grey`) and colour images whose pixels
    are all nearly grey give ``{}``: for them brightness is all there is.
    """
    rgb = _opaque_rgb(image)
    return {} if rgb is None else _channels(rgb)


def contrast_score(grey: np.ndarray) -> float:
    """How strongly the strongest marks stand out from the typical pixel, in units of the noise.

    Deliberately rough (no lighting correction): it only ranks channels of one picture.
    """
    residual = grey - float(np.median(grey))
    strength = max(tail_strength(residual.ravel()), tail_strength(-residual.ravel()))
    return strength / max(noise_level(residual), 0.005)


def colour_distance(channels: dict[GreyChannel, np.ndarray]) -> np.ndarray:
    """How far each pixel's colour is from the colour of the background around it, in [0, 1].

    The background colour is estimated per channel like the lighting (see
    :func:`mnistlab.images.background.estimate_background`), so it follows a gradient from one
    colour to another; the writing is whatever differs from it, in any direction of colour.
    The result is light ink (large distance) on a dark background (zero distance).
    """
    rgb = np.stack([channels[name] for name in ("red", "green", "blue")], axis=-1)
    local = np.stack([estimate_background(channels[name]) for name in ("red", "green", "blue")], axis=-1)
    return (np.sqrt(((rgb - local) ** 2).sum(axis=-1)) / np.sqrt(3)).astype(np.float32)


def strongest_grey(image: Image.Image, grey: np.ndarray | None = None) -> tuple[np.ndarray, GreyChannel]:
    """``(grey, channel)``: brightness, or the colour view in which the writing stands out far more.

    Brightness serves nearly every picture, but coloured ink about as bright as its paper (a
    yellow or light-green pen on white, red on green) all but disappears in it, while one of
    the red, green or blue channels still shows it clearly; and a saturated pen on a
    multi-colour gradient is best told apart by its colour distance from the background around
    it (:func:`colour_distance`). The colour distance is used when the strongest marks differ
    from their surround :data:`COLOUR_ADVANTAGE` times more in colour than in brightness; a
    channel when its :func:`contrast_score` is :data:`CHANNEL_ADVANTAGE` times that of brightness.
    ``grey`` is the brightness at the working size, computed here when not given.
    """
    if grey is None:
        grey = limit_size(to_grey(image))
    rgb = _opaque_rgb(image)
    if rgb is None:
        return grey, "brightness"
    # Scored on small copies: only the ranking matters, and it costs a few milliseconds.
    small = _channels(np.asarray(Image.fromarray(rgb).resize(working_size(rgb.shape[1], rgb.shape[0], SCORE_SIZE),
                                                             Image.BOX)))
    small_grey = limit_size(grey, SCORE_SIZE)
    # Colour distance against brightness's own distance from its background: the same measure, so
    # ink that differs from its surround in brightness (nearly all ink) scores alike in both.
    by_colour = tail_strength(colour_distance(small).ravel())
    by_brightness = tail_strength(np.abs(small_grey - estimate_background(small_grey)).ravel())
    if by_colour >= COLOUR_ADVANTAGE * by_brightness:
        return colour_distance(_channels(rgb)), "colour distance"
    scores = {name: contrast_score(channel) for name, channel in small.items()}
    best = max(scores, key=scores.__getitem__)
    if scores[best] < CHANNEL_ADVANTAGE * contrast_score(small_grey):
        return grey, "brightness"
    return _channels(rgb)[best], best


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
