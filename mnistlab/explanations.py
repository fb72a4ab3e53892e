"""Why a network answers as it does: class scores, gradient saliency, Grad-CAM and feature maps (TensorFlow)."""

# Every function here looks inside a Keras model, so each works on the model's own graph, a model loaded from a
# file included (see layer_model). The NumPy/scikit-learn metrics of a model's *answers* are in
# mnistlab.evaluation; the figures of these explanations in mnistlab.plots.explanations.

from __future__ import annotations

import numpy as np

from mnistlab.data import NUM_CLASSES

# Layers that work pixel by pixel on a convolution's output: Grad-CAM reads the feature map after
# them (and after a pooling that follows), the rectified map that the rest of the network actually sees.
_PER_PIXEL_LAYERS = ("BatchNormalization", "ReLU", "Activation", "LeakyReLU")
_CONV_LAYERS = ("Conv2D", "SeparableConv2D")

# The smallest feature map Grad-CAM reads by default. A 3×3 map locates little, and behind Flatten + Dense its
# channel-mean weights often leave no positive evidence at all (benchmarks/RESULTS.md, "Grad-CAM on small
# feature maps", has the measurement; notebook 06 §2 measures it again).
MIN_GRAD_CAM_GRID = 5


# --------------------------------------------------------------------------- the model's own graph


def layer_model(model, layer_names=(), last_input: bool = False):
    """A Keras model from ``model``'s input to the outputs of the layers ``layer_names`` (in that order), followed,
    with ``last_input``, by the input of ``model``'s last layer.

    Built from one graph, so a gradient can flow between its outputs. A ``Sequential`` model is re-chained on a
    fresh input: one loaded from a file has each layer called several times (once per layer it was rebuilt
    with), and ``layer.output`` of two layers may then come from different calls, which are equal in value but
    not connected for ``tf.GradientTape``. A functional model's own graph is used, or, when a layer is shared
    with another model and its output lies outside this model's graph, a copy with the same weights.
    """
    import keras

    names = [layer.name for layer in model.layers]
    for name in layer_names:
        if name not in names:
            raise ValueError(f"model {model.name!r} has no layer {name!r}; its layers are {', '.join(names)}.")
    if isinstance(model, keras.Sequential):
        inputs = keras.Input(shape=model.inputs[0].shape[1:])
        outputs, x = {}, inputs
        for layer in model.layers:
            last_in, x = x, layer(x)
            outputs[layer.name] = x
        return keras.Model(inputs, [outputs[name] for name in layer_names] + ([last_in] if last_input else []))
    try:
        return _functional_layer_model(model, layer_names, last_input)
    except ValueError:  # a layer shared with another model: its .output may lie in that model's graph
        copy = keras.models.clone_model(model)  # fresh layers, each called once, in the copy's own graph
        copy.set_weights(model.get_weights())
        return _functional_layer_model(copy, layer_names, last_input)


def _functional_layer_model(model, layer_names, last_input: bool):
    import keras

    wanted = [model.get_layer(name).output for name in layer_names]
    # model.input as the model was defined: one tensor, or a list of them
    return keras.Model(model.input, wanted + ([model.layers[-1].input] if last_input else []))


def _as_list(outputs) -> list:
    """A model's outputs as a list: Keras gives a model with one output its tensor alone."""
    return list(outputs) if isinstance(outputs, list | tuple) else [outputs]


def conv_layers(model) -> list[str]:
    """Names of the model's 2-D convolution layers, first to last."""
    return [layer.name for layer in model.layers if type(layer).__name__ in _CONV_LAYERS]


def feature_maps(model, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """``(layer name, maps of shape (H, W, channels))`` of every convolution layer for one image.

    ``image`` is one input as the model takes it without the batch axis (a digit (28, 28) or (28, 28, 1) in
    [0, 1] for the course's CNNs). Works on models loaded from a file (see :func:`layer_model`).
    """
    convs = conv_layers(model)
    if not convs:
        raise ValueError(f"model {model.name!r} has no Conv2D layer: feature maps need a CNN")
    batch = np.asarray(image, dtype="float32").reshape(1, *model.inputs[0].shape[1:])
    outputs = _as_list(layer_model(model, convs).predict(batch, verbose=0))
    return [(name, np.asarray(out)[0]) for name, out in zip(convs, outputs, strict=True)]


# --------------------------------------------------------------------------- the class score


def _softmax_dense(layer) -> bool:
    import keras

    return isinstance(layer, keras.layers.Dense) and layer.activation is keras.activations.softmax


def _softmax_layer(layer) -> bool:
    """A layer that only applies a softmax (``Softmax()`` or ``Activation("softmax")``)."""
    import keras

    if isinstance(layer, keras.layers.Softmax):
        return True
    return isinstance(layer, keras.layers.Activation) and layer.activation is keras.activations.softmax


def _logits(dense):
    """``dense`` without its softmax: its kernel and bias applied to its input, the class scores."""
    import keras

    def scores(features):
        out = keras.ops.matmul(features, dense.kernel)
        return out + dense.bias if dense.bias is not None else out

    return scores


def _explainer(model, layer_name: str | None = None):
    """``(sub_model, to_scores)``: the sub-model maps images to ``[head input]`` (``[feature map, head input]``
    with ``layer_name``); ``to_scores`` turns the head's input into the class scores.

    Saliency and Grad-CAM differentiate the class score, not its probability (Simonyan et al.,
    2014; Selvaraju et al., 2017): a confident softmax saturates, and the gradient of a
    probability of 1.0 is exactly zero. So a final softmax ``Dense`` is re-applied without its
    softmax (``to_scores`` uses its kernel and bias), a final ``Softmax``/``Activation("softmax")``
    layer is dropped, and any other last layer's output is used as it is.
    """
    last = model.layers[-1]
    head_is_softmax = _softmax_dense(last)
    to_scores = _logits(last) if head_is_softmax else (lambda scores: scores)
    feature = [layer_name] if layer_name else []
    if head_is_softmax or _softmax_layer(last):
        return layer_model(model, feature, last_input=True), to_scores
    return layer_model(model, [*feature, last.name]), to_scores


def score_function(model):
    """A function ``images -> class scores`` (the logits before the softmax, a tensor of shape (N, 10)).

    It is differentiable, so ``tf.GradientTape`` can take its gradient (notebook 06 does). A final
    softmax ``Dense`` is applied with its kernel and bias only, so this also works on a model
    loaded from a file; see :func:`_explainer`.
    """
    head, to_scores = _explainer(model)

    def scores(images):
        return to_scores(_as_list(head(images, training=False))[0])

    return scores


def class_scores(model, images) -> np.ndarray:
    """The model's class scores before the softmax (the *logits*), as a NumPy array of shape (N, 10).

    ``softmax(class_scores(model, x))`` equals ``model.predict(x)``.
    """
    return np.asarray(score_function(model)(np.asarray(images, dtype="float32")))


def _explained_scores(scores, digits):
    """``(digit explained per image, its score)``: the top-scoring digit unless ``digits`` names one per image.

    Called inside the ``GradientTape``, so the score stays differentiable.
    """
    import tensorflow as tf

    if digits is None:
        chosen = tf.argmax(scores, axis=1, output_type=tf.int32)
    else:
        wanted = np.asarray(digits)
        if wanted.shape != (scores.shape[0],):
            raise ValueError(
                f"digits has shape {wanted.shape} for {scores.shape[0]} images: give one per image."
            )
        if not np.all(np.isin(wanted, np.arange(NUM_CLASSES))):
            raise ValueError(f"digits must be whole numbers 0..{NUM_CLASSES - 1}, got {wanted.tolist()}.")
        chosen = tf.convert_to_tensor(wanted.astype("int32"))
    return chosen, tf.gather(scores, chosen, axis=1, batch_dims=1)


def _scaled_per_image(maps: np.ndarray) -> np.ndarray:
    """Each map divided by its own peak, so every map spans [0, 1] (an all-zero map stays zero)."""
    peak = maps.reshape(len(maps), -1).max(axis=1).reshape(-1, 1, 1)
    return np.divide(maps, peak, out=np.zeros_like(maps), where=peak > 0)


# --------------------------------------------------------------------------- saliency


def saliency(model, images, digits=None) -> tuple[np.ndarray, np.ndarray]:
    """Vanilla gradient saliency: ``|d score[digit] / d pixel|``, scaled to [0, 1] per image.

    The score is the class score *before* the softmax (the logit, see :func:`score_function`), as
    in Simonyan et al. (2014): a confident softmax saturates, so the gradient of a probability
    near 1 is near 0 and mostly measures how sure the model already is, not which pixels matter.
    ``images`` are what the model takes (e.g. ``to_cnn_input(x)``, shape (N, 28, 28, 1)).
    The digit explained is the predicted one unless ``digits`` gives one per image.
    Returns ``(maps, digits)`` with maps of shape (N, 28, 28). It is noisy but needs no conv layer.
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(np.asarray(images, dtype="float32"))
    if x.shape[0] == 0:
        raise ValueError("images is empty: pass at least one image to explain.")
    scores = score_function(model)
    with tf.GradientTape() as tape:
        tape.watch(x)
        chosen, score = _explained_scores(scores(x), digits)
    grads = np.abs(tape.gradient(score, x).numpy())
    maps = grads.reshape(grads.shape[0], grads.shape[1], grads.shape[2], -1).max(axis=-1)
    return _scaled_per_image(maps), chosen.numpy()


# --------------------------------------------------------------------------- Grad-CAM


def conv_block_outputs(model) -> list[str]:
    """The last layer of each convolution's block, first to last: the convolution, then the pooling,
    normalisation and activation layers right after it."""
    names = [layer.name for layer in model.layers]
    outputs = []
    for conv in conv_layers(model):
        position = names.index(conv)
        while (position + 1 < len(names)
               and type(model.layers[position + 1]).__name__ in _PER_PIXEL_LAYERS + ("MaxPooling2D",)):
            position += 1
        outputs.append(names[position])
    return outputs


def grad_cam_layer(model, layer_name: str | None = None) -> str:
    """The layer whose feature map Grad-CAM explains: ``layer_name``, or the output of the last conv block big enough.

    The default is the rectified output of the last convolution block (the convolution and the
    pooling, normalisation and activation layers right after it) whose map is at least
    :data:`MIN_GRAD_CAM_GRID` pixels on a side; if no block is that big, the last block. A model
    without convolutions has no feature map to explain, which is a ``ValueError`` pointing at
    :func:`saliency`.
    """
    convs = conv_layers(model)
    if not convs:
        raise ValueError(
            f"model {model.name!r} has no convolution layer, so Grad-CAM has no feature map to "
            f"explain; use explanations.saliency(model, images) for models without convolutions."
        )
    names = [layer.name for layer in model.layers]
    if layer_name is not None:
        if layer_name not in names:
            raise ValueError(
                f"model {model.name!r} has no layer {layer_name!r}; its convolution layers are "
                f"{', '.join(convs)}."
            )
        return layer_name
    outputs = conv_block_outputs(model)
    big_enough = [name for name in outputs if min(model.get_layer(name).output.shape[1:3]) >= MIN_GRAD_CAM_GRID]
    return (big_enough or outputs)[-1]


def grad_cam(model, images, digits=None, layer_name: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Grad-CAM maps (Selvaraju et al., 2017): where in the image the evidence for a digit lies.

    A sub-model returns the feature map ``A`` of the last convolution block (see
    :func:`grad_cam_layer`) and the class scores (before the softmax, see :func:`_explainer`). ``tf.GradientTape`` gives
    ``d score[digit] / d A``; each channel's weight is its mean gradient over the map, the
    map is ``ReLU(sum_k weight_k * A_k)`` (only evidence *for* the digit), upsampled
    bilinearly to the image size and scaled to [0, 1] per image (an all-zero map stays 0).
    The digit explained is the predicted one unless ``digits`` gives one per image.
    Returns ``(maps, digits)`` with maps of shape (N, height, width), like :func:`saliency`.
    """
    import tensorflow as tf

    x = np.asarray(images, dtype="float32")
    if x.ndim != 4:
        raise ValueError(
            f"images must be a batch (N, height, width, channels) as the model takes it, "
            f"got shape {x.shape}; use data.to_cnn_input(x) for MNIST-style images."
        )
    if x.shape[0] == 0:
        raise ValueError("images is empty: pass at least one image to explain.")
    name = grad_cam_layer(model, layer_name)
    if len(model.get_layer(name).output.shape) != 4:
        raise ValueError(
            f"layer {name!r} outputs shape {model.get_layer(name).output.shape}, not a feature map "
            f"(batch, height, width, channels); pick one of {', '.join(conv_layers(model))}."
        )
    explainer, to_scores = _explainer(model, name)
    with tf.GradientTape() as tape:
        feature_map, head = explainer(x, training=False)
        chosen, score = _explained_scores(to_scores(head), digits)
    grads = tape.gradient(score, feature_map)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)  # one weight per channel
    cam = tf.nn.relu(tf.reduce_sum(weights * feature_map, axis=-1, keepdims=True))
    maps = tf.image.resize(cam, x.shape[1:3], method="bilinear").numpy()[..., 0]
    maps = np.maximum(maps, 0.0)
    return _scaled_per_image(maps), chosen.numpy()
