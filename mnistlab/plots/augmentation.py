"""Figures of the training-time augmentation (:mod:`mnistlab.augmentation`): random versions of digits, part by part."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from mnistlab.plots.grid import DIGIT_CMAP
from mnistlab.plots.saving import finish_figure


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
