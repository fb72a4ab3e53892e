"""Shared fixtures: a small, fixed slice of MNIST (offline) and an isolated course folder."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab import data


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
