"""Stratified k-fold cross-validation of a course architecture, against a single validation split."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from mnistlab import config


def _check_inputs(images, labels, n_splits: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(images), np.asarray(labels)
    if x.ndim != 4:
        raise ValueError(
            f"images must be model input (N, 28, 28, 1), got shape {x.shape}; "
            f"use data.to_cnn_input(x) on raw MNIST digits."
        )
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels: pass one label per image.")
    if n_splits < 2:
        raise ValueError(f"n_splits={n_splits}: cross-validation needs at least 2 folds.")
    smallest = np.bincount(y).min() if len(y) else 0
    if len(np.unique(y)) < 2 or smallest < n_splits:
        raise ValueError(
            f"every digit needs at least n_splits={n_splits} examples so that each fold holds one; "
            f"the rarest has {smallest}. Use more digits (data.stratified_subset) or fewer folds."
        )
    return x, y


def _builder(model) -> Callable:
    """A function that builds a fresh, untrained model: from a name of ``models.MODELS`` or a builder."""
    from mnistlab import models

    if isinstance(model, str):
        return lambda: models.build_model(model)
    if callable(model):
        return model
    raise TypeError(f"model must be a name from models.MODELS or a function that builds a model, got {model!r}.")


def train_and_score(model, x_train, y_train, x_test, y_test, epochs: int, batch_size: int = 128,
                    seed: int = config.SEED) -> tuple[float, float]:
    """Build a fresh model, train it on ``x_train`` with the course recipe, return ``(accuracy, seconds)``.

    ``model`` is a name of :data:`mnistlab.models.MODELS` or a function returning a new model.
    Compiled by :func:`mnistlab.training.compile_model`; no validation set, no early stopping:
    the held-out digits are only looked at once, at the end, so they stay unseen.
    """
    from mnistlab import architectures, training

    # A registered name trains with its own recipe; any other builder with the tutorials' one.
    recipe = architectures.get(model).recipe if isinstance(model, str) else architectures.TUTORIAL
    config.set_seed(seed)  # the same start for every fold: differences come from the digits
    network = _builder(model)()
    seconds = training.fit_briefly(network, x_train, y_train, epochs, batch_size, recipe)
    return training.accuracy_and_loss(network, x_test, y_test)[0], seconds


def cross_validate(model, images, labels, n_splits: int = 5, epochs: int = 2, batch_size: int = 128,
                   seed: int = config.SEED) -> pd.DataFrame:
    """Stratified k-fold: train on k-1 folds, score on the held-out one, k times.

    scikit-learn's ``StratifiedKFold`` (shuffled with ``seed``) gives every fold the same share of
    each digit, and every image is held out exactly once. Returns one row per fold:
    ``fold`` (1..k), ``train_size``, ``test_size``, ``accuracy`` and ``seconds`` (fit time).
    """
    from sklearn.model_selection import StratifiedKFold

    x, y = _check_inputs(images, labels, n_splits)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    rows = []
    for fold, (train_idx, test_idx) in enumerate(folds.split(np.zeros(len(y)), y), start=1):
        accuracy, seconds = train_and_score(model, x[train_idx], y[train_idx], x[test_idx], y[test_idx],
                                            epochs, batch_size, seed)
        rows.append((fold, len(train_idx), len(test_idx), accuracy, seconds))
    return pd.DataFrame(rows, columns=["fold", "train_size", "test_size", "accuracy", "seconds"])


def single_split(model, images, labels, validation_fraction: float = 0.2, epochs: int = 2,
                 batch_size: int = 128, seed: int = config.SEED) -> float:
    """Accuracy on one stratified validation split (``data.train_validation_split``): one number, no spread."""
    from mnistlab import data

    x, y = _check_inputs(images, labels, 2)
    x_tr, x_val, y_tr, y_val = data.train_validation_split(x, y, validation_fraction, seed=seed)
    return train_and_score(model, x_tr, y_tr, x_val, y_val, epochs, batch_size, seed)[0]


def summary(folds: pd.DataFrame) -> tuple[float, float]:
    """``(mean, standard deviation)`` of the fold accuracies (sample std, ``ddof=1``, as for any k samples)."""
    if len(folds) < 2:
        raise ValueError("a spread needs at least two folds.")
    values = folds["accuracy"].to_numpy(dtype=float)
    return float(values.mean()), float(values.std(ddof=1))
