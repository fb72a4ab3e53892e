"""Notebook 09's tools (test-set guard, budget timer, report) and every capstone self-check: two right, one wrong."""

from __future__ import annotations

import functools

import keras
import numpy as np
import pytest

from mnistlab import augmentation, capstone, statistics
from mnistlab.exercises import capstone_checks as cc

# --------------------------------------------------------------------------- made-up digits and models


class LabelReader:
    """A stand-in model: reads the label hidden in pixel (0, 0) of each digit, and gets ``wrong`` digits wrong."""

    def __init__(self, wrong=(), name="reader"):
        self.wrong, self.name, self.calls = set(wrong), name, 0

    def predict(self, images, batch_size=None, verbose=0):
        self.calls += 1
        labels = np.rint(images[:, 0, 0, 0] * 10).astype(int) % 10
        for index in self.wrong:
            labels[index] = (labels[index] + 1) % 10
        return np.eye(10)[labels]


def made_up_test_set(n=200, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = np.zeros((n, 28, 28, 1), dtype="float32")
    images[:, 0, 0, 0] = labels / 10
    return capstone.TestSet(images, labels)


def tiny_cnn(batch_norm=True, width=4):
    """A functional CNN small enough to build in a moment (the style of the notebook's solution)."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Conv2D(width, 3, strides=2, use_bias=not batch_norm)(inputs)
    if batch_norm:
        x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


def tiny_sequential(batch_norm=True, width=4):
    """The same idea written as a Sequential list."""
    stack = [keras.Input(shape=(28, 28, 1)), keras.layers.Conv2D(width, 3, strides=2, activation="relu")]
    stack += [keras.layers.BatchNormalization()] if batch_norm else []
    stack += [keras.layers.Flatten(), keras.layers.Dense(10), keras.layers.Softmax()]
    return keras.Sequential(stack)


def out_of(capsys) -> str:
    return capsys.readouterr().out


# --------------------------------------------------------------------------- the guard


def test_the_test_set_records_every_look():
    test_set = made_up_test_set()
    assert test_set.touches == 0 and len(test_set) == 200 and "looked at 0 times" in repr(test_set)
    predicted = test_set.predict(LabelReader(name="first"))
    assert np.array_equal(predicted, test_set.labels) and test_set.touches == 1
    accuracy = test_set.evaluate(LabelReader(wrong=range(10), name="second"))
    assert isinstance(accuracy, statistics.Accuracy) and accuracy.correct == 190 and accuracy.n == 200
    assert test_set.touches == 2 and [look.model_name for look in test_set.looks] == ["first", "second"]
    assert (test_set.looks[1].predictions != test_set.labels).sum() == 10
    predicted[:] = 0  # the caller's copy: the ledger keeps what was predicted
    assert np.array_equal(test_set.looks[0].predictions, test_set.labels)
    with pytest.raises(ValueError):
        test_set.labels[0] = 3


def test_the_test_set_wants_one_label_per_image():
    with pytest.raises(ValueError, match="one label per image"):
        capstone.TestSet(np.zeros((3, 28, 28, 1)), np.zeros(2))


def test_load_splits_development_digits_and_guards_the_test_digits():
    rng = np.random.default_rng(1)
    arrays = ((rng.integers(0, 255, (300, 28, 28), dtype=np.uint8), np.repeat(np.arange(10), 30)),
              (rng.integers(0, 255, (50, 28, 28), dtype=np.uint8), np.repeat(np.arange(10), 5)))
    dev, test_set = capstone.load(200, arrays=arrays)
    assert dev.x_train.shape == (180, 28, 28, 1) and dev.x_val.shape == (20, 28, 28, 1)
    assert len(test_set) == 50 and test_set.touches == 0


def test_predict_labels_batch_by_batch_equals_predict():
    model = tiny_cnn()
    images = np.random.default_rng(2).random((25, 28, 28, 1), dtype="float32")
    expected = model.predict(images, verbose=0).argmax(axis=1)
    assert np.array_equal(capstone.predict_labels(model, images, batch_size=10), expected)


# --------------------------------------------------------------------------- the budget timer


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_the_budget_timer_stops_after_the_budget_and_records_the_time(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(capstone.time, "perf_counter", clock)
    timer = capstone.BudgetTimer(2.0)
    timer.set_model(tiny_cnn())
    timer.on_train_begin()
    for _ in range(5):  # the first batch (graph building) takes 3 s, the next ones 0.5 s each
        timer.on_train_batch_begin(0)
        clock.now += 3.0 if timer.steps == 0 else 0.5
        timer.on_train_batch_end(0)
    assert timer.stopped and timer.model.stop_training and timer.steps == 5  # 4 timed steps: 2.0 s
    timer.on_epoch_end(0)
    clock.now += 0.25  # the validation pass after the stop
    timer.on_train_end()
    assert timer.seconds == pytest.approx(2.25) and timer.wall_seconds == pytest.approx(5.25)
    assert timer.steps_per_second == pytest.approx(2.0) and timer.epochs == 1 and timer.fits == 1 and timer.kept
    assert "2.2 s of a 2 s budget" in str(timer) and "stopped by the budget" in str(timer)
    timer.seconds = 2.0 + timer.grace + 0.1
    assert not timer.kept


def test_the_budget_timer_stops_a_real_fit_and_fits_share_its_budget():
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype="float32")
    y = np.arange(64) % 10
    model = tiny_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    timer = capstone.BudgetTimer(0.3)
    model.fit(x, y, batch_size=16, epochs=10_000, callbacks=[timer], verbose=0)
    assert timer.stopped and timer.kept and 1 <= timer.epochs < 10_000
    assert timer.seconds >= 0.3 and timer.wall_seconds >= timer.seconds and timer.steps_per_second > 0
    steps = timer.steps
    model.fit(x, y, batch_size=16, epochs=10_000, callbacks=[timer], verbose=0)  # the budget is already spent
    assert timer.fits == 2 and timer.steps == steps + 1


def test_a_budget_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        capstone.BudgetTimer(0)


# --------------------------------------------------------------------------- Exercise 1: the design


def test_ex1_model_design(capsys):
    assert cc.check_model_design(tiny_cnn, "Ex")
    assert cc.check_model_design(tiny_sequential, "Ex")

    def logits(batch_norm=True, width=4):
        model = tiny_cnn(batch_norm, width)
        return keras.Model(model.input, model.layers[-1].input)  # the pooled features: no probabilities

    def logits_head(batch_norm=True, width=4):
        stack = tiny_sequential(batch_norm, width).layers[:-1]  # Dense(10) without the softmax
        return keras.Sequential([keras.Input(shape=(28, 28, 1)), *stack])

    assert not cc.check_model_design(logits_head, "Ex")
    assert not cc.check_model_design(lambda batch_norm=True, width=4: tiny_cnn(True, width), "Ex")  # ignores the flag
    out = out_of(capsys)
    assert out.count("✅") == 2 and "are not probabilities" in out and "softmax" in out
    assert "build_model(batch_norm=False) still has BatchNormalization" in out
    assert not cc.check_model_design(logits, "Ex") and "(None, 10)" in out_of(capsys)


def test_ex1_a_model_too_large_for_the_budget(capsys):
    assert not cc.check_model_design(tiny_cnn, "Ex", max_parameters=50)
    assert "parameters, more than 50" in out_of(capsys)


# --------------------------------------------------------------------------- Exercise 2: training within a budget


def train_with_tf_data(build_model, x_train, y_train, seconds, seed, epochs=None):
    """The notebook's style: tf.data batches (not augmented here: they build faster) and AdamW."""
    keras.utils.set_random_seed(seed)
    model = build_model()
    steps = augmentation.steps_per_epoch(len(x_train), 32)
    model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="sparse_categorical_crossentropy")
    timer = capstone.BudgetTimer(seconds)
    model.fit(augmentation.training_batches(x_train, y_train, 32, seed, None), steps_per_epoch=steps,
              epochs=epochs or 1000, callbacks=[timer], shuffle=False, verbose=0)
    return model, timer


def train_on_arrays(build_model, x_train, y_train, seconds, seed, epochs=None):
    """Another style: plain arrays, Adam, the timer among other callbacks."""
    keras.utils.set_random_seed(seed)
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = capstone.BudgetTimer(seconds)
    model.fit(x_train, y_train, batch_size=32, epochs=1000 if epochs is None else epochs,
              callbacks=[keras.callbacks.TerminateOnNaN(), timer], verbose=0)
    return [model, timer]


def test_ex2_training_function(capsys):
    assert cc.check_training_function(train_with_tf_data, "Ex")
    assert cc.check_training_function(train_on_arrays, "Ex")

    def timer_not_given_to_fit(build_model, x_train, y_train, seconds, seed, epochs=None):
        model = build_model()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        timer = capstone.BudgetTimer(seconds)
        model.fit(x_train, y_train, epochs=2, verbose=0)
        return model, timer

    assert not cc.check_training_function(timer_not_given_to_fit, "Ex")
    out = out_of(capsys)
    assert out.count("✅") == 2 and "the timer never watched a fit" in out and "callbacks=[timer]" in out


def test_ex2_a_fixed_budget_is_not_the_one_asked_for(capsys):
    def fixed_budget(build_model, x_train, y_train, seconds, seed, epochs=None):
        model = build_model()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        timer = capstone.BudgetTimer(180)
        model.fit(x_train, y_train, epochs=1, callbacks=[timer], verbose=0)
        return model, timer

    assert not cc.check_training_function(fixed_budget, "Ex")
    assert "your timer's budget is 180 s but the call asked for 0.5 s" in out_of(capsys)


# --------------------------------------------------------------------------- Exercise 3: the choice


@pytest.fixture()
def validation():
    rng = np.random.default_rng(7)
    y_val = rng.integers(0, 10, 300)

    def answers(accuracy, seed):
        noise = np.random.default_rng(seed)
        wrong = noise.random(300) > accuracy
        return np.where(wrong, (y_val + noise.integers(1, 10, 300)) % 10, y_val)

    return y_val, answers


def test_ex3_choice_on_validation(capsys, validation):
    y_val, answers = validation
    predictions = {"narrow": answers(0.90, 1), "wide": answers(0.97, 2)}
    by_max = max(predictions, key=lambda name: np.mean(predictions[name] == y_val))
    by_sort = sorted(predictions.items(), key=lambda item: -np.mean(item[1] == y_val))[0][0]
    as_lists = {name: labels.tolist() for name, labels in predictions.items()}
    assert cc.check_choice_on_validation(by_max, predictions, y_val, made_up_test_set(), "Ex")
    assert cc.check_choice_on_validation(by_sort, as_lists, y_val, made_up_test_set(), "Ex")
    assert not cc.check_choice_on_validation("narrow", predictions, y_val, made_up_test_set(), "Ex")
    out = out_of(capsys)
    assert out.count("✅") == 2 and "'narrow' scores" in out and "choose the best candidate on validation" in out


def test_ex3_a_choice_after_a_test_look_or_on_probabilities_fails(capsys, validation):
    y_val, answers = validation
    predictions = {"narrow": answers(0.90, 1), "wide": answers(0.97, 2)}
    looked = made_up_test_set()
    looked.predict(LabelReader())
    assert not cc.check_choice_on_validation("wide", predictions, y_val, looked, "Ex")
    assert "already looked at 1 time(s) before the choice" in out_of(capsys)
    probabilities = {name: np.eye(10)[labels] for name, labels in predictions.items()}
    assert not cc.check_choice_on_validation("wide", probabilities, y_val, made_up_test_set(), "Ex")
    assert "argmax(axis=1)" in out_of(capsys)


# --------------------------------------------------------------------------- Exercise 4: the final model


def spent_timer(budget=10.0, seconds=9.0):
    timer = capstone.BudgetTimer(budget)
    timer.seconds, timer.steps, timer.fits, timer.epochs = seconds, 50, 1, 3
    return timer


def test_ex4_final_model(capsys):
    evaluated = made_up_test_set()
    evaluated.evaluate(LabelReader(wrong=range(4)))  # 98 %
    predicted = made_up_test_set()
    predicted.predict(LabelReader())
    assert cc.check_final_model(spent_timer(), evaluated, 10.0, 0.95, "Ex")
    assert cc.check_final_model(spent_timer(8.0, 12.0), predicted, 10.0, 0.95, "Ex")  # a smaller budget, + grace
    twice = made_up_test_set()
    twice.evaluate(LabelReader(name="first_try"))
    twice.evaluate(LabelReader(name="second_try"))
    assert not cc.check_final_model(spent_timer(), twice, 10.0, 0.95, "Ex")
    out = out_of(capsys)
    assert out.count("✅") == 2 and "looked at 2 times (first_try, second_try)" in out and "look once" in out


def test_ex4_over_budget_untouched_or_below_the_floor(capsys):
    looked = made_up_test_set()
    looked.evaluate(LabelReader(wrong=range(40)))  # 80 %
    assert not cc.check_final_model(spent_timer(10.0, 30.0), looked, 10.0, 0.5, "Ex")
    assert "took 30.0 s, over the 10 s budget" in out_of(capsys)
    assert not cc.check_final_model(spent_timer(200.0, 9.0), looked, 10.0, 0.5, "Ex")
    assert "your timer allowed 200 s" in out_of(capsys)
    assert not cc.check_final_model(spent_timer(), made_up_test_set(), 10.0, 0.5, "Ex")
    assert "not been looked at yet" in out_of(capsys)
    assert not cc.check_final_model(spent_timer(), looked, 10.0, 0.95, "Ex")
    assert "80.00% on the test digits, below the 95%" in out_of(capsys)


# --------------------------------------------------------------------------- Exercise 5: the ablation


def recorded_ablation(answers, seeds=(1, 2, 3)):
    ablation = capstone.Ablation(removed="batch normalisation")
    for seed in seeds:
        ablation.add(seed, answers(0.97, seed), answers(0.90, 100 + seed))
    return ablation


def test_ex5_ablation(capsys, validation):
    y_val, answers = validation
    looked_once = made_up_test_set()
    looked_once.evaluate(LabelReader())
    with_add = recorded_ablation(answers)
    by_fields = capstone.Ablation("batch normalisation", [4, 5, 6], [answers(0.95, s) for s in (4, 5, 6)],
                                  [list(answers(0.93, 10 + s)) for s in (4, 5, 6)])
    assert cc.check_ablation(with_add, y_val, looked_once, "Ex")
    assert cc.check_ablation(by_fields, y_val, looked_once, "Ex")
    same_seed = capstone.Ablation("batch normalisation")
    for _ in range(3):
        same_seed.add(1, answers(0.97, 1), answers(0.90, 2))
    assert not cc.check_ablation(same_seed, y_val, looked_once, "Ex")
    out = out_of(capsys)
    assert out.count("✅") == 2 and "the seeds [1, 1, 1] are not all different" in out


def test_ex5_too_few_seeds_same_answers_or_scored_on_the_test_digits(capsys, validation):
    y_val, answers = validation
    assert not cc.check_ablation(recorded_ablation(answers, seeds=(1, 2)), y_val, made_up_test_set(), "Ex")
    assert "2 seed(s): an ablation needs at least 3" in out_of(capsys)
    seed_ignored = capstone.Ablation("batch normalisation")
    for seed in (1, 2, 3):
        seed_ignored.add(seed, answers(0.97, 0), answers(0.90, seed))
    assert not cc.check_ablation(seed_ignored, y_val, made_up_test_set(), "Ex")
    assert "every seed gave exactly the same answers with batch normalisation" in out_of(capsys)
    test_set = made_up_test_set(n=500)
    on_test = capstone.Ablation("batch normalisation")
    for seed in (1, 2, 3):
        on_test.add(seed, test_set.predict(LabelReader(wrong=[seed])), test_set.predict(LabelReader(wrong=[9])))
    assert not cc.check_ablation(on_test, y_val, test_set, "Ex")
    assert "one answer per *test* digit" in out_of(capsys)


# --------------------------------------------------------------------------- Exercise 6: the report


@pytest.fixture()
def study(validation):
    y_val, answers = validation
    test_set = made_up_test_set(n=1000)
    result = test_set.evaluate(LabelReader(wrong=range(0, 1000, 125)))  # 8 mistakes: 99.20 %
    return test_set, result, spent_timer(10.0, 9.3456), recorded_ablation(answers), y_val


def report_from(result, timer, ablation, y_val, rounded=False):
    numbers = cc.ablation_numbers(ablation, y_val)
    value, low, high = result.value, result.low, result.high
    if rounded:
        value, low, high = (round(v, 4) for v in (value, low, high))
    return capstone.Report(
        model="cnn", test_accuracy=value, low=low, high=high, test_digits=result.n,
        train_seconds=round(timer.seconds, 1) if rounded else timer.seconds, removed=ablation.removed,
        seeds=tuple(ablation.seeds) if rounded else list(ablation.seeds),
        accuracy_with=numbers["accuracy_with"], accuracy_without=numbers["accuracy_without"],
        p_value=float(f"{numbers['p_value']:.3g}") if rounded else numbers["p_value"], verdict=numbers["verdict"],
        conclusion=f"It reads {100 * result.value:.2f} % of the test digits; batch normalisation {numbers['verdict']}.",
    )


def test_ex6_report(capsys, study):
    test_set, result, timer, ablation, y_val = study
    assert cc.ablation_numbers(ablation, y_val)["verdict"] == "helps"
    assert cc.check_report(report_from(result, timer, ablation, y_val), test_set, timer, ablation, y_val, "Ex")
    assert cc.check_report(report_from(result, timer, ablation, y_val, rounded=True), test_set, timer, ablation,
                           y_val, "Ex")
    on_validation = report_from(result, timer, ablation, y_val)
    on_validation.test_accuracy = on_validation.accuracy_with  # the validation accuracy, not the measured test one
    assert not cc.check_report(on_validation, test_set, timer, ablation, y_val, "Ex")
    out = out_of(capsys)
    assert out.count("✅") == 2 and "report.test_accuracy" in out and "the test set's one look measured 0.9920" in out


def test_ex6_a_report_in_percent_with_the_wrong_verdict_or_two_looks(capsys, study):
    test_set, result, timer, ablation, y_val = study
    percent = report_from(result, timer, ablation, y_val)
    percent.test_accuracy = 99.2
    assert not cc.check_report(percent, test_set, timer, ablation, y_val, "Ex")
    assert "is in percent" in out_of(capsys)
    hopeful = report_from(result, timer, ablation, y_val)
    hopeful.verdict = "no evidence"
    assert not cc.check_report(hopeful, test_set, timer, ablation, y_val, "Ex")
    assert "the verdict says 'no evidence'" in out_of(capsys)
    test_set.evaluate(LabelReader(name="peek"))
    assert not cc.check_report(report_from(result, timer, ablation, y_val), test_set, timer, ablation, y_val, "Ex")
    assert "looked at 2 times" in out_of(capsys)


def test_ex6_the_verdict_needs_every_seed_to_agree(validation):
    y_val, answers = validation
    mixed = capstone.Ablation("batch normalisation")
    mixed.add(1, answers(0.99, 1), answers(0.70, 2))  # a large gain for one seed ...
    mixed.add(2, answers(0.88, 3), answers(0.95, 4))  # ... a loss for the others
    mixed.add(3, answers(0.88, 5), answers(0.95, 6))
    numbers = cc.ablation_numbers(mixed, y_val)
    assert list(np.sign(numbers["differences"])) == [1, -1, -1]
    assert numbers["p_value"] < 0.05 and numbers["verdict"] == "no evidence"


def test_every_check_says_not_done_for_the_student_placeholders(capsys):
    test_set = made_up_test_set()
    checks = [
        functools.partial(cc.check_model_design, ...),
        functools.partial(cc.check_training_function, ...),
        functools.partial(cc.check_choice_on_validation, ..., ..., np.zeros(3), test_set),
        functools.partial(cc.check_final_model, ..., test_set, 10.0, 0.9),
        functools.partial(cc.check_ablation, ..., np.zeros(3), test_set),
        functools.partial(cc.check_report, ..., test_set, ..., ..., np.zeros(3)),
    ]
    assert not any(check("Ex") for check in checks)
    out = out_of(capsys)
    assert out.count("❌") == 6 and out.count("not done yet") == 6


def test_a_function_not_written_yet_is_not_done(capsys):
    def not_written(*args, **kwargs):
        raise NotImplementedError

    assert not cc.check_model_design(not_written, "Ex")
    assert not cc.check_training_function(not_written, "Ex")
    assert out_of(capsys).count("not done yet") == 2
