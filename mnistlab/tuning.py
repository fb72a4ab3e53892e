"""Hyperparameter search over filters, dense units and learning rate with Keras Tuner (grid or random)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator

import keras
import pandas as pd
from keras import layers

from mnistlab import config, data, models

SEARCH_SPACE = {
    "filters": [32, 64, 128],
    "units": [32, 64, 128],
    "learning_rate": [1e-2, 1e-3, 1e-4],
}
KINDS = ("grid", "random")


def build_tunable(hp) -> keras.Model:
    """A small CNN whose width and learning rate are hyperparameters (``hp`` is a Keras Tuner HyperParameters).

    Conv(filters) → Pool → Conv(filters) → Pool → Flatten → Dense(units) → Dense 10.
    """
    filters = hp.Choice("filters", SEARCH_SPACE["filters"])
    units = hp.Choice("units", SEARCH_SPACE["units"])
    learning_rate = hp.Choice("learning_rate", SEARCH_SPACE["learning_rate"])
    model = keras.Sequential(
        [
            keras.Input(shape=data.INPUT_SHAPE),
            layers.Conv2D(filters, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(filters, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(units, activation="relu"),
            layers.Dense(models.NUM_CLASSES, activation="softmax"),
        ],
        name="tunable_cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


class _WithoutTensorBoard:
    """Keras Tuner 1.4.8 imports ``tensorboard`` before every trial on the TensorFlow backend,
    even when no TensorBoard callback is used; the course does not install TensorBoard, so the
    import only happens when such a callback is actually passed."""

    # Overrides a private method of keras_tuner.Tuner. Remove once Keras Tuner imports tensorboard only
    # for a TensorBoard callback (then raise its lower bound to that release): tests/test_workarounds.py
    # fails, naming the version, when the method changes or the override is no longer needed.

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        if any(type(callback).__name__ == "TensorBoard" for callback in callbacks):
            super()._configure_tensorboard_dir(callbacks, trial, execution)


def make_tuner(
    kind: str = "random",
    max_trials: int | None = None,
    seed: int = config.SEED,
    project: str | None = None,
    directory: str | None = None,
    hypermodel: Callable = build_tunable,
):
    """A Keras Tuner ``GridSearch`` or ``RandomSearch`` of ``hypermodel`` (a build function), maximising
    validation accuracy.

    Its files go to ``directory``, by default a fresh temporary folder that the caller removes
    (:func:`temporary_tuner` does): every search starts over anyway, and two searches running at once
    (two notebooks, two test workers) must not write the same trial files.
    """
    import keras_tuner

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if max_trials is not None and max_trials < 1:
        raise ValueError(f"max_trials must be at least 1, got {max_trials}")
    base = keras_tuner.GridSearch if kind == "grid" else keras_tuner.RandomSearch
    tuner_class = type(base.__name__, (_WithoutTensorBoard, base), {})
    return tuner_class(
        hypermodel,
        objective="val_accuracy",
        max_trials=max_trials or config.budget().tuning_trials,
        seed=seed,
        directory=directory or tempfile.mkdtemp(prefix="mnistlab-tuning-"),
        project_name=project or f"{kind}-{config.budget().name}",
        overwrite=True,
    )


@contextlib.contextmanager
def temporary_tuner(
    kind: str = "random", max_trials: int | None = None, seed: int = config.SEED, hypermodel: Callable = build_tunable
) -> Iterator:
    """``with temporary_tuner(...) as tuner: tuner.search(...)``: a :func:`make_tuner` tuner whose folder of
    trial files is deleted when the block ends, even on an error.

    The tuner stays usable afterwards for what it keeps in memory (``tuner.oracle``,
    ``get_best_hyperparameters``, ``hypermodel.build``, :func:`results_table`), but not for
    ``get_best_models``, which reloads the deleted trial checkpoints (nor ``project_dir``, which
    creates the folder again).
    """
    folder = tempfile.mkdtemp(prefix="mnistlab-tuning-")
    try:
        yield make_tuner(kind, max_trials, seed, directory=folder, hypermodel=hypermodel)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def results_table(tuner) -> pd.DataFrame:
    """One row per finished trial, in the order they ran: hyperparameters and validation accuracy.

    Raises ``RuntimeError`` with the first error when a trial failed (Keras Tuner only logs it).
    """
    failed = [t for t in tuner.oracle.trials.values() if t.status == "FAILED"]
    if failed:
        raise RuntimeError(f"{len(failed)} tuning trial(s) failed; the first error was:\n{failed[0].message}")
    rows = []
    for number, trial in enumerate(tuner.oracle.trials.values(), start=1):
        if trial.score is None:
            continue
        rows.append({"trial": number, **trial.hyperparameters.values, "val_accuracy": float(trial.score)})
    names = list(dict.fromkeys(name for row in rows for name in row if name not in ("trial", "val_accuracy")))
    frame = pd.DataFrame(rows, columns=["trial", *(names or SEARCH_SPACE), "val_accuracy"])
    return frame.set_index("trial")
