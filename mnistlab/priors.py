"""What a classifier assumes about digits, measured: one template per class or many, and the priors of a CNN."""

# Notebook 01 compares a nearest-mean classifier (one template per digit) with several templates per
# digit; notebook 02 trains a dense network and a small CNN on the original digits, on shifted test
# digits and on digits whose pixels are scattered by one fixed permutation (compare_priors).

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mnistlab import config, data


def digit_templates(
    images: np.ndarray, labels: np.ndarray, per_class: int, seed: int = config.SEED
) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` templates of each digit and their labels: ``(templates (T, 784), labels (T,))``.

    The templates of a digit are the centres of ``per_class`` k-means clusters of its images
    (scikit-learn's ``KMeans``) on pixels scaled to [0, 1]; with ``per_class=1`` they are its mean
    image. More templates let a digit be written in several ways (a 7 with and without its bar).
    """
    from sklearn.cluster import KMeans

    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    pixels = data.flatten_images(data.scale_pixels(images))
    labels = np.asarray(labels)
    templates, template_labels = [], []
    for digit in np.unique(labels):
        own = pixels[labels == digit]
        if per_class == 1:
            centres = own.mean(axis=0, keepdims=True)
        else:
            centres = KMeans(min(per_class, len(own)), n_init=1, random_state=seed).fit(own).cluster_centers_
        templates.append(centres.astype("float32"))
        template_labels += [digit] * len(centres)
    return np.concatenate(templates), np.asarray(template_labels)


def template_accuracy(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    per_class: int,
    seed: int = config.SEED,
) -> float:
    """Accuracy of a nearest-template classifier with ``per_class`` templates per digit (:func:`digit_templates`).

    Each test image gets the label of its nearest template (Euclidean distance on pixels in [0, 1]).
    """
    from sklearn.metrics import pairwise_distances_argmin

    templates, labels = digit_templates(x_train, y_train, per_class, seed)
    test = data.flatten_images(data.scale_pixels(x_test))
    return float(np.mean(labels[pairwise_distances_argmin(test, templates)] == np.asarray(y_test)))


@dataclass(frozen=True)
class PriorsBudget:
    """How much :func:`compare_priors` trains: digits, epochs, test digits, and how far test digits are shifted."""

    train_size: int
    epochs: int
    test_size: int
    shift: int  # pixels
    batch_size: int = 32


PRIORS_SHIFT = 2  # pixels the shifted test digits move, in every mode


def priors_budget(plan: config.Budget | None = None) -> PriorsBudget:
    """The :class:`PriorsBudget` under ``plan`` (default: the current mode's budget): its ``priors_run``."""
    run = (plan or config.budget()).priors_run
    return PriorsBudget(run.train_size, run.epochs, run.val_size, PRIORS_SHIFT, run.batch_size)


def compare_priors(
    arrays=None,
    budget: PriorsBudget | None = None,
    model_names: tuple[str, ...] = ("dense", "small_cnn"),
    seed: int = config.SEED,
) -> pd.DataFrame:
    """Train each model on original and on pixel-permuted digits; one row per model, test accuracy per condition.

    Columns:

    * ``original``: trained and tested on the digits as they are;
    * ``shifted test digits``: the same model, tested on the test digits moved ``budget.shift`` pixels
      in a random direction each (:func:`mnistlab.data.random_shifts`), which no training digit was;
    * ``permuted pixels``: a fresh model trained and tested on digits whose pixels are all scattered by
      one fixed permutation (:func:`mnistlab.data.fixed_pixel_permutation`, the same for training and test);
    * ``seconds``: training time of both runs.

    Every run uses the same ``budget.train_size`` class-balanced training digits, epochs, optimizer
    (the tutorials' Adam, :func:`mnistlab.training.compile_model`) and seed; ``arrays`` is
    ``load_mnist()``'s output (read from the file when None).
    """
    from mnistlab import models, training

    budget = budget or priors_budget()
    (x_train, y_train), (x_test, y_test) = arrays if arrays is not None else data.load_mnist()
    x_train, y_train = data.stratified_subset(x_train, y_train, budget.train_size, seed=seed)
    x_test, y_test = np.asarray(x_test)[: budget.test_size], np.asarray(y_test)[: budget.test_size]
    permutation = data.fixed_pixel_permutation(seed)
    shifted_test = data.shift_images(x_test, *data.random_shifts(len(x_test), budget.shift, seed))
    inputs = {
        "original": (x_train, {"original": x_test, "shifted test digits": shifted_test}),
        "permuted": (
            data.permute_pixels(x_train, permutation),
            {"permuted pixels": data.permute_pixels(x_test, permutation)},
        ),
    }
    rows = []
    for name in model_names:
        row: dict[str, object] = {"model": name}
        seconds = 0.0
        for train_images, tests in inputs.values():
            config.set_seed(seed)
            model = models.build_model(name)
            seconds += training.fit_briefly(model, data.to_cnn_input(train_images), y_train, budget.epochs,
                                            budget.batch_size)
            for column, test_images in tests.items():
                row[column] = training.accuracy_and_loss(model, data.to_cnn_input(test_images), y_test)[0]
        row["seconds"] = seconds
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")[["original", "shifted test digits", "permuted pixels", "seconds"]]
