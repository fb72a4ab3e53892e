"""Turn a user's image (photo, scan, drawing, array) into an MNIST-like 28x28 digit, step by step."""

# MNIST's convention, which every step works towards: a white digit on black, its strokes about
# an eighth of the digit's height wide, the digit size-normalised into a 20x20 box keeping its
# aspect ratio, and placed in a 28x28 field so that its centre of mass sits at the centre.
#
# The steps, each a small function you can call on its own:
#
#     read_image        any source -> PIL image (format sniffed from the bytes, EXIF rotation applied)
#     to_grey           PIL image -> float grey in [0, 1] (transparency composited, 16-bit scaled)
#     limit_size        shrink huge images to a working size (area averaging keeps thin lines)
#     strongest_grey    brightness, or a colour channel when the ink is about as bright as the paper
#     isolate_page      a sheet photographed on a darker table: paint the table over with paper
#     detect_polarity   dark ink on light paper, or the reverse, from the image itself
#     flatten           remove uneven lighting and paper texture: "ink" image, background 0
#     threshold_ink     ink mask (Otsu, floored by the noise level); a blank image stops here
#     remove_rule_lines the printed lines of ruled or squared paper, keeping strokes that cross them
#     find_digit        connected components: drop specks and border clutter, keep the digit
#     crop_digit        crop to the digit, strokes normalised so that their cores are 1.0
#     normalise_stroke  thicken hairlines and thin marker strokes towards MNIST's stroke width
#     fit_box           resize so the longest side is 20 px, keeping the aspect ratio
#     centre_by_mass    pad to 28x28 and shift the centre of mass to the centre
#
# ``prepare_image`` composes them; ``prepare_steps`` returns every intermediate image.

from __future__ import annotations

import contextlib
import io
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage as ndi

# --------------------------------------------------------------------------- constants

MNIST_SIZE = 28  # output field
BOX_SIZE = 20  # MNIST digits are size-normalised into a 20x20 box
MNIST_CENTRE = (14.0, 14.0)  # mean centre of mass of MNIST digits (row, column)
MAX_PIXELS = 50_000_000  # refuse anything bigger before decoding it (decompression bombs)
MAX_FILE_BYTES = 100 * 1024 * 1024
WORK_SIZE = 1024  # longest side the pipeline works at
# Stroke width relative to the digit's longest side (see stroke_width), measured through this
# pipeline on MNIST test digits: median 0.12, 1st-99th percentile 0.072-0.229. Only strokes
# clearly outside that range are redrawn, so clean MNIST-like input is left alone.
MNIST_STROKE = 0.12
THIN_LIMIT, THIN_TARGET = 0.04, 0.10  # thinner than this gets thickened to the target
THICK_LIMIT, THICK_TARGET = 0.26, 0.16  # thicker than this gets thinned to the target
MIN_CONTRAST = 0.08  # ink weaker than this (on a 0..1 grey scale) is not ink: the image is blank
SUPPORTED_FORMATS = "PNG, JPEG, GIF, BMP, TIFF or WebP"
DARK_ON_LIGHT = "dark-on-light"
LIGHT_ON_DARK = "light-on-dark"


class ImageError(ValueError):
    """An image could not be used; the message names the image, the problem and what to do."""


class NoDigitError(ImageError):
    """The image was read but holds no digit (blank page, flat colour, only specks)."""


# --------------------------------------------------------------------------- reading


def describe_source(source: Any, name: str | None = None) -> str:
    """A short human name for an image source, used in every error message."""
    if name:
        return str(name)
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"uploaded data ({len(source):,} bytes)"
    if isinstance(source, Image.Image):
        return f"PIL image ({source.mode}, {source.width}x{source.height})"
    if isinstance(source, np.ndarray):
        return f"array of shape {source.shape} ({source.dtype})"
    return f"object of type {type(source).__name__}"


def _open_bytes(data: bytes, label: str) -> Image.Image:
    if len(data) == 0:
        raise ImageError(f"{label}: the file is empty (0 bytes). Save or upload the image again.")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(
            f"{label}: the file is {len(data) / 2**20:.0f} MB, above the {MAX_FILE_BYTES // 2**20} MB "
            f"limit. Resize or crop the image before using it."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(f"{label}: refused as a possible decompression bomb ({error}). "
                         f"Resize the image to at most {MAX_PIXELS:,} pixels.") from None
    except UnidentifiedImageError:
        start = bytes(data[:12])
        raise ImageError(
            f"{label}: not an image file Pillow can read (it starts with {start!r}). "
            f"Use a {SUPPORTED_FORMATS} image."
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{label}: the file is damaged and cannot be opened ({error}). "
                         f"Save or export the image again.") from None
    return image


def _check_and_load(image: Image.Image, label: str) -> Image.Image:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(
            f"{label}: the image is {width:,}x{height:,} = {width * height / 1e6:.0f} megapixels, "
            f"above the limit of {MAX_PIXELS / 1e6:.0f} megapixels (a guard against decompression "
            f"bombs). Resize it (a few hundred pixels per digit is plenty)."
        )
    if width == 0 or height == 0:
        raise ImageError(f"{label}: the image has no pixels ({width}x{height}).")
    frames = getattr(image, "n_frames", 1)
    if getattr(image, "is_animated", False) and frames > 1:
        raise ImageError(
            f"{label}: an animated image with {frames} frames; the course reads one still digit. "
            f"Save the frame you want as a PNG and use that."
        )
    if image.format == "JPEG" and max(width, height) > 2 * WORK_SIZE:
        image.draft(image.mode, (WORK_SIZE, WORK_SIZE))  # decode at a reduced scale: much faster
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(
            f"{label}: the {image.format or 'image'} data is damaged or truncated ({error}). "
            f"Save or export the image again."
        ) from None
    with contextlib.suppress(Exception):  # broken EXIF must not stop a readable image
        image = ImageOps.exif_transpose(image)
    return image


def read_image(source: Any, name: str | None = None) -> Image.Image:
    """Any supported source as a loaded PIL image, upright (EXIF rotation applied).

    ``source`` is a path (``str`` or ``pathlib.Path``), raw bytes (what an upload widget gives),
    a PIL image or a numpy array (2-D grey; 3-D RGB/RGBA; a trailing channel axis of 1 is fine).
    The file format is sniffed from the content, so a PNG named ``.jpg`` still reads.
    Raises :class:`ImageError` naming the image and the problem.
    """
    label = describe_source(source, name)
    if isinstance(source, np.ndarray):
        return Image.fromarray(_array_to_uint8(source, label))
    if isinstance(source, Image.Image):
        return _check_and_load(source, label)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _check_and_load(_open_bytes(bytes(source), label), label)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.exists():
            raise ImageError(f"{label}: no such file. Check the path and the spelling.")
        if path.is_dir():
            raise ImageError(f"{label}: is a folder, not an image (use predict_folder for folders).")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:  # checked before reading; an empty file is caught by _open_bytes
            raise ImageError(f"{label}: the file is {size / 2**20:.0f} MB, above the "
                             f"{MAX_FILE_BYTES // 2**20} MB limit. Resize the image first.")
        try:
            data = path.read_bytes()
        except OSError as error:
            raise ImageError(f"{label}: cannot be read ({error.strerror or error}).") from None
        return _check_and_load(_open_bytes(data, label), label)
    raise ImageError(
        f"{label}: cannot be used as an image; pass a file path, bytes, a PIL image or a numpy array."
    )


def _array_to_uint8(array: np.ndarray, label: str) -> np.ndarray:
    """A numpy image as uint8 (H, W), (H, W, 3) or (H, W, 4), checking shape and values."""
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageError(f"{label}: expected a 2-D grey image or a 3-D RGB/RGBA image "
                         f"(height, width, 3 or 4).")
    if array.size == 0:
        raise ImageError(f"{label}: the array is empty.")
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise ImageError(f"{label}: {array.shape[0] * array.shape[1] / 1e6:.0f} megapixels is above "
                         f"the limit of {MAX_PIXELS / 1e6:.0f}; resize it first.")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    if array.dtype == np.uint16:
        return (array.astype(np.float64) / 257.0).round().astype(np.uint8)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ImageError(f"{label}: pixels of type {array.dtype} are not numbers.")
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        raise ImageError(f"{label}: the array holds NaN or infinite values.")
    low, high = values.min(), values.max()
    if low < 0 or high > 255:
        raise ImageError(f"{label}: pixel values {low:g}..{high:g} are outside 0..1 and 0..255; "
                         f"scale the array first.")
    scale = 255.0 if (np.issubdtype(array.dtype, np.floating) and high <= 1.0) else 1.0
    return (values * scale).round().astype(np.uint8)


# --------------------------------------------------------------------------- grey


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
    if float(np.percentile(rgb.max(axis=-1) - rgb.min(axis=-1), 99)) < 0.1:
        return {}
    return {name: np.ascontiguousarray(rgb[..., k]) for k, name in enumerate(("red", "green", "blue"))}


def contrast_score(grey: np.ndarray) -> float:
    """How strongly the strongest marks stand out from the typical pixel, in units of the noise.

    Deliberately rough (no lighting correction): it only ranks channels of one picture.
    """
    residual = grey - float(np.median(grey))
    strength = max(_tail_strength(residual.ravel()), _tail_strength(-residual.ravel()))
    return strength / max(noise_level(residual), 0.005)


def strongest_grey(image: Image.Image, grey: np.ndarray) -> tuple[np.ndarray, str]:
    """``(grey, channel)``: brightness, or the colour channel in which the writing stands out far more.

    Brightness serves nearly every picture, but coloured ink about as bright as its paper (a
    yellow or light-green pen on white, red on green) all but disappears in it, while one of
    the red, green or blue channels still shows it clearly. A channel is used only when its
    :func:`contrast_score` is at least 1.5 times that of brightness.
    """
    channels = colour_channels(image)
    if not channels:
        return grey, "brightness"
    # Scored on small copies: only the ranking matters, and it costs a few milliseconds.
    scores = {name: contrast_score(limit_size(channel, 256)) for name, channel in channels.items()}
    best = max(scores, key=scores.get)
    if scores[best] < 1.5 * contrast_score(limit_size(grey, 256)):
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


# --------------------------------------------------------------------------- polarity and lighting


def _coarse(grey: np.ndarray, cells: int = 48) -> np.ndarray:
    """A small copy (longest side ``cells``) by area averaging."""
    height, width = grey.shape
    factor = max(height, width) / cells
    if factor <= 1:
        return grey
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    return np.asarray(Image.fromarray(grey).resize(size, Image.BOX), dtype=np.float32)


def _upsample(small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if small.shape == shape:
        return small
    return np.asarray(Image.fromarray(small).resize((shape[1], shape[0]), Image.BILINEAR),
                      dtype=np.float32)


def estimate_background(grey: np.ndarray, ink: str | None = None, window: float = 0.4) -> np.ndarray:
    """Large-scale background (lighting, shadows, paper colour) with the strokes taken out.

    Computed on a 48-pixel copy over windows 40 % of the image wide, then smoothly
    upsampled: cheap, and wide enough that strokes do not show. With the ink's polarity known
    it is a morphological closing (dark ink: strokes are filled by the surrounding paper) or
    opening (light ink), the "rolling ball" of document cleaning, which strokes only survive
    where they are wider than the window. Without it (``ink=None``) a median filter.
    """
    small = _coarse(grey)
    size = max(3, int(round(window * max(small.shape))) | 1)
    plane = _plane(small)  # a straight lighting gradient is removed exactly, the filter does the rest
    small = small - plane
    if ink == DARK_ON_LIGHT:
        background = ndi.grey_closing(small, size=size, mode="reflect")
    elif ink == LIGHT_ON_DARK:
        background = ndi.grey_opening(small, size=size, mode="reflect")
    elif ink is None:
        background = ndi.median_filter(small, size=size, mode="reflect")
    else:
        raise ValueError(f"ink must be {DARK_ON_LIGHT!r}, {LIGHT_ON_DARK!r} or None, got {ink!r}")
    background = ndi.uniform_filter(background, size=3, mode="reflect") + plane
    return _upsample(background.astype(np.float32), grey.shape)


def _plane(small: np.ndarray) -> np.ndarray:
    """Least-squares plane a + b*row + c*col through an image (a lighting gradient)."""
    rows, cols = np.mgrid[0:small.shape[0], 0:small.shape[1]]
    design = np.stack([np.ones(small.size), rows.ravel(), cols.ravel()], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, small.ravel().astype(np.float64), rcond=None)
    return (design @ coefficients).reshape(small.shape).astype(np.float32)


def _tail_strength(values: np.ndarray, fraction: float = 0.005) -> float:
    """Mean of the largest ``fraction`` of the values (at least 20 of them)."""
    count = min(values.size, max(20, int(values.size * fraction)))
    return float(np.partition(values, values.size - count)[-count:].mean())


def border_level(grey: np.ndarray) -> tuple[float, float]:
    """``(median, spread)`` of the outer ring of pixels (3 % of the size, at least 1 pixel)."""
    height, width = grey.shape
    band = max(1, int(round(0.03 * min(height, width))))
    ring = np.concatenate([grey[:band].ravel(), grey[-band:].ravel(), grey[:, :band].ravel(), grey[:, -band:].ravel()])
    low, mid, high = np.percentile(ring, [25, 50, 75])
    return float(mid), float(high - low)


def find_page(grey: np.ndarray) -> np.ndarray | None:
    """The sheet of paper in a photo that shows a darker table all around it, else ``None``.

    Such a photo fools the border rule of :func:`detect_polarity` (a uniform dark border
    looks like the background of light ink). A page is recognised as a bright region that
    does not reach most of the image border, is nearly convex (a sheet, even in perspective,
    is a convex quadrilateral) and is much brighter than its surround, and whose dark holes
    (the writing) are thin strokes covering a small part of it, with open paper far wider
    than those strokes. A fat light digit on a dark canvas fails these last tests: its holes
    (a 0's middle) are round blobs, or absent, or slits hardly narrower than its strokes.
    """
    bright = grey > otsu_threshold(grey)
    labels, count = ndi.label(bright)
    if count == 0:
        return None
    page = labels == (np.argmax(np.bincount(labels.ravel())[1:]) + 1)
    filled = ndi.binary_fill_holes(page)
    holes = filled & ~bright  # the writing: dark pixels inside the sheet (not the bright middle of a 0)
    area, hole_area = int(filled.sum()), int(holes.sum())
    border = np.zeros_like(filled)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    if area < 0.15 * grey.size or filled[border].mean() > 0.5 or not 0 < hole_area <= 0.2 * area:
        return None
    if float(np.median(grey[page])) - float(np.median(grey[~filled])) < 0.2:
        return None
    if area < 0.9 * _convex_area(filled):
        return None
    hole_top, hole_left, hole_bottom, hole_right = bounding_box(holes)
    writing_width = stroke_width(holes)
    if writing_width / max(hole_bottom - hole_top, hole_right - hole_left) > 0.35:
        return None  # the "writing" is a solid blob: more likely the middle of a fat light digit
    # Paper is open space much wider than the writing (measured: 3-9 times on the sample photos);
    # a fat light 8 with slit-like loops is hardly wider than its slits (0.7-0.9 times on MNIST).
    open_space = float(ndi.distance_transform_edt(np.pad(page, 1)).max())
    if open_space < 0.1 * min(grey.shape) or open_space < 2 * writing_width:
        return None
    return filled


def _convex_area(mask: np.ndarray) -> float:
    """Area of the convex hull of a mask's pixels (pixel squares, not centres)."""
    from scipy.spatial import ConvexHull, QhullError

    edge = mask & ~ndi.binary_erosion(mask)
    rows, cols = np.nonzero(edge)
    corners = np.concatenate([np.stack([rows + dr, cols + dc], axis=1) for dr in (0, 1) for dc in (0, 1)])
    try:
        return float(ConvexHull(corners).volume)  # in 2-D, "volume" is the area
    except QhullError:
        return float(mask.sum())


def isolate_page(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(grey, page)``: with a sheet photographed on a darker table, the table painted over with paper.

    Everything outside the page (see :func:`find_page`) gets the paper's median brightness,
    so the later steps see a plain sheet. The page is first shrunk by 2 % of the image size:
    its blurred, shadowed edge would otherwise stay behind as a dark frame that looks like ink.
    Without a page, the image is returned unchanged.
    """
    low, high = np.percentile(grey, [1, 99])
    ring, _ = border_level(grey)
    if ring - low > 0.3 * (high - low):
        return grey, None  # the border is not dark: no table around a sheet (and no cost paid)
    page = find_page(grey)
    if page is None:
        return grey, None
    margin = max(2.0, 0.02 * max(grey.shape))
    page = ndi.distance_transform_edt(np.pad(page, 1))[1:-1, 1:-1] > margin
    if not page.any():  # a sheet too narrow to shrink (a long thin strip): leave the image alone
        return grey, None
    paper_level = float(np.median(grey[page]))
    return np.where(page, grey, paper_level).astype(np.float32), page


def detect_polarity(grey: np.ndarray) -> str:
    """``"dark-on-light"`` or ``"light-on-dark"``, judged from the image alone.

    First vote: the background is the median over windows half the image wide (so a shadow or
    a table edge is background, not ink), and the ink is whichever side strays further from
    it: the mean of the strongest 0.5 % of dark deviations against the strongest 0.5 % of
    light ones. This fails when fat strokes fill most of a tight crop; so when the outer ring
    of the image is uniform and sits at one end of the grey range, the ring is taken as the
    background instead (a drawing's canvas, a scan's margin).
    """
    residual = grey - estimate_background(grey, None, window=0.5)
    darker = _tail_strength(-residual.ravel())
    lighter = _tail_strength(residual.ravel())
    vote = DARK_ON_LIGHT if darker > lighter else LIGHT_ON_DARK
    low, high = np.percentile(grey, [1, 99])
    spread = high - low
    if spread > 2 * MIN_CONTRAST:
        ring, ring_spread = border_level(grey)
        if ring_spread < 0.1 * spread:
            if high - ring < 0.15 * spread:
                return DARK_ON_LIGHT
            if ring - low < 0.15 * spread:
                return LIGHT_ON_DARK
    return vote


def flatten(grey: np.ndarray, polarity: str) -> tuple[np.ndarray, np.ndarray]:
    """``(ink, background)``: ink is how far each pixel stands out from the local paper.

    Ink is bright (>= 0) on a background of 0, whatever the original polarity, lighting or
    paper colour; a light Gaussian blur (only on big images) evens out paper texture and
    sensor noise without erasing one-pixel lines.
    """
    if polarity == DARK_ON_LIGHT:
        background = estimate_background(grey, DARK_ON_LIGHT)
        # Contrast relative to the local paper brightness: a shadow dims paper and ink alike,
        # so dividing by the paper level undoes it (Weber contrast).
        ink = (background - grey) / np.maximum(background, 0.1) * float(np.median(background))
    elif polarity == LIGHT_ON_DARK:
        background = estimate_background(grey, LIGHT_ON_DARK)
        ink = grey - background
    else:
        raise ValueError(f"polarity must be {DARK_ON_LIGHT!r} or {LIGHT_ON_DARK!r}, got {polarity!r}")
    if max(grey.shape) >= 200:
        ink = ndi.gaussian_filter(ink, 0.7)
    return np.clip(ink, 0, None).astype(np.float32), background


# --------------------------------------------------------------------------- finding the digit


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold: the cut that best separates the values into two groups."""
    values = np.asarray(values, dtype=np.float64).ravel()
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return low
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    centres = (edges[:-1] + edges[1:]) / 2
    weight0 = np.cumsum(counts)
    weight1 = weight0[-1] - weight0
    sum0 = np.cumsum(counts * centres)
    mean0 = sum0 / np.maximum(weight0, 1)
    mean1 = (sum0[-1] - sum0) / np.maximum(weight1, 1)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    return float(edges[1:][np.argmax(between)])


def noise_level(ink: np.ndarray) -> float:
    """Robust standard deviation of the background (median absolute deviation)."""
    values = ink.ravel()
    if values.size > 200_000:
        values = values[:: values.size // 200_000]
    median = np.median(values)
    return float(1.4826 * np.median(np.abs(values - median)))


def threshold_ink(ink: np.ndarray, label: str = "image") -> tuple[np.ndarray, float]:
    """``(mask, threshold)``: which pixels are ink. Raises :class:`NoDigitError` on a blank image.

    The threshold is Otsu's, computed among the pixels that rise above the noise floor (so a
    tiny digit on a big page is not drowned by the paper), and kept between a fifth and half
    of the ink's peak strength.
    """
    smooth = ndi.gaussian_filter(ink, 1.0) if max(ink.shape) >= 64 else ink
    peak = float(smooth.max())
    noise = noise_level(ink)
    if peak < MIN_CONTRAST or peak < 6 * noise:
        raise NoDigitError(
            f"{label}: looks blank: nothing stands out from the background (strongest mark "
            f"{peak:.2f} against noise {noise:.3f}). Check that the digit is in the picture and "
            f"is darker or lighter than the paper."
        )
    floor = max(4 * noise, 0.5 * MIN_CONTRAST)
    candidates = ink[ink > floor]
    threshold = otsu_threshold(candidates) if candidates.size > 10 else floor
    threshold = min(max(threshold, floor, 0.2 * peak), 0.5 * peak)
    return ink > threshold, threshold


# --------------------------------------------------------------------------- ruled and squared paper

MAX_TILT_DEGREES = 6.0  # rule lines tilted more than this (a very skewed photo) are not looked for
# A line must show as a thin run in this fraction of the columns at least: the rest may be hidden where
# the writing touches it (a 1 written along a line of squared paper).
LINE_MIN_COVER = 0.3


def _thin_runs(mask: np.ndarray, max_length: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(column, centre_row, length)`` of every vertical run of ink no longer than ``max_length``.

    A horizontal line crosses each column as one short run; a digit's upright strokes make
    long runs and are left out.
    """
    change = np.diff(np.pad(mask, ((1, 1), (0, 0))).astype(np.int8), axis=0).T  # one row per column
    cols, starts = np.nonzero(change == 1)  # ordered by column, then row: starts and ends pair up
    _, ends = np.nonzero(change == -1)
    lengths = ends - starts
    short = lengths <= max_length
    return cols[short], (starts[short] + ends[short] - 1) / 2.0, lengths[short]


def _line_offsets(cols: np.ndarray, centres: np.ndarray, width: int) -> tuple[float, list[int]]:
    """``(slope, offsets)`` of straight lines showing in at least :data:`LINE_MIN_COVER` of the columns.

    Every tilt up to :data:`MAX_TILT_DEGREES` is tried (a Hough transform restricted to
    nearly horizontal lines); at the best one, each line piles its runs into one offset bin.
    """
    best_slope, best_counts, best_low = 0.0, np.zeros(1), 0
    for slope in np.tan(np.radians(np.arange(-MAX_TILT_DEGREES, MAX_TILT_DEGREES + 0.01, 0.25))):
        offsets = np.round(centres - slope * cols).astype(int)
        low = int(offsets.min())
        counts = np.convolve(np.bincount(offsets - low), np.ones(3), mode="same")  # thickness parity
        if counts.max() > best_counts.max():
            best_slope, best_counts, best_low = float(slope), counts, low
    offsets: list[int] = []
    for index in np.argsort(-best_counts, kind="stable"):  # strongest first; one offset per line
        if best_counts[index] < LINE_MIN_COVER * width:
            break
        if all(abs(index - kept) > 3 for kept in offsets):
            offsets.append(int(index))
    return best_slope, sorted(index + best_low for index in offsets)


def horizontal_rule_lines(mask: np.ndarray) -> np.ndarray:
    """Pixels of the ruled lines running across a mask from side to side (nearly horizontal).

    A line must be thin (at most 2 % of the height), cross almost the whole width and follow
    a straight or gently curved path (a quadratic fit through its runs). Two or more such
    lines are ruled paper. A single one could be a digit's bar in a tight crop (a 4's), so it
    is only taken when it keeps clear of the top and bottom edge and runs on past the rest of
    the ink by 15 % of the width on both sides (the paper extends beyond the writing).
    """
    height, width = mask.shape
    lines = np.zeros_like(mask, dtype=bool)
    if width < 32 or height < 32:
        return lines
    max_thickness = max(3.0, 0.02 * height)
    cols, centres, lengths = _thin_runs(mask, max_thickness)
    if cols.size < LINE_MIN_COVER * width:
        return lines
    slope, offsets = _line_offsets(cols, centres, width)
    rows = np.arange(height)[:, np.newaxis]
    found, at_edge = [], []
    for offset in offsets:
        near = np.abs(centres - slope * cols - offset) <= 1.5
        line_cols = np.unique(cols[near])
        if line_cols.size < LINE_MIN_COVER * width or line_cols[0] > 0.05 * width or line_cols[-1] < 0.95 * width:
            continue  # not side to side: the bar of a digit, not a ruled line
        centre_line = np.polynomial.Polynomial.fit(cols[near], centres[near], deg=2)(np.arange(width))
        half = float(np.median(lengths[near])) / 2 + 0.5
        found.append(mask & (np.abs(rows - centre_line[np.newaxis, :]) <= half))
        at_edge.append(centre_line.min() < 0.03 * height or centre_line.max() > 0.97 * height)
    if len(found) == 1:
        rest = np.nonzero(mask & ~found[0])[1]
        first, last = np.percentile(rest, [1, 99]) if rest.size else (width / 2, width / 2)
        if at_edge[0] or first < 0.15 * width or last > 0.85 * width:
            return lines  # one line that does not run on past the writing: maybe a digit's bar
    for line in found:
        lines |= line
    return lines


def remove_rule_lines(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mask, lines)``: the printed lines of ruled or squared paper taken out of an ink mask.

    Horizontal and vertical lines are found by :func:`horizontal_rule_lines` (on the
    transposed mask for vertical ones). Where a digit's stroke crosses a line, the stroke is
    kept: removed line pixels with digit ink on both sides of the line are put back.
    """
    across = int(math.ceil(max(3.0, 0.02 * max(mask.shape)))) * 2 + 1  # longer than a line is thick
    horizontal = horizontal_rule_lines(mask)
    vertical = horizontal_rule_lines(mask.T).T
    lines = horizontal | vertical
    if not lines.any():
        return mask, lines
    remaining = mask & ~lines
    # Close across each line only (never along it), so a stroke is bridged but the line is not.
    crossings = (horizontal & ndi.binary_closing(remaining, structure=np.ones((across, 1), dtype=bool))) | (
        vertical & ndi.binary_closing(remaining, structure=np.ones((1, across), dtype=bool))
    )
    return remaining | crossings, lines & ~crossings


@dataclass
class Component:
    """One connected blob of ink."""

    index: int
    area: int
    top: int
    left: int
    bottom: int  # exclusive
    right: int  # exclusive
    touches_border: bool

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


def components(mask: np.ndarray) -> tuple[np.ndarray, list[Component]]:
    """8-connected components of a mask: the label image and one :class:`Component` per blob."""
    labels, count = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return labels, []
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    height, width = mask.shape
    found = []
    for index, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        rows, cols = box
        found.append(Component(
            index=index, area=int(areas[index]), top=rows.start, left=cols.start,
            bottom=rows.stop, right=cols.stop,
            touches_border=rows.start == 0 or cols.start == 0 or rows.stop == height or cols.stop == width,
        ))
    return labels, found


def drop_specks(found: list[Component], shape: tuple[int, int]) -> list[Component]:
    """Keep blobs bigger than 3 % of the biggest and than a size-dependent minimum."""
    if not found:
        return []
    biggest = max(c.area for c in found)
    minimum = max(3, int((0.004 * max(shape)) ** 2))
    return [c for c in found if c.area >= max(minimum, 0.03 * biggest)]


def _gap(a: Component, b: Component) -> float:
    dy = max(0, max(a.top, b.top) - min(a.bottom, b.bottom))
    dx = max(0, max(a.left, b.left) - min(a.right, b.right))
    return math.hypot(dx, dy)


def group_strokes(seed: Component, others: list[Component], reach: float = 0.5) -> list[Component]:
    """The seed plus every blob within ``reach`` x its size of the group (a 5's flag, a 4's bar)."""
    group = [seed]
    pending = [c for c in others if c.index != seed.index]
    grew = True
    while grew and pending:
        grew = False
        top = min(c.top for c in group)
        bottom = max(c.bottom for c in group)
        left = min(c.left for c in group)
        right = max(c.right for c in group)
        box = Component(-1, 0, top, left, bottom, right, False)
        limit = reach * max(bottom - top, right - left)
        for candidate in list(pending):
            near = _gap(box, candidate)
            if candidate.touches_border and near > 0:
                continue  # page edges and shadows only count when they overlap the digit
            if near <= limit:
                group.append(candidate)
                pending.remove(candidate)
                grew = True
    return group


def find_digit(mask: np.ndarray, label: str = "image") -> np.ndarray:
    """The digit's pixels: specks dropped, page edges ignored, the strokes of one digit kept."""
    labels, found = components(mask)
    kept = drop_specks(found, mask.shape)
    if not kept:
        raise NoDigitError(f"{label}: no digit found (no ink blob big enough).")
    biggest = max(c.area for c in kept)
    inner = [c for c in kept if not c.touches_border and c.area >= 0.25 * biggest]
    seed = max(inner or kept, key=lambda c: c.area)
    group = group_strokes(seed, kept)
    return np.isin(labels, [c.index for c in group])


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """``(top, left, bottom, right)`` of the True pixels (bottom/right exclusive)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def crop_digit(ink: np.ndarray, mask: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``(digit, digit_mask)`` cropped to the digit, ink scaled so stroke cores are 1.0.

    Only ink connected to the digit's mask (grown by 2 pixels to keep antialiased edges) is
    kept: other marks inside the box are blanked.
    """
    top, left, bottom, right = bounding_box(mask)
    pad = 2
    top, left = max(0, top - pad), max(0, left - pad)
    bottom, right = min(mask.shape[0], bottom + pad), min(mask.shape[1], right + pad)
    sub_mask = mask[top:bottom, left:right]
    near = ndi.binary_dilation(sub_mask, iterations=pad)
    sub_ink = np.where(near, ink[top:bottom, left:right], 0.0)
    core = float(np.percentile(sub_ink[sub_mask], 75)) if sub_mask.any() else 1.0
    digit = np.clip((sub_ink - 0.5 * threshold) / max(core - 0.5 * threshold, 1e-6), 0, 1)
    if (digit > 0).any():  # trim the margin again: the box must hold the digit, not the padding
        top, left, bottom, right = bounding_box(digit > 0)
        digit, sub_mask = digit[top:bottom, left:right], sub_mask[top:bottom, left:right]
    return digit.astype(np.float32), sub_mask


def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke width in pixels, from the mean distance of ink pixels to the nearest edge.

    Across a stroke of width w the distance to the edge runs 0.5, 1.5, ... up to w/2 and back,
    so its mean over the ink is about w/4: ``4 * mean - 1`` recovers w (exact for w = 1, 3, 5...).
    """
    if not mask.any():
        return 0.0
    distance = ndi.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    return float(max(1.0, 4 * distance[mask].mean() - 1))


def normalise_stroke(digit: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float, str]:
    """``(digit, relative_width, action)``: strokes far from MNIST's width redrawn nearer to it.

    The width is measured relative to the digit's longest side (MNIST: 0.12). Below
    :data:`THIN_LIMIT` (a one-pixel line on a big canvas) the strokes are grown to
    :data:`THIN_TARGET`; above :data:`THICK_LIMIT` (a fat marker) they are eroded to
    :data:`THICK_TARGET`; in between the image is left as it is. Small crops are upsampled
    first so the distance transform has pixels to work with.
    """
    original = digit
    longest = max(digit.shape)
    if longest < 64:
        factor = int(math.ceil(64 / longest))
        digit = np.clip(ndi.zoom(digit, factor, order=1), 0, 1)
        mask = digit > 0.5
        if not mask.any():
            mask = digit > 0.5 * digit.max()
        longest = max(digit.shape)
    width = stroke_width(mask)
    relative = width / longest
    if relative < THIN_LIMIT:
        radius = (THIN_TARGET * longest - width) / 2
        pad = int(math.ceil(radius)) + 2
        padded = np.pad(mask, pad)
        distance = ndi.distance_transform_edt(~padded)
        grown = np.clip(radius + 1 - distance, 0, 1).astype(np.float32)
        return _trim(grown), relative, "thickened"
    if relative > THICK_LIMIT:
        radius = (width - THICK_TARGET * longest) / 2
        distance = ndi.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
        thinned = np.clip(distance - radius, 0, 1).astype(np.float32)
        # Keep the centre line everywhere, so parts thinner than the erosion (a 9's tail) survive.
        ridge = mask & (distance >= ndi.maximum_filter(distance, size=3))
        thinned = np.maximum(thinned, ridge.astype(np.float32))
        if thinned.sum() >= 0.15 * mask.sum():
            return _trim(thinned), relative, "thinned"
    return original, relative, "kept"


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


# --------------------------------------------------------------------------- composition


@dataclass
class PipelineSteps:
    """Every intermediate image of :func:`prepare_image`, in order, plus what was decided."""

    images: dict[str, np.ndarray] = field(default_factory=dict)
    polarity: str = ""
    threshold: float = 0.0
    stroke_width: float = 0.0  # relative to the digit's longest side
    stroke_action: str = ""
    grey_channel: str = "brightness"  # or the colour channel in which the writing stood out far more
    page_found: bool = False  # a sheet on a darker table was found and the table painted over
    rule_line_pixels: int = 0  # ink pixels removed as the printed lines of ruled or squared paper
    name: str = ""

    @property
    def result(self) -> np.ndarray:
        """The final (28, 28, 1) float32 image."""
        return self.images["centred"][..., np.newaxis]

    def __getitem__(self, key: str) -> np.ndarray:
        return self.images[key]

    def __iter__(self):
        return iter(self.images.items())


def _front(source: Any, name: str | None, steps: PipelineSteps | None = None):
    """Read, grey, shrink, polarity, flatten, threshold: shared by one digit and many."""
    label = describe_source(source, name)
    image = read_image(source, name=label)
    grey = limit_size(to_grey(image))
    if steps is not None:
        steps.images["original"] = np.asarray(image.convert("RGB")) if max(image.size) <= 2048 else grey
    grey, channel = strongest_grey(image, grey)
    grey, page = isolate_page(grey)
    if steps is not None:
        steps.images["grey"] = grey
        steps.grey_channel = channel
        steps.page_found = page is not None
    polarity = detect_polarity(grey)
    ink, background = flatten(grey, polarity)
    mask, threshold = threshold_ink(ink, label)
    mask, lines = remove_rule_lines(mask)
    ink = np.where(lines, 0.0, ink).astype(np.float32)
    if steps is not None:
        steps.rule_line_pixels = int(lines.sum())
        steps.polarity, steps.threshold = polarity, threshold
        steps.images["background"] = background
        steps.images["ink"] = ink
        steps.images["mask"] = mask
    return label, ink, mask, threshold


def _finish(ink: np.ndarray, digit_mask: np.ndarray, threshold: float, steps: PipelineSteps | None = None):
    digit, sub_mask = crop_digit(ink, digit_mask, threshold)
    stroked, relative, action = normalise_stroke(digit, sub_mask)
    small = fit_box(stroked)
    centred = centre_by_mass(small)
    if steps is not None:
        steps.images["cropped"] = digit
        steps.images["stroke"] = stroked
        steps.images["resized"] = small
        steps.images["centred"] = centred
        steps.stroke_width, steps.stroke_action = relative, action
    return centred


def prepare_steps(source: Any, name: str | None = None) -> PipelineSteps:
    """Run the pipeline and keep every intermediate image (for teaching and debugging).

    Keys, in order: original, grey, background, ink, mask, digit_mask, cropped, stroke,
    resized, centred. ``steps.result`` is what :func:`prepare_image` returns.
    """
    steps = PipelineSteps(name=describe_source(source, name))
    label, ink, mask, threshold = _front(source, name, steps)
    digit_mask = find_digit(mask, label)
    steps.images["digit_mask"] = digit_mask
    _finish(ink, digit_mask, threshold, steps)
    return steps


def prepare_image(source: Any, name: str | None = None) -> np.ndarray:
    """An MNIST-like digit from a path, bytes, PIL image or array: shape (28, 28, 1), float32 in [0, 1].

    White digit on black, size-normalised into 20x20 keeping its aspect ratio, centred by
    mass in 28x28. Raises :class:`ImageError` (a ``ValueError``) naming the image and the
    problem for unreadable input, and :class:`NoDigitError` when there is no digit to find.
    """
    label, ink, mask, threshold = _front(source, name)
    digit_mask = find_digit(mask, label)
    return _finish(ink, digit_mask, threshold)[..., np.newaxis]


def raw_resize(source: Any, name: str | None = None) -> np.ndarray:
    """What most tutorials do: grey, squash to 28x28, scale to [0, 1]. The baseline to beat."""
    image = read_image(source, name=name)
    grey = to_grey(image)
    small = Image.fromarray(grey).resize((MNIST_SIZE, MNIST_SIZE), Image.BILINEAR)
    return np.clip(np.asarray(small, dtype=np.float32), 0, 1)[..., np.newaxis]


# --------------------------------------------------------------------------- several digits


def _columns(kept: list[Component]) -> list[list[Component]]:
    """Group blobs whose horizontal extents overlap (one digit's strokes), left to right."""
    groups: list[list[Component]] = []
    for comp in sorted(kept, key=lambda c: c.left):
        if groups:
            last = groups[-1]
            right = max(c.right for c in last)
            left = min(c.left for c in last)
            overlap = right - comp.left
            narrower = min(comp.width, right - left)
            if overlap > 0.5 * narrower:
                last.append(comp)
                continue
        groups.append([comp])
    return groups


def _split_wide(mask: np.ndarray, expected_width: float) -> list[np.ndarray]:
    """Cut a blob of touching digits at the weakest columns of its ink profile."""
    top, left, bottom, right = bounding_box(mask)
    width = right - left
    count = max(1, int(round(width / expected_width)))
    if count == 1:
        return [mask]
    profile = mask[:, left:right].sum(axis=0).astype(float)
    cuts = []
    for k in range(1, count):
        centre = int(k * width / count)
        lo, hi = max(1, centre - width // (3 * count)), min(width - 1, centre + width // (3 * count))
        cuts.append(left + lo + int(np.argmin(profile[lo:hi + 1])) if hi > lo else left + centre)
    pieces, start = [], left
    for cut in [*cuts, right]:
        piece = np.zeros_like(mask)
        piece[:, start:cut] = mask[:, start:cut]
        if piece.any():
            pieces.append(piece)
        start = cut
    return pieces


def digit_masks(mask: np.ndarray) -> list[np.ndarray]:
    """One mask per digit written in a row, left to right."""
    labels, found = components(mask)
    kept = drop_specks(found, mask.shape)
    if not kept:
        return []
    biggest = max(c.area for c in kept)
    kept = [c for c in kept if not (c.touches_border and c.area < 0.25 * biggest)]
    # Specks relative to the typical digit, not the biggest blob: a "1" is small but real.
    heights = sorted(c.height for c in kept)
    typical_height = heights[len(heights) // 2] if heights else 1
    kept = [c for c in kept if c.height >= 0.25 * typical_height or c.area >= 0.1 * biggest]
    pieces = []
    for group in _columns(kept):
        group_mask = np.isin(labels, [c.index for c in group])
        height = max(c.bottom for c in group) - min(c.top for c in group)
        width = max(c.right for c in group) - min(c.left for c in group)
        if width > 1.3 * height:
            pieces.extend(_split_wide(group_mask, expected_width=0.75 * height))
        else:
            pieces.append(group_mask)
    return pieces


def split_digits(source: Any, name: str | None = None) -> list[np.ndarray]:
    """Single MNIST-like digits (each (28, 28, 1)) from an image of several written in a row."""
    label, ink, mask, threshold = _front(source, name)
    pieces = digit_masks(mask)
    if not pieces:
        raise NoDigitError(f"{label}: no digits found.")
    return [_finish(ink, piece, threshold)[..., np.newaxis] for piece in pieces]


def read_number(source: Any, predictor: Any = None, name: str | None = None):
    """Read a whole number (e.g. "2026") written in a row: a :class:`mnistlab.inference.NumberReading`.

    ``predictor`` is a :class:`mnistlab.inference.Predictor` (default: the course model).
    """
    from mnistlab import inference

    return (predictor or inference.Predictor()).read_number(source, name=name)
