"""Figures about the data itself: digit grids, class balance, pixel intensities, mean digits."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from mnistlab.plots.saving import save_figure


def _as_2d_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim == 2 and images.shape[1] == 784:
        images = images.reshape(-1, 28, 28)
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), (N, H, W, 1) or (N, 784), got {images.shape}")
    return images


def plot_digit_grid(
    images: np.ndarray,
    titles: Sequence[object] | None = None,
    columns: int = 10,
    cell_size: float = 1.1,
    suptitle: str | None = None,
    save: str | None = None,
):
    """A grid of digits with an optional title above each one (e.g. its label)."""
    images = _as_2d_images(images)
    if len(images) == 0:
        raise ValueError("no images to plot")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images")
    columns = max(1, min(columns, len(images)))
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(cell_size * columns, cell_size * rows + 0.3), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(images):
            ax.imshow(images[index], cmap="gray_r")
            if titles is not None:
                ax.set_title(str(titles[index]), fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    save_figure(fig, save)
    return fig


def plot_class_balance(labels: np.ndarray, title: str = "Examples per digit", save: str | None = None):
    """Bar chart (seaborn) of how many examples each digit has, with the counts written on the bars."""
    import seaborn as sns

    labels = np.asarray(labels)
    counts = np.bincount(labels.astype(int), minlength=10)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    sns.barplot(x=np.arange(len(counts)), y=counts, ax=ax, color="steelblue")
    ax.bar_label(ax.containers[0], fontsize=8)
    ax.axhline(counts.mean(), color="black", linestyle="--", linewidth=1, label=f"mean {counts.mean():.0f}")
    ax.set(xlabel="digit", ylabel="count", title=title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    save_figure(fig, save)
    return fig


def plot_intensity_histogram(images: np.ndarray, bins: int = 64, save: str | None = None):
    """Histogram of pixel values (log scale): most MNIST pixels are pure background."""
    values = np.asarray(images).ravel()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(values, bins=bins, color="slategray", log=True)
    ax.set(xlabel="pixel value", ylabel="number of pixels (log scale)", title="Pixel intensities")
    fig.tight_layout()
    save_figure(fig, save)
    return fig


def mean_digit_images(images: np.ndarray, labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """The average image of each digit, shape (num_classes, H, W); a class with no example is NaN."""
    images = _as_2d_images(images).astype("float64")
    labels = np.asarray(labels).astype(int)
    means = np.full((num_classes, *images.shape[1:]), np.nan)
    for digit in range(num_classes):
        members = images[labels == digit]
        if len(members):
            means[digit] = members.mean(axis=0)
    return means


def plot_mean_digits(images: np.ndarray, labels: np.ndarray, save: str | None = None):
    """One row: the mean image of each digit, the 'template' a pixel-matching classifier would use."""
    means = mean_digit_images(images, labels)
    return plot_digit_grid(means, titles=[f"mean {d}" for d in range(10)], columns=10, save=save)
