"""Self-checks for notebooks 03 (training) and 04 (regularisation, schedules), on inputs the learner has not seen."""

from __future__ import annotations

import copy
import math

import keras
import numpy as np

from mnistlab.exercises.checks import (
    NO_RESULT,
    call_learner,
    check_function,
    describe_error,
    failed,
    is_missing,
    not_done,
    not_written,
    passed,
)

# Measured in notebook 03's setting (small CNN, 2,000 digits, 1,000 validation digits, seed 42): Adam with
# batch size 32 reaches about 0.92 validation accuracy after 3 epochs; plain SGD at its default rate only
# about 0.54, one epoch about 0.82. The floor sits between a correct short fit and a broken or cut-short one.
VALIDATION_FLOOR = 0.85
CROSS_ENTROPIES = {"sparse_categorical_crossentropy", "categorical_crossentropy"}
# What Keras records for metrics=["accuracy"], ["acc"], ["sparse_categorical_accuracy"] or the metric objects.
ACCURACY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy")


def loss_name(model: keras.Model) -> str | None:
    """The loss a compiled model uses, as a snake_case name (``None`` when it is not compiled).

    ``model.compile(loss=...)`` accepts a string, a ``keras.losses.Loss`` object or a
    plain function; all three are reduced to the same name, e.g.
    ``"sparse_categorical_crossentropy"``.
    """
    loss = getattr(model, "loss", None)
    if loss is None:
        return None
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)  # "mse" -> mean_squared_error; a class name -> a Loss object
        except ValueError:
            return loss
    if isinstance(loss, keras.losses.Loss):
        function = getattr(loss, "fn", None)
        return function.__name__ if function is not None else loss.name
    return getattr(loss, "__name__", type(loss).__name__)


def _history_dict(history) -> dict | None:
    if isinstance(history, keras.callbacks.History):
        return history.history
    return None


def _is_accuracy(key: str) -> bool:
    return not key.startswith("val_") and (key in ACCURACY_KEYS or key.endswith("accuracy"))


def _scored_on(model, recorded, validation) -> bool:
    """Whether one epoch's recorded validation accuracy is ``model``'s accuracy on ``validation`` now.

    The model holds the last epoch's weights (or, with restore_best_weights, the best epoch's), so its
    accuracy recomputed on the given digits must match one recorded value to within one digit.
    """
    x_val, y_val = validation
    y_val = np.asarray(y_val)
    labels = y_val.argmax(axis=1) if y_val.ndim == 2 else y_val
    predicted = np.asarray(model.predict(x_val, batch_size=500, verbose=0)).argmax(axis=1)
    accuracy = float((predicted == labels).mean())
    return any(abs(float(value) - accuracy) <= 1.5 / len(labels) for value in recorded)


def check_fit(
    model, history, what: str, min_epochs: int = 3, floor: float = VALIDATION_FLOOR, hint=None, validation=None
) -> bool:
    """Check a model the learner compiled and fitted, from the ``History`` that ``model.fit`` returned.

    In order, and saying which one failed: ``history`` is a Keras History of this very
    ``model``; the model was compiled with a cross-entropy loss; the History has an
    accuracy metric (any of Keras' names for it: ``accuracy``, ``acc``,
    ``sparse_categorical_accuracy``); validation data was given (``val_accuracy`` is in it);
    with ``validation=(x_val, y_val)``, those scores are the model's accuracy on exactly those
    digits (not a ``validation_split``); it ran at least ``min_epochs`` epochs; its last
    validation accuracy reaches ``floor``.
    """
    if is_missing(history) or is_missing(model):
        return not_done(what, hint or "call model.compile(...) and store what model.fit(...) returns")
    try:
        record = _history_dict(history)
        if record is None:
            kind = type(history).__name__
            extra = " (that is history.history; store the History object itself)" if isinstance(history, dict) else ""
            return failed(what, f"expected the History that model.fit(...) returns, got a {kind}{extra}", hint)
        if getattr(history, "model", None) is not model:
            return failed(what, "this History was produced by another model than the one you passed", hint)
        name = loss_name(model)
        if name is None:
            return failed(
                what, "the model is not compiled: call model.compile(optimizer=..., loss=..., metrics=...)", hint
            )
        if name not in CROSS_ENTROPIES:
            return failed(
                what,
                f"the loss is {name}. For integer labels and a softmax output the loss is "
                f"'sparse_categorical_crossentropy' (section 2 shows why not MSE)",
                hint,
            )
        accuracy = [key for key in record if _is_accuracy(key)]
        if not accuracy:
            return failed(
                what,
                f"the History records {sorted(record)} but no accuracy: pass metrics=['accuracy'] to compile",
                hint,
            )
        val_key = f"val_{accuracy[0]}"
        if val_key not in record:
            return failed(
                what,
                "no validation scores in the History: pass validation_data=(x_val, y_val) to fit, "
                "so every epoch is also scored on digits the model does not train on",
                hint,
            )
        epochs = len(record[val_key])
        if epochs < min_epochs:
            return failed(what, f"the History has {epochs} epoch(s); train for at least {min_epochs}", hint)
        final = float(record[val_key][-1])
        if validation is not None and not _scored_on(model, record[val_key], validation):
            return failed(
                what,
                "the validation scores in the History are not this model's accuracy on the validation digits you "
                "were given: pass validation_data=(x_val, y_val) to fit (validation_split would hold back part of "
                "the training digits instead)",
                hint,
            )
    except Exception as error:  # whatever the learner stored, the check must report, never crash
        return failed(what, f"your answer could not be checked ({describe_error(error)})", hint)
    if final < floor:
        return failed(
            what,
            f"validation accuracy after {epochs} epochs is {final:.3f}, below the {floor:.2f} a correct fit reaches "
            f"here. Is the optimizer 'adam' (plain SGD at its default rate is far slower), and the batch small enough "
            f"to take enough steps?",
            hint,
        )
    return passed(what, f"{name}, {epochs} epochs, validation accuracy {final:.3f}.")


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def check_logit_gradient(answer, logits, labels, what: str, hint=None) -> bool:
    """Check ∂(mean sparse cross-entropy from logits)/∂logits, which the learner got from ``tf.GradientTape``.

    The right answer is ``(softmax(logits) − one_hot(labels)) / batch size``; the usual
    slips are named: no gradient at all (the tape did not watch a constant), the sum
    instead of the mean, and logits treated as probabilities (``from_logits`` missing).
    """
    if answer is Ellipsis:
        return not_done(what, hint or "open a tf.GradientTape, compute the loss inside it, then tape.gradient")
    if answer is None:  # what tape.gradient returns for a tensor the tape never watched
        return failed(
            what,
            "the gradient is None: the tape did not watch the logits. They are a constant, not a weight, so call "
            "tape.watch(logits) inside the `with tf.GradientTape() as tape:` block, before computing the loss",
            hint,
        )
    logits = np.asarray(logits, dtype="float64")
    labels = np.asarray(labels).astype(int)
    one_hot = np.eye(logits.shape[1])[labels]
    expected = (_softmax(logits) - one_hot) / len(labels)
    try:
        actual = np.asarray(answer, dtype="float64")
    except (TypeError, ValueError) as error:
        kind = type(answer).__name__
        return failed(what, f"expected an array of gradients, got a {kind} ({describe_error(error)})", hint)
    if actual.shape != expected.shape:
        return failed(what, f"shape is {actual.shape}; a gradient has the logits' shape, {expected.shape}", hint)
    if np.allclose(actual, expected, atol=1e-5):
        return passed(what, "It is (softmax − one-hot) / batch size: predicted minus wanted, for every digit.")
    if np.allclose(actual, expected * len(labels), atol=1e-4):
        return failed(what, "this is the gradient of the summed loss; Keras losses average over the batch", hint)
    if np.allclose(actual, _probabilities_gradient(logits, labels), atol=1e-5):
        return failed(
            what,
            "the loss treated your logits as probabilities: they are raw scores, so pass from_logits=True",
            hint,
        )
    return failed(what, "the values differ from the gradient of the mean cross-entropy of these logits", hint)


def _probabilities_gradient(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The gradient a learner gets when the loss is told (wrongly) that the logits are probabilities."""
    import tensorflow as tf

    tensor = tf.constant(logits, dtype="float32")
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        loss = keras.losses.SparseCategoricalCrossentropy()(labels, tensor)
    return np.asarray(tape.gradient(loss, tensor), dtype="float64")


# --------------------------------------------------------------------------- notebook 03, exercises 1, 2 and 6


def check_steps_per_epoch(function, n_images: int, what: str, hint=None, rng=None) -> bool:
    """``function(n_images, batch_size)`` must give the steps of one epoch, ``ceil(n_images / batch_size)``.

    Called with ``n_images`` and three batch sizes drawn at random, plus the edge cases where the
    last batch is full or holds a single image.
    """
    rng = rng or np.random.default_rng()
    batch_sizes = [int(b) for b in rng.integers(7, 500, size=3)]
    cases = [((n_images, b), -(-n_images // b), f"{n_images:,} images in batches of {b}") for b in batch_sizes]
    cases += [((1_000, 1_000), 1, "1,000 images in batches of 1,000")]
    cases += [((1_001, 1_000), 2, "1,001 images in batches of 1,000")]
    return check_function(
        function, cases, what, hint=hint or "the last, smaller batch is a step too: round up (math.ceil)",
        compare=lambda result, expected: isinstance(result, int | np.integer) and result == expected,
    )


def smoothed_targets(labels, smoothing: float) -> np.ndarray:
    """The targets ``CategoricalCrossentropy(label_smoothing=smoothing)`` trains on (the reference answer)."""
    return np.eye(10, dtype="float32")[np.asarray(labels)] * (1 - smoothing) + smoothing / 10


def check_smooth_targets(function, label_pool, what: str, hint=None, rng=None) -> bool:
    """``function(labels, smoothing)`` must give the targets Keras' label smoothing trains on.

    Three draws of 8 labels from ``label_pool`` and a smoothing in [0.05, 0.4], compared with
    :func:`smoothed_targets` (the unit tests check those against Keras' smoothed loss); the first
    wrong value is named.
    """
    rng = rng or np.random.default_rng()
    label_pool = np.asarray(label_pool)
    cases = []
    for _ in range(3):
        labels, smoothing = label_pool[rng.integers(0, len(label_pool), size=8)], float(rng.uniform(0.05, 0.4))
        cases.append(((labels, smoothing), smoothed_targets(labels, smoothing), f"8 labels, smoothing {smoothing:.2f}"))
    return check_function(
        function, cases, what,
        hint=hint or "start from one-hot rows; the smoothing mass is spread over all 10 digits, the right one included",
    )


def keras_momentum(weights, gradients, learning_rate: float, momentum: float) -> np.ndarray:
    """The weights after Keras' ``SGD(learning_rate, momentum=momentum)`` applied ``gradients`` one by one."""
    variable = keras.Variable(np.asarray(weights, dtype="float32"))
    optimizer = keras.optimizers.SGD(learning_rate, momentum=momentum)
    for gradient in gradients:
        optimizer.apply_gradients([(np.asarray(gradient, dtype="float32"), variable)])
    return np.asarray(variable.numpy(), dtype="float64")


def _momentum_variants(weights, gradients, learning_rate, momentum) -> dict[str, np.ndarray]:
    """What the usual slips compute, to name them."""
    w, v = np.array(weights, dtype="float64"), np.zeros(np.shape(weights))
    lagged_w, lagged_v = w.copy(), v.copy()
    uphill_w, uphill_v = w.copy(), v.copy()
    for g in gradients:
        g = np.asarray(g, dtype="float64")
        lagged_w = lagged_w + lagged_v  # moved with the old velocity, then updated it
        lagged_v = momentum * lagged_v - learning_rate * g
        uphill_v = momentum * uphill_v + learning_rate * g
        uphill_w = uphill_w + uphill_v
    plain = np.array(weights, dtype="float64") - learning_rate * np.sum(gradients, axis=0)
    return {"plain": plain, "lagged": lagged_w, "uphill": uphill_w}


def check_momentum(function, what: str, hint=None, rng=None) -> bool:
    """``function(weights, gradients, learning_rate, momentum)``: the weights after SGD with momentum.

    Run on new random weights, gradient sequences, rates and momenta, and compared with Keras'
    ``SGD(momentum=...)`` on the same gradients; the usual slips are named (no velocity, the weights
    moved with the old velocity, the velocity added uphill).
    """
    if is_missing(function):
        return not_done(what, hint)
    if not callable(function):
        return failed(what, f"expected a function, got a {type(function).__name__}", hint)
    rng = rng or np.random.default_rng()
    for number in range(1, 4):
        weights = rng.normal(size=int(rng.integers(3, 8)))
        gradients = [rng.normal(size=weights.shape) for _ in range(int(rng.integers(4, 9)))]
        learning_rate, momentum = float(rng.choice([0.01, 0.05, 0.1])), float(rng.choice([0.5, 0.8, 0.9]))
        expected = keras_momentum(weights, gradients, learning_rate, momentum)
        label = f"test {number}: {len(gradients)} steps, learning rate {learning_rate:g}, momentum {momentum:g}"
        args = copy.deepcopy((weights, gradients, learning_rate, momentum))
        result = call_learner(function, args, what, hint, on=label)
        if result is NO_RESULT:
            return False
        try:
            actual = np.asarray(result, dtype="float64")
        except (TypeError, ValueError) as error:
            return failed(what, f"on {label} the result is not an array of weights ({describe_error(error)})", hint)
        if actual.shape != expected.shape:
            problem = f"the result has shape {actual.shape}; the weights have {expected.shape}"
            return failed(what, f"on {label} {problem}", hint)
        if np.allclose(actual, expected, rtol=1e-4, atol=1e-5):
            continue
        slips = _momentum_variants(weights, gradients, learning_rate, momentum)
        if np.allclose(actual, slips["plain"], rtol=1e-4, atol=1e-5):
            problem = "these are plain SGD's weights: the velocity never carries anything from one step to the next"
        elif np.allclose(actual, slips["lagged"], rtol=1e-4, atol=1e-5):
            problem = "the weights moved with the old velocity: update v first, then w ← w + v with the new v"
        elif np.allclose(actual, slips["uphill"], rtol=1e-4, atol=1e-5):
            problem = "the weights move uphill: the velocity must subtract learning_rate · gradient (v ← βv − ηg)"
        else:
            first = int(np.argmax(~np.isclose(actual, expected, rtol=1e-4, atol=1e-5)))
            problem = (
                f"weight {first} ends at {actual[first]:.6g}, Keras' SGD(momentum=...) gives {expected[first]:.6g}"
            )
        return failed(what, f"on {label}: {problem}", hint)
    return passed(what, "Same weights as keras.optimizers.SGD(momentum=...) on 3 new gradient sequences.")


# --------------------------------------------------------------------------- notebook 04, exercises 1 to 3


def check_batch_norm_parameters(function, what: str, hint=None, rng=None) -> bool:
    """``function(channels)`` must give ``(trainable, non_trainable)`` parameter counts of a BatchNormalization layer.

    Compared with a Keras layer built for random channel counts: γ and β are trained (2 per channel),
    the moving mean and variance are not (2 per channel).
    """
    rng = rng or np.random.default_rng()
    counts = [int(c) for c in rng.integers(3, 300, size=3)]
    cases = []
    for channels in counts:
        layer = keras.layers.BatchNormalization()
        layer.build((None, 5, 5, channels))
        expected = (
            sum(int(np.prod(w.shape)) for w in layer.trainable_weights),
            sum(int(np.prod(w.shape)) for w in layer.non_trainable_weights),
        )
        cases.append(((channels,), expected, f"{channels} channels"))

    def same(result, expected):
        return len(result) == 2 and tuple(int(n) for n in result) == expected

    if is_missing(function) or not callable(function):
        return check_function(function, cases, what, hint=hint, compare=same)
    channels, expected = counts[0], cases[0][1]
    try:
        result = tuple(int(n) for n in function(channels))
    except NotImplementedError:
        return not_written(what, hint)
    except Exception:
        return check_function(function, cases, what, hint=hint, compare=same)  # it reports the error
    if result == (expected[0] + expected[1], 0):
        return failed(
            what,
            f"for {channels} channels you count all {sum(expected)} as trainable: the moving mean and variance are "
            "averaged during training, not learned by gradients, so Keras lists them as non-trainable",
            hint,
        )
    if result == expected[::-1] and expected[0] != expected[1]:
        return failed(what, "the two counts are swapped: (trainable, non-trainable)", hint)
    return check_function(function, cases, what, hint=hint, compare=same)


def check_dropout(function, what: str, hint=None, rng=None) -> bool:
    """``function(x, rate, rng)``: inverted dropout at training time, as ``keras.layers.Dropout(rate)`` does.

    Run on a new array of positive numbers with a random rate: every output must be 0 or ``x / (1 − rate)``,
    about ``rate`` of them 0 (within 3 points on 12,000 values), and the result must use ``rng``.
    """
    if is_missing(function):
        return not_done(what, hint)
    if not callable(function):
        return failed(what, f"expected a function, got a {type(function).__name__}", hint)
    rng = rng or np.random.default_rng()
    x = rng.uniform(0.5, 2.0, size=(200, 60))
    rate = float(rng.uniform(0.2, 0.4))
    label = f"an array of shape {x.shape} with rate {rate:.2f}"
    try:
        first = np.asarray(function(x.copy(), rate, np.random.default_rng(1)), dtype="float64")
        second = np.asarray(function(x.copy(), rate, np.random.default_rng(2)), dtype="float64")
    except NotImplementedError:
        return not_written(what, hint)
    except Exception as error:
        return failed(what, f"on {label} your function raised {describe_error(error)}", hint)
    if first.shape != x.shape:
        return failed(what, f"on {label} the result has shape {first.shape}, not the input's {x.shape}", hint)
    dropped = first == 0
    share = float(dropped.mean())
    kept = ~dropped
    if abs(share - (1 - rate)) < 0.03 and abs(share - rate) >= 0.03:
        return failed(
            what,
            f"{share:.0%} of the values were dropped with rate {rate:.2f}: rate is the fraction to drop, "
            "1 − rate the fraction to keep",
            hint,
        )
    if abs(share - rate) >= 0.03:
        problem = f"{share:.1%} of the values were dropped; with rate {rate:.2f} about {rate:.0%} should be"
        return failed(what, problem, hint)
    if np.allclose(first[kept], x[kept]):
        return failed(
            what,
            f"the kept values are unchanged: divide them by 1 − rate ({1 - rate:.2f}) so the expected sum stays the "
            "same, as Keras does (then prediction needs no change)",
            hint,
        )
    if not np.allclose(first[kept], x[kept] / (1 - rate)):
        return failed(what, "the kept values are not x / (1 − rate)", hint)
    if np.array_equal(dropped, second == 0):
        problem = "two different rng gave the same dropped positions: draw the mask from the rng argument"
        return failed(what, problem, hint)
    return passed(what, f"{share:.1%} dropped at rate {rate:.2f}; the kept values scaled by 1 / (1 − rate).")


def check_schedule(function, what: str, hint=None, rng=None) -> bool:
    """``function(step, total_steps, peak)``: the rate ``training.warmup_cosine_schedule(total_steps, peak)`` gives.

    Compared with the Keras schedule at the first, warm-up, peak, decay and last steps of two new
    step counts and peaks; the first differing step is named with both values.
    """
    from mnistlab import training

    if is_missing(function):
        return not_done(what, hint)
    if not callable(function):
        return failed(what, f"expected a function, got a {type(function).__name__}", hint)
    rng = rng or np.random.default_rng()
    for total in (int(rng.integers(50, 200)), int(rng.integers(500, 3000))):
        peak = float(rng.choice([1e-3, 2e-3, 5e-3, 1e-2]))
        schedule = training.warmup_cosine_schedule(total, peak)
        warmup = max(1, int(total * 0.1))
        steps = sorted({0, 1, warmup // 2, warmup, warmup + 1, (warmup + total) // 2, total - 2, total - 1})
        for step in steps:
            expected = float(schedule(step))
            try:
                value = float(function(step, total, peak))
            except NotImplementedError:
                return not_written(what, hint)
            except Exception as error:
                return failed(what, f"at step {step} of {total} your function raised {describe_error(error)}", hint)
            if math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-9):
                continue
            phase = "warm-up" if step < warmup else "cosine decay"
            return failed(
                what,
                f"at step {step} of {total} (peak {peak:g}, {phase}; the warm-up lasts {warmup} steps) your rate is "
                f"{value:.6g}, the schedule's is {expected:.6g}",
                hint,
            )
    return passed(what, "Same rates as training.warmup_cosine_schedule at the key steps of two new schedules.")
