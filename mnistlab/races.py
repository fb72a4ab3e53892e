"""Fair races between ways to train (optimizers, losses): every contestant at its own best learning rate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import pandas as pd

from mnistlab import config, data, models
from mnistlab.training import twin


@dataclass(frozen=True)
class RaceBudget:
    """What every run of a learning-rate sweep gets (see :func:`rate_sweep`), and the rates each contestant tries.

    ``rates`` maps a contestant's name to its grid of learning rates. Every run trains on the
    same ``train_size`` digits for the same ``epochs`` at the same ``batch_size``; it is scored
    on ``val_size`` validation digits (None: all of them).
    """

    train_size: int
    epochs: int
    batch_size: int
    val_size: int | None
    rates: dict[str, tuple[float, ...]]

    @property
    def runs(self) -> int:
        """How many models the sweep trains."""
        return sum(len(grid) for grid in self.rates.values())


@dataclass(frozen=True)
class Contestant:
    """One way to train in a race: an optimizer made for a learning rate, and a loss.

    ``one_hot``: the loss wants one-hot labels (``categorical_crossentropy``, MSE) rather than integers.
    """

    optimizer: Callable[[float], keras.optimizers.Optimizer]
    loss: str | keras.losses.Loss = "sparse_categorical_crossentropy"
    one_hot: bool = False


def rate_sweep(
    split: data.Split,
    contestants: dict[str, Contestant],
    budget: RaceBudget,
    build: Callable[[], keras.Model] = models.build_dense,
    seed: int = config.SEED,
) -> pd.DataFrame:
    """Train one model per contestant and learning rate of ``budget.rates``; validation accuracy after every epoch.

    Fair by construction: every run starts from the same weights (one model built by ``build``
    after seeding, copied with :func:`twin`), trains on the same class-balanced digits of
    ``split``, in the same shuffled order (same seed), for the same epochs and batch size, and
    is scored on the same validation digits. Only the contestant and its rate differ.
    Returns one row per run and epoch: ``contestant``, ``learning_rate``, ``epoch``, ``val_accuracy``
    (long format; see :func:`sweep_table`, :func:`best_rates` and :func:`race_curves`).
    """
    x, y = data.stratified_subset(split.x_train, split.y_train, budget.train_size, seed=seed)
    x_val, y_val = split.x_val[: budget.val_size], split.y_val[: budget.val_size]
    config.set_seed(seed)
    start = build()
    rows = []
    for name, contestant in contestants.items():
        labels, val_labels = (data.one_hot(y), data.one_hot(y_val)) if contestant.one_hot else (y, y_val)
        metric = keras.metrics.CategoricalAccuracy(name="accuracy") if contestant.one_hot else "accuracy"
        for rate in budget.rates[name]:
            config.set_seed(seed)  # the same shuffling for every run
            model = twin(start)
            # jit_compile off: compiling with XLA takes longer than these few hundred steps save.
            model.compile(
                optimizer=contestant.optimizer(rate), loss=contestant.loss, metrics=[metric], jit_compile=False
            )
            history = model.fit(
                x, labels, batch_size=budget.batch_size, epochs=budget.epochs,
                validation_data=(x_val, val_labels), verbose=0,
            )
            for epoch, accuracy in enumerate(history.history["val_accuracy"], start=1):
                rows.append({"contestant": name, "learning_rate": rate, "epoch": epoch, "val_accuracy": accuracy})
    return pd.DataFrame(rows)


def _final_epoch(sweep: pd.DataFrame) -> pd.DataFrame:
    return sweep[sweep["epoch"] == sweep["epoch"].max()]


def best_rates(sweep: pd.DataFrame) -> pd.Series:
    """Each contestant's learning rate with the highest final validation accuracy (ties: the smaller rate)."""
    final = _final_epoch(sweep).sort_values(["contestant", "learning_rate"])
    best = final.loc[final.groupby("contestant", sort=False)["val_accuracy"].idxmax()]
    return best.set_index("contestant")["learning_rate"].reindex(sweep["contestant"].unique())


def sweep_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """Final validation accuracy of every run, one row per (contestant, learning rate), the best of each marked.

    ``edge`` says the best rate is the smallest or largest of its grid: the true best may lie outside it.
    """
    final = _final_epoch(sweep).set_index(["contestant", "learning_rate"])[["val_accuracy"]].copy()
    best = best_rates(sweep)
    final["best"] = [best[name] == rate for name, rate in final.index]
    grids = sweep.groupby("contestant")["learning_rate"].agg(["min", "max"])
    final["edge"] = [
        bool(is_best) and rate in (grids.loc[name, "min"], grids.loc[name, "max"])
        for (name, rate), is_best in zip(final.index, final["best"], strict=True)
    ]
    return final


def race_curves(sweep: pd.DataFrame) -> pd.DataFrame:
    """Validation accuracy per epoch of every contestant at its best rate; columns named ``"name (rate)"``."""
    curves = {}
    for name, rate in best_rates(sweep).items():
        run = sweep[(sweep["contestant"] == name) & (sweep["learning_rate"] == rate)]
        curves[f"{name} ({rate:g})"] = run.set_index("epoch")["val_accuracy"]
    frame = pd.DataFrame(curves)
    frame.index.name = "epoch"
    return frame
