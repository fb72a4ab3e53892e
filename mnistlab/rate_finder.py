"""The learning-rate range test, or "LR finder" (Smith 2017, *Cyclical Learning Rates*; fastai's ``lr_find``)."""

# Train on one mini-batch after another while the learning rate grows by the same factor at every step, and
# record each batch's loss. While the rate is too small the loss barely moves; once it is useful the loss falls;
# once it is too large the loss explodes, and the test stops. A good rate sits well below the explosion:
# :func:`suggest_rate` takes a tenth of the rate where the loss was lowest (fastai's ``minimum / 10`` rule).
# The whole test costs a fraction of one epoch, where a grid of full training runs costs one run per rate.
#
# Notebook 03's learners write the sweep themselves; this is the reference their check compares with.


from __future__ import annotations

import math

import numpy as np
import pandas as pd

BATCH_SIZE = 64
# Stop once a batch's loss is this many times the lowest loss so far (fastai's threshold): the rate is past useful.
EXPLODE_FACTOR = 4.0
# fastai's rule: the rate where the loss is lowest is already on the edge of divergence, so step back tenfold.
BACK_OFF = 10.0


def rate_schedule(min_rate: float, max_rate: float, steps: int) -> np.ndarray:
    """The ``steps`` rates of the sweep: ``min_rate`` times the same factor at every step, ending at ``max_rate``.

    Exponential (evenly spaced on a log axis), so every decade of rates gets the same number of steps;
    a linear sweep would spend nearly all of them on the largest decade.
    """
    if not 0 < min_rate < max_rate or steps < 2:
        raise ValueError(f"need 0 < min_rate < max_rate and at least 2 steps, got {min_rate}, {max_rate}, {steps}")
    return min_rate * (max_rate / min_rate) ** (np.arange(steps) / (steps - 1))


def range_test(
    model,
    optimizer,
    loss_fn,
    x,
    y,
    min_rate: float = 1e-5,
    max_rate: float = 1.0,
    steps: int = 100,
    batch_size: int = BATCH_SIZE,
    explode: float = EXPLODE_FACTOR,
) -> pd.DataFrame:
    """Run the range test on ``model`` (its weights change) and return one row per step: rate and batch loss.

    Step ``i`` sets the optimizer's rate to ``rate_schedule(min_rate, max_rate, steps)[i]``, takes the loss
    of batch ``i`` (digits ``i·batch_size`` to ``(i+1)·batch_size`` of ``x``, in order) before its update,
    and applies the gradients. The test stops after the first loss that is not finite or is more than
    ``explode`` times the lowest loss so far (that loss is recorded). ``x`` must hold ``steps`` batches.
    """
    import tensorflow as tf

    if len(x) < steps * batch_size:
        raise ValueError(f"{steps} batches of {batch_size} need {steps * batch_size} digits; got {len(x)}")
    rows = []
    for step, rate in enumerate(rate_schedule(min_rate, max_rate, steps)):
        optimizer.learning_rate = float(rate)
        images, labels = x[step * batch_size : (step + 1) * batch_size], y[step * batch_size : (step + 1) * batch_size]
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        rows.append((float(rate), float(loss)))
        lowest = min(batch_loss for _, batch_loss in rows)
        if not math.isfinite(rows[-1][1]) or rows[-1][1] > explode * lowest:
            break
    return pd.DataFrame(rows, columns=["learning_rate", "loss"]).rename_axis("step")


def suggest_rate(rates, losses, back_off: float = BACK_OFF) -> float:
    """A tenth (``1 / back_off``) of the rate at which the recorded loss was lowest (non-finite losses ignored)."""
    rates, losses = np.asarray(rates, dtype="float64"), np.asarray(losses, dtype="float64")
    if rates.shape != losses.shape or rates.size == 0:
        raise ValueError(f"need one loss per rate, got {rates.shape} rates and {losses.shape} losses")
    return float(rates[np.nanargmin(np.where(np.isfinite(losses), losses, np.nan))] / back_off)


def smoothed(losses, alpha: float = 0.3) -> np.ndarray:
    """An exponential moving average of the batch losses (bias-corrected, as fastai plots it), to read the trend.

    ``alpha`` 0.3 follows a sweep of a few dozen steps within 2-3 steps; fastai smooths more (0.02) over longer sweeps.
    """
    return pd.Series(np.asarray(losses, dtype="float64")).ewm(alpha=alpha).mean().to_numpy()
