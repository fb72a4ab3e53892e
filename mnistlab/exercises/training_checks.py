"""Self-checks for notebooks 03 (training) and 04 (regularisation, schedules), on inputs the learner has not seen."""

from __future__ import annotations

import copy
import math

import keras
import numpy as np
from scipy import special

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
    require_function,
    run_learner,
)

# Between a correct short fit and a broken or cut-short one (benchmarks/RESULTS.md, "Self-check floors").
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
    expected = (special.softmax(logits, axis=1) - one_hot) / len(labels)
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


# --------------------------------------------------------------------------- notebook 03, exercises 2 and 5


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

    Run on new random weights (a vector twice, then a matrix), gradient sequences of 4 to 8 steps, rates and
    momenta, and compared with Keras' ``SGD(momentum=...)`` on the same gradients; the usual slips are named
    (no velocity, the weights moved with the old velocity, the velocity added uphill).
    """
    if not require_function(function, what, hint):
        return False
    rng = rng or np.random.default_rng()
    for number in range(1, 4):
        # the last test is a small weight matrix, as a Dense layer's kernel is
        shape = (int(rng.integers(3, 8)),) if number < 3 else (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
        weights = rng.normal(size=shape)
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
    return passed(what, "Same weights as keras.optimizers.SGD(momentum=...) on 3 new gradient sequences, a matrix too.")


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

    if not require_function(function, what, hint):
        return False
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
    if not require_function(function, what, hint):
        return False
    rng = rng or np.random.default_rng()
    x = rng.uniform(0.5, 2.0, size=(200, 60))
    rate = float(rng.uniform(0.2, 0.4))
    label = f"an array of shape {x.shape} with rate {rate:.2f}"
    runs = run_learner(
        lambda: [np.asarray(function(x.copy(), rate, np.random.default_rng(seed)), dtype="float64") for seed in (1, 2)],
        what, hint, on=label,
    )
    if runs is NO_RESULT:
        return False
    first, second = runs
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

    if not require_function(function, what, hint):
        return False
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


# --------------------------------------------------------------------------- notebook 03: a training loop by hand

LOOP_BATCH_SIZE = 32
LOOP_RATE = 3e-3
# Well below a correct loop's epoch, well above a loop that never updates (benchmarks/RESULTS.md).
LOOP_ACCURACY_FLOOR = 0.35


def _check_network(input_shape, seed: int) -> keras.Model:
    """A small dense softmax network with seeded weights (the global random state is left alone)."""
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed)),
            keras.layers.Dense(10, activation="softmax", kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
        ]
    )


def _training_case(x_pool, y_pool, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, keras.Model]:
    """``n`` digits drawn at random from the pool (as float32) with their labels, and a new :func:`_check_network`
    for them, seeded from ``rng``: what a check of a hand-written training loop runs the learner's code on."""
    chosen = rng.choice(len(x_pool), size=n, replace=False)
    x, y = np.asarray(x_pool, dtype="float32")[chosen], np.asarray(y_pool)[chosen]
    return x, y, _check_network(x.shape[1:], int(rng.integers(0, 10_000)))


def _clone(model: keras.Model) -> keras.Model:
    copy_ = keras.models.clone_model(model)
    copy_.set_weights(model.get_weights())
    return copy_


class _BatchLosses(keras.callbacks.Callback):
    """Each batch's own loss, from the running mean ``model.fit`` logs after every batch."""

    def __init__(self, sizes):
        super().__init__()
        self.sizes, self.means, self.losses = list(sizes), [], []

    def on_train_batch_end(self, batch, logs=None):
        self.means.append(float(logs["loss"]))
        seen = sum(self.sizes[: batch + 1])
        before = self.means[-2] * (seen - self.sizes[batch]) if batch else 0.0
        self.losses.append((self.means[-1] * seen - before) / self.sizes[batch])


def _keras_epoch(model, x, y, batch_size):
    """``model.fit`` for one epoch of Adam on the digits in order: (each batch's loss, the epoch's accuracy)."""
    model.compile(optimizer=keras.optimizers.Adam(LOOP_RATE), loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy"])
    sizes = [len(y[start : start + batch_size]) for start in range(0, len(y), batch_size)]
    record = _BatchLosses(sizes)
    history = model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0, callbacks=[record])
    return record.losses, float(history.history["accuracy"][0])


def _loop_result(result, n_batches: int, label: str):
    """(per-batch losses, accuracy) from what the learner returned, or the problem with it as a string."""
    if not isinstance(result, tuple | list) or len(result) != 2:
        return f"on {label} your function returned a {type(result).__name__}; return (batch_losses, accuracy)"
    try:
        losses = [float(loss) for loss in result[0]]
        accuracy = float(result[1])
    except (TypeError, ValueError) as error:
        return f"on {label} (batch_losses, accuracy) are not numbers ({describe_error(error)})"
    if len(losses) != n_batches:
        last = "; the last, smaller batch is a step too" if len(losses) == n_batches - 1 else ""
        return f"on {label} you recorded {len(losses)} batch losses, expected one per batch, {n_batches}{last}"
    if 1 < accuracy <= 100:
        return f"on {label} the accuracy is {accuracy:g}: return a fraction between 0 and 1, not a percentage"
    return losses, accuracy


def check_train_one_epoch(function, x_pool, y_pool, what: str, hint=None, rng=None) -> bool:
    """``function(model, optimizer, loss_fn, x, y, batch_size)``: one epoch of mini-batch training by hand.

    It must return ``(batch_losses, accuracy)``: the loss of every batch (before its update) and the
    fraction of the epoch's digits predicted right, each by the model as it was when its batch came. Run
    with ``Adam(3e-3)`` on a small dense network the check builds and digits drawn at random from the pool
    (``k`` full batches and a last batch of one digit), and compared with ``model.fit(..., shuffle=False)``
    from a clone of the same starting weights: every weight tensor moved, the same loss on the first batch
    and on the second (that is, after one step), one loss per batch, the epoch accuracy ``model.fit``
    reports (averaging per-batch accuracies is named), and at least ``LOOP_ACCURACY_FLOOR`` of it.
    """
    if not require_function(function, what, hint):
        return False
    rng = rng or np.random.default_rng()
    batch = LOOP_BATCH_SIZE
    full_batches = min(32, (len(x_pool) - 1) // batch)
    n = full_batches * batch + 1  # a last batch of one digit, so averaging per-batch accuracies shows
    x, y, start = _training_case(x_pool, y_pool, n, rng)
    label = f"{n} new digits in batches of {batch} (the last holds 1 digit) with Adam({LOOP_RATE:g})"
    mine = _clone(start)
    args = (mine, keras.optimizers.Adam(LOOP_RATE), keras.losses.SparseCategoricalCrossentropy(), x, y, batch)
    result = call_learner(function, args, what, hint, on=label)
    if result is NO_RESULT:
        return False
    parsed = _loop_result(result, full_batches + 1, label)
    if isinstance(parsed, str):
        return failed(what, parsed, hint)
    losses, accuracy = parsed
    still = [w.path for w, w0 in zip(mine.trainable_variables, start.trainable_variables, strict=True)
             if np.array_equal(w.numpy(), w0.numpy())]
    if still:
        return failed(
            what,
            f"on {label} these weights never moved: {', '.join(still)}. Apply the gradients to every tensor in "
            "model.trainable_variables: optimizer.apply_gradients(zip(gradients, model.trainable_variables))",
            hint,
        )
    keras_losses, keras_accuracy = _keras_epoch(_clone(start), x, y, batch)
    for step, when in ((0, "before any step"), (1, "after one step")):
        if not math.isclose(losses[step], keras_losses[step], rel_tol=1e-3, abs_tol=1e-4):
            return failed(
                what,
                f"on {label} the loss of batch {step + 1} ({when}) is {losses[step]:.5f} in your loop, "
                f"{keras_losses[step]:.5f} in model.fit from the same starting weights. Record each batch's loss "
                "from the tape, before apply_gradients, and take the batches in order",
                hint,
            )
    if abs(accuracy - keras_accuracy) > 0.006:  # round-off may flip a few digits; wrong averaging moves ~0.01+
        return failed(
            what,
            f"on {label} your epoch accuracy is {accuracy:.4f}, model.fit's {keras_accuracy:.4f} on the same digits in "
            "the same order. Count the digits predicted right over the whole epoch and divide by the number of "
            "digits: an average of per-batch accuracies weighs the last, 1-digit batch like a full one",
            hint,
        )
    if accuracy < LOOP_ACCURACY_FLOOR:
        return failed(what, f"on {label} the accuracy over the epoch is only {accuracy:.3f}", hint)
    return passed(
        what,
        f"Same losses as model.fit before and after the first step, and over one epoch of {len(losses)} batches the "
        f"same accuracy ({accuracy:.3f}); the batch loss fell from {losses[0]:.2f} to {np.mean(losses[-5:]):.2f}.",
    )


# --------------------------------------------------------------------------- notebook 03: the learning-rate range test

FINDER_BATCH_SIZE = 32
FINDER_STEPS = 30
FINDER_RATES = (1e-3, 30.0)  # plain SGD on the check's network: flat, then falling, then exploding within 30 steps


def _is_linear(rates: np.ndarray) -> bool:
    steps = np.diff(rates)
    return len(steps) >= 2 and bool(np.allclose(steps, steps[0], rtol=1e-4))


def _finder_result(result, label: str):
    if not isinstance(result, tuple | list) or len(result) != 2:
        return f"on {label} your function returned a {type(result).__name__}; return (rates, losses)"
    try:
        rates = np.asarray([float(r) for r in result[0]])
        losses = np.asarray([float(loss) for loss in result[1]])
    except (TypeError, ValueError) as error:
        return f"on {label} (rates, losses) are not lists of numbers ({describe_error(error)})"
    if len(rates) != len(losses) or len(rates) == 0:
        return f"on {label} you returned {len(rates)} rates and {len(losses)} losses: one of each per step"
    return rates, losses


def check_range_test(function, x_pool, y_pool, what: str, hint=None, rng=None) -> bool:
    """``function(model, optimizer, loss_fn, x, y, min_rate, max_rate, steps, batch_size)``: the LR range test.

    Run with plain SGD on a small network the check builds and digits drawn from the pool, and compared with
    :func:`mnistlab.rate_finder.range_test` from a clone of the same weights: the rates (exponential, from
    ``min_rate`` towards ``max_rate``; a linear sweep is named), the batch losses while training is stable
    (up to the reference's lowest loss), and the stopping rule (stop right after a loss above 4 times the
    lowest so far, and not before).
    """
    from mnistlab import rate_finder

    if not require_function(function, what, hint):
        return False
    rng = rng or np.random.default_rng()
    steps, batch = FINDER_STEPS, FINDER_BATCH_SIZE
    x, y, start = _training_case(x_pool, y_pool, steps * batch, rng)
    low, high = FINDER_RATES
    label = f"{steps} steps of {batch} digits, rates {low:g} to {high:g}, plain SGD"
    reference = rate_finder.range_test(
        _clone(start), keras.optimizers.SGD(low), keras.losses.SparseCategoricalCrossentropy(), x, y, low, high,
        steps, batch,
    )
    args = (_clone(start), keras.optimizers.SGD(low), keras.losses.SparseCategoricalCrossentropy(), x, y, low, high,
            steps, batch)
    result = call_learner(function, args, what, hint, on=label)
    if result is NO_RESULT:
        return False
    parsed = _finder_result(result, label)
    if isinstance(parsed, str):
        return failed(what, parsed, hint)
    rates, losses = parsed
    expected_rates = rate_finder.rate_schedule(low, high, steps)
    if len(rates) > steps:
        return failed(what, f"on {label} you returned {len(rates)} rates: one per step, at most {steps}", hint)
    if not np.allclose(rates, expected_rates[: len(rates)], rtol=1e-5):
        if _is_linear(rates):
            problem = ("your rates grow by the same amount at every step (linear): they must grow by the same "
                       "factor, min_rate · (max_rate / min_rate) ** (step / (steps − 1)), so each decade gets "
                       "as many steps")
        else:
            first = int(np.argmax(~np.isclose(rates, expected_rates[: len(rates)], rtol=1e-5)))
            problem = f"the rate of step {first} is {rates[first]:.6g}, expected {expected_rates[first]:.6g}"
        return failed(what, f"on {label} {problem}", hint)
    for step in range(len(losses) - 1):
        lowest = float(np.min(losses[: step + 1]))
        if not math.isfinite(losses[step]) or losses[step] > 4 * lowest:
            return failed(
                what,
                f"on {label} the loss of step {step} is {losses[step]:.4g}, over 4 times the lowest so far "
                f"({lowest:.4g}), yet the test went on: stop right after recording that loss",
                hint,
            )
    if len(losses) < steps and math.isfinite(losses[-1]) and losses[-1] <= 4 * float(np.min(losses)):
        return failed(
            what,
            f"on {label} the test stopped after {len(losses)} steps at a loss of {losses[-1]:.4g}, not above 4 times "
            f"the lowest so far ({float(np.min(losses)):.4g}): go on until then (or until the last step)",
            hint,
        )
    stable = min(len(losses), int(reference["loss"].idxmin()) + 1)
    expected_losses = reference["loss"].to_numpy()[:stable]
    close = np.isclose(losses[:stable], expected_losses, rtol=2e-3, atol=1e-4)
    if not close.all():
        first = int(np.argmax(~close))
        return failed(
            what,
            f"on {label} the loss of step {first} (rate {rates[first]:.3g}) is {losses[first]:.5f}, expected "
            f"{expected_losses[first]:.5f}: record each batch's loss before its update, set the optimizer's rate "
            "before the step, and take batch i as digits i·batch_size to (i+1)·batch_size",
            hint,
        )
    return passed(
        what,
        f"Same rates and losses as the reference; the loss was lowest at rate {rates[int(np.argmin(losses))]:.3g} "
        f"and the test stopped after {len(losses)} of {steps} steps.",
    )


def _finder_curve(rng, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """A made-up range-test curve: flat, falling, then exploding where the test stops."""
    from mnistlab import rate_finder

    rates = rate_finder.rate_schedule(1e-5, 1.0, steps)
    position = np.log10(rates)
    middle = float(rng.uniform(-3.5, -2.0))
    falling = 2.3 - 2.0 / (1 + np.exp(-(position - middle) * 4))
    exploding = np.exp(np.clip((position - (middle + 1.2)) * 6, None, 5))
    losses = falling + exploding - 1 + rng.normal(0, 0.03, steps)
    stop = int(np.argmax(losses > 4 * np.minimum.accumulate(losses))) or steps - 1
    return rates[: stop + 1], losses[: stop + 1]


def check_pick_rate(function, what: str, hint=None, rng=None) -> bool:
    """``function(rates, losses)``: a tenth of the rate at which the loss was lowest (fastai's ``minimum / 10``).

    Three new made-up range-test curves, compared with :func:`mnistlab.rate_finder.suggest_rate`; the rate at
    the minimum itself (no step back) and the rate where the test stopped are named.
    """
    from mnistlab import rate_finder

    if not require_function(function, what, hint):
        return False
    rng = rng or np.random.default_rng()
    for number in range(1, 4):
        rates, losses = _finder_curve(rng, int(rng.integers(60, 120)))
        label = f"curve {number} ({len(rates)} steps, lowest loss at rate {rates[int(np.argmin(losses))]:.3g})"
        result = call_learner(function, copy.deepcopy((list(rates), list(losses))), what, hint, on=label)
        if result is NO_RESULT:
            return False
        try:
            value = float(result)
        except (TypeError, ValueError) as error:
            return failed(what, f"on {label} the result is not a number ({describe_error(error)})", hint)
        expected = rate_finder.suggest_rate(rates, losses)
        if math.isclose(value, expected, rel_tol=1e-6):
            continue
        if math.isclose(value, expected * rate_finder.BACK_OFF, rel_tol=1e-6):
            problem = ("that is the rate at the lowest loss itself, where training is already on the edge of "
                       "exploding: step back to a tenth of it")
        elif math.isclose(value, rates[-1] / rate_finder.BACK_OFF, rel_tol=1e-6):
            problem = "that is a tenth of the last rate, where the test stopped: use the rate at the lowest loss"
        else:
            problem = f"you picked {value:.4g}, expected {expected:.4g}"
        return failed(what, f"on {label}: {problem}", hint)
    return passed(what, "Same rate as rate_finder.suggest_rate on 3 new curves.")


# Below a run at the rate the range test picks, above a diverging one (benchmarks/RESULTS.md).
FINDER_RUN_FLOOR = 0.6


def check_rate_finder_run(rates, losses, chosen_rate, history, what: str, floor: float = FINDER_RUN_FLOOR,
                          hint=None) -> bool:
    """The notebook's own range test and short run: the rate the rule picks from the learner's curve, and the
    History of a model trained at that very rate whose last validation accuracy reaches ``floor``."""
    from mnistlab import rate_finder

    if any(is_missing(value) for value in (rates, losses, chosen_rate, history)):
        return not_done(what, hint)
    try:
        rates, losses = np.asarray(rates, dtype="float64"), np.asarray(losses, dtype="float64")
        expected = rate_finder.suggest_rate(rates, losses)
        if not math.isclose(float(chosen_rate), expected, rel_tol=1e-6):
            return failed(what, f"the rate you trained with is {float(chosen_rate):.4g}; the rule picks "
                          f"{expected:.4g} from your curve (a tenth of the rate at its lowest loss)", hint)
        record = _history_dict(history)
        if record is None:
            return failed(what, f"expected the History that model.fit returns, got a {type(history).__name__}", hint)
        used = float(history.model.optimizer.learning_rate.numpy())
        if not math.isclose(used, float(chosen_rate), rel_tol=1e-5):
            return failed(what, f"the model trained with learning rate {used:.4g}, not the chosen {expected:.4g}",
                          hint)
        scores = [record[key] for key in record if key.startswith("val_") and _is_accuracy(key[4:])]
        if not scores:
            return failed(what, "no validation accuracy in the History: pass validation_data and metrics=['accuracy']",
                          hint)
        final = float(scores[0][-1])
    except Exception as error:  # whatever the learner stored, report, never crash
        return failed(what, f"your answer could not be checked ({describe_error(error)})", hint)
    if final < floor:
        return failed(what, f"the short run reached {final:.3f} validation accuracy, below {floor:.2f}", hint)
    return passed(what, f"rate {expected:.3g} picked from {len(rates)} steps; validation accuracy {final:.3f}.")
