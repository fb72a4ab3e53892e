"""mnistlab.crossval: folds are stratified and disjoint, the table has one row per fold, bad input is named."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from mnistlab import crossval, data


def tiny_model():
    return keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")],
        name="tiny",
    )


@pytest.fixture(scope="module")
def digits(mnist_small):
    (x_train, y_train), _ = mnist_small
    return data.to_cnn_input(x_train[:300]), y_train[:300]


def test_cross_validate_scores_every_fold_on_held_out_digits(digits, monkeypatch):
    x, y = digits
    seen = []
    real = crossval.train_and_score

    def spy(model, x_tr, y_tr, x_te, y_te, *args):
        seen.append((len(y_tr), np.bincount(y_te, minlength=10), x_te))
        return real(model, x_tr, y_tr, x_te, y_te, *args)

    monkeypatch.setattr(crossval, "train_and_score", spy)
    folds = crossval.cross_validate(tiny_model, x, y, n_splits=3, epochs=5, batch_size=32)
    assert list(folds.columns) == ["fold", "train_size", "test_size", "accuracy", "seconds"]
    assert folds["fold"].tolist() == [1, 2, 3]
    assert (folds["train_size"] + folds["test_size"] == len(y)).all()
    assert folds["test_size"].sum() == len(y)  # every digit held out exactly once
    # stratified: each held-out fold has every digit in (nearly) the same share
    for _, counts, _ in seen:
        assert np.abs(counts - np.bincount(y, minlength=10) / 3).max() <= 1
    held_out = np.concatenate([x_te.reshape(len(x_te), -1) for *_, x_te in seen])
    assert len(np.unique(held_out, axis=0)) == len(np.unique(x.reshape(len(x), -1), axis=0))
    assert folds["accuracy"].between(0.3, 1.0).all()  # 200 digits, 5 epochs: far above chance (0.1)


def test_single_split_and_summary(digits):
    x, y = digits
    accuracy = crossval.single_split(tiny_model, x, y, validation_fraction=0.25, epochs=5, batch_size=32)
    assert 0.3 < accuracy <= 1.0
    mean, std = crossval.summary(pd.DataFrame({"accuracy": [0.8, 0.9, 1.0]}))
    assert mean == pytest.approx(0.9) and std == pytest.approx(0.1)


def test_bad_input_is_named(digits):
    x, y = digits
    with pytest.raises(ValueError, match="to_cnn_input"):
        crossval.cross_validate(tiny_model, x[..., 0], y)
    with pytest.raises(ValueError, match="one label per image"):
        crossval.cross_validate(tiny_model, x, y[:-1])
    with pytest.raises(ValueError, match="at least 2 folds"):
        crossval.cross_validate(tiny_model, x, y, n_splits=1)
    with pytest.raises(ValueError, match="rarest has"):
        crossval.cross_validate(tiny_model, x[:12], y[:12], n_splits=5)
    with pytest.raises(TypeError, match="models.MODELS"):
        crossval.train_and_score(3, x, y, x, y, epochs=1)
    with pytest.raises(ValueError, match="two folds"):
        crossval.summary(pd.DataFrame({"accuracy": [0.9]}))
