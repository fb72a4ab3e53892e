"""Figures about the data itself: digit grids, one digit's pixel values, class balance, intensities, mean digits."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from mnistlab.plots.grid import DIGIT_CMAP, image_stack, panel_grid, without_channel_axis
from mnistlab.plots.saving import finish_figure


def plot_digit_grid(
    images: np.ndarray,
    titles: Sequence[object] | None = None,
    columns: int = 10,
    cell_size: float = 1.1,
    suptitle: str | None = None,
    save: str | None = None,
):
    """A grid of digits with an optional title above each one (e.g. its label)."""
    images = image_stack(images)
    if len(images) == 0:
        raise ValueError("no images to plot")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images")
    fig, axes = panel_grid(len(images), columns, (cell_size, cell_size), extra_height=0.3)
    for index, (ax, image) in enumerate(zip(axes, images, strict=False)):
        ax.imshow(image, cmap=DIGIT_CMAP)
        if titles is not None:
            ax.set_title(str(titles[index]), fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    return finish_figure(fig, save)


def plot_pixel_values(image: np.ndarray, title: str = "", save: str | None = None):
    """One digit as a picture beside a heatmap of its numbers (only the rows and columns with ink)."""
    import seaborn as sns

    image = without_channel_axis(image)
    if image.ndim != 2:
        raise ValueError(f"plot_pixel_values shows one image (H, W) or (H, W, 1), got shape {image.shape}")
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    if len(rows) == 0:  # blank image: show it all
        rows, cols = np.arange(image.shape[0]), np.arange(image.shape[1])
    crop = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 5), gridspec_kw={"width_ratios": [1, 1.6]})
    left.imshow(image, cmap=DIGIT_CMAP)
    left.set_title(title or "image")
    left.axis("off")
    sns.heatmap(
        crop,
        ax=right,
        cmap=DIGIT_CMAP,
        annot=True,
        fmt="d" if np.issubdtype(crop.dtype, np.integer) else ".1f",
        annot_kws={"size": 5},
        cbar=False,
        xticklabels=list(cols),
        yticklabels=list(rows),
    )
    right.set_title("pixel values where there is ink (row, column as in the 28×28 image)")
    right.tick_params(labelsize=6)
    return finish_figure(fig, save)


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
    return finish_figure(fig, save)


def plot_intensity_histogram(images: np.ndarray, bins: int = 64, save: str | None = None):
    """Histogram of pixel values (log scale): most MNIST pixels are pure background."""
    values = np.asarray(images).ravel()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(values, bins=bins, color="slategray", log=True)
    ax.set(xlabel="pixel value", ylabel="number of pixels (log scale)", title="Pixel intensities")
    return finish_figure(fig, save)


def mean_digit_images(images: np.ndarray, labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """The average image of each digit, shape (num_classes, H, W); a class with no example is NaN."""
    images = image_stack(images).astype("float64")
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


def plot_slant_histogram(angles: np.ndarray, rotation: float | None = None, save: str | None = None):
    """Histogram of the digits' slants in degrees, with the augmentation's rotation range ±``rotation`` shaded."""
    angles = np.asarray(angles, dtype=float)
    if angles.ndim != 1 or angles.size == 0:
        raise ValueError(f"expected a 1-D array of slant angles, got shape {angles.shape}")
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.hist(angles, bins=np.arange(-60, 61, 2), color="tab:blue")
    if rotation:
        label = f"augmentation's rotation, ±{rotation:g}°"
        ax.axvspan(-rotation, rotation, color="tab:orange", alpha=0.35, label=label)
        ax.legend(loc="upper left")
    ax.set_xlabel("slant from the vertical (degrees; positive leans right, like /)")
    ax.set_ylabel("digits")
    ax.set_title("How much MNIST's digits lean")
    return finish_figure(fig, save)
