"""Section 1, reading: any source (path, bytes, PIL image, array) as one upright PIL image, or a clear error."""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path
from typing import TypeAlias

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnistlab.images.constants import (
    MAX_FILE_BYTES,
    MAX_PIXELS,
    STILL_MULTI_FRAME_FORMATS,
    SUPPORTED_FORMATS,
    WORK_SIZE,
)
from mnistlab.images.errors import ImageError

# What the pipeline reads: a file path, the bytes of an upload, a PIL image or a numpy array
# (2-D grey; 3-D RGB or RGBA; a trailing channel axis of 1 is fine).
ImageSource: TypeAlias = str | os.PathLike | bytes | bytearray | memoryview | Image.Image | np.ndarray


def describe_source(source: ImageSource | object, name: str | None = None) -> str:
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
    if image.format in STILL_MULTI_FRAME_FORMATS:
        image.seek(0)  # the photo itself; the other frames are previews
    elif getattr(image, "is_animated", False) and frames > 1:
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


def read_image(source: ImageSource, name: str | None = None) -> Image.Image:
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
