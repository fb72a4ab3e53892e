"""Pictures of a network: visualkeras diagrams, first-layer filters, a convolution written out."""

# Feature maps are drawn in plots/explanations.py, augmentation examples in plots/augmentation.py.

from __future__ import annotations

import contextlib
import io
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mnistlab import convolution
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


def plot_edge_filter(image: np.ndarray, kernel: np.ndarray, save: str | None = None):
    """A digit, a hand-made kernel and the result of sliding it over the digit ('valid' convolution)."""
    image = np.asarray(image, dtype="float32").reshape(28, 28)
    kernel = np.asarray(kernel, dtype="float32")
    result = convolution.correlate2d(image, kernel)
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
