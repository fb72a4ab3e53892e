"""Why softmax goes with cross-entropy, not MSE: gradients at the true logit, a fair race at each one's best rate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mnistlab import data

if TYPE_CHECKING:  # Keras is imported by the functions that need it
    import keras

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


# --------------------------------------------------------------------------- one step by hand
# What minimising a loss means, written out for notebook 03: the gradient of the loss and one step down it.


def loss_and_gradients(model: keras.Model, loss_fn, images, labels) -> tuple[float, list]:
    """The loss of ``model`` on one batch and its gradient for every trainable weight (``tf.GradientTape``).

    The tape records the forward pass; ``tape.gradient`` then runs it backwards
    (backpropagation) to get ∂loss/∂w for each weight ``w``, in the order of
    ``model.trainable_variables``.
    """
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    return float(loss), tape.gradient(loss, model.trainable_variables)


def manual_sgd_step(model: keras.Model, loss_fn, images, labels, learning_rate: float) -> float:
    """One step of plain gradient descent written out: every weight ``w ← w − learning_rate · ∂loss/∂w``.

    Changes ``model``'s weights in place and returns the loss on the batch *before* the
    step. It is exactly what ``keras.optimizers.SGD(learning_rate)`` does in
    :func:`optimizer_step` (notebook 03 checks that on a real batch).
    """
    loss, gradients = loss_and_gradients(model, loss_fn, images, labels)
    for weight, gradient in zip(model.trainable_variables, gradients, strict=True):
        weight.assign(weight - learning_rate * gradient)
    return loss


def optimizer_step(model: keras.Model, loss_fn, images, labels, optimizer: keras.optimizers.Optimizer) -> float:
    """The same step taken by a Keras optimizer (``apply_gradients``); returns the loss before the step."""
    loss, gradients = loss_and_gradients(model, loss_fn, images, labels)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return loss
