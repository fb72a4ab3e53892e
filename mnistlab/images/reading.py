"""Section 2.1, reading: any source (path, bytes, PIL image, array) as one upright PIL image, or a clear error."""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import warnings
import zlib
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


def _too_many_pixels(label: str, width: int | None, height: int | None, pixels: int | None = None) -> ImageError:
    """The one message for an image above MAX_PIXELS, whoever noticed it (Pillow's guard or ours)."""
    limit = _megapixels(MAX_PIXELS)
    if width is not None and height is not None:
        size = f"{width:,}x{height:,} = {_megapixels(width * height)}"
    elif pixels is not None:
        size = _megapixels(pixels)
    else:
        size = "too big for Pillow to open at all"
    return ImageError(
        f"{label}: the image is {size}; the limit is {limit} (bigger pictures are refused before "
        f"decoding, a guard against decompression bombs). Resize it to at most {limit} "
        f"(a few hundred pixels per digit is plenty) and try again."
    )


def _megapixels(pixels: int) -> str:
    # one decimal near the limit, so a picture just above it never reads "50 megapixels; the limit is 50"
    megapixels = pixels / 1e6
    digits = 0 if megapixels >= 100 or megapixels.is_integer() else 1
    return f"{megapixels:,.{digits}f} megapixels"


def _pixels_pillow_refused(error: Exception) -> int | None:
    # Pillow's guard raises before it returns the image, so its message is the only place the size is
    # given ("Image size (N pixels) exceeds limit of ..."); None if a later Pillow words it differently.
    found = re.search(r"\((\d+) pixels\)", str(error))
    return int(found.group(1)) if found else None


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
            # Pillow warns above its own limit (89 megapixels) and refuses above twice that; ours is
            # lower, so its warning is silenced and our size check below gives the one message.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise _too_many_pixels(label, None, None, _pixels_pillow_refused(error)) from None
    except UnidentifiedImageError:
        start = bytes(data[:12])
        raise ImageError(
            f"{label}: not an image file Pillow can read (it starts with {start!r}). "
            f"Use a {SUPPORTED_FORMATS} image."
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{label}: the file is damaged and cannot be opened ({error}). "
                         f"Save or export the image again.") from None
    _check_pixel_count(image, label)  # before the PNG check below, which inflates the whole image
    if image.format == "PNG":
        _check_png_intact(data, label)
    return image


def _check_pixel_count(image: Image.Image, label: str) -> None:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(label, width, height)


def _png_chunks(data: bytes):
    """(type, payload) of each chunk of a PNG file, in order (the file opened, so the signature is fine)."""
    position = 8
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        yield data[position + 4:position + 8], data[position + 8:position + 8 + length]
        position += 12 + length


def _check_png_intact(data: bytes, label: str) -> None:
    """Refuse a PNG whose image data was changed or lost after it was saved.

    Pillow decodes such a file without a word: while loading it skips the checksums of the image data
    (IDAT) chunks, and it stops inflating as soon as it has every row, so the end of the compressed
    stream and its Adler-32 checksum are never reached. Zeros written over the later part of the data
    decode as valid codes (a nearly black picture), which the model would then read as a digit.
    """
    try:
        Image.open(io.BytesIO(data)).verify()  # every chunk's CRC from the first IDAT to IEND
        inflater = zlib.decompressobj()
        for kind, payload in _png_chunks(data):
            if kind == b"IDAT":
                for start in range(0, len(payload), 1 << 16):  # output discarded: memory stays small
                    inflater.decompress(payload[start:start + (1 << 16)], 1 << 20)
                    while inflater.unconsumed_tail:
                        inflater.decompress(inflater.unconsumed_tail, 1 << 20)
        if not inflater.eof:
            raise OSError("the compressed image data stops before its end")
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error) as error:
        raise ImageError(
            f"{label}: the PNG file is damaged: part of its image data was changed or lost after it was "
            f"saved ({error}). Save or export the image again from the original."
        ) from None


def _check_and_load(image: Image.Image, label: str) -> Image.Image:
    _check_pixel_count(image, label)
    width, height = image.size
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
        raise _too_many_pixels(label, array.shape[1], array.shape[0])
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
