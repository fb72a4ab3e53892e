"""Grids of image panels, shared by the plot helpers: images in the shape imshow takes, rows × columns, axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

FLAT_MNIST = 28 * 28  # a dense network's input: one flattened digit per row
# Digits are drawn as the model sees them, white ink (1.0) on black (0.0), the way MNIST stores them
# (notebook 01); notebook 07 turns dark-on-light photos into this polarity, so one colour map shows both.
DIGIT_CMAP = "gray"


def without_channel_axis(images) -> np.ndarray:
    """Drop a trailing channel axis of length 1: (H, W, 1) to (H, W), (N, H, W, 1) to (N, H, W); others as they are."""
    array = np.asarray(images)
    if array.ndim in (3, 4) and array.shape[-1] == 1:
        return array[..., 0]
    return array


def image_stack(images) -> np.ndarray:
    """A stack of 2-D images for imshow, from (N, H, W), (N, H, W, 1) or flattened digits (N, 784)."""
    array = without_channel_axis(images)
    if array.ndim == 2 and array.shape[1] == FLAT_MNIST:
        array = array.reshape(-1, 28, 28)
    if array.ndim != 3:
        raise ValueError(
            f"images must be a stack (N, H, W), (N, H, W, 1) or flattened digits (N, 784), got shape {array.shape}."
        )
    return array


def grid_shape(count: int, columns: int) -> tuple[int, int]:
    """``(rows, columns)`` for ``count`` panels at most ``columns`` wide (fewer columns when there are fewer panels)."""
    columns = max(1, min(columns, count))
    return -(-count // columns), columns


def panel_grid(count: int, columns: int, cell: tuple[float, float], extra_height: float = 0.0) -> tuple[Figure, list]:
    """A figure of ``count`` panels in rows of ``columns``, each ``cell`` inches (width, height), axes hidden.

    Returns ``(fig, axes)`` with the axes in reading order; panels past ``count`` stay blank.
    """
    rows, columns = grid_shape(count, columns)
    width, height = cell
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows + extra_height), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, list(axes.flat)
