"""A tiny CNN trained for a few seconds, shared by the deployment and web tests (not a test module)."""

from __future__ import annotations

import keras

from mnistlab import config


def tiny_cnn(split) -> keras.Model:
    """A small convolutional model fitted on the ``tiny_split`` fixture: quick, and far better than chance."""
    config.set_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(split.x_train, split.y_train, epochs=3, batch_size=32, verbose=0)
    return model


def rows_predictor(rows, rule=None):
    """A :class:`mnistlab.inference.Predictor` whose "model" answers ``rows`` in order, one per image (then the
    last one again), without TensorFlow: everything but the model call (image pipeline, ink check, decision
    rule) is the library's own."""
    import numpy as np

    from mnistlab import decision, inference

    class Fixed(inference.Predictor):
        def __init__(self):  # no Keras model to trace
            self.model = None
            self.rule = rule if rule is not None else decision.DecisionRule.uncalibrated()
            self.calls = 0

        def probabilities(self, batch):
            batch = inference.as_batch(batch)
            table = np.asarray(rows, dtype=np.float32)
            picked = [table[min(self.calls + i, len(table) - 1)] for i in range(len(batch))]
            self.calls += len(batch)
            return np.stack(picked)

    return Fixed()
