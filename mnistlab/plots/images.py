"""Figures for user images: every pipeline step, raw vs prepared, and confidence bars."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from mnistlab.plots.grid import panel_grid, without_channel_axis
from mnistlab.plots.saving import finish_figure

STEP_TITLES = {
    "original": "1. as read",
    "grey": "2. grey",
    "background": "3. background",
    "ink": "4. ink (flattened)",
    "mask": "5. threshold",
    "digit_mask": "6. the digit",
    "cropped": "7. cropped",
    "stroke": "8. stroke width",
    "resized": "9. 20 px box",
    "centred": "10. centred 28x28",
}


def _show(ax, image: np.ndarray, title: str) -> None:
    image = without_channel_axis(image)
    if image.ndim == 3:
        ax.imshow(image)
    else:
        ax.imshow(image, cmap="gray", vmin=0, vmax=max(1.0, float(image.max())) if image.dtype != bool else 1)
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_pipeline_steps(steps, keys: Sequence[str] | None = None, save: str | None = None):
    """One row: every intermediate image of :func:`mnistlab.images.prepare_steps`."""
    keys = list(keys or [k for k in STEP_TITLES if k in steps.images])
    fig, axes = plt.subplots(1, len(keys), figsize=(1.6 * len(keys), 2.1), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        _show(ax, steps.images[key], STEP_TITLES.get(key, key))
    detail = f"{steps.polarity}, stroke {steps.stroke_width:.2f} of height ({steps.stroke_action})"
    fig.suptitle(f"{steps.name}: {detail}", fontsize=9)
    return finish_figure(fig, save)


def plot_pipeline_grid(all_steps: Sequence, keys: Sequence[str] | None = None, save: str | None = None):
    """Several images, one row each, the same pipeline steps side by side."""
    if not all_steps:
        raise ValueError("no pipeline results to plot")
    keys = list(keys or [k for k in STEP_TITLES if k in all_steps[0].images])
    fig, axes = plt.subplots(len(all_steps), len(keys), figsize=(1.5 * len(keys), 1.6 * len(all_steps)),
                             squeeze=False)
    for row, steps in zip(axes, all_steps, strict=True):
        for ax, key in zip(row, keys, strict=True):
            _show(ax, steps.images[key], STEP_TITLES.get(key, key) if row is axes[0] else "")
        row[0].set_ylabel(str(steps.name).split("/")[-1][:18], fontsize=8)
    return finish_figure(fig, save)


def plot_confidence_bars(probabilities: np.ndarray, image: np.ndarray | None = None, title: str = "",
                    save: str | None = None):
    """Bar chart of the ten digit probabilities (top digit highlighted), with the input beside it."""
    probabilities = np.asarray(probabilities, dtype=float).reshape(-1)
    if probabilities.shape != (10,):
        raise ValueError(f"expected 10 probabilities, got shape {probabilities.shape}")
    columns = 2 if image is not None else 1
    fig, axes = plt.subplots(1, columns, figsize=(2.2 + 2.6 * columns, 2.2),
                             gridspec_kw={"width_ratios": [1, 2.4]} if image is not None else None, squeeze=False)
    bar_ax = axes[0, -1]
    if image is not None:
        _show(axes[0, 0], image, "model input")
    colours = ["tab:gray"] * 10
    colours[int(np.argmax(probabilities))] = "tab:blue"
    bar_ax.bar(range(10), probabilities, color=colours)
    bar_ax.set_xticks(range(10))
    bar_ax.set_ylim(0, 1)
    bar_ax.set_ylabel("probability")
    bar_ax.set_title(title or f"{int(np.argmax(probabilities))} ({probabilities.max():.0%})", fontsize=9)
    return finish_figure(fig, save)


def plot_image_predictions(predictions: Sequence, columns: int = 6, save: str | None = None):
    """A grid of prepared inputs titled with the answer (digit and confidence, or why not)."""
    shown = [p for p in predictions if p.image is not None] or list(predictions)
    if not shown:
        raise ValueError("no predictions to plot")
    fig, axes = panel_grid(len(shown), columns, (1.6, 1.8))
    for ax, p in zip(axes, shown, strict=False):
        image = p.image if p.image is not None else np.zeros((28, 28))
        answer = f"{p.digit} {p.confidence:.0%}" if p.is_digit else p.status
        _show(ax, image, f"{str(p.name).split('/')[-1][:14]}\n{answer}")
        ax.axis("off")
    return finish_figure(fig, save)
