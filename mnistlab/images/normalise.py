"""Section 2.6, MNIST normalisation: crop, stroke width, the 20-pixel box and the centre of mass in 28x28."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from mnistlab.images.constants import (
    BOX_SIZE,
    CORE_PERCENTILE,
    CROP_PAD,
    HYSTERESIS_LOW,
    MNIST_BOX_RANGE,
    MNIST_CENTRE,
    MNIST_CENTRE_REACH,
    MNIST_CLUTTER,
    MNIST_SIZE,
    RIDGE_DEPTH,
    STROKE_MIN_PIXELS,
    THICK_LIMIT,
    THICK_TARGET,
    THIN_LIMIT,
    THIN_TARGET,
    THINNED_KEEP,
    StrokeAction,
)
from mnistlab.images.measure import bounding_box, stroke_width


def already_mnist(ink: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """The ink as it is when it already follows MNIST's conventions, else ``None``.

    An MNIST digit, or a crop its author already normalised, is 28x28 with the digit in a
    20-pixel box, its centre of mass near (14, 14) and MNIST-like strokes. Cropping, resizing and
    re-centring it again could only blur it; it is kept as it is, scaled so its strokes are 1.0.
    """
    if ink.shape != (MNIST_SIZE, MNIST_SIZE) or not mask.any():
        return None
    top, left, bottom, right = bounding_box(mask)
    longest = max(bottom - top, right - left)
    if not MNIST_BOX_RANGE[0] <= longest <= MNIST_BOX_RANGE[1]:
        return None
    if (ink[~ndi.binary_dilation(mask, iterations=CROP_PAD)] > MNIST_CLUTTER * ink.max()).any():
        return None  # other marks around the digit: it needs the full treatment
    row, col = ndi.center_of_mass(ink)
    if math.hypot(row - MNIST_CENTRE[0], col - MNIST_CENTRE[1]) > MNIST_CENTRE_REACH:
        return None
    crop = (slice(top, bottom), slice(left, right))
    if normalise_stroke(ink[crop], mask[crop])[2] != "kept":  # measured as for any digit: strokes MNIST-like
        return None
    core = float(np.percentile(ink[mask], CORE_PERCENTILE))
    return np.clip(ink / max(core, 1e-6), 0, 1).astype(np.float32)


def crop_digit(ink: np.ndarray, mask: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``(digit, digit_mask)`` cropped to the digit, ink scaled so stroke cores are 1.0.

    Only ink connected to the digit's mask (grown by 2 pixels to keep antialiased edges) is
    kept: other marks inside the box are blanked. Each stroke is scaled by its own strength (see
    :func:`stroke_level`), not by the digit's overall strength, so a faint part of a stroke (kept
    by the hysteresis threshold) comes out as white as the rest, as in MNIST.
    """
    top, left, bottom, right = bounding_box(mask)
    pad = CROP_PAD
    top, left = max(0, top - pad), max(0, left - pad)
    bottom, right = min(mask.shape[0], bottom + pad), min(mask.shape[1], right + pad)
    sub_mask = mask[top:bottom, left:right]
    near = ndi.binary_dilation(sub_mask, iterations=pad)
    sub_ink = np.where(near, ink[top:bottom, left:right], 0.0)
    core = float(np.percentile(sub_ink[sub_mask], CORE_PERCENTILE)) if sub_mask.any() else 1.0
    level = np.clip(stroke_level(sub_ink, sub_mask), HYSTERESIS_LOW * threshold, core)
    edge = 0.5 * threshold * level / max(core, 1e-6)  # half the threshold, scaled with the stroke's strength
    digit = np.clip((sub_ink - edge) / np.maximum(level - edge, 1e-6), 0, 1)
    if (digit > 0).any():  # trim the margin again: the box must hold the digit, not the padding
        top, left, bottom, right = bounding_box(digit > 0)
        digit, sub_mask = digit[top:bottom, left:right], sub_mask[top:bottom, left:right]
    return digit.astype(np.float32), sub_mask


def measure_strokes(digit: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray, float]:
    """``(relative_width, mask, width)``: the stroke width relative to the digit's longest side.

    Small crops are upsampled first (to :data:`STROKE_MIN_PIXELS`), so the distance transform has
    pixels to work with; the mask returned is the one measured (upsampled or not), ``width`` its
    stroke width in its own pixels.
    """
    if max(digit.shape) < STROKE_MIN_PIXELS:
        factor = int(math.ceil(STROKE_MIN_PIXELS / max(digit.shape)))
        digit = np.clip(ndi.zoom(digit, factor, order=1), 0, 1)
        mask = digit > 0.5
        if not mask.any():
            mask = digit > 0.5 * digit.max()
    width = stroke_width(mask)
    return width / max(mask.shape), mask, width


def thicken(mask: np.ndarray, width: float, target: float) -> np.ndarray:
    """The mask's strokes grown from ``width`` to ``target`` pixels, with soft (one-pixel) edges."""
    radius = (target - width) / 2
    pad = int(math.ceil(radius)) + 2
    distance = ndi.distance_transform_edt(~np.pad(mask, pad))
    return _trim(np.clip(radius + 1 - distance, 0, 1).astype(np.float32))


def thin(mask: np.ndarray, width: float, target: float) -> np.ndarray:
    """The mask's strokes eroded from about ``width`` towards ``target`` pixels, each by what it needs.

    A fat marker's strokes lose ``(width - target) / 2`` on each side; a part already thinner than
    that (a 6's thin stem on its fat loop, a 9's tail) is eroded only down to ``target``, or not
    at all when it is thinner still, so it survives the resize into the 20-pixel box. How wide a
    part is comes from its ridge (the centre line): each pixel takes the depth of the nearest
    ridge pixel.
    """
    distance = ndi.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    ridge = mask & (distance >= ndi.maximum_filter(distance, size=3))
    _, (rows, cols) = ndi.distance_transform_edt(~ridge, return_indices=True)
    half_width = distance[rows, cols]  # of the stroke part each pixel belongs to
    erosion = np.clip(half_width - target / 2, 0, (width - target) / 2)
    thinned = np.clip(distance - erosion, 0, 1).astype(np.float32)
    return np.where(mask, np.maximum(thinned, ridge), 0).astype(np.float32)


def stroke_level(ink: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """How strong the stroke through each pixel is: the ink on the nearest point of its centre line.

    The centre line (the ridge of a chessboard distance transform) carries each stroke's core
    strength; every pixel takes the value of the ridge pixel nearest to it. Where a light-grey
    part of a stroke meets a black one, each side keeps its own level, with no dark seam where a
    window over both would have taken the black side's.
    """
    depth = ndi.distance_transform_cdt(np.pad(mask, 1), metric="chessboard")[1:-1, 1:-1]
    width = max(1.0, 4 * float(depth[mask].mean()) - 1) if mask.any() else 1.0  # as rough_stroke_width
    # Local maxima of the depth, but not the shallow ones a bump on a stroke's edge makes.
    ridge = mask & (depth >= ndi.maximum_filter(depth, size=3)) & (depth >= RIDGE_DEPTH * width)
    if not ridge.any():
        return ink
    nearest = ndi.distance_transform_cdt(~ridge, metric="chessboard", return_distances=False, return_indices=True)
    # A 3x3 maximum along the ridge, so one dark JPEG pixel on the centre line does not dim its neighbours.
    ridge_ink = np.where(ridge, ndi.maximum_filter(np.where(ridge, ink, 0.0), size=3), 0.0)
    return ridge_ink[nearest[0], nearest[1]]


def normalise_stroke(digit: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float, StrokeAction]:
    """``(digit, relative_width, action)``: strokes far from MNIST's width redrawn nearer to it.

    The width is measured relative to the digit's longest side (:func:`measure_strokes`; MNIST's
    median: 0.13). Below :data:`THIN_LIMIT` (a one-pixel line on a big canvas or a small one) the strokes
    are grown to :data:`THIN_TARGET`; above :data:`THICK_LIMIT` (a fat marker) they are eroded
    towards :data:`THICK_TARGET`; in between the image is left as it is.
    """
    relative, measured, width = measure_strokes(digit, mask)
    longest = max(measured.shape)
    if relative < THIN_LIMIT:
        return thicken(measured, width, THIN_TARGET * longest), relative, "thickened"
    if relative > THICK_LIMIT:
        thinned = thin(measured, width, THICK_TARGET * longest)
        if thinned.sum() >= THINNED_KEEP * measured.sum():
            return _trim(thinned), relative, "thinned"
    return digit, relative, "kept"


def _trim(image: np.ndarray) -> np.ndarray:
    if not (image > 0).any():
        return image
    top, left, bottom, right = bounding_box(image > 0)
    return image[top:bottom, left:right]


def fit_box(digit: np.ndarray, box: int = BOX_SIZE) -> np.ndarray:
    """Resize so the longest side is ``box`` pixels, keeping the aspect ratio (antialiased)."""
    height, width = digit.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(digit.astype(np.float32)).resize(size, Image.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0, 1)


def centre_by_mass(small: np.ndarray, size: int = MNIST_SIZE) -> np.ndarray:
    """Place in a ``size`` x ``size`` field with the centre of mass at MNIST's (14, 14)."""
    height, width = small.shape
    field_ = np.zeros((size, size), dtype=np.float32)
    top, left = (size - height) // 2, (size - width) // 2
    field_[top:top + height, left:left + width] = small
    if small.sum() <= 0:
        return field_
    row, col = ndi.center_of_mass(field_)
    shift_r = int(round(MNIST_CENTRE[0] - row))
    shift_c = int(round(MNIST_CENTRE[1] - col))
    shift_r = int(np.clip(shift_r, -top, size - height - top))  # never push ink off the field
    shift_c = int(np.clip(shift_c, -left, size - width - left))
    return np.roll(field_, (shift_r, shift_c), axis=(0, 1))
