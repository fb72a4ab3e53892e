"""Self-checks for model-building exercises: compare a learner's Keras model with the reference, layer by layer."""

from __future__ import annotations

from mnistlab.exercises.checks import describe_error, failed, is_missing, not_done, not_written, passed

# Layers that only apply an activation: folded into the layer before them, so that
# Conv2D(32, 3) followed by ReLU() counts the same as Conv2D(32, 3, activation="relu"),
# and Dense(10) followed by Softmax() the same as Dense(10, activation="softmax").
_ACTIVATION_LAYERS = ("Activation", "ReLU", "Softmax", "LeakyReLU", "ELU")
# Activations are compared by what they compute on this probe, not by their names: tf.nn.softmax is
# called "softmax_v2", a ReLU layer has no activation attribute, and both must count as what they do.
_KNOWN_ACTIVATIONS = ("linear", "relu", "softmax", "sigmoid", "tanh", "elu", "selu", "gelu", "softplus", "swish")


def _probe():
    import numpy as np

    return np.linspace(-3.0, 3.0, 2 * 10, dtype="float32").reshape(2, 10)


def _what_it_computes(function) -> str | None:
    """The name of the Keras activation that ``function`` computes on a probe tensor (None if none of them)."""
    import keras
    import numpy as np

    probe = _probe()
    try:
        values = np.asarray(keras.ops.convert_to_numpy(function(keras.ops.convert_to_tensor(probe))))
    except Exception:
        return None
    for name in _KNOWN_ACTIVATIONS:
        expected = np.asarray(keras.ops.convert_to_numpy(keras.activations.get(name)(probe)))
        if values.shape == expected.shape and np.allclose(values, expected, atol=1e-5):
            return name
    return None


def _activation_name(layer) -> str | None:
    """What the layer's activation computes, named after the Keras activation it matches (else its own name)."""
    function = getattr(layer, "activation", None)
    if function is None:
        if type(layer).__name__ in _ACTIVATION_LAYERS:  # ReLU(), Softmax(), ...: the layer is the activation
            return _what_it_computes(layer) or type(layer).__name__.lower()
        return None
    return _what_it_computes(function) or getattr(function, "__name__", str(function))


def layer_signatures(model) -> list[dict]:
    """What the check compares for each layer: type, output shape, parameters, activation, dropout rate.

    Input layers are skipped; a separate activation layer is folded into the layer before it
    when that layer has no activation of its own (``linear``).
    """
    signatures: list[dict] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if kind in _ACTIVATION_LAYERS and signatures and signatures[-1]["activation"] == "linear":
            folded = _activation_name(layer)
            signatures[-1] = {**signatures[-1], "activation": folded, "output": tuple(layer.output.shape)}
            continue
        signatures.append(
            {
                "type": kind,
                "output": tuple(layer.output.shape),
                "parameters": int(layer.count_params()),
                "activation": _activation_name(layer),
                "rate": getattr(layer, "rate", None),
            }
        )
    return signatures


def describe_signature(signature: dict) -> str:
    """One layer in words, e.g. ``Conv2D (relu) → (None, 26, 26, 32), 320 parameters``."""
    extra = f" ({signature['activation']})" if signature["activation"] not in (None, "linear") else ""
    if signature["rate"] is not None:
        extra = f" (rate {signature['rate']:g})"
    return f"{signature['type']}{extra} → {signature['output']}, {signature['parameters']:,} parameters"


def _shape(shape) -> tuple:
    return tuple(shape) if isinstance(shape, tuple | list) else (shape,)


def first_difference(model, reference) -> str | None:
    """The first way ``model`` differs from ``reference``, in words (None when they match)."""
    if _shape(model.input_shape) != _shape(reference.input_shape):
        return f"your model takes inputs of shape {model.input_shape}; the reference takes {reference.input_shape}"
    mine, theirs = layer_signatures(model), layer_signatures(reference)
    for number, (got, want) in enumerate(zip(mine, theirs, strict=False), start=1):
        if got["type"] != want["type"]:
            return f"layer {number} is a {got['type']}; the reference has here: {describe_signature(want)}"
        if got["activation"] != want["activation"]:
            return (
                f"layer {number} ({got['type']}) uses the activation {got['activation']!r}; "
                f"the reference uses {want['activation']!r}"
            )
        if got["rate"] != want["rate"]:
            return f"layer {number} ({got['type']}) has rate {got['rate']:g}; the reference has {want['rate']:g}"
        if got["output"] != want["output"]:
            return f"layer {number} ({got['type']}) outputs shape {got['output']}; the reference {want['output']}"
        if got["parameters"] != want["parameters"]:
            return (
                f"layer {number} ({got['type']}) has {got['parameters']:,} parameters; "
                f"the reference {want['parameters']:,}"
            )
    if len(mine) < len(theirs):
        missing = len(mine) + 1
        return (
            f"your model stops after {len(mine)} layers; the reference goes on with layer {missing}: "
            f"{describe_signature(theirs[missing - 1])}"
        )
    if len(mine) > len(theirs):
        extra = len(theirs) + 1
        return (
            f"your model has {len(mine)} layers, the reference {len(theirs)}: "
            f"layer {extra} ({describe_signature(mine[extra - 1])}) is one too many"
        )
    return None


def check_model(answer: object, reference, what: str, hint: str | None = None) -> bool:
    """Pass when ``answer`` is a Keras model with the reference's layers, shapes and parameter counts.

    ``answer`` may also be a function that builds the model (it is called with no arguments).
    A failure names the first layer that differs and how.
    """
    import keras

    if is_missing(answer):
        return not_done(what, hint)
    if isinstance(answer, keras.layers.Layer) and not isinstance(answer, keras.Model):
        return failed(
            what,
            f"got a single {type(answer).__name__} layer: put your layers in a list in keras.Sequential([...])",
            hint,
        )
    if callable(answer) and not isinstance(answer, keras.Model):
        try:
            answer = answer()
        except NotImplementedError:
            return not_written(what, hint)
        except Exception as error:
            return failed(what, f"building your model raised {describe_error(error)}", hint)
        if is_missing(answer):
            return failed(what, "your function returned None: did you forget `return model`?", hint)
    if not isinstance(answer, keras.Model):
        return failed(what, f"expected a Keras model (keras.Sequential([...])), got a {type(answer).__name__}", hint)
    if not answer.built or not answer.layers:
        return failed(
            what,
            "your model has no layers with known shapes yet: "
            f"begin it with keras.Input(shape={reference.input_shape[1:]})",
            hint,
        )
    try:
        difference = first_difference(answer, reference)
    except Exception as error:
        return failed(what, f"your model could not be compared ({describe_error(error)})", hint)
    if difference:
        return failed(what, difference, hint)
    return passed(
        what, f"all {len(layer_signatures(reference))} layers match, {reference.count_params():,} parameters."
    )
