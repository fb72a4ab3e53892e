"""Self-checks for notebook 06: an input gradient, a paired comparison and the modern building blocks of §5."""


from __future__ import annotations

import numpy as np

from mnistlab.exercises.checks import (
    NO_RESULT,
    call_learner,
    describe_error,
    failed,
    learner_array,
    not_written,
    passed,
    require_function,
)

# --------------------------------------------------------------------------- the input gradient (saliency)


def _tiny_scorer(seed: int = 6):
    """A random conv net returning 10 class scores for (N, 10, 10, 1) images (no softmax), and its images."""
    import keras

    keras.utils.set_random_seed(seed)
    network = keras.Sequential([keras.Input((10, 10, 1)), keras.layers.Conv2D(3, 3, activation="tanh"),
                                keras.layers.Flatten(), keras.layers.Dense(10)])
    images = np.random.default_rng(seed).random((4, 10, 10, 1)).astype("float32")
    return network, images


def _reference_gradient(scorer, images, digits) -> np.ndarray:
    import tensorflow as tf

    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.gather(scorer(x), digits, axis=1, batch_dims=1)
    return np.abs(tape.gradient(score, x).numpy())[..., 0]


def check_input_gradient(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(scorer, images, digits)`` must return ``|d scorer(images)[i, digits[i]] / d images[i]|``.

    Shape (N, height, width) (a trailing channel axis of 1 is accepted). Run on a small random
    network and images made here; forgetting ``abs``, or differentiating the sum of every digit's
    score, or one digit for every image, is named.
    """
    import tensorflow as tf

    if not require_function(function, what, hint):
        return False
    scorer, images = _tiny_scorer()
    digits = np.array([3, 0, 7, 3])
    want = _reference_gradient(scorer, images, digits)
    got = learner_array(function, (scorer, images.copy(), digits.copy()), what, hint)
    if got is NO_RESULT:
        return False
    if got.shape == want.shape + (1,):
        got = got[..., 0]
    if got.shape != want.shape:
        return failed(what, f"for images of shape {images.shape} the maps have shape {got.shape}, "
                            f"expected {want.shape} (one map per image)", hint)
    if np.allclose(got, want, rtol=1e-4, atol=1e-6):
        return passed(what, "(checked on a network and images you had not seen)")
    if np.allclose(np.abs(got), want, rtol=1e-4, atol=1e-6):
        return failed(what, "your map has negative values: saliency is the absolute value of the gradient", hint)
    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(scorer(x))
    summed = np.abs(tape.gradient(total, x).numpy())[..., 0]
    if np.allclose(np.abs(got), summed, rtol=1e-4, atol=1e-6):
        return failed(what, "you differentiated the sum of all ten scores; take each image's own digit "
                            "(tf.gather(scores, digits, axis=1, batch_dims=1))", hint)
    if np.allclose(np.abs(got), _reference_gradient(scorer, images, np.full(4, digits[0])), rtol=1e-4, atol=1e-6):
        return failed(what, "every image explains the same digit; use digits[i] for image i", hint)
    scale = got.reshape(len(got), -1).max(axis=1).reshape(-1, 1, 1)
    if np.allclose(got, want / want.reshape(len(want), -1).max(axis=1).reshape(-1, 1, 1), atol=1e-5) and (
            scale > 0).all():
        return failed(what, "your maps are scaled to [0, 1]; return the raw absolute gradient", hint)
    return failed(what, "the values differ from |d score[digit] / d pixel|", hint)


# --------------------------------------------------------------------------- a paired comparison over folds


def check_paired_difference(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(acc_a, acc_b)`` must return ``(mean of a - b, its standard error)`` over paired folds.

    The standard error is the sample std (ddof=1) of the per-fold differences over sqrt(k). The
    unpaired version (ignoring that the folds are shared) and ddof=0 are named.
    """
    if not require_function(function, what, hint):
        return False
    cases = [
        (np.array([0.962, 0.955, 0.971, 0.948, 0.966]), np.array([0.957, 0.951, 0.964, 0.945, 0.960])),
        (np.array([0.91, 0.93, 0.90, 0.94]), np.array([0.92, 0.92, 0.91, 0.93])),
    ]
    for a, b in cases:
        try:
            result = function(a.copy(), b.copy())
            mean, se = (float(np.asarray(v).item()) for v in result)
        except NotImplementedError:
            return not_written(what, hint)
        except Exception as error:
            return failed(what, f"on {len(a)} folds your function raised or returned something that is not two "
                                f"numbers ({describe_error(error)})", hint)
        d, k = a - b, len(a)
        want_mean, want_se = d.mean(), d.std(ddof=1) / np.sqrt(k)
        if not np.isclose(mean, want_mean, atol=1e-12):
            sign = " (you computed b - a)" if np.isclose(mean, -want_mean, atol=1e-12) else ""
            return failed(what, f"the mean difference is {want_mean:.4f} on these {k} folds, you gave {mean:.4f}"
                                f"{sign}", hint)
        if np.isclose(se, want_se, rtol=1e-6):
            continue
        unpaired = np.sqrt(a.var(ddof=1) / k + b.var(ddof=1) / k)
        if np.isclose(se, unpaired, rtol=1e-6) or np.isclose(se, a.std(ddof=1) / np.sqrt(k), rtol=1e-6):
            return failed(what, f"{se:.4f} is an unpaired standard error: it ignores that both models were "
                                f"scored on the same folds; subtract per fold first, then take the spread of "
                                f"the differences ({want_se:.4f})", hint)
        if np.isclose(se, d.std(ddof=0) / np.sqrt(k), rtol=1e-6):
            return failed(what, "use the sample standard deviation of the differences (ddof=1)", hint)
        if np.isclose(se, d.std(ddof=1), rtol=1e-6):
            return failed(what, "that is the spread of the differences; the standard error of their mean "
                                "divides it by sqrt(k)", hint)
        return failed(what, f"the standard error is {se:.4f}; expected {want_se:.4f} on these {k} folds", hint)
    return passed(what, "(checked on fold accuracies you had not seen)")


# --------------------------------------------------------------------------- modern building blocks (§5)


def _random(shape, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _pooled(model, images):
    """``(input, output)`` of the layer that turns the feature maps (rank 4) into vectors (rank 2), or None."""
    x = images
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        y = np.asarray(layer(x, training=False))
        if np.ndim(x) == 4 and y.ndim == 2:
            return np.asarray(x), y
        x = y
    return None


def check_gap_cnn(build, what: str = "Exercise", hint: str | None = None) -> bool:
    """``build(input_shape, classes)`` must return §5's small CNN with a global-average-pooling head.

    Built for input shapes and class counts made here and compared with :func:`mnistlab.blocks.gap_cnn`:
    the output shape, a parameter count that does not depend on the image size (a Flatten does), average
    (not max) pooling, and the same convolution blocks.
    """
    from mnistlab import blocks

    if not require_function(build, what, hint):
        return False
    counts = {}
    for shape, classes in [((20, 20, 1), 7), ((32, 32, 1), 7), ((36, 36, 3), 4)]:
        model = call_learner(build, (shape, classes), what, hint, on=f"input_shape={shape}, classes={classes}")
        if model is NO_RESULT:
            return False
        if not hasattr(model, "count_params") or not hasattr(model, "layers"):
            return failed(what, f"expected a Keras model, got a {type(model).__name__}", hint)
        images = np.random.default_rng(len(counts)).random((2, *shape)).astype("float32")
        try:
            output = np.asarray(model(images, training=False))
        except Exception as error:
            return failed(what, f"the model for input_shape={shape} cannot read images of that shape "
                                f"({describe_error(error)}): use keras.Input(shape=input_shape)", hint)
        if output.shape != (2, classes):
            return failed(what, f"for classes={classes} the model outputs shape {output.shape[1:]}, expected "
                                f"({classes},)", hint)
        counts[shape] = model.count_params()
        if shape[-1] == 1 and len(counts) == 2 and len(set(counts.values())) > 1:
            return failed(what, f"your parameter count depends on the image size ({counts[(20, 20, 1)]:,} for "
                                f"20×20, {counts[(32, 32, 1)]:,} for 32×32): a Flatten is still in the head; "
                                f"global average pooling gives one number per channel whatever the size", hint)
        names = [type(layer).__name__ for layer in model.layers]
        if "Flatten" in names:
            return failed(what, "your head still has a Flatten layer: replace Flatten by GlobalAveragePooling2D",
                          hint)
        try:
            pooled = _pooled(model, images)
        except Exception:
            pooled = None
        if pooled is None:
            return failed(what, "no layer of your model turns the feature maps into one vector per image", hint)
        maps, vectors = pooled
        if maps.shape[-1] == vectors.shape[-1] and not np.allclose(vectors, maps.mean(axis=(1, 2)), atol=1e-5):
            if np.allclose(vectors, maps.max(axis=(1, 2)), atol=1e-5):
                return failed(what, "your pooling takes each channel's maximum: that is global max pooling; "
                                    "global average pooling takes the mean", hint)
            return failed(what, "your pooled vector is not each channel's mean over the map", hint)
        want = blocks.gap_cnn(shape, classes).count_params()
        if counts[shape] != want:
            return failed(what, f"for input_shape={shape}, classes={classes} your model has {counts[shape]:,} "
                                f"parameters, the reference {want:,}: keep flatten_cnn's convolution blocks "
                                f"exactly and end with GlobalAveragePooling2D and Dense(classes, softmax)", hint)
    return passed(what, "(built for image sizes and class counts you had not seen)")


def _zero_convolutions(model) -> None:
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D":
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])


def check_residual_block(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(x, filters)`` must build §5's residual block on a Keras tensor ``x`` (functional API).

    Checked on shapes made here, against :func:`mnistlab.blocks.residual_block`: the output shape, the
    parameter count (with or without the convolutions' biases), a 1×1 projection only when the channels
    differ, and, with every convolution set to zero, ``ReLU(x)``: the skip path is really added.
    """
    import keras

    from mnistlab import blocks

    if not require_function(function, what, hint):
        return False
    for shape, filters in [((9, 11, 6), 6), ((7, 8, 3), 5)]:
        same = shape[-1] == filters
        inputs = keras.Input(shape=shape)
        try:
            outputs = function(inputs, filters)
        except NotImplementedError:
            return not_written(what, hint)
        except Exception as error:
            if not same:
                return failed(what, f"with {shape[-1]} input channels and filters={filters} your block raised "
                                    f"{describe_error(error)}: when the channels differ, the skip path needs a "
                                    f"1×1 convolution (a projection) to {filters} channels", hint)
            return failed(what, f"on an input of shape {shape} your block raised {describe_error(error)}", hint)
        if outputs is None:
            return failed(what, "your function returned None: did you forget `return`?", hint)
        try:
            model = keras.Model(inputs, outputs)
        except Exception as error:
            return failed(what, f"return the block's output tensor ({describe_error(error)})", hint)
        if tuple(model.output.shape[1:]) != shape[:2] + (filters,):
            return failed(what, f"on an input of shape {shape} with filters={filters} the output has shape "
                                f"{tuple(model.output.shape[1:])}, expected {shape[:2] + (filters,)} ('same' "
                                f"padding keeps height and width)", hint)
        reference_input = keras.Input(shape=shape)
        want = keras.Model(reference_input, blocks.residual_block(reference_input, filters)).count_params()
        got = model.count_params()
        projection = shape[-1] * filters + filters
        if got not in (want, want - 2 * filters, want - 2 * filters - (0 if same else filters)):
            if same and got in (want + projection, want + projection - filters):
                return failed(what, f"with {filters} channels in and out your block has {got:,} parameters, "
                                    f"{projection} too many: use x itself as the skip path when the channels "
                                    f"already match (the projection is only for different channels)", hint)
            return failed(what, f"on an input of shape {shape} with filters={filters} your block has {got:,} "
                                f"parameters, the reference {want:,}: two 3×3 convolutions, two batch "
                                f"normalisations" + ("" if same else ", and a 1×1 projection of x"), hint)
        if same:
            _zero_convolutions(model)
            x = _random((2, *shape), 5)
            y = np.asarray(model(x, training=False))
            if np.allclose(y, np.maximum(x, 0), atol=1e-3):
                continue
            if np.allclose(y, x, atol=1e-3):
                return failed(what, "with zeroed convolutions your block returns x: apply the ReLU after the "
                                    "addition, ReLU(F(x) + x)", hint)
            if np.allclose(y, 0, atol=1e-3):
                return failed(what, "with every convolution set to zero your block outputs 0: the skip path is "
                                    "not added (layers.Add()([y, x]))", hint)
            return failed(what, "with every convolution set to zero the block should return ReLU(x) (the "
                                "skip path alone); yours does not", hint)
    return passed(what, "(shapes, parameters and the skip path checked on inputs you had not seen)")


def check_activation_stds(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(model, x)`` must return the standard deviation of every layer's output, first layer first,
    on a small Dense stack with mixed widths and activations made here (compared with
    :func:`mnistlab.blocks.activation_stds`)."""
    import keras

    from mnistlab import blocks

    if not require_function(function, what, hint):
        return False
    keras.utils.set_random_seed(8)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(9, activation="tanh"),
                              keras.layers.Dense(7, activation="relu"), keras.layers.Dense(5)])
    x = _random((64, 12), 9)
    want = np.array(blocks.activation_stds(model, x))
    result = call_learner(function, (model, x.copy()), what, hint, on="a 3-layer stack you had not seen")
    if result is NO_RESULT:
        return False
    try:
        got = np.asarray(result, dtype=float).ravel()
    except Exception:
        return failed(what, "return one number per layer (a list of floats)", hint)
    if got.shape != want.shape:
        return failed(what, f"for a model of {len(model.layers)} layers you returned {got.size} value(s): one "
                            f"standard deviation per layer", hint)
    if np.allclose(got, want, rtol=1e-3):
        return passed(what, "(on a stack of layers you had not seen)")
    kernels = np.array([np.std(np.asarray(layer.kernel)) for layer in model.layers])
    if np.allclose(got, kernels, rtol=1e-3):
        return failed(what, "those are the spreads of the layers' weights; measure their outputs: feed x "
                            "through the layers one by one", hint)
    return failed(what, f"the values differ from the spreads of the layers' outputs ({np.round(want, 3).tolist()}): "
                        f"each layer must receive the previous layer's output", hint)


# --------------------------------------------------------------------------- a 1×1 convolution


def check_conv1x1(function, count, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(images, kernel, bias)`` must be the 1×1 convolution Keras computes, and ``count(channels, filters)``
    its parameter count, on channel and filter numbers the learner has not seen."""
    import keras

    if not (require_function(function, what, hint) and require_function(count, what, hint)):
        return False
    rng = np.random.default_rng(11)
    for channels, filters in ((5, 3), (12, 7)):
        images = rng.normal(size=(2, 6, 4, channels)).astype("float32")
        layer = keras.layers.Conv2D(filters, 1)
        layer.build(images.shape)
        kernel, bias = rng.normal(size=(1, 1, channels, filters)).astype("float32"), rng.normal(size=filters)
        layer.set_weights([kernel, bias.astype("float32")])
        want = np.asarray(layer(images))
        on = f"{channels} channels to {filters} filters"
        got = learner_array(function, (images.copy(), kernel.copy(), bias.copy()), what, hint, on=on)
        if got is NO_RESULT:
            return False
        if got.shape != want.shape:
            return failed(what, f"on {on} you returned shape {got.shape}; Conv2D({filters}, 1) gives {want.shape}: "
                                f"every pixel keeps its place and gets {filters} values", hint)
        if not np.allclose(got, want, atol=1e-4):
            if np.allclose(got, want - bias, atol=1e-4):
                return failed(what, f"on {on} your values miss the bias: add one bias per filter", hint)
            return failed(what, f"on {on} your values differ from Conv2D({filters}, 1) by up to "
                                f"{np.abs(got - want).max():.3g}: mix each pixel's channels with the C×F matrix "
                                f"kernel[0, 0]", hint)
        counted = call_learner(count, (channels, filters), what, hint, on=on)
        if counted is NO_RESULT:
            return False
        if counted != layer.count_params():
            extra = " (the biases count too: one per filter)" if counted == channels * filters else ""
            return failed(what, f"for {on} you counted {counted!r} parameters, Keras has {layer.count_params()}{extra}",
                          hint)
    return passed(what, "(the same numbers as Conv2D(F, 1), on channel counts you had not seen)")
