"""Training-time augmentation outside the model: affine and elastic warps and stroke-width changes, fed by tf.data."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
import tensorflow as tf

SIZE = 28  # MNIST digits are 28×28
_CENTRE = (SIZE - 1) / 2
# Batches augmented at once, and batches kept ready ahead of training. Augmenting a batch costs about a tenth
# of training on it, so two threads keep up on any machine and leave the other cores to training.
PIPELINE_THREADS = 2
PREFETCH_BATCHES = 4


@dataclass(frozen=True)
class Settings:
    """How strongly each digit is changed; every change is drawn at random, per digit, within these bounds.

    Geometry (one bilinear warp per digit): a rotation of up to ±``rotation`` degrees, a shear
    of up to ±``shear`` (a horizontal slant of that many pixels per pixel of height), a zoom of
    up to ±``zoom`` and an independent stretch of one axis of up to ±``stretch``, a shift of up
    to ±``shift`` pixels, and an elastic wobble: a smooth random displacement whose size is
    ``elastic`` pixels (standard deviation at the nodes of a ``elastic_grid``×``elastic_grid``
    grid, interpolated in between), which bends strokes the way a hand does.

    Stroke width (before the warp): with probability ``thin`` a digit's strokes are thinned,
    with probability ``thick`` thickened (grey-level erosion or dilation over a 2×2 window,
    blended with the original by a random amount between half and all of it), because real
    users draw with pens both thinner and thicker than MNIST's.
    """

    rotation: float = 3.6
    shear: float = 0.0
    zoom: float = 0.1
    stretch: float = 0.0
    shift: float = 2.8
    elastic: float = 0.0
    elastic_grid: int = 4
    thin: float = 0.25
    thick: float = 0.25

    def __post_init__(self):
        for name, value in asdict(self).items():
            if name != "elastic_grid" and not (isinstance(value, int | float) and value >= 0):
                raise ValueError(f"augmentation setting {name} must be a number >= 0, got {value!r}")
        if self.thin > 1 or self.thick > 1 or self.thin + self.thick > 1:
            raise ValueError(
                f"thin ({self.thin}) and thick ({self.thick}) are probabilities of a digit being thinned or "
                f"thickened: each in [0, 1] and together at most 1"
            )
        if self.zoom >= 1 or self.stretch >= 1:
            raise ValueError(f"zoom ({self.zoom}) and stretch ({self.stretch}) must be below 1 (a scale of 1 ± them)")
        if not (isinstance(self.elastic_grid, int) and self.elastic_grid >= 2):
            raise ValueError(f"elastic_grid must be a whole number >= 2, got {self.elastic_grid!r}")


# What the default model trains with: the geometry it had inside its graph before version 4 (Keras'
# RandomRotation(0.01) = ±3.6°, RandomTranslation(0.1) = ±2.8 px, RandomZoom(0.1)) plus stroke-width changes.
# The stroke-width changes keep the MNIST test accuracy and read more of the test digits redrawn with thin or
# bold strokes; an elastic wobble, or a stronger geometry, added nothing to either, so they stay available but
# off (benchmarks/RESULTS.md, "Augmentation").
DEFAULT = Settings()
AFFINE_ONLY = Settings(thin=0.0, thick=0.0)  # the version-3 geometry alone


def without(settings: Settings, *parts: str) -> Settings:
    """``settings`` with some parts switched off: ``"stroke"`` (thin, thick), ``"elastic"``, ``"affine"``."""
    off = {
        "stroke": {"thin": 0.0, "thick": 0.0},
        "elastic": {"elastic": 0.0},
        "affine": {"rotation": 0.0, "shear": 0.0, "zoom": 0.0, "stretch": 0.0, "shift": 0.0},
    }
    changes = {}
    for part in parts:
        if part not in off:
            raise ValueError(f"unknown augmentation part {part!r}: choose from {', '.join(off)}")
        changes.update(off[part])
    return replace(settings, **changes)


# --------------------------------------------------------------------------- the three changes


def _uniform(seed, shape, bound):
    return tf.random.stateless_uniform(shape, seed=seed, minval=-bound, maxval=bound)


def vary_stroke_width(images: tf.Tensor, seed, settings: Settings = DEFAULT) -> tf.Tensor:
    """Thin or thicken the strokes of some digits (``images``: a float batch (N, 28, 28, 1) in [0, 1]).

    Grey-level dilation is the brightest value in each 2×2 window (a max-pool with stride 1),
    erosion the darkest: on a soft MNIST stroke each moves the edge by about a pixel. Each digit
    is thinned (probability ``settings.thin``), thickened (``settings.thick``) or left alone, and
    blended with its changed copy by a random amount in [0.5, 1].
    """
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    if settings.thin == 0 and settings.thick == 0:
        return images
    seeds = tf.random.experimental.stateless_split(seed, 2)
    choose, amount = seeds[0], seeds[1]
    n = tf.shape(images)[0]
    draw = tf.random.stateless_uniform([n, 1, 1, 1], seed=choose)
    blend = tf.random.stateless_uniform([n, 1, 1, 1], seed=amount, minval=0.5, maxval=1.0)
    thicker = tf.nn.max_pool2d(images, 2, 1, "SAME")
    thinner = -tf.nn.max_pool2d(-images, 2, 1, "SAME")
    changed = tf.where(draw < settings.thin, thinner, tf.where(draw < settings.thin + settings.thick, thicker, images))
    return images + blend * (changed - images)


def source_coordinates(n, seed, settings: Settings = DEFAULT) -> tuple[tf.Tensor, tf.Tensor]:
    """Where each output pixel of ``n`` warped digits is read from: ``(rows, columns)``, each (n, 28, 28).

    An affine map around the centre (rotation, shear, zoom, stretch, shift), plus the elastic
    displacement: random values on a coarse grid, smoothly (bicubically) interpolated to 28×28.
    """
    parts = tf.random.experimental.stateless_split(seed, 7)
    angle = _uniform(parts[0], [n], math.radians(settings.rotation))
    shear = _uniform(parts[1], [n], settings.shear)
    zoom = 1.0 + _uniform(parts[2], [n], settings.zoom)
    stretch = 1.0 + _uniform(parts[3], [n], settings.stretch)
    shift = _uniform(parts[4], [n, 2], settings.shift)
    # Reading the input at A·p (p: output pixel relative to the centre) shows the digit transformed by A⁻¹;
    # with symmetric random ranges that is an equally random rotation / shear / zoom.
    cos, sin = tf.cos(angle), tf.sin(angle)
    sy, sx = zoom * stretch, zoom / stretch
    a_yy, a_yx = cos * sy, -sin * sx
    a_xy, a_xx = sin * sy + shear * cos * sy, cos * sx - shear * sin * sx
    grid = tf.range(SIZE, dtype=tf.float32) - _CENTRE
    py, px = grid[None, :, None], grid[None, None, :]

    def per_digit(value):
        return value[:, None, None]

    rows = per_digit(a_yy) * py + per_digit(a_yx) * px + _CENTRE + per_digit(shift[:, 0])
    cols = per_digit(a_xy) * py + per_digit(a_xx) * px + _CENTRE + per_digit(shift[:, 1])
    if settings.elastic > 0:
        k = settings.elastic_grid
        coarse = tf.random.stateless_normal([n, k, k, 2], seed=parts[5], stddev=settings.elastic)
        field = tf.image.resize(coarse, [SIZE, SIZE], method="bicubic")
        rows, cols = rows + field[..., 0], cols + field[..., 1]
    return rows, cols


def warp(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """Bilinear resampling: output pixel (i, j) of digit b is ``images[b]`` read at ``(rows[b,i,j], cols[b,i,j])``.

    Outside the 28×28 square the digit is black (0), MNIST's background.
    """
    n = tf.shape(images)[0]
    width = SIZE + 2
    padded = tf.pad(images[..., 0], [[0, 0], [1, 2], [1, 2]])  # zeros around: every corner read is in range
    # Each pixel with its right, lower and lower-right neighbours side by side: one gather reads all four corners.
    corners = tf.stack(
        [padded[:, :-1, :-1], padded[:, :-1, 1:], padded[:, 1:, :-1], padded[:, 1:, 1:]], axis=-1
    )
    corners = tf.reshape(corners, [-1, 4])
    rows = tf.clip_by_value(rows, -1.0, float(SIZE))
    cols = tf.clip_by_value(cols, -1.0, float(SIZE))
    r0, c0 = tf.floor(rows), tf.floor(cols)
    fr, fc = (rows - r0)[..., None], (cols - c0)[..., None]
    index = tf.range(n)[:, None, None] * width * width + (tf.cast(r0, tf.int32) + 1) * width + tf.cast(c0, tf.int32) + 1
    read = tf.gather(corners, index)  # (n, 28, 28, 4)
    top = read[..., 0:1] * (1 - fc) + read[..., 1:2] * fc
    bottom = read[..., 2:3] * (1 - fc) + read[..., 3:4] * fc
    return top * (1 - fr) + bottom * fr


def augment(images, seed, settings: Settings = DEFAULT) -> tf.Tensor:
    """One random version of every digit in ``images`` (N, 28, 28, 1), float in [0, 1]; the same for the same seed.

    ``seed`` is a pair of integers (e.g. ``(run seed, step)``): stateless random numbers make the
    stream reproducible and let an interrupted run resume with the same augmentations.
    """
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    if images.shape.rank != 4 or tuple(images.shape[1:]) != (SIZE, SIZE, 1):
        raise ValueError(f"augment() needs digits of shape (N, 28, 28, 1), got {tuple(images.shape)}")
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    seeds = tf.random.experimental.stateless_split(seed, 2)
    images = vary_stroke_width(images, seeds[0], settings)
    rows, cols = source_coordinates(tf.shape(images)[0], seeds[1], settings)
    return tf.clip_by_value(warp(images, rows, cols), 0.0, 1.0)


def examples(images: np.ndarray, copies: int = 6, settings: Settings = DEFAULT, seed: int = 0) -> np.ndarray:
    """``copies`` augmented versions of each digit, shape (copies, N, 28, 28, 1): what training shows the model."""
    images = _as_digits(images)
    return np.stack([augment(images, (seed, copy), settings).numpy() for copy in range(copies)])


# --------------------------------------------------------------------------- strokes unlike MNIST's, for testing


def one_pixel_strokes(images: np.ndarray) -> np.ndarray:
    """The digits redrawn with one-pixel strokes: each digit's skeleton, softened a little (an antialiased thin pen).

    Not a training change (training thins by erosion, :func:`vary_stroke_width`): a different,
    harsher change that stands for the thin drawings real users make, to test a model on.
    """
    from scipy import ndimage
    from skimage.morphology import skeletonize

    images = _as_digits(images)
    out = np.empty_like(images)
    for i, digit in enumerate(images[..., 0]):
        line = ndimage.gaussian_filter(skeletonize(digit > 0.3).astype("float32"), 0.5)
        out[i, ..., 0] = line / max(float(line.max()), 1e-6)
    return out


def bold_strokes(images: np.ndarray) -> np.ndarray:
    """The digits with strokes two pixels wider (grey-level dilation by a 3×3 cross): a felt-tip marker."""
    from scipy import ndimage

    images = _as_digits(images)
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
    return ndimage.grey_dilation(images, footprint=cross[None, :, :, None])


def _as_digits(images) -> np.ndarray:
    images = np.asarray(images, dtype="float32")
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[1:] != (SIZE, SIZE, 1):
        raise ValueError(f"expected digits of shape (N, 28, 28) or (N, 28, 28, 1), got {images.shape}")
    return images


# --------------------------------------------------------------------------- the input pipeline


def steps_per_epoch(n_images: int, batch_size: int) -> int:
    """Batches in one pass over ``n_images`` digits (the last one may be smaller)."""
    return math.ceil(n_images / batch_size)


def training_batches(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    seed: int,
    settings: Settings | None = DEFAULT,
    first_epoch: int = 0,
) -> tf.data.Dataset:
    """An endless ``tf.data`` stream of shuffled, augmented training batches ``(images, labels)``, epoch after epoch.

    Each epoch is a fresh permutation of the digits (drawn from ``(seed, epoch)``) cut into
    batches; each batch is augmented by :func:`augment` with its own seed ``(seed, step)``
    (``settings=None``: shuffled only). The augmentation runs in :data:`PIPELINE_THREADS` of
    ``tf.data``'s worker threads, in parallel with training, and ``prefetch`` keeps batches
    ready, so the model's graph holds no augmentation and the deployed model never contains any.
    ``first_epoch`` starts the stream later (a resumed run sees the epochs it has not trained
    yet, with the same digits).
    Give ``model.fit`` ``steps_per_epoch=steps_per_epoch(len(images), batch_size)``.
    """
    n = len(images)
    if n == 0 or len(labels) != n:
        raise ValueError(f"training_batches needs as many labels as images (got {n} images, {len(labels)} labels)")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    steps = steps_per_epoch(n, batch_size)
    images = tf.constant(np.asarray(images, dtype="float32"))
    labels = tf.constant(np.asarray(labels))
    run_seed = tf.constant(seed, tf.int64)

    def one_epoch(epoch):
        order = tf.argsort(tf.random.stateless_uniform([n], seed=tf.stack([run_seed, epoch])))
        batches = tf.data.Dataset.from_tensor_slices(order).batch(batch_size).enumerate()
        return batches.map(lambda index, batch: (epoch * steps + index, batch))

    def make_batch(step, batch):
        x = tf.gather(images, batch)
        if settings is not None:
            x = augment(x, tf.stack([run_seed, step]), settings)
        return x, tf.gather(labels, batch)

    stream = tf.data.Dataset.counter(first_epoch).flat_map(one_epoch)
    stream = stream.map(make_batch, num_parallel_calls=PIPELINE_THREADS, deterministic=True)
    options = tf.data.Options()
    # Fixed sizes: with tf.data's autotuning on, destroying the iterator at the end of fit() sometimes stalled
    # for many seconds; fixed sizes never did, and trained as fast (benchmarks/RESULTS.md, "Augmentation").
    options.autotune.enabled = False
    return stream.prefetch(PREFETCH_BATCHES).with_options(options)
