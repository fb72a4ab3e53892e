"""Augmentation figures: random versions of a digit beside the original."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mnistlab.plots import augmentation as augmentation_plots  # noqa: E402


def test_augmentation_examples_differ_from_the_original(mnist_small):
    digit = mnist_small[0][0][0].astype("float32") / 255.0
    versions = augmentation_plots.augment(digit[np.newaxis], copies=3)
    assert versions.shape == (3, 1, 28, 28, 1)
    assert not np.allclose(versions[0, 0, ..., 0], digit)
    fig = augmentation_plots.plot_augmentation(digit[np.newaxis].repeat(2, axis=0), copies=3)
    assert len(fig.axes) == 2 * 4
    plt.close(fig)
