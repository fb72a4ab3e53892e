"""Load the canonical MNIST arrays (offline first) and the preprocessing steps the course teaches."""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistlab import config
from mnistlab.errors import MnistlabError

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
DATA_ENV = "MNISTLAB_DATA"
FILE_NAME = "mnist.npz"
NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28)
INPUT_SHAPE = (*IMAGE_SHAPE, 1)  # what every CNN of the course takes: one grey channel
_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
_EXPECTED_SHAPES = {
    "x_train": (60_000, 28, 28),
    "y_train": (60_000,),
    "x_test": (10_000, 28, 28),
    "y_test": (10_000,),
}


class MnistDataError(MnistlabError, RuntimeError):
    """The MNIST file is missing, damaged or could not be downloaded; the message says what to do."""


# --------------------------------------------------------------------------- finding the file


def keras_cache_path() -> Path:
    """Where Keras keeps its own download: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``."""
    keras_home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(keras_home).expanduser() / "datasets" / FILE_NAME


def candidate_paths(path: str | os.PathLike | None = None) -> list[Path]:
    """The places searched, in order: explicit path, ``$MNISTLAB_DATA``, ``data/``, Keras cache."""
    places = []
    if path is not None:
        places.append(Path(path).expanduser())
    if os.environ.get(DATA_ENV):
        places.append(Path(os.environ[DATA_ENV]).expanduser())
    places.append(config.data_dir() / FILE_NAME)
    places.append(keras_cache_path())
    return places


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks so memory stays flat."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, expected_sha256: str = MNIST_SHA256) -> None:
    """Raise :class:`MnistDataError` unless ``path`` has the canonical checksum."""
    got = sha256_of(path)
    if got != expected_sha256:
        raise MnistDataError(
            f"{path} is not the canonical MNIST file (wrong SHA-256).\n"
            f"  expected: {expected_sha256}\n"
            f"  got:      {got}\n"
            f"It may be truncated or a different dataset. Delete it (or replace it with Keras' "
            f"mnist.npz) and run again."
        )


def find_local_file(path: str | os.PathLike | None = None) -> Path | None:
    """The first existing candidate, verified; an explicit ``path`` that is missing is an error."""
    if path is not None and not Path(path).expanduser().is_file():
        raise MnistDataError(
            f"No MNIST file at {Path(path).expanduser()} (the path you passed to load_mnist). "
            f"Check the spelling, or call load_mnist() without a path to use the usual places."
        )
    for candidate in candidate_paths(path):
        if candidate.is_file():
            verify_file(candidate)
            return candidate
    return None


# --------------------------------------------------------------------------- downloading


def download_mnist(
    destination: Path | None = None,
    url: str = MNIST_URL,
    expected_sha256: str = MNIST_SHA256,
    timeout: float = 30.0,
) -> Path:
    """Download Keras' ``mnist.npz`` to ``destination`` (default ``data/mnist.npz``), verified.

    The bytes go to a temporary file next to the destination and are only renamed into
    place once the SHA-256 matches, so a truncated or wrong download never becomes the file
    that a later run trusts.
    """
    destination = Path(destination or config.data_dir() / FILE_NAME)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=".mnist-", suffix=".part", dir=destination.parent)
    tmp = Path(tmp_name)
    print(f"Downloading MNIST (11 MB) from {url} to {destination} ...", file=sys.stderr)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            announced = response.headers.get("Content-Length")
            shutil.copyfileobj(response, out)
        received = tmp.stat().st_size
        if announced and announced.isdigit() and received != int(announced):
            raise MnistDataError(
                f"The download from {url} stopped early ({received:,} of {int(announced):,} bytes), so it "
                f"was deleted and not used. Try again, or:\n" + _where_to_put_the_file()
            )
        got = sha256_of(tmp)
        if got != expected_sha256:
            raise MnistDataError(
                f"The download from {url} is damaged or incomplete (wrong SHA-256), so it was "
                f"deleted and not used.\n  expected: {expected_sha256}\n  got:      {got}\n"
                + _where_to_put_the_file()
            )
        tmp.replace(destination)
        return destination
    except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as error:
        raise MnistDataError(
            f"Could not download MNIST from {url} ({_reason(error)}).\n" + _where_to_put_the_file()
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def _reason(error: BaseException) -> str:
    return str(getattr(error, "reason", None) or error) or type(error).__name__


def _where_to_put_the_file() -> str:
    places = "\n".join(f"  - {place}" for place in candidate_paths())
    return (
        "To work offline, copy Keras' mnist.npz (11,490,434 bytes, SHA-256 "
        f"{MNIST_SHA256[:16]}...) to any of these places:\n{places}\n"
        f"or set {DATA_ENV}=/path/to/mnist.npz, or pass load_mnist(path=...)."
    )


# --------------------------------------------------------------------------- loading


def read_npz(path: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Read the four arrays from an ``mnist.npz`` without ever unpickling."""
    with np.load(path, allow_pickle=False) as archive:
        missing = [name for name in _ARRAYS if name not in archive.files]
        if missing:
            raise MnistDataError(f"{path} has no {', '.join(missing)}: it is not an MNIST npz file.")
        arrays = {name: archive[name] for name in _ARRAYS}
    for name, shape in _EXPECTED_SHAPES.items():
        if arrays[name].shape != shape:
            raise MnistDataError(f"{path}: {name} has shape {arrays[name].shape}, expected {shape}.")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def locate_mnist(path: str | os.PathLike | None = None, download: bool = True, url: str = MNIST_URL) -> Path:
    """Path of a verified ``mnist.npz``: a local copy if there is one, else a fresh download."""
    found = find_local_file(path)
    if found is not None:
        return found
    if not download:
        raise MnistDataError("MNIST is not on this machine.\n" + _where_to_put_the_file())
    return download_mnist(url=url)


def load_mnist(
    path: str | os.PathLike | None = None, download: bool = True, url: str = MNIST_URL
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)`` exactly as Keras' ``mnist.load_data()`` gives them.

    Images are uint8 arrays of shape (N, 28, 28), labels uint8 arrays of shape (N,).
    Searched in order: ``path``, ``$MNISTLAB_DATA``, ``data/mnist.npz``, the Keras cache;
    then downloaded (checked against :data:`MNIST_SHA256`) unless ``download=False``.
    """
    return read_npz(locate_mnist(path, download=download, url=url))


# --------------------------------------------------------------------------- preprocessing


def scale_pixels(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 to float32 in [0, 1]."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype("float32") / 255.0
    if images.size and (images.min() < 0 or images.max() > 255):
        raise ValueError(f"pixels must lie in 0..255, got {images.min()}..{images.max()}")
    return images.astype("float32") / 255.0


def add_channel_axis(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) to (N, 28, 28, 1): convolution layers expect a channel axis."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"expected a stack of 2-D images (N, H, W), got shape {images.shape}")
    return images[..., np.newaxis]


def flatten_images(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28[, 1]) to (N, 784): what a dense network takes."""
    images = np.asarray(images)
    return images.reshape(len(images), -1)


def to_cnn_input(images: np.ndarray) -> np.ndarray:
    """Raw uint8 digits to what the course's CNNs take: float32 in [0, 1], shape (N, 28, 28, 1)."""
    return add_channel_axis(scale_pixels(images))


def one_hot(labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Integer labels (N,) to one-hot float32 rows (N, num_classes), for categorical cross-entropy."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D integers, got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}")
    return np.eye(num_classes, dtype="float32")[labels.astype(int)]


def from_one_hot(rows: np.ndarray) -> np.ndarray:
    """One-hot (or probability) rows back to integer labels."""
    return np.asarray(rows).argmax(axis=-1)


def train_validation_split(
    images: np.ndarray, labels: np.ndarray, validation_fraction: float = 0.1, seed: int = config.SEED
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified split: ``x_train, x_val, y_train, y_val`` with every digit in the same proportion."""
    from sklearn.model_selection import train_test_split

    return train_test_split(
        images, labels, test_size=validation_fraction, stratify=labels, random_state=seed
    )


def stratified_subset(
    images: np.ndarray, labels: np.ndarray, size: int | None, seed: int = config.SEED
) -> tuple[np.ndarray, np.ndarray]:
    """A class-balanced random subset of ``size`` examples (all of them when size is None)."""
    if size is None or size >= len(labels):
        return images, labels
    from sklearn.model_selection import train_test_split

    kept_x, _, kept_y, _ = train_test_split(
        images, labels, train_size=size, stratify=labels, random_state=seed
    )
    return kept_x, kept_y


# --------------------------------------------------------------------------- transformed digits
# Used by notebook 02: the slant of the digits (section 7), and what a dense net and a CNN assume about
# pixels (section 8).


def shift_images(images: np.ndarray, rows, columns) -> np.ndarray:
    """Each image moved by whole pixels, ``rows`` down and ``columns`` right (negative: up, left).

    ``rows`` and ``columns`` are one number for every image or one per image. The ink that leaves
    the frame is lost and the border that opens is filled with background (0), never wrapped
    around the way ``np.roll`` would.
    """
    images = np.asarray(images)
    if images.ndim < 3:
        raise ValueError(f"expected a stack of images (N, H, W[, C]), got shape {images.shape}")
    count, height, width = images.shape[:3]
    rows = np.broadcast_to(np.asarray(rows, dtype=int), (count,))
    columns = np.broadcast_to(np.asarray(columns, dtype=int), (count,))
    if np.abs(rows).max(initial=0) >= height or np.abs(columns).max(initial=0) >= width:
        raise ValueError(f"shifts must be smaller than the image ({height}×{width}), got up to "
                         f"{np.abs(rows).max()} rows and {np.abs(columns).max()} columns")
    shifted = np.zeros_like(images)
    for (down, right) in {(int(r), int(c)) for r, c in zip(rows, columns, strict=True)}:
        which = (rows == down) & (columns == right)
        source = images[which][:, max(-down, 0) : height - max(down, 0), max(-right, 0) : width - max(right, 0)]
        shifted_part = shifted[which]
        shifted_part[:, max(down, 0) : height - max(-down, 0), max(right, 0) : width - max(-right, 0)] = source
        shifted[which] = shifted_part
    return shifted


def random_shifts(count: int, distance: int, seed: int = config.SEED) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random (rows, columns) shifts, each a move of exactly ``distance`` pixels along a row, a column
    or a diagonal (one of the eight directions, drawn at random), for :func:`shift_images`."""
    directions = np.array([(r, c) for r in (-1, 0, 1) for c in (-1, 0, 1) if (r, c) != (0, 0)])
    picked = directions[np.random.default_rng(seed).integers(0, len(directions), size=count)] * distance
    return picked[:, 0], picked[:, 1]


def fixed_pixel_permutation(seed: int = config.SEED, pixels: int = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]) -> np.ndarray:
    """One random order of the ``pixels`` positions, the same for every call with the same seed."""
    return np.random.default_rng(seed).permutation(pixels)


def permute_pixels(images: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """Every image with its pixels scattered by the same ``permutation``; the shape stays as it was.

    Nothing is lost (``np.argsort(permutation)`` puts every pixel back), but neighbouring pixels are no
    longer neighbours: the picture becomes noise to the eye and to a convolution, not to a dense layer.
    """
    images = np.asarray(images)
    permutation = np.asarray(permutation)
    flat = images.reshape(len(images), -1)
    if sorted(permutation.tolist()) != list(range(flat.shape[1])):
        raise ValueError(f"permutation must hold each of the {flat.shape[1]} pixel positions once")
    return flat[:, permutation].reshape(images.shape)


_SLANT_CHUNK = 5_000


def slant_angles(images: np.ndarray) -> np.ndarray:
    """The slant of each digit in degrees, from its second-order image moments (positive: leaning right, like /).

    Each pixel is weighted by its ink. With the central moments ``mu11`` (row × column) and
    ``mu02`` (rows squared), a digit's ink lies on average along a line whose column moves
    ``-mu11 / mu02`` pixels per row (rows count downwards, so a top leaning right gives a
    negative ``mu11``); the slant is the angle of that line from the vertical,
    ``atan(-mu11 / mu02)``. This is the shear that deskewing undoes.
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"expected a stack of 2-D images (N, H, W), got shape {images.shape}")
    if len(images) > _SLANT_CHUNK:  # in chunks, so that 60,000 digits never need gigabytes of float64 at once
        return np.concatenate([slant_angles(images[i : i + _SLANT_CHUNK]) for i in range(0, len(images), _SLANT_CHUNK)])
    images = images.astype(np.float64)
    ink = images.sum(axis=(1, 2))
    if np.any(ink <= 0):
        raise ValueError("every image needs some ink (a blank image has no slant)")
    rows = np.arange(images.shape[1], dtype=np.float64)[None, :, None]
    columns = np.arange(images.shape[2], dtype=np.float64)[None, None, :]
    row_mean = (images * rows).sum(axis=(1, 2)) / ink
    column_mean = (images * columns).sum(axis=(1, 2)) / ink
    row_offset = rows - row_mean[:, None, None]
    column_offset = columns - column_mean[:, None, None]
    mu11 = (images * row_offset * column_offset).sum(axis=(1, 2))
    mu02 = (images * row_offset**2).sum(axis=(1, 2))
    return np.degrees(np.arctan(-mu11 / mu02))



# --------------------------------------------------------------------------- train / validation / test

VALIDATION_FRACTION = 0.1  # of the training digits, held out to choose epochs and compare runs


@dataclass
class Split:
    """Images already as CNN input (float32, (N, 28, 28, 1)) and integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def split_mnist(train_size: int | None = None, seed: int = config.SEED, arrays=None) -> Split:
    """MNIST as train / validation / test, ready for the CNNs.

    ``train_size`` training digits (all 60,000 when None) are drawn class-balanced, then
    :data:`VALIDATION_FRACTION` of them are held out for validation; the 10,000 test digits are
    never used while training. ``arrays`` (the output of :func:`load_mnist`) may be given to
    avoid reading the file again.
    """
    (x_train, y_train), (x_test, y_test) = arrays if arrays is not None else load_mnist()
    x_train, y_train = stratified_subset(x_train, y_train, train_size, seed=seed)
    x_tr, x_val, y_tr, y_val = train_validation_split(x_train, y_train, VALIDATION_FRACTION, seed=seed)
    return Split(
        to_cnn_input(x_tr),
        np.asarray(y_tr),
        to_cnn_input(x_val),
        np.asarray(y_val),
        to_cnn_input(x_test),
        np.asarray(y_test),
    )
