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
