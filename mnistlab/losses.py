"""Why softmax goes with cross-entropy, not MSE: gradients at the true logit, a fair race at each one's best rate."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mnistlab import config, data, training

NUM_CLASSES = data.NUM_CLASSES


def confidently_wrong_logits(true_logits: np.ndarray, wrong_logit: float = 4.0) -> np.ndarray:
    """Logit rows for digit 0 whose favourite is digit 1 (logit ``wrong_logit``), every other digit at 0.

    Row ``i`` gives the true digit the logit ``true_logits[i]``: far below ``wrong_logit``
    the model is confidently wrong, far above it confidently right.
    """
    true_logits = np.asarray(true_logits, dtype="float32").reshape(-1)
    logits = np.zeros((len(true_logits), NUM_CLASSES), dtype="float32")
    logits[:, 0] = true_logits
    logits[:, 1] = wrong_logit
    return logits


def true_logit_gradients(true_logits: np.ndarray, wrong_logit: float = 4.0) -> pd.DataFrame:
    """∂loss/∂(logit of the true digit) for cross-entropy and for MSE, both on softmax outputs.

    Computed with ``tf.GradientTape`` through Keras' own losses, one example per row of
    :func:`confidently_wrong_logits`. Columns: ``true_logit``, ``p_true`` (softmax
    probability of the true digit), ``cross_entropy`` and ``mse`` (the gradients).
    Cross-entropy's gradient is ``p_true − 1``: close to −1, a full push, when the model
    is confidently wrong. MSE's gradient passes through the softmax's slope ``p(1 − p)``
    and vanishes there: the worse the mistake, the less MSE corrects it.
    """
    import keras
    import tensorflow as tf

    logits = tf.constant(confidently_wrong_logits(true_logits, wrong_logit))
    targets = data.one_hot(np.zeros(len(logits), dtype=int))
    losses = {
        "cross_entropy": keras.losses.CategoricalCrossentropy(reduction="sum"),
        "mse": keras.losses.MeanSquaredError(reduction="sum"),
    }
    frame = pd.DataFrame({"true_logit": np.asarray(logits[:, 0])})
    for name, loss_fn in losses.items():
        with tf.GradientTape() as tape:
            tape.watch(logits)
            probabilities = tf.nn.softmax(logits)
            loss = loss_fn(targets, probabilities)  # summed, so each row's gradient is its own example's
        frame[name] = np.asarray(tape.gradient(loss, logits))[:, 0]
    frame.insert(1, "p_true", np.asarray(tf.nn.softmax(logits))[:, 0])
    return frame


# The same grid for both losses, wide enough for each to find its own best rate: Keras' MSE is the mean over
# the 10 outputs, so at one rate its push on the logits is about 10 times weaker than cross-entropy's.
RATES = (0.1, 0.3, 1.0, 3.0)
RACE_BUDGETS = {
    "fast": training.RaceBudget(train_size=2_000, epochs=2, batch_size=64, val_size=1_000,
                                rates={"cross-entropy": RATES, "MSE": RATES}),
    "full": training.RaceBudget(train_size=6_000, epochs=5, batch_size=64, val_size=None,
                                rates={"cross-entropy": RATES, "MSE": RATES}),
}


def race_budget(plan: config.Budget | None = None) -> training.RaceBudget:
    """The loss race's :class:`~mnistlab.training.RaceBudget` for ``plan`` (default: the current mode)."""
    return RACE_BUDGETS[(plan or config.budget()).name]


def contestants() -> dict[str, training.Contestant]:
    """Cross-entropy and MSE, both on one-hot targets and trained by plain SGD, so only the loss differs."""
    import keras

    return {
        "cross-entropy": training.Contestant(
            keras.optimizers.SGD, keras.losses.CategoricalCrossentropy(), one_hot=True
        ),
        "MSE": training.Contestant(keras.optimizers.SGD, keras.losses.MeanSquaredError(), one_hot=True),
    }


def loss_sweep(
    split: training.Split, budget: training.RaceBudget | None = None, seed: int = config.SEED
) -> pd.DataFrame:
    """The dense baseline trained with cross-entropy and with MSE at every rate of ``budget`` (:func:`race_budget`).

    Same starting weights, digits, order, epochs and plain-SGD optimizer for every run
    (:func:`mnistlab.training.rate_sweep`): one row per run and epoch. Pick each loss's best
    rate with :func:`mnistlab.training.best_rates` and race them with :func:`~mnistlab.training.race_curves`.
    """
    return training.rate_sweep(split, contestants(), budget or race_budget(), seed=seed)
