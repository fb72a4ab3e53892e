"""Notebook 04's exercises 5 and 6: two correct styles pass, plausible wrong answers fail and say why.

(Exercises 1 to 4 are tested in test_course_checks_03_04.py.)
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy import ndimage as ndi

from mnistlab.exercises import regularisation_checks


def _run(capsys, check, *args, **kwargs):
    ok = check(*args, **kwargs)
    return ok, capsys.readouterr().out


# --------------------------------------------------------------------------- Exercise 5: a random shift


def _shift_pad_and_slice(images, labels, max_shift, seed):
    rng = np.random.default_rng(seed)
    size = images.shape[1]
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)))
    shifted = np.zeros_like(images)
    for i in range(len(images)):
        down, right = rng.integers(-max_shift, max_shift + 1, size=2)
        top, left = max_shift - down, max_shift - right
        shifted[i] = padded[i, top : top + size, left : left + size]
    return shifted, labels


def _shift_scipy(images, labels, max_shift, seed):
    rng = np.random.default_rng(seed)
    moves = rng.integers(-max_shift, max_shift + 1, size=(len(images), 2))
    shifted = [ndi.shift(image, (down, right, 0), order=0, mode="constant", cval=0.0)
               for image, (down, right) in zip(images, moves, strict=True)]
    return np.stack(shifted), labels


def _shift_roll(images, labels, max_shift, seed):  # the slip: ink wraps round to the other side
    rng = np.random.default_rng(seed)
    moves = rng.integers(-max_shift, max_shift + 1, size=(len(images), 2))
    rolled = [np.roll(image, tuple(move), axis=(0, 1)) for image, move in zip(images, moves, strict=True)]
    return np.stack(rolled), labels


def _shift_unseeded(images, labels, max_shift, seed):  # the slip: a fresh generator that ignores the seed
    return _shift_scipy(images, labels, max_shift, int(np.random.default_rng().integers(1_000_000)))


def _shift_whole_batch(images, labels, max_shift, seed):  # the slip: one shift for every image
    down, right = np.random.default_rng(seed).integers(1, max_shift + 1, size=2)
    return np.stack([ndi.shift(image, (down, right, 0), order=0) for image in images]), labels


@pytest.mark.parametrize("answer", [_shift_pad_and_slice, _shift_scipy], ids=["pad+slice", "scipy"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_04_ex5_random_shift_right(capsys, test_pictures, answer, seed):
    ok, out = _run(capsys, regularisation_checks.check_random_shift, answer, "Ex5", digits=test_pictures,
                   rng=np.random.default_rng(seed))
    assert ok and out.startswith("✅"), out


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_shift_roll, "np.roll"),
        (_shift_unseeded, "same seed"),
        (_shift_whole_batch, "same shift"),
        (lambda images, labels, m, seed: _shift_scipy(images, labels, m, 0), "different seeds"),
        (lambda images, labels, m, seed: _shift_scipy(images, labels, 2 * m + 2, seed), "no shift is longer"),
        (lambda images, labels, m, seed: _shift_scipy(images, labels, m, seed)[0], "pair"),
        (lambda images, labels, m, seed: (_shift_scipy(images, labels, m, seed)[0], np.sort(labels)), "labels"),
        (lambda images, labels, m, seed: (_shift_scipy(images, labels, m, seed)[0].astype("float64"), labels),
         "float64"),
    ],
    ids=["np.roll", "ignores seed", "whole batch", "fixed seed", "too far", "no labels", "sorted labels", "dtype"],
)
def test_04_ex5_random_shift_slips_are_named(capsys, test_pictures, answer, words):
    ok, out = _run(capsys, regularisation_checks.check_random_shift, answer, "Ex5", digits=test_pictures,
                   rng=np.random.default_rng(3))
    assert not ok and out.startswith("❌") and words in out, out


def test_04_ex5_not_written(capsys, test_pictures):
    def random_shift(images, labels, max_shift, seed):
        raise NotImplementedError

    ok, out = _run(capsys, regularisation_checks.check_random_shift, random_shift, "Ex5", digits=test_pictures)
    assert not ok and "not done yet" in out


def test_04_ex5_cases_hold_digits_in_corners_and_centred_ones(test_pictures):
    images, labels, room = regularisation_checks.shift_cases(test_pictures, seed=0)
    assert images.shape == (40, 28, 28, 1) and images.dtype == np.float32 and len(labels) == 40
    assert images.min() >= 0 and images.max() <= 1
    corner = images[-10:, ..., 0] > regularisation_checks.INK
    assert all(c[0].any() or c[-1].any() for c in corner) and all(c[:, 0].any() or c[:, -1].any() for c in corner)
    assert (room[-10:] == 0).all() and (room[:30] >= 3).sum() >= 12  # room to move 3 pixels every way


# --------------------------------------------------------------------------- Exercise 6: a tuner's build function


def _build_sequential(hp):
    filters = hp.Choice("filters", [16, 32, 64])
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(filters, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(filters, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(hp.Choice("units", [32, 64, 128]), activation="relu"),
        keras.layers.Dropout(hp.Choice("dropout", [0.0, 0.25, 0.5])),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-2, 1e-3, 1e-4])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _build_functional(hp, optimizer=None, metric="accuracy", ask_dropout=True):
    learning_rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
    dropout = hp.Choice("dropout", [0.0, 0.25, 0.5]) if ask_dropout else 0.0
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(hp.Choice("filters", [16, 32, 64]), 3, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(hp.Choice("units", [32, 64, 128]), activation="relu")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(10)(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=optimizer or keras.optimizers.AdamW(learning_rate=learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=[metric])
    return model


@pytest.fixture(scope="module")
def few_digits(mnist_small):
    from mnistlab import data

    _, (x_test, _) = mnist_small
    return data.to_cnn_input(x_test[:16])


@pytest.mark.parametrize("answer", [_build_sequential, _build_functional], ids=["sequential", "functional+Float"])
def test_04_ex6_build_function_right(capsys, few_digits, answer):
    ok, out = _run(capsys, regularisation_checks.check_tuner_build, answer, "Ex6", digits=few_digits,
                   rng=np.random.default_rng(0))
    assert ok and out.startswith("✅"), out


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda hp: _build_functional(hp, optimizer="adam"), "learning rate is 0.001"),
        (lambda hp: _build_functional(hp, metric="acc"), "'accuracy'"),
        (lambda hp: _build_functional(hp, ask_dropout=False), "never asks hp for 'dropout'"),
    ],
    ids=["default optimizer", "acc metric", "no dropout hyperparameter"],
)
def test_04_ex6_build_function_slips_are_named(capsys, few_digits, answer, words):
    ok, out = _run(capsys, regularisation_checks.check_tuner_build, answer, "Ex6", digits=few_digits,
                   rng=np.random.default_rng(0))
    assert not ok and out.startswith("❌") and words in out, out


def test_04_ex6_not_written(capsys, few_digits):
    def build_model(hp):
        raise NotImplementedError

    ok, out = _run(capsys, regularisation_checks.check_tuner_build, build_model, "Ex6", digits=few_digits)
    assert not ok and "not done yet" in out


def test_04_ex6_the_reference_build_runs_a_search(course_home, tiny_split):
    from mnistlab import tuning

    with tuning.temporary_tuner("random", max_trials=1, hypermodel=_build_sequential) as tuner:
        tuner.search(tiny_split.x_train, tiny_split.y_train, epochs=1, batch_size=64,
                     validation_data=(tiny_split.x_val, tiny_split.y_val), verbose=0)
    table = tuning.results_table(tuner)
    assert list(table.columns) == ["filters", "units", "dropout", "learning_rate", "val_accuracy"] and len(table) == 1
