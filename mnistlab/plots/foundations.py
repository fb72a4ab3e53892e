"""Foundations figures: activation functions with their derivatives, and the gradient each layer receives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from mnistlab.plots.saving import finish_figure


def activation_curves(names: Sequence[str], low: float = -5.0, high: float = 5.0, points: int = 1001):
    """``z`` and, per Keras activation name, its values and numerical derivative on ``[low, high]``.

    The values come from ``keras.activations`` itself, so the picture shows what the layers
    compute; the derivative is the central difference of those values (``numpy.gradient``).
    Returns ``(z, {name: (values, derivative)})``.
    """
    import keras

    if points < 3 or not low < high:
        raise ValueError(f"need low < high and at least 3 points, got low={low}, high={high}, points={points}")
    z = np.linspace(low, high, points, dtype="float32")
    curves = {}
    for name in names:
        try:
            function = keras.activations.get(name)
        except ValueError:
            raise ValueError(f"{name!r} is not a Keras activation: try 'sigmoid', 'tanh' or 'relu'") from None
        values = np.asarray(function(z), dtype="float64")
        curves[name] = (values, np.gradient(values, z.astype("float64")))
    return z, curves


def plot_activations(names: Sequence[str] = ("sigmoid", "tanh", "relu"), save: str | None = None):
    """Each activation (left) and its derivative (right), on the same axes for comparison.

    The derivative is the factor by which a layer scales the gradient on its way back:
    where it is small (sigmoid everywhere, tanh for large inputs) learning slows down.
    """
    z, curves = activation_curves(names)
    fig, (value_ax, slope_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, (values, slope) in curves.items():
        value_ax.plot(z, values, label=name)
        slope_ax.plot(z, slope, label=name)
    for ax, title in ((value_ax, "activation f(z)"), (slope_ax, "derivative f′(z)")):
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.axvline(0, color="grey", linewidth=0.6)
        ax.set_xlabel("z (the layer's weighted sum)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    value_ax.set_ylim(-1.5, 3)
    slope_ax.set_ylim(-0.1, 1.2)
    return finish_figure(fig, save)


def plot_gradient_sizes(sizes: Mapping[str, Sequence[float]], save: str | None = None):
    """Mean absolute gradient per layer (log scale), one line per model, input layer on the left.

    ``sizes`` maps a label (e.g. the activation) to the numbers of
    :func:`mnistlab.models.kernel_gradient_sizes`. A line that falls steeply to the left
    means the first layers hardly learn.
    """
    if not sizes:
        raise ValueError("sizes is empty: give {label: [gradient size per layer, ...]}")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for label, values in sizes.items():
        values = np.asarray(values, dtype="float64")
        if values.ndim != 1 or values.size == 0 or not (values > 0).all():
            raise ValueError(f"sizes[{label!r}] must be a non-empty list of positive numbers, got {values!r}")
        ax.semilogy(np.arange(1, values.size + 1), values, "o-", label=label)
    ax.set_xlabel("layer (1 = next to the input, last = output layer)")
    ax.set_ylabel("mean |∂loss/∂weight|")
    ax.set_title("Gradient reaching each layer at initialisation")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return finish_figure(fig, save)


def _show_kernel(ax, kernel: np.ndarray, limit: float, values: bool = True) -> None:
    """One kernel in red (positive) and blue (negative) on a shared scale, its weights written in when asked."""
    ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    if values:
        for (i, j), value in np.ndenumerate(kernel):
            ax.text(j, i, f"{round(value, 2) + 0:g}", ha="center", va="center", fontsize=7)  # + 0: no "-0"
    ax.set_xticks([])
    ax.set_yticks([])


def plot_kernel_stack(kernels: np.ndarray, max_filters: int = 6, max_channels: int = 8, title: str | None = None,
                      save: str | None = None):
    """A convolution layer's kernels (kh, kw, C, F) as a grid: one row per filter, one column per input channel.

    Each row is one filter: C kernels of kh×kw, one for each input channel. The layer slides each of
    them over its own input channel and adds the C results into one output map. Only the first
    ``max_filters`` rows and ``max_channels`` columns are drawn; the colour scale is shared.
    """
    kernels = np.asarray(kernels, dtype="float64")
    if kernels.ndim != 4:
        raise ValueError(f"kernels must have shape (kh, kw, channels, filters), got {kernels.shape}")
    kh, kw, channels, filters = kernels.shape
    rows, columns = min(filters, max_filters), min(channels, max_channels)
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns + 0.6, 1.1 * rows + 0.6), squeeze=False)
    limit = float(np.abs(kernels[:, :, :columns, :rows]).max()) or 1.0
    for f in range(rows):
        for c in range(columns):
            _show_kernel(axes[f, c], kernels[:, :, c, f], limit, values=False)
        axes[f, 0].set_ylabel(f"filter {f}", fontsize=8)
    for c in range(columns):
        axes[0, c].set_title(f"channel {c}", fontsize=8)
    shown = f" (first {rows} of {filters} filters, {columns} of {channels} channels)" if (rows, columns) != (
        filters, channels) else ""
    fig.suptitle(title or f"Kernel stack {kh}×{kw}×{channels}×{filters}{shown}")
    return finish_figure(fig, save)


def plot_kernel_recovery(true_kernel: np.ndarray, learned_kernel: np.ndarray, losses, save: str | None = None):
    """Learning a kernel by gradient descent: the loss at each step (log scale), the hidden kernel, the one found."""
    true_kernel = np.asarray(true_kernel, dtype="float64")
    learned_kernel = np.asarray(learned_kernel, dtype="float64").reshape(true_kernel.shape)
    losses = np.asarray(losses, dtype="float64").ravel()
    if losses.size == 0:
        raise ValueError("losses is empty: record the loss at every step")
    fig, (loss_ax, true_ax, learned_ax) = plt.subplots(1, 3, figsize=(10, 3.2),
                                                       gridspec_kw={"width_ratios": [2, 1, 1]})
    loss_ax.semilogy(np.arange(losses.size), np.clip(losses, 1e-12, None))
    loss_ax.set_xlabel("step")
    loss_ax.set_ylabel("mean squared error")
    loss_ax.set_title("loss")
    loss_ax.grid(alpha=0.3, which="both")
    limit = float(np.abs(true_kernel).max()) or 1.0
    _show_kernel(true_ax, true_kernel, limit)
    true_ax.set_title("hidden kernel")
    _show_kernel(learned_ax, learned_kernel, limit)
    learned_ax.set_title("kernel found")
    return finish_figure(fig, save)
