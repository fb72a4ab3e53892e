"""Pictures of a network: visualkeras diagrams, feature maps, first-layer filters, augmentation examples."""

from __future__ import annotations

import contextlib
import io
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mnistlab.plots.grid import DIGIT_CMAP, panel_grid
from mnistlab.plots.saving import finish_figure


@contextlib.contextmanager
def _keras2_output_shapes(model):
    """Give every layer the ``output_shape`` attribute visualkeras 0.2.0 reads (Keras 3 dropped it).

    Keras 3 layers know their output through ``layer.output.shape``; the attribute is
    added for the duration of the drawing and removed afterwards, leaving the model as
    it was.
    """
    # Remove once visualkeras reads layer.output.shape itself (then raise its lower bound to that
    # release): tests/test_workarounds.py fails, naming the versions, as soon as this is no longer
    # needed or no longer enough.
    added = []
    try:
        for layer in model.layers:
            if "output_shape" in vars(layer) or hasattr(type(layer), "output_shape"):
                continue
            object.__setattr__(layer, "output_shape", tuple(layer.output.shape))
            added.append(layer)
        yield model
    finally:
        for layer in added:
            object.__delattr__(layer, "output_shape")


def _default_font(size: int = 14):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def layered_view_image(model, legend: bool = True, **options):
    """The visualkeras "layered" diagram of ``model`` as a PIL image, working on Keras 3 and printing nothing.

    ``options`` go to ``visualkeras.layered_view`` (e.g. ``scale_xy``, ``spacing``,
    ``type_ignore``). visualkeras 0.2.0 reads ``layer.output_shape``, which Keras 3
    layers no longer have, and always warns about a deprecated legend option; this
    wrapper supplies the shapes and silences both.
    """
    if not getattr(model, "built", False) or not model.layers:
        raise ValueError("layered_view needs a built model with layers: start it with keras.Input(...)")
    import visualkeras

    options.setdefault("legend", legend)
    options.setdefault("legend_text_spacing_offset", 0)  # the non-zero default triggers a deprecation warning
    options.setdefault("scale_xy", 4)
    options.setdefault("spacing", 12)
    if options["legend"]:
        options.setdefault("font", _default_font())
    with _keras2_output_shapes(model), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return visualkeras.layered_view(model, **options)


LAYERED_VIEW_MAX_WIDTH = 11.0  # inches: as wide as a notebook cell shows without shrinking the text


def layered_view(model, title: str | None = None, save: str | None = None, legend: bool = True, **options) -> Figure:
    """A visualkeras "layered" diagram of ``model`` (see :func:`layered_view_image`) as a matplotlib Figure.

    The picture is shown at its own pixel size (100 px to the inch) up to
    :data:`LAYERED_VIEW_MAX_WIDTH`; ``save`` is a file name under ``config.figures_dir()``.
    """
    image = layered_view_image(model, legend=legend, **options)
    width, height = image.size
    scale = min(1.0, LAYERED_VIEW_MAX_WIDTH * 100 / width)
    fig, ax = plt.subplots(figsize=(width * scale / 100, height * scale / 100 + (0.4 if title else 0.0)))
    ax.imshow(image)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return finish_figure(fig, save)


def _conv_layers(model):
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def feature_maps(model, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """``(layer name, maps of shape (H, W, channels))`` of every conv layer for one digit (28, 28[, 1]) in [0, 1]."""
    import keras

    image = np.asarray(image, dtype="float32").reshape(1, 28, 28, 1)
    convs = _conv_layers(model)
    if not convs:
        raise ValueError(f"model {model.name!r} has no Conv2D layer: feature maps need a CNN")
    probe = keras.Model(model.inputs, [layer.output for layer in convs])
    outputs = probe.predict(image, verbose=0)
    if not isinstance(outputs, list):
        outputs = [outputs]
    return [(layer.name, out[0]) for layer, out in zip(convs, outputs, strict=False)]


def plot_feature_maps(model, image: np.ndarray, max_maps: int = 8, save: str | None = None):
    """One row per conv layer: the first ``max_maps`` channels it computes for ``image``."""
    maps = feature_maps(model, image)
    fig, axes = plt.subplots(len(maps), max_maps + 1, figsize=(1.3 * (max_maps + 1), 1.4 * len(maps)), squeeze=False)
    for row, (name, stack) in enumerate(maps):
        axes[row, 0].imshow(np.asarray(image).reshape(28, 28), cmap=DIGIT_CMAP)
        axes[row, 0].set_title("input" if row == 0 else "", fontsize=8)
        axes[row, 0].set_ylabel(f"{name}\n{stack.shape[0]}×{stack.shape[1]}", fontsize=8)
        for col in range(max_maps):
            ax = axes[row, col + 1]
            if col < stack.shape[-1]:
                ax.imshow(stack[..., col], cmap="viridis")
                if row == 0:
                    ax.set_title(f"channel {col}", fontsize=8)
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Feature maps: what each convolution layer responds to")
    return finish_figure(fig, save)


def plot_filters(model, save: str | None = None):
    """The learned 3×3 kernels of the first convolution layer (red: positive weight, blue: negative)."""
    convs = _conv_layers(model)
    if not convs:
        raise ValueError(f"model {model.name!r} has no Conv2D layer: there are no filters to show")
    kernels = np.asarray(convs[0].kernel)  # (k, k, in_channels, filters)
    count = kernels.shape[-1]
    fig, axes = panel_grid(count, 8, (1.2, 1.2))
    limit = float(np.abs(kernels).max()) or 1.0
    for index, ax in enumerate(axes[:count]):
        ax.imshow(kernels[:, :, 0, index], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(str(index), fontsize=7)
    fig.suptitle(f"First-layer filters of {model.name} ({convs[0].name})")
    return finish_figure(fig, save)


def augment(images: np.ndarray, copies: int = 6, settings=None, seed: int = 0) -> np.ndarray:
    """``copies`` randomly augmented versions of each image: shape (copies, N, 28, 28, 1).

    ``settings``: a :class:`mnistlab.augmentation.Settings` (default: the one the default model trains with).
    """
    from mnistlab import augmentation

    images = np.asarray(images, dtype="float32")
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, 28, 28[, 1]), got {images.shape}")
    return augmentation.examples(images, copies, settings or augmentation.DEFAULT, seed)


def plot_augmentation(images: np.ndarray, copies: int = 6, settings=None, seed: int = 0, save: str | None = None):
    """Each original digit (left column) next to ``copies`` random augmentations of it."""
    images = np.asarray(images, dtype="float32")
    versions = augment(images, copies, settings, seed)
    n = len(images)
    fig, axes = plt.subplots(n, copies + 1, figsize=(1.2 * (copies + 1), 1.25 * n), squeeze=False)
    for row in range(n):
        axes[row, 0].imshow(images[row].reshape(28, 28), cmap=DIGIT_CMAP)
        for col in range(copies):
            axes[row, col + 1].imshow(versions[col, row, ..., 0], cmap=DIGIT_CMAP)
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_title("original", fontsize=8)
    for col in range(copies):
        axes[0, col + 1].set_title(f"augmented {col + 1}", fontsize=8)
    fig.suptitle("Augmentation: a different random version of each digit every epoch (training only)")
    return finish_figure(fig, save)


def plot_augmentation_parts(images: np.ndarray, parts: dict, seed: int = 0, save: str | None = None):
    """One column per augmentation part: ``parts`` maps a column title to the ``Settings`` that switch on only it.

    Row by row: an original digit, then one random version of it for each part, so the
    effect of each change (a shear, an elastic wobble, thinner or thicker strokes…) is seen alone.
    """
    images = np.asarray(images, dtype="float32")
    columns = {name: augment(images, 1, settings, seed)[0] for name, settings in parts.items()}
    n = len(images)
    fig, axes = plt.subplots(n, len(parts) + 1, figsize=(1.35 * (len(parts) + 1), 1.3 * n), squeeze=False)
    for row in range(n):
        axes[row, 0].imshow(images[row].reshape(28, 28), cmap=DIGIT_CMAP, vmin=0, vmax=1)
        for col, versions in enumerate(columns.values()):
            axes[row, col + 1].imshow(versions[row, ..., 0], cmap=DIGIT_CMAP, vmin=0, vmax=1)
        for ax in axes[row]:
            ax.set_xticks([])
            ax.set_yticks([])
    for col, name in enumerate(["original", *parts]):
        axes[0, col].set_title(name, fontsize=8)
    fig.suptitle("What each part of the augmentation does, alone")
    return finish_figure(fig, save)


def plot_edge_filter(image: np.ndarray, kernel: np.ndarray, save: str | None = None):
    """A digit, a hand-made kernel and the result of sliding it over the digit ('valid' convolution)."""
    image = np.asarray(image, dtype="float32").reshape(28, 28)
    kernel = np.asarray(kernel, dtype="float32")
    result = convolve2d(image, kernel)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
    axes[0].imshow(image, cmap=DIGIT_CMAP)
    axes[0].set_title("digit 28×28")
    limit = float(np.abs(kernel).max()) or 1.0
    axes[1].imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    for (i, j), value in np.ndenumerate(kernel):
        axes[1].text(j, i, f"{value:g}", ha="center", va="center")
    axes[1].set_title(f"kernel {kernel.shape[0]}×{kernel.shape[1]}")
    axes[2].imshow(result, cmap="RdBu_r")
    axes[2].set_title(f"output {result.shape[0]}×{result.shape[1]}")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return finish_figure(fig, save)


def convolve2d(image: np.ndarray, kernel: np.ndarray, stride: int = 1) -> np.ndarray:
    """A 'valid' 2-D convolution written out (as Keras does it: cross-correlation, kernel not flipped)."""
    from mnistlab import models

    image = np.asarray(image, dtype="float32")
    kernel = np.asarray(kernel, dtype="float32")
    kh, kw = kernel.shape
    if kh > image.shape[0] or kw > image.shape[1]:
        raise ValueError(f"kernel {kernel.shape} does not fit in image {image.shape}")
    out_h = models.conv_output_size(image.shape[0], kh, stride)
    out_w = models.conv_output_size(image.shape[1], kw, stride)
    out = np.empty((out_h, out_w), dtype="float32")
    for i in range(out_h):
        for j in range(out_w):
            patch = image[i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[i, j] = float((patch * kernel).sum())
    return out
