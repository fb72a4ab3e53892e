"""Every exercise of notebooks 03 and 04: two correct styles pass, a plausible wrong answer fails and says why."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from mnistlab import data, models, training
from mnistlab.exercises import check_choice, training_checks


def _run(capsys, check, *args, **kwargs):
    ok = check(*args, **kwargs)
    return ok, capsys.readouterr().out


# --------------------------------------------------------------------------- 03, Exercise 1: steps per epoch


@pytest.mark.parametrize(
    "answer", [lambda n, b: math.ceil(n / b), lambda n, b: n // b + (n % b > 0)], ids=["ceil", "floor-division"]
)
def test_03_ex1_steps_per_epoch_right(capsys, answer):
    ok, out = _run(capsys, training_checks.check_steps_per_epoch, answer, 5_400, "Ex1", rng=np.random.default_rng(1))
    assert ok and out.startswith("✅")


def test_03_ex1_steps_per_epoch_rounding_down_fails(capsys):
    ok, out = _run(capsys, training_checks.check_steps_per_epoch, lambda n, b: n // b, 5_400, "Ex1")
    assert not ok and out.startswith("❌") and "batches of" in out and "round up" in out


def test_03_ex1_a_float_is_not_a_number_of_steps(capsys):
    ok, out = _run(capsys, training_checks.check_steps_per_epoch, lambda n, b: -(-n / b // 1), 5_400, "Ex1")
    assert not ok and "❌" in out


# --------------------------------------------------------------------------- 03, Exercise 2: label smoothing


@pytest.mark.parametrize(
    "answer",
    [
        lambda labels, s: data.one_hot(labels) * (1 - s) + s / 10,
        lambda labels, s: np.where(np.eye(10)[labels] == 1, 1 - s + s / 10, s / 10),
    ],
    ids=["one_hot", "np.eye+where"],
)
def test_03_ex2_label_smoothing_right(capsys, answer):
    ok, out = _run(capsys, training_checks.check_smooth_targets, answer, np.arange(10).repeat(5), "Ex2")
    assert ok and out.startswith("✅")


def test_03_ex2_smoothing_only_the_wrong_digits_fails(capsys):
    wrong = lambda labels, s: np.where(np.eye(10)[labels] == 1, 1 - s, s / 9)  # noqa: E731
    ok, out = _run(capsys, training_checks.check_smooth_targets, wrong, np.arange(10).repeat(5), "Ex2")
    assert not ok and out.startswith("❌") and "values wrong" in out and "all 10 digits" in out


# --------------------------------------------------------------------------- 03, Exercise 3: a gradient by tape


def _logit_gradient(logits, labels, style):
    import tensorflow as tf

    if style == "variable":  # a Variable is watched without tape.watch
        tensor = tf.Variable(logits)
        with tf.GradientTape() as tape:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, tensor)
        return tape.gradient(loss, tensor)
    tensor = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        if style == "watch":
            loss = keras.losses.sparse_categorical_crossentropy(labels, tensor, from_logits=True)
            loss = tf.reduce_mean(loss)
        else:  # the slip: the logits taken as probabilities
            loss = keras.losses.SparseCategoricalCrossentropy()(labels, tensor)
    return tape.gradient(loss, tensor)


@pytest.mark.parametrize("style", ["watch", "variable"])
def test_03_ex3_gradient_right(capsys, style):
    rng = np.random.default_rng(5)
    logits, labels = rng.normal(0, 3, (8, 10)).astype("float32"), rng.integers(0, 10, 8)
    answer = _logit_gradient(logits, labels, style)
    ok, out = _run(capsys, training_checks.check_logit_gradient, answer, logits, labels, "Ex3")
    assert ok and out.startswith("✅")


def test_03_ex3_gradient_without_from_logits_fails(capsys):
    rng = np.random.default_rng(5)
    logits, labels = rng.normal(0, 3, (8, 10)).astype("float32"), rng.integers(0, 10, 8)
    answer = _logit_gradient(logits, labels, "probabilities")
    ok, out = _run(capsys, training_checks.check_logit_gradient, answer, logits, labels, "Ex3")
    assert not ok and "from_logits=True" in out


# --------------------------------------------------------------------------- 03, Exercise 4: compile and fit


def _fit(split, metric, loss, **fit_kwargs):
    keras.utils.set_random_seed(0)
    model = models.build_dense()
    model.compile(optimizer="adam", loss=loss, metrics=[metric])
    history = model.fit(split.x_train, split.y_train, epochs=2, batch_size=32, verbose=0, **fit_kwargs)
    return model, history


@pytest.mark.parametrize(
    ("metric", "loss"),
    [
        ("acc", keras.losses.SparseCategoricalCrossentropy()),
        (keras.metrics.SparseCategoricalAccuracy(), "sparse_categorical_crossentropy"),
    ],
    ids=["acc+loss object", "metric object+string"],
)
def test_03_ex4_fit_right_with_any_accuracy_name(tiny_split, capsys, metric, loss):
    model, history = _fit(tiny_split, metric, loss, validation_data=(tiny_split.x_val, tiny_split.y_val))
    ok, out = _run(capsys, training_checks.check_fit, model, history, "Ex4", min_epochs=2, floor=0.0,
                   validation=(tiny_split.x_val, tiny_split.y_val))
    assert ok and out.startswith("✅")


def test_03_ex4_validation_split_instead_of_the_given_digits_fails(tiny_split, capsys):
    model, history = _fit(tiny_split, "accuracy", "sparse_categorical_crossentropy", validation_split=0.2)
    ok, out = _run(capsys, training_checks.check_fit, model, history, "Ex4", min_epochs=2, floor=0.0,
                   validation=(tiny_split.x_val, tiny_split.y_val))
    assert not ok and "validation_data=(x_val, y_val)" in out and "validation_split" in out


# --------------------------------------------------------------------------- 03, Exercise 5 (choice) and 04, Ex 4

OPTIONS = {"a": "a", "b": "b", "c": "c", "d": "d"}


@pytest.mark.parametrize(("correct", "wrong"), [("a", "c"), ("b", "a")], ids=["03 ex5", "04 ex4"])
def test_choice_exercises(capsys, correct, wrong):
    why = {wrong: "because of this"}
    for answer in (correct, f" ({correct.upper()}) "):
        ok, out = _run(capsys, check_choice, answer, correct, OPTIONS, "Ex", why=why)
        assert ok and out.startswith("✅")
    ok, out = _run(capsys, check_choice, wrong, correct, OPTIONS, "Ex", why=why)
    assert not ok and f"'{wrong}'" in out and "because of this" in out


def test_the_choice_exercises_in_the_notebooks_have_explanations():
    import nbformat

    from mnistlab import config

    for name, variable in (("03_training.ipynb", "loss_reading"), ("04_regularisation.ipynb", "gap_reading")):
        cells = nbformat.read(config.notebooks_dir() / name, as_version=4).cells
        sources = [c.source for c in cells if c.cell_type == "code"]
        source = next(s for s in sources if s.startswith(f"check_choice({variable}"))
        assert source.count('"a":') == 2 and "why=" in source


# --------------------------------------------------------------------------- 03, Exercise 6: momentum


def _momentum_keras_style(weights, gradients, learning_rate, momentum):
    weights, velocity = np.array(weights, dtype=float), np.zeros(np.shape(weights))
    for g in gradients:
        velocity = momentum * velocity - learning_rate * np.asarray(g)
        weights = weights + velocity
    return weights


def _momentum_pytorch_style(weights, gradients, learning_rate, momentum):
    # v ← βv + g, w ← w − ηv: the same weights for a constant rate
    weights, velocity = list(weights), [0.0] * len(weights)
    for g in gradients:
        velocity = [momentum * v + gi for v, gi in zip(velocity, g, strict=True)]
        weights = [w - learning_rate * v for w, v in zip(weights, velocity, strict=True)]
    return weights


@pytest.mark.parametrize("answer", [_momentum_keras_style, _momentum_pytorch_style], ids=["keras", "pytorch"])
def test_03_ex6_momentum_right(capsys, answer):
    ok, out = _run(capsys, training_checks.check_momentum, answer, "Ex6", rng=np.random.default_rng(2))
    assert ok and out.startswith("✅")


def _momentum_lagged(weights, gradients, learning_rate, momentum):
    weights, velocity = np.array(weights, dtype=float), np.zeros(np.shape(weights))
    for g in gradients:
        weights = weights + velocity
        velocity = momentum * velocity - learning_rate * np.asarray(g)
    return weights


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_momentum_lagged, "old velocity"),
        (lambda w, gs, lr, m: np.asarray(w) - lr * np.sum(gs, axis=0), "plain SGD"),
        (lambda w, gs, lr, m: _momentum_keras_style(w, [-np.asarray(g) for g in gs], lr, m), "uphill"),
    ],
    ids=["lagged", "no velocity", "uphill"],
)
def test_03_ex6_momentum_slips_are_named(capsys, answer, words):
    ok, out = _run(capsys, training_checks.check_momentum, answer, "Ex6", rng=np.random.default_rng(2))
    assert not ok and out.startswith("❌") and words in out


def test_03_ex6_not_written(capsys):
    def momentum_sgd(weights, gradients, learning_rate, momentum):
        raise NotImplementedError

    ok, out = _run(capsys, training_checks.check_momentum, momentum_sgd, "Ex6")
    assert not ok and "not done yet" in out


# --------------------------------------------------------------------------- 04, Exercise 1: batch norm parameters


def _bn_by_keras(channels):
    layer = keras.layers.BatchNormalization()
    layer.build((None, channels))
    trainable = sum(w.numpy().size for w in layer.trainable_weights)
    return trainable, sum(w.numpy().size for w in layer.non_trainable_weights)


@pytest.mark.parametrize("answer", [lambda c: (2 * c, 2 * c), _bn_by_keras], ids=["formula", "keras layer"])
def test_04_ex1_batch_norm_right(capsys, answer):
    ok, out = _run(capsys, training_checks.check_batch_norm_parameters, answer, "Ex1")
    assert ok and out.startswith("✅")


def test_04_ex1_all_trainable_fails(capsys):
    ok, out = _run(capsys, training_checks.check_batch_norm_parameters, lambda c: (4 * c, 0), "Ex1")
    assert not ok and "non-trainable" in out and "moving mean and variance" in out


def test_04_ex1_one_per_channel_fails(capsys):
    ok, out = _run(capsys, training_checks.check_batch_norm_parameters, lambda c: (c, c), "Ex1")
    assert not ok and "channels" in out


# --------------------------------------------------------------------------- 04, Exercise 2: dropout


def _dropout_where(x, rate, rng):
    return np.where(rng.random(x.shape) >= rate, x / (1 - rate), 0.0)


def _dropout_binomial(x, rate, rng):
    return x * rng.binomial(1, 1 - rate, size=x.shape) / (1 - rate)


@pytest.mark.parametrize("answer", [_dropout_where, _dropout_binomial], ids=["where", "binomial"])
def test_04_ex2_dropout_right(capsys, answer):
    ok, out = _run(capsys, training_checks.check_dropout, answer, "Ex2", rng=np.random.default_rng(4))
    assert ok and out.startswith("✅")


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (lambda x, rate, rng: np.where(rng.random(x.shape) >= rate, x, 0.0), "divide them by 1 − rate"),
        (lambda x, rate, rng: np.where(rng.random(x.shape) < rate, x / rate, 0.0), "fraction to drop"),
        (lambda x, rate, rng: np.where(np.random.default_rng(0).random(x.shape) >= rate, x / (1 - rate), 0), "rng"),
    ],
    ids=["not scaled", "keeps rate", "ignores rng"],
)
def test_04_ex2_dropout_slips_are_named(capsys, answer, words):
    ok, out = _run(capsys, training_checks.check_dropout, answer, "Ex2", rng=np.random.default_rng(4))
    assert not ok and out.startswith("❌") and words in out


# --------------------------------------------------------------------------- 04, Exercise 3: the schedule


def _schedule_branches(step, total_steps, peak):
    warmup = max(1, int(0.1 * total_steps))
    if step < warmup:
        return peak / 10 + (peak - peak / 10) * step / warmup
    t = (step - warmup) / (total_steps - warmup)
    return peak * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t)))


def _schedule_numpy(step, total_steps, peak):
    warmup = max(1, int(0.1 * total_steps))
    ramp = np.interp(step, [0, warmup], [peak / 10, peak])
    t = np.clip((step - warmup) / (total_steps - warmup), 0, 1)
    cosine = peak * (0.01 + 0.99 * (1 + np.cos(np.pi * t)) / 2)
    return float(np.where(step < warmup, ramp, cosine))


@pytest.mark.parametrize("answer", [_schedule_branches, _schedule_numpy], ids=["branches", "numpy"])
def test_04_ex3_schedule_right(capsys, answer):
    ok, out = _run(capsys, training_checks.check_schedule, answer, "Ex3", rng=np.random.default_rng(6))
    assert ok and out.startswith("✅")


def test_04_ex3_warm_up_from_zero_fails(capsys):
    def from_zero(step, total_steps, peak):
        warmup = max(1, int(0.1 * total_steps))
        return peak * step / warmup if step < warmup else _schedule_branches(step, total_steps, peak)

    ok, out = _run(capsys, training_checks.check_schedule, from_zero, "Ex3", rng=np.random.default_rng(6))
    assert not ok and "at step 0" in out and "warm-up" in out


def test_04_ex3_matches_the_course_schedule_itself():
    schedule = training.warmup_cosine_schedule(300, 3e-3)
    for step in (0, 15, 30, 31, 200, 299):
        assert math.isclose(_schedule_branches(step, 300, 3e-3), float(schedule(step)), rel_tol=1e-4)


def test_03_ex2_reference_targets_give_keras_smoothed_loss():
    rng = np.random.default_rng(0)
    predictions = rng.dirichlet(np.ones(10), size=8).astype("float32")
    labels, smoothing = rng.integers(0, 10, 8), 0.3
    smoothed = keras.losses.CategoricalCrossentropy(label_smoothing=smoothing)(data.one_hot(labels), predictions)
    plain = keras.losses.CategoricalCrossentropy()(training_checks.smoothed_targets(labels, smoothing), predictions)
    assert np.isclose(float(plain), float(smoothed), atol=1e-6)
