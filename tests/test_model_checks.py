"""Model self-check: a right model passes, each kind of wrong model is told its first differing layer, never raises."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from mnistlab import models
from mnistlab.exercises.model_checks import check_model, first_difference, layer_signatures


def _dropout_cnn(**changes):
    """The dropout CNN written out layer by layer, with one thing changed for the wrong-model tests."""
    settings = {"filters": 32, "kernel": 3, "padding": "valid", "rate": 0.5, "units": 128, "last": "softmax"}
    settings.update(changes)
    stack = [
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(settings["filters"], settings["kernel"], padding=settings["padding"], activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(settings["rate"]),
        layers.Dense(settings["units"], activation="relu"),
        layers.Dense(10, activation=settings["last"]),
    ]
    return keras.Sequential(stack)


@pytest.fixture(scope="module")
def reference():
    return models.build_dropout_cnn()


def _run(capsys, answer, reference, hint="the hint"):
    ok = check_model(answer, reference, "Ex", hint=hint)
    return ok, capsys.readouterr().out


def test_the_right_model_passes_and_names_its_size(capsys, reference):
    ok, out = _run(capsys, _dropout_cnn(), reference)
    assert ok is True
    assert out.startswith("✅ Ex: correct!") and "8 layers" in out and "225,034 parameters" in out


def test_a_builder_function_is_called(capsys, reference):
    ok, out = _run(capsys, _dropout_cnn, reference)
    assert ok is True and "✅" in out


def test_a_separate_activation_layer_counts_like_the_activation_argument(capsys):
    reference = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3, activation="relu")])
    spelled_out = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3), layers.ReLU()])
    ok, _ = _run(capsys, spelled_out, reference)
    assert ok is True


WRONG = {
    "other kernel size": (
        dict(kernel=5),
        "layer 1 (Conv2D) outputs shape (None, 24, 24, 32); the reference (None, 26, 26, 32)",
    ),
    "same padding": (dict(padding="same"), "layer 1 (Conv2D) outputs shape (None, 28, 28, 32)"),
    "fewer filters": (dict(filters=16), "layer 1 (Conv2D) outputs shape (None, 26, 26, 16)"),
    "other dropout rate": (dict(rate=0.25), "layer 6 (Dropout) has rate 0.25; the reference has 0.5"),
    "narrower dense": (dict(units=64), "layer 7 (Dense) outputs shape (None, 64); the reference (None, 128)"),
    "no softmax": (dict(last=None), "layer 8 (Dense) uses the activation 'linear'; the reference uses 'softmax'"),
}


@pytest.mark.parametrize("change", list(WRONG), ids=list(WRONG))
def test_a_wrong_layer_is_named_with_what_differs(capsys, reference, change):
    changes, expected = WRONG[change]
    ok, out = _run(capsys, _dropout_cnn(**changes), reference)
    assert ok is False
    assert out.startswith("❌ Ex: ") and expected in out and "💡 Hint: the hint" in out


def test_a_wrong_layer_type_and_missing_or_extra_layers(capsys, reference):
    swapped = keras.Sequential(
        [keras.Input(shape=(28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.AveragePooling2D(2)]
    )
    ok, out = _run(capsys, swapped, reference)
    assert ok is False and "layer 2 is a AveragePooling2D; the reference has here: MaxPooling2D" in out

    short = keras.Sequential([keras.Input(shape=(28, 28, 1)), *_dropout_cnn().layers[:-1]])
    ok, out = _run(capsys, short, reference)
    assert ok is False and "stops after 7 layers" in out and "layer 8: Dense (softmax)" in out

    longer = keras.Sequential(
        [keras.Input(shape=(28, 28, 1)), *_dropout_cnn().layers, layers.Dense(10, activation="softmax")]
    )
    ok, out = _run(capsys, longer, reference)
    assert ok is False and "has 9 layers, the reference 8: layer 9" in out


def test_a_wrong_input_shape_is_named(capsys, reference):
    flat = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(10, activation="softmax")])
    ok, out = _run(capsys, flat, reference)
    assert ok is False and "inputs of shape (None, 784); the reference takes (None, 28, 28, 1)" in out


def test_lenet5_against_the_dropout_cnn_names_the_first_layer(reference):
    assert first_difference(models.build_lenet5(), reference) == (
        "layer 1 (Conv2D) uses the activation 'tanh'; the reference uses 'relu'"
    )
    assert first_difference(models.build_lenet5(), models.build_lenet5()) is None
    assert len(layer_signatures(models.build_lenet5())) == 8


@pytest.mark.parametrize("placeholder", [..., None])
def test_not_done_yet(capsys, reference, placeholder):
    ok, out = _run(capsys, placeholder, reference)
    assert ok is False and "not done yet" in out


def test_a_builder_that_is_not_written_yet_is_not_done(capsys, reference):
    def build():
        raise NotImplementedError("Exercise: replace this line with your solution")

    ok, out = _run(capsys, build, reference)
    assert ok is False and "not done yet" in out


def test_a_builder_that_fails_or_returns_nothing_is_reported(capsys, reference):
    ok, out = _run(capsys, lambda: layers.Conv2D(32, 3, activation="reluu"), reference)
    assert ok is False and "building your model raised ValueError" in out
    ok, out = _run(capsys, lambda: None, reference)
    assert ok is False and "did you forget `return model`" in out


@pytest.mark.parametrize("value", [42, "dropout_cnn", [layers.Dense(10)]], ids=["int", "str", "list"])
def test_a_value_that_is_not_a_model(capsys, reference, value):
    ok, out = _run(capsys, value, reference)
    assert ok is False and "expected a Keras model" in out


def test_a_single_layer_is_told_to_go_into_sequential(capsys, reference):
    ok, out = _run(capsys, layers.Dense(10), reference)
    assert ok is False and "got a single Dense layer" in out and "keras.Sequential" in out


def test_a_model_without_an_input_is_told_to_start_with_keras_input(capsys, reference):
    ok, out = _run(capsys, keras.Sequential([layers.Conv2D(32, 3)]), reference)
    assert ok is False and "begin it with keras.Input(shape=(28, 28, 1))" in out


@pytest.mark.parametrize(
    "output",
    [
        lambda: [layers.Dense(10), layers.Softmax()],
        lambda: [layers.Dense(10, activation=__import__("tensorflow").nn.softmax)],
        lambda: [layers.Dense(10), layers.Activation("softmax")],
        lambda: [layers.Dense(10, activation=keras.activations.softmax)],
    ],
    ids=["Softmax layer", "tf.nn.softmax", "Activation('softmax')", "keras.activations.softmax"],
)
def test_activations_are_compared_by_what_they_compute(capsys, reference, output):
    answer = keras.Sequential([keras.Input(shape=(28, 28, 1)), *_dropout_cnn().layers[:-1], *output()])
    ok, out = _run(capsys, answer, reference)
    assert ok is True, out


def test_a_different_activation_is_still_named(capsys, reference):
    answer = keras.Sequential(
        [keras.Input(shape=(28, 28, 1)), *_dropout_cnn().layers[:-1], layers.Dense(10), layers.Activation("sigmoid")]
    )
    ok, out = _run(capsys, answer, reference)
    assert ok is False and "layer 8 (Dense) uses the activation 'sigmoid'; the reference uses 'softmax'" in out
