"""The course's Keras networks trained and measured like the scikit-learn baselines, for one comparison table."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from mnistlab import architectures, config, data, evaluation, models, store, training
from mnistlab.baselines import BaselineResult

# name (a key of mnistlab.models.MODELS) -> what the comparison table calls it (the registry's display labels)
LABELS = {name: arch.label for name, arch in architectures.REGISTRY.items()}


def fit_and_score(
    name: str, x_train, y_train, x_test, y_test, epochs: int, batch_size: int = 128, seed: int = config.SEED
) -> tuple[keras.Model, BaselineResult, np.ndarray]:
    """Train the course architecture ``name`` with the course recipe and measure it like a baseline.

    ``name`` is a key of :data:`mnistlab.models.MODELS`. Training is :func:`mnistlab.training.fit`
    (the recipe, callbacks and best-epoch weights the course uses), on ``x_train`` minus the
    10 % it holds out for validation; the time is its wall-clock fit time. Prediction time is
    for ``x_test``; the size is the saved deployable ``.keras`` file. Returns ``(model, result, predicted)``,
    ``predicted`` the labels it gives ``x_test``.
    """
    config.set_seed(seed)
    arch = architectures.get(name)
    split = data.split_mnist(None, seed=seed, arrays=((x_train, y_train), (x_test, y_test)))
    model = models.build(arch)
    with tempfile.TemporaryDirectory() as folder:
        fitted = training.fit(model, split, epochs, batch_size, checkpoint_path=Path(folder) / "best.weights.h5",
                              verbose=0, recipe=arch.recipe)
        start = time.perf_counter()
        predicted = fitted.model.predict(split.x_test, batch_size=512, verbose=0).argmax(axis=1)
        predict_seconds = time.perf_counter() - start
        size = store.save_deployable(fitted.model, Path(folder) / "model.keras").stat().st_size
    result = BaselineResult(
        model=arch.label,
        train_size=len(split.y_train),
        test_size=len(y_test),
        accuracy=evaluation.accuracy(y_test, predicted),
        train_seconds=fitted.train_seconds,
        predict_seconds=predict_seconds,
        size_bytes=size,
    )
    return fitted.model, result, predicted
