"""check_fit reads the learner's model and History: right, each kind of wrong, and not done."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mnistlab import models
from mnistlab.exercises import training_checks


def _fitted(tiny_split, loss="sparse_categorical_crossentropy", metrics=("accuracy",), validation=True, epochs=1):
    keras.utils.set_random_seed(0)
    model = models.build_dense()
    model.compile(optimizer="adam", loss=loss, metrics=list(metrics))
    validation_data = (tiny_split.x_val, tiny_split.y_val) if validation else None
    history = model.fit(
        tiny_split.x_train, tiny_split.y_train, epochs=epochs, batch_size=32, validation_data=validation_data, verbose=0
    )
    return model, history


@pytest.fixture(scope="module")
def right(tiny_split):
    return _fitted(tiny_split, epochs=2)


def _check(capsys, model, history, **kwargs):
    ok = training_checks.check_fit(model, history, "Exercise", **kwargs)
    return ok, capsys.readouterr().out


def test_a_correct_fit_passes_and_says_what_it_read(right, capsys):
    model, history = right
    ok, out = _check(capsys, model, history, min_epochs=2, floor=0.3)
    assert ok and out.startswith("✅") and "sparse_categorical_crossentropy" in out and "2 epochs" in out


@pytest.mark.parametrize("placeholder", [..., None])
def test_not_done(right, capsys, placeholder):
    ok, out = _check(capsys, right[0], placeholder)
    assert not ok and "not done yet" in out


def test_the_history_dict_is_not_the_history(right, capsys):
    model, history = right
    ok, out = _check(capsys, model, history.history, min_epochs=2, floor=0.3)
    assert not ok and "store the History object itself" in out


def test_history_of_another_model(right, capsys):
    _, history = right
    ok, out = _check(capsys, models.build_dense(), history, min_epochs=2, floor=0.3)
    assert not ok and "another model" in out


def test_wrong_loss_is_named(tiny_split, capsys):
    keras.utils.set_random_seed(0)
    model = models.build_dense()
    labels = keras.utils.to_categorical(tiny_split.y_train, 10)
    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])
    history = model.fit(tiny_split.x_train, labels, epochs=1, verbose=0,
                        validation_data=(tiny_split.x_val, keras.utils.to_categorical(tiny_split.y_val, 10)))
    ok, out = _check(capsys, model, history, min_epochs=1, floor=0.0)
    assert not ok and "mean_squared_error" in out and "sparse_categorical_crossentropy" in out


def test_loss_objects_and_strings_give_the_same_name():
    model = models.build_dense()
    assert training_checks.loss_name(model) is None
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy())
    assert training_checks.loss_name(model) == "sparse_categorical_crossentropy"
    model.compile(loss="mse")
    assert training_checks.loss_name(model) == "mean_squared_error"


def test_missing_metric(tiny_split, capsys):
    model, history = _fitted(tiny_split, metrics=())
    ok, out = _check(capsys, model, history, min_epochs=1, floor=0.0)
    assert not ok and "metrics=['accuracy']" in out


def test_missing_validation_data(tiny_split, capsys):
    model, history = _fitted(tiny_split, validation=False)
    ok, out = _check(capsys, model, history, min_epochs=1, floor=0.0)
    assert not ok and "validation_data" in out


def test_too_few_epochs(right, capsys):
    ok, out = _check(capsys, *right, min_epochs=3, floor=0.0)
    assert not ok and "2 epoch(s)" in out


def test_below_the_floor(right, capsys):
    model, history = right
    final = history.history["val_accuracy"][-1]
    ok, out = _check(capsys, model, history, min_epochs=2, floor=min(1.0, final + 0.01))
    assert not ok and f"{final:.3f}" in out and "below" in out


def test_uncompiled_model_with_a_history(right, capsys):
    model = models.build_dense()
    history = keras.callbacks.History()  # what a History of an uncompiled model would look like
    history.set_model(model)
    history.history = dict(right[1].history)
    ok, out = _check(capsys, model, history, min_epochs=1, floor=0.0)
    assert not ok and "not compiled" in out


def test_never_raises_on_a_strange_history(right, capsys):
    model, _ = right
    strange = keras.callbacks.History()
    strange.set_model(model)
    strange.history = {"accuracy": [0.5], "val_accuracy": "oops"}
    ok, out = _check(capsys, model, strange, min_epochs=1, floor=0.0)
    assert not ok and out.startswith("❌") and "could not be checked" in out


@pytest.fixture(scope="module")
def logits_and_labels():
    rng = np.random.default_rng(3)
    return rng.normal(0, 3, size=(6, 10)).astype("float32"), rng.integers(0, 10, size=6)


def _tape_gradient(logits, labels, from_logits=True, reduction="sum_over_batch_size"):
    import tensorflow as tf

    tensor = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, reduction=reduction)(labels, tensor)
    return tape.gradient(loss, tensor)


def test_logit_gradient_right(logits_and_labels, capsys):
    logits, labels = logits_and_labels
    assert training_checks.check_logit_gradient(_tape_gradient(logits, labels), logits, labels, "Ex")
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"from_logits": False}, "from_logits=True"), ({"reduction": "sum"}, "summed loss")],
)
def test_logit_gradient_names_the_usual_slips(logits_and_labels, capsys, kwargs, message):
    logits, labels = logits_and_labels
    assert not training_checks.check_logit_gradient(_tape_gradient(logits, labels, **kwargs), logits, labels, "Ex")
    assert message in capsys.readouterr().out


def test_logit_gradient_wrong_shape_none_and_not_done(logits_and_labels, capsys):
    logits, labels = logits_and_labels
    assert not training_checks.check_logit_gradient(np.zeros((6, 9)), logits, labels, "Ex")
    assert "shape" in capsys.readouterr().out
    assert not training_checks.check_logit_gradient(np.zeros((6, 10)), logits, labels, "Ex")
    assert "differ" in capsys.readouterr().out
    assert not training_checks.check_logit_gradient(..., logits, labels, "Ex")
    assert "not done yet" in capsys.readouterr().out


def test_logit_gradient_of_an_unwatched_constant_says_to_watch_it(logits_and_labels, capsys):
    import tensorflow as tf

    logits, labels = logits_and_labels
    tensor = tf.constant(logits)
    with tf.GradientTape() as tape:  # no tape.watch: the gradient of a constant is None
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, tensor)
    gradient = tape.gradient(loss, tensor)
    assert gradient is None
    assert not training_checks.check_logit_gradient(gradient, tensor, labels, "Ex")
    out = capsys.readouterr().out
    assert "tape.watch(logits)" in out and "not done yet" not in out
