"""Self-checks for notebook 04: a random-shift augmentation and a Keras Tuner build function, on unseen digits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mnistlab import data
from mnistlab.exercises.checks import (
    NO_RESULT,
    describe_error,
    failed,
    passed,
    require_function,
    run_learner,
)

INK = 0.05  # a pixel brighter than this is ink (MNIST's background is exactly 0)


# --------------------------------------------------------------------------- Exercise 5: a random shift


def _ink_box(image: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the ink, inclusive."""
    rows, cols = np.nonzero(image[..., 0] > INK)
    return rows.min(), rows.max(), cols.min(), cols.max()


def _edge_probes(digits: np.ndarray) -> np.ndarray:
    """The digits moved until their ink touches two edges (a corner, each corner in turn), zero-filled: a correct
    shift may push ink out there, but never bring it back in on the other side."""
    from mnistlab import data

    rows, cols = [], []
    for number, digit in enumerate(digits):
        top, bottom, left, right = _ink_box(digit)
        rows.append(-top if number % 2 == 0 else digit.shape[0] - 1 - bottom)
        cols.append(-left if number % 4 < 2 else digit.shape[1] - 1 - right)
    return data.shift_images(digits, rows, cols)


def shift_cases(digits: np.ndarray | None = None, count: int = 40, seed: int | None = None):
    """``(images, labels, room)``: MNIST test digits picked at random (float32, shape (N, 28, 28, 1)), the
    last quarter moved into a corner; ``room`` is how far each digit's ink is from the nearest edge."""
    from mnistlab import data

    rng = np.random.default_rng(seed)
    if digits is None:
        _, (digits, labels) = data.load_mnist()
    else:
        labels = rng.integers(0, 10, len(digits))
    chosen = rng.choice(len(digits), size=min(count, len(digits)), replace=False)
    images = data.to_cnn_input(digits[chosen]) if digits.max() > 1 else np.asarray(digits[chosen], "float32")
    images = images.reshape(len(chosen), *data.INPUT_SHAPE).astype("float32")
    probes = len(chosen) // 4
    images[-probes:] = _edge_probes(images[-probes:])
    room = np.array([min(t, 27 - b, left, 27 - r) for t, b, left, r in map(_ink_box, images)])
    return images, np.asarray(labels)[chosen], room


def _centre_of_ink(images: np.ndarray) -> np.ndarray:
    """(row, column) of each image's centre of ink mass."""
    weights = images[..., 0].astype("float64")
    total = weights.sum(axis=(1, 2))
    grid = np.arange(images.shape[1])
    return np.stack([(weights.sum(axis=2) @ grid) / total, (weights.sum(axis=1) @ grid) / total], axis=1)


def _rolled_by(original: np.ndarray, result: np.ndarray, max_shift: int) -> tuple[int, int] | None:
    """The (rows, columns) np.roll shift within ``max_shift`` that gives ``result``, if one does."""
    for down in range(-max_shift, max_shift + 1):
        for right in range(-max_shift, max_shift + 1):
            if np.allclose(np.roll(original, (down, right), axis=(0, 1)), result, atol=1e-6):
                return down, right
    return None


def _run_shift(function: Callable, images, labels, max_shift: int, seed: int):
    result = function(images.copy(), labels.copy(), max_shift, seed)
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise TypeError(f"returned a {type(result).__name__}, not the pair (shifted_images, labels)")
    return np.asarray(result[0]), np.asarray(result[1])


def check_random_shift(
    function: object,
    what: str,
    hint: str | None = None,
    digits: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> bool:
    """``function(images, labels, max_shift, seed) -> (shifted, labels)``: a random whole-pixel shift per image.

    Run on MNIST test digits picked at random (a quarter of them pushed into a corner) with a new
    ``max_shift`` and seeds, and checked on properties, as an augmentation has no single right output:
    shape and dtype kept, pixels stay in [0, 1], labels unchanged, most images moved, each digit by its
    own shift of at most ``max_shift`` pixels with its ink kept, nothing wrapped round the edge the way
    ``np.roll`` does, the same output for the same seed and a different one for another seed.
    """
    if not require_function(function, what, hint):
        return False
    rng = rng or np.random.default_rng()
    images, labels, room = shift_cases(digits, seed=int(rng.integers(2**31)))
    max_shift = int(rng.integers(2, 4))
    centred = room >= max_shift
    seed = int(rng.integers(1_000_000))
    label = f"{len(images)} new digits with max_shift={max_shift}"
    # the same seed twice (the shifts must repeat), then another seed (they must not)
    runs = run_learner(lambda: [_run_shift(function, images, labels, max_shift, s) for s in (seed, seed, seed + 1)],
                       what, hint, on=label)
    if runs is NO_RESULT:
        return False
    (shifted, returned_labels), (again, _), (other, _) = runs

    if shifted.shape != images.shape:
        return failed(what, f"on {label} the images came back with shape {shifted.shape}, not {images.shape}", hint)
    if shifted.dtype != images.dtype:
        return failed(what, f"the images came back as {shifted.dtype}, not {images.dtype} like the input", hint)
    if shifted.min() < 0 or shifted.max() > 1 + 1e-6:
        return failed(what, f"pixel values run from {shifted.min():.3g} to {shifted.max():.3g}, outside [0, 1]", hint)
    if returned_labels.shape != labels.shape or not np.array_equal(returned_labels, labels):
        return failed(what, "the labels changed: a shifted 3 is still a 3; return the labels as they came", hint)
    moved = np.abs(shifted - images).max(axis=(1, 2, 3)) > 1e-6
    if moved.mean() < 0.7:
        return failed(what, f"only {moved.sum()} of {len(images)} images changed: the augmentation hardly moves "
                      "anything", hint)

    # A digit with room around it moves by its shift (its centre of ink with it) and keeps all its ink.
    displacement = _centre_of_ink(shifted[centred]) - _centre_of_ink(images[centred])
    if np.abs(displacement).max() > max_shift + 0.5:
        return failed(what, f"a digit moved by {np.abs(displacement).max():.1f} pixels; with max_shift={max_shift} "
                      f"no shift is longer than {max_shift} pixels along a row or column", hint)
    ink_before = images[centred].sum(axis=(1, 2, 3))
    ink_change = np.abs(shifted[centred].sum(axis=(1, 2, 3)) / ink_before - 1)
    if ink_change.max() > 0.05:
        return failed(what, f"a digit with room to move lost or gained {ink_change.max():.0%} of its ink: a shift "
                      "moves the ink, it does not remove, add or blur it", hint)
    if len(displacement) > 1 and displacement.std(axis=0).max() < 0.1:
        return failed(what, "every image moved by the same shift: draw a new shift for each image", hint)

    # Digits in a corner: no ink may appear beyond the reach of a shift (np.roll brings it back in).
    for index in np.flatnonzero(~centred):
        top, bottom, left, right = _ink_box(images[index])
        reach = np.zeros(images.shape[1:3], dtype=bool)
        near = max_shift + 1  # one pixel more, for shifts by fractions of a pixel
        reach[max(top - near, 0) : bottom + near + 1, max(left - near, 0) : right + near + 1] = True
        stray = shifted[index, ..., 0][~reach].sum()
        if stray > 0.5:
            rolled = _rolled_by(images[index], shifted[index], max_shift)
            how = (f"it is np.roll by {rolled}: ink pushed out of one side comes back in on the other"
                   if rolled else "ink appears far from where the digit was")
            return failed(what, f"on a digit in a corner of the frame, {how}; a shift fills the uncovered "
                          "border with 0 (background) and loses what leaves the frame", hint)

    if not np.array_equal(shifted, again):
        return failed(what, "the same seed gave different shifts: draw them from np.random.default_rng(seed)", hint)
    if np.array_equal(shifted, other):
        return failed(what, "two different seeds gave the same shifts: use the seed argument for your generator",
                      hint)
    return passed(what, f"{moved.sum()} of {len(images)} new digits moved, ink kept, nothing wrapped round, "
                  "reproducible by seed.")


# --------------------------------------------------------------------------- Exercise 6: a tuner's build function

BUILD_SPACE = {
    "filters": [16, 32, 64],
    "units": [32, 64, 128],
    "dropout": [0.0, 0.25, 0.5],
    "learning_rate": [1e-2, 1e-3, 1e-4],
}


def _offered(hp) -> dict[str, list]:
    """Each hyperparameter a build function asked ``hp`` for, with the values it offers (Choice) or None."""
    return {space.name: list(space.values) if type(space).__name__ == "Choice" else None for space in hp.space}


def _learning_rate(model) -> float:
    import keras

    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def _model_problem(model, chosen: dict, digits: np.ndarray, labels: np.ndarray) -> str | None:
    """What is wrong with the model built for the hyperparameters ``chosen`` (None: nothing)."""
    import keras

    if not isinstance(model, keras.Model):
        return f"your function returned a {type(model).__name__}, not a Keras model"
    if tuple(model.input_shape) != (None, *data.INPUT_SHAPE) or tuple(model.output_shape) != (None, 10):
        return f"the model maps {model.input_shape} to {model.output_shape}: it needs (None, 28, 28, 1) → (None, 10)"
    if getattr(model, "optimizer", None) is None:
        return "the model is not compiled: the tuner calls fit on what your function returns"
    with_choices = ", ".join(f"{name}={value:g}" for name, value in chosen.items())
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not convs or any(layer.filters != chosen["filters"] for layer in convs):
        return f"with {with_choices} the convolutions have {[c.filters for c in convs]} filters, not hp's filters"
    hidden = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][:-1]
    if not any(layer.units == chosen["units"] for layer in hidden):
        return f"with {with_choices} no hidden Dense layer has {chosen['units']} units"
    rates = [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    if (chosen["dropout"] > 0 or rates) and not any(np.isclose(rate, chosen["dropout"]) for rate in rates):
        return f"with {with_choices} the Dropout layers have rates {rates}, not hp's dropout {chosen['dropout']:g}"
    if not np.isclose(_learning_rate(model), chosen["learning_rate"], rtol=1e-3):
        return (f"with {with_choices} the optimizer's learning rate is {_learning_rate(model):g}: "
                "pass hp's learning_rate to the optimizer, e.g. keras.optimizers.Adam(learning_rate=...)")
    try:
        scores = model.evaluate(digits, labels, verbose=0, return_dict=True)
    except Exception as error:
        return f"the model could not be evaluated on integer labels 0-9 ({describe_error(error)})"
    if "accuracy" not in scores:
        return (f"the model records {sorted(scores)}, no 'accuracy': the tuner ranks trials by 'val_accuracy', "
                "which Keras records for metrics=['accuracy']")
    return None


def check_tuner_build(
    function: object,
    what: str,
    hint: str | None = None,
    digits: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> bool:
    """``function(hp)``: a Keras Tuner build function over :data:`BUILD_SPACE`, returning a compiled CNN.

    Called first with empty hyperparameters (as the tuner does when it starts: every name must be
    asked for, with the exercise's choices), then twice with values drawn here fixed in advance; each
    model must use them (filters of every convolution, a hidden Dense layer's units, the dropout rate,
    the optimizer's learning rate) and evaluate on integer labels with an ``accuracy`` metric.
    """
    import keras_tuner

    if not require_function(function, what, hint):
        return False
    rng = rng or np.random.default_rng()
    if digits is None:
        from mnistlab import data

        _, (raw, _) = data.load_mnist()
        digits = data.to_cnn_input(raw[rng.choice(len(raw), 32, replace=False)])
    labels = rng.integers(0, 10, len(digits))
    draws = [{name: values[int(rng.integers(len(values)))] for name, values in BUILD_SPACE.items()} for _ in range(2)]
    # one draw never uses Keras's default rate, so an optimizer that ignores hp cannot pass by chance
    draws[0]["learning_rate"] = float(rng.choice([1e-2, 1e-4]))

    def build_all():
        """The tuner's first call (which names hp is asked for), then a model for each draw, fixed in advance."""
        hp = keras_tuner.HyperParameters()
        function(hp)
        offered = _offered(hp)
        models = []
        for chosen in draws:
            fixed = keras_tuner.HyperParameters()
            for name, value in chosen.items():
                fixed.Fixed(name, value)
            models.append((chosen, function(fixed)))
        return offered, models

    built = run_learner(build_all, what, hint)
    if built is NO_RESULT:
        return False
    offered, models = built
    missing = [name for name in BUILD_SPACE if name not in offered]
    if missing:
        return failed(what, f"your function never asks hp for {', '.join(map(repr, missing))}: the tuner can only "
                      "vary what is asked for with hp.Choice(name, values)", hint)
    for name, values in BUILD_SPACE.items():
        if offered[name] is not None and sorted(offered[name]) != sorted(values):
            return failed(what, f"hp.Choice({name!r}, ...) offers {offered[name]}, the exercise's choices are {values}",
                          hint)
    for chosen, model in models:
        problem = _model_problem(model, chosen, digits, labels)
        if problem:
            return failed(what, problem, hint)
    return passed(what, "the tuner can vary all four hyperparameters, and the models you build use them.")
