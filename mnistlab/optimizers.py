"""Optimizers compared fairly: SGD, SGD with momentum, Adam and AdamW, each at the learning rate it does best with."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mnistlab import config, data, races, training

MOMENTUM = 0.9  # the usual value; Keras' SGD(momentum=0.9)

# Each optimizer's grid is spaced x3 around the rate it is usually run with. Momentum 0.9 makes a steady
# gradient's steps 1 / (1 - 0.9) = 10 times longer (see velocity_growth), so its grid sits lower than plain SGD's.
# A budget tries the middle config.Budget.optimizer_race_rates of each grid (fast mode: the two around the usual rate).
RATES = {
    "SGD": (0.03, 0.1, 0.3, 1.0),
    "SGD + momentum": (0.003, 0.01, 0.03, 0.1),
    "Adam": (3e-4, 1e-3, 3e-3, 1e-2),
    "AdamW": (3e-4, 1e-3, 3e-3, 1e-2),
}


def middle(grid: tuple[float, ...], count: int) -> tuple[float, ...]:
    """The ``count`` middle rates of ``grid`` (all of it when ``count`` is as long)."""
    start = max((len(grid) - count) // 2, 0)
    return tuple(grid[start:start + count])


def race_budget(plan: config.Budget | None = None) -> races.RaceBudget:
    """The optimizer race's :class:`~mnistlab.races.RaceBudget` under ``plan`` (default: the current mode's budget).

    Its size is the budget's ``optimizer_race_run``; each optimizer tries the middle
    ``optimizer_race_rates`` rates of its grid in :data:`RATES`.
    """
    plan = plan or config.budget()
    run = plan.optimizer_race_run
    rates = {name: middle(grid, plan.optimizer_race_rates) for name, grid in RATES.items()}
    return races.RaceBudget(run.train_size, run.epochs, run.batch_size, run.val_size, rates=rates)


def contestants() -> dict[str, races.Contestant]:
    """The four optimizers, each a function of its learning rate; all train with sparse cross-entropy.

    AdamW's weight decay is the default model's (:data:`mnistlab.training.WEIGHT_DECAY`).
    """
    import keras

    return {
        "SGD": races.Contestant(keras.optimizers.SGD),
        "SGD + momentum": races.Contestant(lambda rate: keras.optimizers.SGD(rate, momentum=MOMENTUM)),
        "Adam": races.Contestant(keras.optimizers.Adam),
        "AdamW": races.Contestant(
            lambda rate: keras.optimizers.AdamW(rate, weight_decay=training.WEIGHT_DECAY)
        ),
    }


def optimizer_sweep(
    split: data.Split, budget: races.RaceBudget | None = None, seed: int = config.SEED
) -> pd.DataFrame:
    """The dense baseline trained by each optimizer at every rate of ``budget`` (default :func:`race_budget`).

    Same starting weights, digits, order, epochs and batch size for every run
    (:func:`mnistlab.races.rate_sweep`): one row per run and epoch.
    """
    return races.rate_sweep(split, contestants(), budget or race_budget(), seed=seed)


def velocity_growth(steps: int, learning_rate: float = 0.1, momentum: float = MOMENTUM) -> pd.DataFrame:
    """How far Keras' ``SGD(learning_rate, momentum=momentum)`` moves a weight whose gradient is always 1.

    One row per step: the step's length, and that length divided by plain SGD's (``learning_rate``).
    The velocity ``v ← momentum·v − learning_rate·gradient`` adds up past steps, so a steady
    gradient's step grows towards ``learning_rate / (1 − momentum)``: 10 times plain SGD's at 0.9.
    Measured with the Keras optimizer itself, not with the formula.
    """
    import keras

    weight = keras.Variable(np.zeros(1, dtype="float32"))
    optimizer = keras.optimizers.SGD(learning_rate, momentum=momentum)
    gradient = np.ones(1, dtype="float32")
    rows = []
    for step in range(1, steps + 1):
        before = float(weight.numpy()[0])
        optimizer.apply_gradients([(gradient, weight)])
        length = before - float(weight.numpy()[0])
        rows.append({"step": step, "step length": length, "times plain SGD": length / learning_rate})
    return pd.DataFrame(rows).set_index("step")
