"""Self-checks for notebook 03: a model the learner compiled and fitted (read from its History), a gradient by hand."""

from __future__ import annotations

import keras
import numpy as np

from mnistlab.exercises.checks import describe_error, failed, is_missing, not_done, passed

# Measured in notebook 03's setting (small CNN, 2,000 digits, 1,000 validation digits, seed 42): Adam with
# batch size 32 reaches about 0.92 validation accuracy after 3 epochs; plain SGD at its default rate only
# about 0.54, one epoch about 0.82. The floor sits between a correct short fit and a broken or cut-short one.
VALIDATION_FLOOR = 0.85
CROSS_ENTROPIES = {"sparse_categorical_crossentropy", "categorical_crossentropy"}


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


def check_fit(model, history, what: str, min_epochs: int = 3, floor: float = VALIDATION_FLOOR, hint=None) -> bool:
    """Check a model the learner compiled and fitted, from the ``History`` that ``model.fit`` returned.

    In order, and saying which one failed: ``history`` is a Keras History of this very
    ``model``; the model was compiled with a cross-entropy loss; the History has an
    accuracy metric; validation data was given (``val_accuracy`` is in it); it ran at
    least ``min_epochs`` epochs; its last validation accuracy reaches ``floor``.
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
                f"'sparse_categorical_crossentropy' (section 1 shows why not MSE)",
                hint,
            )
        accuracy = [key for key in record if "accuracy" in key and not key.startswith("val_")]
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
