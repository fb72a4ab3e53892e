"""Why softmax goes with cross-entropy and not MSE: gradients at the true logit, and a short training race."""

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


def loss_race(
    split: training.Split,
    train_size: int,
    epochs: int,
    batch_size: int = 64,
    learning_rate: float = 0.1,
    seed: int = config.SEED,
) -> pd.DataFrame:
    """Validation accuracy per epoch of the dense baseline trained with cross-entropy and with MSE.

    Both runs start from the same weights and take the same plain-SGD steps on the same
    ``train_size`` digits (a class-balanced subset of ``split``'s training set); only the
    loss differs. Returns one column per loss, indexed by epoch (1, 2, …).
    """
    import keras

    from mnistlab import models

    x, y = data.stratified_subset(split.x_train, split.y_train, train_size, seed=seed)
    config.set_seed(seed)
    start = models.build_dense()
    # Both on one-hot targets, so the only difference is the loss.
    runs = {
        "cross-entropy": keras.losses.CategoricalCrossentropy(),
        "MSE": keras.losses.MeanSquaredError(),
    }
    y_fit, y_val = data.one_hot(y), data.one_hot(split.y_val)
    curves = {}
    for name, loss in runs.items():
        model = training.twin(start)
        accuracy = keras.metrics.CategoricalAccuracy(name="accuracy")
        # jit_compile off: compiling with XLA takes longer than these few hundred steps save.
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate), loss=loss, metrics=[accuracy], jit_compile=False
        )
        history = model.fit(
            x, y_fit, batch_size=batch_size, epochs=epochs, validation_data=(split.x_val, y_val), verbose=0
        )
        curves[name] = history.history["val_accuracy"]
    return pd.DataFrame(curves, index=pd.RangeIndex(1, epochs + 1, name="epoch"))
