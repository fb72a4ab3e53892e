"""Figures of what a network looks at: feature maps, gradient saliency, Grad-CAM (:mod:`mnistlab.explanations`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mnistlab import explanations
from mnistlab.plots.grid import DIGIT_CMAP, image_stack
from mnistlab.plots.saving import finish_figure

# --------------------------------------------------------------------------- feature maps


def plot_feature_maps(model, image: np.ndarray, max_maps: int = 8, save: str | None = None):
    """One row per conv layer: the first ``max_maps`` channels it computes for ``image``."""
    maps = explanations.feature_maps(model, image)
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


# --------------------------------------------------------------------------- saliency


def plot_saliency(
    model, images, digits=None, y_true=None, n: int = 6, save: str | None = None
) -> Figure:
    """Gradient saliency: each digit, its |d score / d pixel| map, and the map over the digit.

    ``images`` are what the model takes (float in [0, 1], (N, 28, 28, 1)); the map is for the
    predicted digit unless ``digits`` names one per image. See :func:`explanations.saliency`.
    """
    images = np.asarray(images)[:n]
    maps, explained = explanations.saliency(model, images, digits=None if digits is None else np.asarray(digits)[:n])
    flat = image_stack(images)
    fig, axes = plt.subplots(3, len(flat), figsize=(1.8 * len(flat), 5.6), squeeze=False)
    for k in range(len(flat)):
        title = f"explains {explained[k]}"
        if y_true is not None:
            title = f"true {int(y_true[k])}, " + title
        axes[0, k].imshow(flat[k], cmap=DIGIT_CMAP)
        axes[0, k].set_title(title, fontsize=8)
        axes[1, k].imshow(maps[k], cmap="inferno")
        axes[2, k].imshow(flat[k], cmap=DIGIT_CMAP)
        axes[2, k].imshow(maps[k], cmap="jet", alpha=0.45)
        for row in range(3):
            axes[row, k].axis("off")
    axes[1, 0].set_title("saliency", fontsize=8, loc="left")
    axes[2, 0].set_title("overlay", fontsize=8, loc="left")
    fig.suptitle("Which pixels drove the prediction (gradient saliency)", fontsize=10)
    return finish_figure(fig, save)


def plot_grad_cam(
    model, images, digits=None, y_true=None, n: int = 6, layer_name: str | None = None, save: str | None = None
) -> Figure:
    """Each digit, its gradient saliency and its Grad-CAM map, both laid over the digit.

    ``images`` are what the model takes ((N, 28, 28, 1) in [0, 1]); both maps explain the predicted
    digit unless ``digits`` names one per image. See :func:`explanations.grad_cam`.
    """
    images = np.asarray(images)[:n]
    chosen = None if digits is None else np.asarray(digits)[:n]
    cams, explained = explanations.grad_cam(model, images, digits=chosen, layer_name=layer_name)
    sal, _ = explanations.saliency(model, images, digits=explained)
    flat = image_stack(images)
    fig, axes = plt.subplots(3, len(flat), figsize=(1.8 * len(flat), 5.6), squeeze=False)
    for k in range(len(flat)):
        title = f"explains {explained[k]}"
        if y_true is not None:
            wrong = int(y_true[k]) != int(explained[k]) and digits is None
            title = f"true {int(y_true[k])}, " + title
            axes[0, k].set_title(title, fontsize=8, color="tab:red" if wrong else "black")
        else:
            axes[0, k].set_title(title, fontsize=8)
        axes[0, k].imshow(flat[k], cmap=DIGIT_CMAP)
        for row, heat in ((1, sal[k]), (2, cams[k])):
            axes[row, k].imshow(flat[k], cmap=DIGIT_CMAP)
            axes[row, k].imshow(heat, cmap="jet", alpha=0.45, vmin=0, vmax=1)
        for row in range(3):
            axes[row, k].axis("off")
    axes[1, 0].set_title("saliency", fontsize=8, loc="left")
    axes[2, 0].set_title("Grad-CAM", fontsize=8, loc="left")
    layer = explanations.grad_cam_layer(model, layer_name)
    fig.suptitle(f"Gradient saliency vs Grad-CAM (feature map of {layer})", fontsize=10)
    return finish_figure(fig, save)
