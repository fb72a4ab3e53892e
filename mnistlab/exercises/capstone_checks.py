"""Self-checks for notebook 09 (capstone): the learner's model and training function, and the study's protocol."""

# The protocol checks read what mnistlab.capstone recorded (the test set's looks, the budget timer, the
# ablation's predictions) and recompute every reported number from it, so a report can only pass with the
# numbers that were measured.

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np

from mnistlab import capstone, data, statistics
from mnistlab.exercises.checks import NO_RESULT, call_learner, failed, is_missing, not_done, passed, require_function

MAX_PARAMETERS = 1_000_000  # a CPU budget of minutes has no use for more (the default model has ~100k)
ALPHA = 0.05  # McNemar p-values below this count as evidence in the ablation's verdict
INPUT_SHAPE = (None, *data.INPUT_SHAPE)  # a batch of MNIST digits


def _all_layers(model) -> list:
    """Every layer of ``model``, nested models and blocks included."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found.extend(_all_layers(layer))
    return found


def _count(model, kind) -> int:
    return sum(isinstance(layer, kind) for layer in _all_layers(model))


# --------------------------------------------------------------------------- Exercise 1: the model


def check_model_design(build, what: str = "Exercise", hint: str | None = None,
                       max_parameters: int = MAX_PARAMETERS) -> bool:
    """``build(batch_norm=True, width=32)`` must return a fresh Keras CNN for MNIST.

    Checked: input (None, 28, 28, 1), ten probabilities out (a softmax), at most ``max_parameters``
    weights, a new model on every call, batch normalisation layers exactly when ``batch_norm`` is true,
    and a first convolution with ``width`` filters.
    """
    import keras

    if not require_function(build, what, hint):
        return False
    model = call_learner(build, (), what, hint, on="build_model()")
    if model is NO_RESULT:
        return False
    if not isinstance(model, keras.Model):
        return failed(what, f"build_model() returned a {type(model).__name__}, expected a Keras model", hint)
    if tuple(model.input_shape) != INPUT_SHAPE:
        return failed(what, f"your model takes inputs of shape {model.input_shape}; the digits come as "
                            f"{INPUT_SHAPE} (keras.Input(shape=(28, 28, 1)))", hint)
    if tuple(model.output_shape) != (None, 10):
        return failed(what, f"your model's output has shape {model.output_shape}, expected (None, 10): "
                            f"one probability per digit", hint)
    if model.count_params() > max_parameters:
        return failed(what, f"your model has {model.count_params():,} parameters, more than {max_parameters:,}: "
                            f"it will not train well on a CPU budget of minutes (fewer filters or more pooling)", hint)
    digits = np.random.default_rng(3).random((4, *data.INPUT_SHAPE), dtype="float32")
    rows = np.asarray(model(digits, training=False))
    if (rows < -1e-6).any() or not np.allclose(rows.sum(axis=1), 1.0, atol=1e-4):
        return failed(what, "your model's outputs are not probabilities (rows do not sum to 1): end with a "
                            "Dense(10, activation=\"softmax\")", hint)
    again = call_learner(build, (), what, hint, on="a second call of build_model()")
    if again is NO_RESULT:
        return False
    if again is model:
        return failed(what, "build_model() returns the same model on every call: build a new one inside the "
                            "function (each candidate and seed needs fresh weights)", hint)
    if _count(model, keras.layers.BatchNormalization) == 0:
        return failed(what, "build_model() (batch_norm=True by default) has no BatchNormalization layer", hint)
    plain = call_learner(functools.partial(build, batch_norm=False), (), what, hint, on="build_model(batch_norm=False)")
    if plain is NO_RESULT:
        return False
    if _count(plain, keras.layers.BatchNormalization):
        return failed(what, "build_model(batch_norm=False) still has BatchNormalization layers: the ablation "
                            "needs a model without them", hint)
    narrow = call_learner(functools.partial(build, width=16), (), what, hint, on="build_model(width=16)")
    if narrow is NO_RESULT:
        return False
    convolutions = [layer for layer in _all_layers(narrow) if isinstance(layer, keras.layers.Conv2D)]
    if not convolutions:
        return failed(what, "your model has no Conv2D layer: the capstone is a CNN", hint)
    if convolutions[0].filters != 16:
        return failed(what, f"build_model(width=16) starts with a {convolutions[0].filters}-filter convolution: "
                            f"`width` is the number of filters of the first convolution", hint)
    return passed(what, f"({model.count_params():,} parameters at width 32)")


# --------------------------------------------------------------------------- Exercise 2: training within a budget


def _made_up_digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((count, *data.INPUT_SHAPE), dtype="float32"), rng.integers(0, 10, count)


def _tiny_model(**_options):
    """A CNN small enough to build and trace in a moment: the check tests the training, not the design."""
    import keras

    return keras.Sequential([
        keras.Input(shape=data.INPUT_SHAPE),
        keras.layers.Conv2D(4, 3, strides=2, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ], name="tiny_check_cnn")


def check_training_function(train, what: str = "Exercise", hint: str | None = None, seconds: float = 0.5) -> bool:
    """``train(build_model, x_train, y_train, seconds, seed, epochs=None)`` must return ``(model, timer)``.

    It is run on made-up digits with a tiny model: with ``epochs=None`` the
    :class:`~mnistlab.capstone.BudgetTimer` (of ``seconds``, passed to ``fit``) must end training
    within the budget; with ``epochs=1`` exactly one epoch must run. The model must be the trained one.
    """
    import keras

    if not require_function(train, what, hint):
        return False
    x, y = _made_up_digits(96, 11)
    case = f"a {seconds:g}-second budget on 96 made-up digits"
    result = call_learner(train, (_tiny_model, x, y, seconds, 7), what, hint, on=case)
    if result is NO_RESULT:
        return False
    if not (isinstance(result, tuple | list) and len(result) == 2):
        return failed(what, f"return two things, (model, timer); got a {type(result).__name__}", hint)
    model, timer = result
    if not isinstance(model, keras.Model):
        return failed(what, f"the first thing returned is a {type(model).__name__}, expected the trained Keras model",
                      hint)
    if not isinstance(timer, capstone.BudgetTimer):
        return failed(what, f"the second thing returned is a {type(timer).__name__}, expected the "
                            f"capstone.BudgetTimer that watched the fit", hint)
    if not np.isclose(timer.budget, seconds):
        return failed(what, f"your timer's budget is {timer.budget:g} s but the call asked for {seconds:g} s: "
                            f"create it with capstone.BudgetTimer(seconds)", hint)
    if timer.fits == 0:
        return failed(what, "the timer never watched a fit: pass it to model.fit(..., callbacks=[timer])", hint)
    if not timer.stopped:
        return failed(what, f"on {case} with epochs=None, training ended before the budget did: without an epoch "
                            f"count, fit for very many epochs and let the timer stop it", hint)
    if not timer.kept:
        return failed(what, f"on {case} training took {timer.seconds:.1f} s", hint)
    if getattr(model, "optimizer", None) is None or int(model.optimizer.iterations.numpy()) == 0:
        return failed(what, "the model returned has not been trained: return the model you passed to fit", hint)
    once = call_learner(functools.partial(train, epochs=1), (_tiny_model, x, y, 60.0, 8), what, hint,
                        on="epochs=1 on 96 made-up digits")
    if once is NO_RESULT:
        return False
    epochs = once[1].epochs if isinstance(once, tuple | list) and len(once) == 2 else None
    if epochs != 1:
        return failed(what, f"with epochs=1 your function trained {epochs} epochs: pass `epochs` to fit (and use "
                            f"very many epochs only when it is None)", hint)
    return passed(what, "(stopped by the budget, and one epoch when asked for one)")


# --------------------------------------------------------------------------- Exercise 3: choose on validation


def _as_labels(predictions, y_val, test_size: int | None, name: str) -> tuple[np.ndarray | None, str]:
    """``predictions`` as validation labels, or None and what is wrong with them."""
    array = np.asarray(predictions)
    if array.shape == np.shape(y_val):
        return array, ""
    if array.ndim == 2 and array.shape == (len(y_val), 10):
        return None, f"{name} holds probabilities, shape {array.shape}: store the labels (argmax(axis=1))"
    if test_size is not None and len(array) == test_size and test_size != len(y_val):
        return None, (f"{name} has one answer per *test* digit ({test_size:,}): score on the validation digits "
                      f"({len(y_val):,})")
    return None, f"{name} has shape {array.shape}, expected one label per validation digit {np.shape(y_val)}"


def check_choice_on_validation(chosen, val_predictions, y_val, test_set, what: str = "Exercise",
                               hint: str | None = None) -> bool:
    """``chosen`` must name the candidate with the best validation accuracy, picked before any test look.

    ``val_predictions`` maps each candidate's name to its predicted labels on the validation digits
    (at least two candidates); the accuracies are recomputed here from ``y_val``.
    """
    if is_missing(chosen) or is_missing(val_predictions):
        return not_done(what, hint)
    if not isinstance(val_predictions, Mapping) or len(val_predictions) < 2:
        return failed(what, "store each candidate's predicted validation labels in a dict {name: labels}, "
                            "with at least two candidates", hint)
    y_val = np.asarray(y_val)
    accuracies = {}
    for name, predictions in val_predictions.items():
        labels, problem = _as_labels(predictions, y_val, len(test_set), f"val_predictions[{name!r}]")
        if labels is None:
            return failed(what, problem, hint)
        accuracies[name] = float(np.mean(labels == y_val))
    if chosen not in accuracies:
        return failed(what, f"{chosen!r} is not one of your candidates ({', '.join(map(repr, accuracies))})", hint)
    if test_set.touches:
        return failed(what, f"the test digits were already looked at {test_set.touches} time(s) before the "
                            f"choice: choose on validation digits only (start again from capstone.load)", hint)
    best = max(accuracies, key=accuracies.get)
    if accuracies[chosen] < accuracies[best]:
        return failed(what, f"{chosen!r} scores {accuracies[chosen]:.2%} on the validation digits but {best!r} "
                            f"scores {accuracies[best]:.2%}: choose the best candidate on validation", hint)
    return passed(what, f"({chosen!r}, {accuracies[chosen]:.2%} on the validation digits; test not looked at)")


# --------------------------------------------------------------------------- Exercise 4: the final model, test once


def check_final_model(timer, test_set, budget_seconds: float, floor: float, what: str = "Exercise",
                      hint: str | None = None) -> bool:
    """The final training kept ``budget_seconds``, the test set was looked at exactly once, and it cleared ``floor``."""
    if is_missing(timer):
        return not_done(what, hint)
    if not isinstance(timer, capstone.BudgetTimer):
        return failed(what, f"expected the final run's capstone.BudgetTimer, got a {type(timer).__name__}", hint)
    if timer.budget > budget_seconds + 1e-9:
        return failed(what, f"your timer allowed {timer.budget:g} s; the capstone's budget is {budget_seconds:g} s "
                            f"(budget.capstone_seconds)", hint)
    if timer.steps == 0:
        return failed(what, "the timer watched no training step: pass it to fit", hint)
    if not timer.kept:
        return failed(what, f"the final training took {timer.seconds:.1f} s, over the {budget_seconds:g} s budget",
                      hint)
    if test_set.touches == 0:
        return failed(what, "the test digits have not been looked at yet: call test_set.evaluate(final_model) once",
                      hint)
    if test_set.touches > 1:
        names = ", ".join(look.model_name for look in test_set.looks)
        return failed(what, f"the test digits were looked at {test_set.touches} times ({names}): look once, with "
                            f"the final model only; every extra look is a chance to tune on them (start again "
                            f"from capstone.load)", hint)
    accuracy = float(np.mean(test_set.looks[0].predictions == test_set.labels))
    if accuracy < floor:
        return failed(what, f"the final model scores {accuracy:.2%} on the test digits, below the {floor:.0%} "
                            f"expected in this mode: plan more epochs into the budget or choose a stronger design",
                      hint)
    return passed(what, f"({timer.seconds:.0f} s of {budget_seconds:g} s; one look at the test digits: {accuracy:.2%})")


# --------------------------------------------------------------------------- Exercise 5: the ablation


def check_ablation(ablation, y_val, test_set, what: str = "Exercise", hint: str | None = None,
                   min_seeds: int = 3) -> bool:
    """A :class:`~mnistlab.capstone.Ablation` over at least ``min_seeds`` different seeds, scored on validation.

    Each seed's two runs must answer every validation digit; different seeds must give different
    models, the two variants different answers; and the test set must still have only the final look.
    """
    if is_missing(ablation):
        return not_done(what, hint)
    if not isinstance(ablation, capstone.Ablation):
        return failed(what, f"expected a capstone.Ablation, got a {type(ablation).__name__}", hint)
    seeds = list(ablation.seeds)
    if len(seeds) < min_seeds:
        return failed(what, f"{len(seeds)} seed(s): an ablation needs at least {min_seeds} to show how much a "
                            f"result moves from seed to seed", hint)
    if len(set(seeds)) < len(seeds):
        return failed(what, f"the seeds {seeds} are not all different: the same seed trains the same model, so "
                            f"repeating it measures nothing new", hint)
    if not len(ablation.with_ingredient) == len(ablation.without_ingredient) == len(seeds):
        return failed(what, f"{len(seeds)} seeds but {len(ablation.with_ingredient)} runs with and "
                            f"{len(ablation.without_ingredient)} without: record one pair per seed "
                            f"(ablation.add(seed, with_predictions, without_predictions))", hint)
    y_val = np.asarray(y_val)
    runs = {}
    for variant, predictions in (("with", ablation.with_ingredient), ("without", ablation.without_ingredient)):
        for seed, answer in zip(seeds, predictions, strict=True):
            labels, problem = _as_labels(answer, y_val, len(test_set), f"the run {variant} {ablation.removed}, "
                                                                       f"seed {seed},")
            if labels is None:
                return failed(what, problem, hint)
            runs[variant, seed] = labels
    for variant in ("with", "without"):
        if all(np.array_equal(runs[variant, seeds[0]], runs[variant, seed]) for seed in seeds[1:]):
            return failed(what, f"every seed gave exactly the same answers {variant} {ablation.removed}: pass the "
                                f"seed to the training (keras.utils.set_random_seed) so each run starts differently",
                          hint)
    if all(np.array_equal(runs["with", seed], runs["without", seed]) for seed in seeds):
        return failed(what, f"the runs with and without {ablation.removed} gave the same answers for every seed: "
                            f"did the variant really remove it?", hint)
    if test_set.touches > 1:
        return failed(what, f"the test digits have been looked at {test_set.touches} times: score the ablation on "
                            f"the validation digits, so the test set keeps its single look", hint)
    with_mean = np.mean([np.mean(runs["with", seed] == y_val) for seed in seeds])
    without_mean = np.mean([np.mean(runs["without", seed] == y_val) for seed in seeds])
    return passed(what, f"({len(seeds)} seeds; validation accuracy {with_mean:.2%} with {ablation.removed}, "
                        f"{without_mean:.2%} without)")


# --------------------------------------------------------------------------- Exercise 6: the report


def ablation_numbers(ablation, y_val) -> dict:
    """What a report says about ``ablation``, recomputed: mean accuracies, per-seed differences, McNemar, verdict.

    McNemar's test pools the paired answers of every seed (digit by digit, seed by seed). The verdict
    is "helps" (or "hurts") only when p < :data:`ALPHA` *and* every seed moves the same way; otherwise
    "no evidence".
    """
    y_val = np.asarray(y_val)
    with_acc = [float(np.mean(np.asarray(p) == y_val)) for p in ablation.with_ingredient]
    without_acc = [float(np.mean(np.asarray(p) == y_val)) for p in ablation.without_ingredient]
    differences = np.subtract(with_acc, without_acc)
    test = statistics.mcnemar_test(np.tile(y_val, len(with_acc)), np.concatenate(ablation.with_ingredient),
                                   np.concatenate(ablation.without_ingredient))
    if test.p_value < ALPHA and (differences > 0).all():
        verdict = "helps"
    elif test.p_value < ALPHA and (differences < 0).all():
        verdict = "hurts"
    else:
        verdict = "no evidence"
    return {"accuracy_with": float(np.mean(with_acc)), "accuracy_without": float(np.mean(without_acc)),
            "differences": differences, "p_value": test.p_value, "verdict": verdict}


def _close(value, expected, atol: float) -> bool:
    try:
        return bool(np.isclose(float(value), float(expected), rtol=0, atol=atol))
    except (TypeError, ValueError):
        return False


def check_report(report, test_set, timer, ablation, y_val, what: str = "Exercise", hint: str | None = None) -> bool:
    """Every number of ``report`` must be the one measured: recomputed from the test set's single look,
    the final run's timer and the ablation's recorded predictions. Fractions rounded to 4 decimals pass.
    """
    if is_missing(report):
        return not_done(what, hint)
    if not isinstance(report, capstone.Report):
        return failed(what, f"expected a capstone.Report, got a {type(report).__name__}", hint)
    if test_set.touches != 1:
        return failed(what, f"the test digits were looked at {test_set.touches} times; a report stands on exactly "
                            f"one look, with the final model", hint)
    measured = statistics.accuracy_interval(test_set.labels, test_set.looks[0].predictions)
    for name, want in (("test_accuracy", measured.value), ("low", measured.low), ("high", measured.high)):
        got = getattr(report, name)
        if _close(got, 100 * want, 0.005):
            return failed(what, f"report.{name} = {got} is in percent: the report holds fractions "
                                f"({want:.4f})", hint)
        if not _close(got, want, 5e-5):
            return failed(what, f"report.{name} = {got!r}, but the test set's one look measured {want:.4f} "
                                f"({measured}): report the numbers measured on that look", hint)
    if report.test_digits != measured.n:
        return failed(what, f"report.test_digits = {report.test_digits!r}, but the look scored {measured.n:,} digits",
                      hint)
    if not _close(report.train_seconds, timer.seconds, 0.051):
        return failed(what, f"report.train_seconds = {report.train_seconds!r}, but the final run's timer recorded "
                            f"{timer.seconds:.1f} s", hint)
    if list(report.seeds) != list(ablation.seeds) or report.removed != ablation.removed:
        return failed(what, f"the report's ablation ({report.removed!r}, seeds {list(report.seeds)}) is not the one "
                            f"recorded ({ablation.removed!r}, seeds {list(ablation.seeds)})", hint)
    numbers = ablation_numbers(ablation, y_val)
    for name in ("accuracy_with", "accuracy_without"):
        if not _close(getattr(report, name), numbers[name], 5e-5):
            return failed(what, f"report.{name} = {getattr(report, name)!r}, but the ablation's validation "
                                f"answers give a mean of {numbers[name]:.4f} over the seeds", hint)
    if not _close(report.p_value, numbers["p_value"], max(5e-5, 5e-3 * numbers["p_value"])):
        return failed(what, f"report.p_value = {report.p_value!r}, but McNemar's test on the ablation's paired "
                            f"answers (all seeds pooled) gives {numbers['p_value']:.3g}", hint)
    if report.verdict not in capstone.VERDICTS:
        return failed(what, f"report.verdict = {report.verdict!r}; use one of {capstone.VERDICTS}", hint)
    if report.verdict != numbers["verdict"]:
        differences = ", ".join(f"{100 * d:+.2f}" for d in numbers["differences"])
        return failed(what, f"the verdict says {report.verdict!r}, but p = {numbers['p_value']:.3g} with per-seed "
                            f"differences of {differences} pp makes it {numbers['verdict']!r}", hint)
    quoted = f"{100 * measured.value:.2f}"
    if quoted not in str(report.conclusion) or report.verdict not in str(report.conclusion):
        return failed(what, f"the conclusion should quote the test accuracy ({quoted} %) and the verdict "
                            f"({report.verdict!r}) in words", hint)
    return passed(what, "(every number is the one measured)")
