"""Shared fixtures: small, fixed slices of MNIST (offline) and an isolated course folder."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab import config, data


@pytest.fixture(scope="session")
def mnist_arrays():
    """The full canonical arrays, loaded once per test session (skips nothing: a missing file fails)."""
    return data.load_mnist(download=False)


@pytest.fixture(scope="session")
def mnist_small(mnist_arrays):
    """1,000 training and 200 test digits, class-balanced, as raw uint8 arrays."""
    (x_train, y_train), (x_test, y_test) = mnist_arrays
    x_tr, y_tr = data.stratified_subset(x_train, y_train, 1_000, seed=0)
    x_te, y_te = data.stratified_subset(x_test, y_test, 200, seed=0)
    return (np.ascontiguousarray(x_tr), y_tr), (np.ascontiguousarray(x_te), y_te)


@pytest.fixture(scope="session")
def test_pictures(mnist_small):
    """40 raw MNIST test digits (uint8, 28x28): unseen inputs for the image self-checks."""
    _, (x_test, _) = mnist_small
    return x_test[:40]


@pytest.fixture
def course_home(tmp_path, monkeypatch):
    """An empty course folder in fast mode: models and figures written by a test land here."""
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    monkeypatch.setenv(config.FAST_ENV, "1")
    return tmp_path


@pytest.fixture(scope="session")
def tiny_split(mnist_small):
    """300 training, 100 validation and 200 test digits as CNN input, for one-epoch training tests."""
    (x_train, y_train), (x_test, y_test) = mnist_small
    x_tr, x_val, y_tr, y_val = data.train_validation_split(x_train[:400], y_train[:400], 0.25, seed=0)
    return data.Split(
        data.to_cnn_input(x_tr), y_tr, data.to_cnn_input(x_val), y_val, data.to_cnn_input(x_test), y_test
    )


@pytest.fixture(scope="session")
def one_pixel_model():
    """A tiny Keras softmax model whose output depends on pixel (5, 7) only, and only for digit 3."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    weights = np.zeros((784, 10), dtype="float32")
    weights[5 * 28 + 7, 3] = 8.0
    model.layers[-1].set_weights([weights, np.zeros(10, dtype="float32")])
    return model
