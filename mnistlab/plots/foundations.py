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
