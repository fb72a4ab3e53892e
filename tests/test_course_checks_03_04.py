"""Every exercise of notebooks 03 and 04: two correct styles pass, a plausible wrong answer fails and says why."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from mnistlab import data, losses, models, training
from mnistlab.exercises import check_choice, training_checks


def _run(capsys, check, *args, **kwargs):
    ok = check(*args, **kwargs)
    return ok, capsys.readouterr().out


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


# --------------------------------------------------------------------------- 04, Exercise 4 (choice)

OPTIONS = {"a": "a", "b": "b", "c": "c", "d": "d"}


@pytest.mark.parametrize(("correct", "wrong"), [("b", "a")], ids=["04 ex4"])
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

    for name, variable in (("04_regularisation.ipynb", "gap_reading"),):
        cells = nbformat.read(config.notebooks_dir() / name, as_version=4).cells
        sources = [c.source for c in cells if c.cell_type == "code"]
        source = next(s for s in sources if s.startswith(f"check_choice({variable}"))
        assert source.count('"a":') == 2 and "why=" in source


# --------------------------------------------------------------------------- 03, Exercise 5: momentum


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
def test_03_ex5_momentum_right(capsys, answer):
    ok, out = _run(capsys, training_checks.check_momentum, answer, "Ex5", rng=np.random.default_rng(2))
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
def test_03_ex5_momentum_slips_are_named(capsys, answer, words):
    ok, out = _run(capsys, training_checks.check_momentum, answer, "Ex5", rng=np.random.default_rng(2))
    assert not ok and out.startswith("❌") and words in out


def test_03_ex5_momentum_not_written(capsys):
    def momentum_sgd(weights, gradients, learning_rate, momentum):
        raise NotImplementedError

    ok, out = _run(capsys, training_checks.check_momentum, momentum_sgd, "Ex5")
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


# --------------------------------------------------------------------------- 03, Exercise 1: a training loop by hand


@pytest.fixture(scope="module")
def digit_pool(mnist_small):
    (x_train, y_train), _ = mnist_small
    return data.to_cnn_input(x_train), y_train


def _loop_tape(model, optimizer, loss_fn, x, y, batch_size, *, skip_last_weights=False, batch_mean=False,
               drop_last=False):
    import tensorflow as tf

    variables = model.trainable_variables[:-1] if skip_last_weights else model.trainable_variables
    stop = len(x) - len(x) % batch_size if drop_last else len(x)
    losses, correct, accuracies = [], 0, []
    for start in range(0, stop, batch_size):
        images, labels = x[start : start + batch_size], y[start : start + batch_size]
        with tf.GradientTape() as tape:
            probabilities = model(images, training=True)
            loss = loss_fn(labels, probabilities)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        losses.append(float(loss))
        right = np.argmax(probabilities, axis=1) == labels
        correct += int(right.sum())
        accuracies.append(float(right.mean()))
    return losses, (np.mean(accuracies) if batch_mean else correct / len(x))


def _loop_library_and_metric(model, optimizer, loss_fn, x, y, batch_size):
    # the library's gradient helper, a Keras metric that counts over the whole epoch, and a tf.data pipeline
    import tensorflow as tf

    accuracy, batch_losses = keras.metrics.SparseCategoricalAccuracy(), []
    for images, labels in tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size):
        accuracy.update_state(labels, model(images, training=False))
        loss, gradients = losses.loss_and_gradients(model, loss_fn, images, labels)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        batch_losses.append(loss)
    return batch_losses, float(accuracy.result())


@pytest.mark.parametrize("answer", [_loop_tape, _loop_library_and_metric], ids=["tape+count", "library+metric"])
def test_03_ex1_training_loop_right(capsys, digit_pool, answer):
    ok, out = _run(capsys, training_checks.check_train_one_epoch, answer, *digit_pool, "Ex1",
                   rng=np.random.default_rng(0))
    assert ok and out.startswith("✅") and "model.fit" in out


@pytest.mark.parametrize(
    ("slip", "words"),
    [
        ({"skip_last_weights": True}, ["never moved", "every tensor in model.trainable_variables"]),
        ({"batch_mean": True}, ["per-batch accuracies", "divide by the number of digits"]),
        ({"drop_last": True}, ["batch losses", "last, smaller batch"]),
    ],
    ids=["not all variables", "batch-averaged accuracy", "last batch dropped"],
)
def test_03_ex1_training_loop_slips_are_named(capsys, digit_pool, slip, words):
    def answer(*args):
        return _loop_tape(*args, **slip)

    ok, out = _run(capsys, training_checks.check_train_one_epoch, answer, *digit_pool, "Ex1",
                   rng=np.random.default_rng(0))
    assert not ok and out.startswith("❌") and all(word in out for word in words), out


def test_03_ex1_training_loop_not_written(capsys, digit_pool):
    def train_one_epoch(model, optimizer, loss_fn, x, y, batch_size):
        raise NotImplementedError

    ok, out = _run(capsys, training_checks.check_train_one_epoch, train_one_epoch, *digit_pool, "Ex1")
    assert not ok and "not done yet" in out


# --------------------------------------------------------------------- 03, Exercise 6: the learning-rate range test


def _finder_formula(model, optimizer, loss_fn, x, y, min_rate, max_rate, steps, batch_size, *, linear=False,
                    never_stop=False):
    import tensorflow as tf

    rates, losses = [], []
    for step in range(steps):
        if linear:
            rate = min_rate + (max_rate - min_rate) * step / (steps - 1)
        else:
            rate = min_rate * (max_rate / min_rate) ** (step / (steps - 1))
        optimizer.learning_rate = rate
        images, labels = x[step * batch_size : (step + 1) * batch_size], y[step * batch_size : (step + 1) * batch_size]
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        rates.append(rate)
        losses.append(float(loss))
        if not never_stop and loss > 4 * min(losses):
            break
    return rates, losses


def _finder_geomspace(model, optimizer, loss_fn, x, y, min_rate, max_rate, steps, batch_size):
    # np.geomspace, the library's gradient helper, batches from np.array_split, a NumPy running minimum
    rates, seen = [], np.array([])
    for rate, images, labels in zip(np.geomspace(min_rate, max_rate, steps),
                                    np.array_split(x[: steps * batch_size], steps),
                                    np.array_split(y[: steps * batch_size], steps), strict=True):
        optimizer.learning_rate.assign(rate)
        loss, gradients = losses.loss_and_gradients(model, loss_fn, images, labels)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        rates, seen = [*rates, rate], np.append(seen, loss)
        if seen[-1] > 4 * seen.min():
            break
    return rates, seen


@pytest.mark.parametrize("answer", [_finder_formula, _finder_geomspace], ids=["formula", "geomspace"])
def test_03_ex6_range_test_right(capsys, digit_pool, answer):
    ok, out = _run(capsys, training_checks.check_range_test, answer, *digit_pool, "Ex6", rng=np.random.default_rng(1))
    assert ok and out.startswith("✅") and "stopped after" in out


@pytest.mark.parametrize(
    ("slip", "words"),
    [({"linear": True}, ["linear", "same factor"]), ({"never_stop": True}, ["4 times the lowest", "stop right after"])],
    ids=["linear rates", "never stops"],
)
def test_03_ex6_range_test_slips_are_named(capsys, digit_pool, slip, words):
    def answer(*args):
        return _finder_formula(*args, **slip)

    ok, out = _run(capsys, training_checks.check_range_test, answer, *digit_pool, "Ex6", rng=np.random.default_rng(1))
    assert not ok and out.startswith("❌") and all(word in out for word in words), out


@pytest.mark.parametrize(
    "answer",
    [
        lambda rates, losses: rates[int(np.argmin(losses))] / 10,
        lambda rates, losses: min(zip(losses, rates, strict=True))[1] / 10,
    ],
    ids=["argmin", "min of pairs"],
)
def test_03_ex6_pick_rate_right(capsys, answer):
    ok, out = _run(capsys, training_checks.check_pick_rate, answer, "Ex6", rng=np.random.default_rng(3))
    assert ok and out.startswith("✅")


def test_03_ex6_pick_rate_at_the_minimum_itself_fails(capsys):
    answer = lambda rates, losses: rates[int(np.argmin(losses))]  # noqa: E731
    ok, out = _run(capsys, training_checks.check_pick_rate, answer, "Ex6", rng=np.random.default_rng(3))
    assert not ok and out.startswith("❌") and "lowest loss itself" in out and "a tenth" in out


@pytest.fixture(scope="module")
def made_up_sweep():
    rates = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    return rates, [2.3, 2.1, 0.8, 1.9, 12.0]  # lowest at 1e-2: the rule picks 1e-3


def _short_run(tiny_split, optimizer):
    keras.utils.set_random_seed(0)
    model = models.build_dense()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(tiny_split.x_train, tiny_split.y_train, epochs=1, batch_size=32, verbose=0,
                     validation_data=(tiny_split.x_val, tiny_split.y_val))


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_03_ex6_run_right(capsys, tiny_split, made_up_sweep, optimizer):
    optimizer = keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": 1e-3}})
    history = _short_run(tiny_split, optimizer)
    ok, out = _run(capsys, training_checks.check_rate_finder_run, *made_up_sweep, 1e-3, history, "Ex6", floor=0.0)
    assert ok and out.startswith("✅")


def test_03_ex6_run_at_the_default_rate_instead_of_the_chosen_one_fails(capsys, tiny_split, made_up_sweep):
    history = _short_run(tiny_split, keras.optimizers.Adam(1e-2))  # the rate at the minimum, not a tenth of it
    ok, out = _run(capsys, training_checks.check_rate_finder_run, *made_up_sweep, 1e-3, history, "Ex6", floor=0.0)
    assert not ok and "trained with learning rate 0.01" in out
    ok, out = _run(capsys, training_checks.check_rate_finder_run, *made_up_sweep, 1e-2, history, "Ex6", floor=0.0)
    assert not ok and "the rule picks" in out
