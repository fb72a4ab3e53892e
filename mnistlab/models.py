"""One builder per architecture the course discusses, from the dense baseline to the course's default CNN."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from mnistlab import architectures
from mnistlab.data import INPUT_SHAPE, NUM_CLASSES

# Batch normalisation keeps running averages of each channel's mean and variance for use at
# prediction time. Keras' default momentum 0.99 averages over ~100 steps: too slow for the few
# hundred steps of a fast-mode run, whose validation accuracy then lags far behind training.
# 0.9 (averaging over ~10 steps) settles within the first epoch.
BN_MOMENTUM = 0.9


def build_dense() -> keras.Model:
    """The dense baseline: Flatten → Dense 128 → Dense 128 → Dense 10 softmax (118,282 parameters).

    Adapted from the "hello world" multilayer perceptron of the TensorFlow beginner
    quickstart (tensorflow.org/tutorials/quickstart/beginner: Flatten → Dense 128 →
    Dropout 0.2 → Dense 10), with two differences: a second hidden Dense 128 and no
    dropout. It takes a digit as 784 numbers: nothing is lost by flattening, but
    nothing tells it that neighbouring pixels belong together, so it must learn that
    from data, separately for every position; it is the yardstick the CNNs have to beat.
    """
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(128, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="dense",
    )


def build_small_cnn() -> keras.Model:
    """The classic small CNN: Conv 32 → Pool → Conv 64 → Pool → Conv 64 → Dense 64 → Dense 10 (93,322 parameters).

    Adapted from the TensorFlow "Convolutional Neural Network (CNN)" tutorial
    (tensorflow.org/tutorials/images/cnn), which trains this stack of layers on CIFAR-10,
    32×32 colour photos: here it takes 28×28×1 digits (hence other shapes and fewer
    parameters in the first layers), and its output layer applies softmax where the tutorial's
    gives raw scores (logits) to a loss with ``from_logits=True``. The same three-convolution
    shape appears in François Chollet's *Deep Learning with Python*.
    """
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="small_cnn",
    )


def build_dropout_cnn() -> keras.Model:
    """The dropout CNN: Conv 32 → Pool → Conv 64 → Pool → Dropout 0.5 → Dense 128 → Dense 10 (225,034 parameters).

    Adapted from the keras-io example "Simple MNIST convnet"
    (keras.io/examples/vision/mnist_convnet: Conv 32 → Pool → Conv 64 → Pool → Flatten →
    Dropout 0.5 → Dense 10), with one difference: an extra hidden Dense 128 (ReLU) before
    the output, as in the older Keras ``mnist_cnn.py`` example, which adds 204,928 of its
    parameters. Dropout randomly silences half of the flattened features during training so
    that no single feature can be relied on.
    """
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(128, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="dropout_cnn",
    )


def conv_block(filters: int, name: str, pool: bool) -> list[keras.layers.Layer]:
    """A 3×3 'valid' convolution without bias, then (if ``pool``) 2×2 max pooling, batch normalisation and ReLU.

    The bias is dropped because batch normalisation subtracts the mean right after
    and adds its own learned offset (beta), which would make a bias redundant. Pooling
    comes *before* batch normalisation so that it normalises a quarter as many values:
    Keras' batch normalisation is a chain of element-wise operations, and on a CPU it cost
    more than the convolutions when it ran on the full-size maps (``benchmarks/RESULTS.md``,
    "The default model's design"). The normalisation uses :data:`BN_MOMENTUM`.
    """
    stack = [layers.Conv2D(filters, 3, use_bias=False, name=f"{name}_conv")]
    if pool:
        stack.append(layers.MaxPooling2D(2, name=f"{name}_pool"))
    return stack + [
        layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn"),
        layers.ReLU(name=f"{name}_relu"),
    ]


def build_default_model() -> keras.Model:
    """The course's default model: the classic small CNN with batch normalisation, trained on augmented digits.

    Designed for this course to reach about 99.5 % test accuracy in under three minutes on a
    2-core CPU (see notebooks 02 and 04; the measurements are in ``benchmarks/RESULTS.md``):

    * the same Conv 32 → Pool → Conv 64 → Pool → Conv 64 → Dense 64 shape as the
      classic small CNN, because on a CPU every multiply-add costs time: 'valid'
      convolutions and early pooling keep it to about 2.8 million multiply-adds per
      digit (stacking two 32-filter convolutions before the first pooling would double
      the cost for a hardly measurable gain);
    * batch normalisation in every block (after the pooling, see :func:`conv_block`) and
      after the hidden dense layer, there to make training faster rather than to regularise
      (notebook 04 trains the model with and without it on the same budget and measures that);
    * no dropout: augmentation is its regulariser (notebook 04 measures both).

    It holds no augmentation layer: training feeds it digits that ``tf.data`` has already
    augmented (:mod:`mnistlab.augmentation`: small rotations, zooms and shifts, and thinner or
    thicker strokes), in parallel with training, so the saved model is
    exactly the network that predicts. It is trained with AdamW and a warm-up + cosine
    learning-rate schedule (see :func:`mnistlab.training.compile_model`).
    """
    stack: list = [keras.Input(shape=INPUT_SHAPE)]
    stack += conv_block(32, "block1", pool=True)
    stack += conv_block(64, "block2", pool=True)
    stack += conv_block(64, "block3", pool=False)
    stack += [
        layers.Flatten(name="flatten"),
        layers.Dense(64, use_bias=False, name="hidden"),
        layers.BatchNormalization(momentum=BN_MOMENTUM, name="hidden_bn"),
        layers.ReLU(name="hidden_relu"),
        layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities"),
    ]
    return keras.Sequential(stack, name="default_cnn")


def build_lenet5() -> keras.Model:
    """LeNet-5, the historical reference: Conv 6 → Pool → Conv 16 → Pool → Dense 120 → 84 → 10 (61,706 parameters).

    Where it comes from: Yann LeCun et al., "Gradient-based learning applied to document
    recognition" (Proc. IEEE, 1998), the network that read cheques in American banks in the
    1990s and the ancestor of every CNN in this course. Written the way it is usually
    rebuilt today, with three differences from the paper, each because Keras has no
    ready-made layer for the original:

    * the paper pads the digits to 32×32; here the first convolution uses 'same' padding on
      the 28×28 digit, which gives the same 28×28×6 maps;
    * the paper's third layer connects each of its 16 maps to only some of the 6 maps
      below (to save computation in 1998); here every map sees all 6;
    * the paper's subsampling layers have a trainable weight and bias per map and its output
      layer is a set of radial-basis units; here they are plain average pooling and a softmax.

    The paper's C5 is a 5×5 convolution over 5×5 maps: one output per kernel, which is a dense
    layer on the 400 flattened values, and is written as one here.

    It keeps the paper's tanh activations and average pooling, which the later CNNs replaced
    with ReLU and max pooling.
    """
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            layers.Conv2D(6, 5, padding="same", activation="tanh", name="c1"),
            layers.AveragePooling2D(2, name="s2"),
            layers.Conv2D(16, 5, activation="tanh", name="c3"),
            layers.AveragePooling2D(2, name="s4"),
            layers.Flatten(name="flatten"),
            layers.Dense(120, activation="tanh", name="c5"),
            layers.Dense(84, activation="tanh", name="f6"),
            layers.Dense(NUM_CLASSES, activation="softmax", name="output"),
        ],
        name="lenet5",
    )


def build_deep_stack(activation: str, depth: int = 10, width: int = 64) -> keras.Model:
    """``depth`` hidden Dense layers of ``width`` units with ``activation``, on flattened digits.

    Not a model to train for real: notebook 02 uses it to measure how the choice of
    activation changes the gradient that reaches each layer (see :func:`kernel_gradient_sizes`).
    All layers keep Keras' default initialisation, so only the activation differs.
    """
    if depth < 1 or width < 1:
        raise ValueError(f"depth and width must be at least 1, got depth={depth}, width={width}")
    hidden = [layers.Dense(width, activation=activation, name=f"hidden{i + 1}") for i in range(depth)]
    return keras.Sequential(
        [keras.Input(shape=INPUT_SHAPE), layers.Flatten(), *hidden, layers.Dense(NUM_CLASSES, activation="softmax")],
        name=f"deep_{activation}",
    )


def kernel_gradient_sizes(model: keras.Model, images, labels) -> list[float]:
    """Mean absolute gradient of the loss with respect to each layer's kernel, first layer first.

    The loss is the sparse categorical cross-entropy of ``model`` on ``images`` (a batch of
    CNN input) and integer ``labels``. Layers without a kernel (pooling, flatten) are
    skipped. At initialisation this shows how much learning signal survives the way back
    from the output to each layer.
    """
    import tensorflow as tf

    images = np.asarray(images, dtype="float32")
    labels = np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels: give one label per image")
    kernels = [layer.kernel for layer in model.layers if hasattr(layer, "kernel")]
    if not kernels:
        raise ValueError(f"model {model.name!r} has no layer with a kernel (no Dense or Conv2D layer)")
    with tf.GradientTape() as tape:
        probabilities = model(images, training=False)
        loss = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, probabilities))
    gradients = tape.gradient(loss, kernels)
    return [float(np.mean(np.abs(np.asarray(gradient)))) for gradient in gradients]


def build(arch: architectures.Architecture) -> keras.Model:
    """A fresh, untrained network of the registered architecture ``arch`` (its ``builder`` in this module)."""
    return globals()[arch.builder]()


def build_model(name: str) -> keras.Model:
    """Build the registered architecture called ``name`` (one of :data:`mnistlab.architectures.MODEL_NAMES`)."""
    return build(architectures.get(name))


# Views of the registry (mnistlab.architectures) for notebook 02: name -> builder, name -> parameter count.
MODELS = {name: globals()[arch.builder] for name, arch in architectures.REGISTRY.items()}
EXPECTED_PARAMS = {name: arch.params for name, arch in architectures.REGISTRY.items()}


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: str = "valid") -> int:
    """Output width of a convolution or pooling window: ``(size - kernel) // stride + 1`` for 'valid'.

    With 'same' padding the border is padded so that only the stride shrinks the
    image: ``ceil(size / stride)``.
    """
    if padding == "valid":
        if kernel > size:
            raise ValueError(f"kernel {kernel} is larger than the input width {size}")
        return (size - kernel) // stride + 1
    if padding == "same":
        return -(-size // stride)
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


def conv_params(kernel: int, in_channels: int, filters: int, bias: bool = True) -> int:
    """Weights of a 2-D convolution: one ``kernel×kernel×in_channels`` filter (+ bias) per output channel."""
    return (kernel * kernel * in_channels + int(bias)) * filters


def dense_params(inputs: int, units: int, bias: bool = True) -> int:
    """Weights of a dense layer: every input connects to every unit (+ one bias per unit)."""
    return (inputs + int(bias)) * units


def receptive_field_steps(model: keras.Model):
    """The receptive-field recurrence, layer by layer: a DataFrame with ``k``, ``s``, ``j in``, ``r``, ``j``.

    For a window of ``k`` pixels moved ``s`` at a time (a convolution or a pooling layer),
    with ``j_in`` the *jump* (how many input pixels apart neighbouring values of its input are)::

        r_out = r_in + (k − 1) · j_in        j_out = j_in · s

    starting from ``r = 1``, ``j = 1`` on the input pixels. ``r`` is the receptive field: how many
    input pixels across one output value sees (the same along rows and columns here). Layers that
    work on each value alone (batch normalisation, ReLU, dropout) have ``k = s = 1`` and change
    nothing; layers that mix every position (Flatten, Dense) see the whole digit.
    """
    import pandas as pd

    size = INPUT_SHAPE[0]
    field, jump = 1, 1
    rows = []
    for layer in model.layers:
        config = layer.get_config()
        kernel, stride, jump_in = 1, 1, jump
        if isinstance(layer, (layers.Conv2D, layers.MaxPooling2D, layers.AveragePooling2D)):
            kernel = config.get("kernel_size", config.get("pool_size"))[0]
            stride = config["strides"][0]
            field += (kernel - 1) * jump
            jump *= stride
        elif isinstance(layer, (layers.Flatten, layers.Dense, layers.GlobalAveragePooling2D)):
            field = size
        rows.append(
            {"layer": layer.name, "k": kernel, "s": stride, "j in": jump_in, "r": min(field, size), "j": jump}
        )
    return pd.DataFrame(rows)


def layer_table(model: keras.Model):
    """A DataFrame with, for each layer: output shape, parameters and receptive field.

    The receptive field is how many input pixels (per side) one output value of the
    layer can see, from :func:`receptive_field_steps`: each 3×3 convolution adds
    ``(3 - 1) × jump`` pixels across, each 2×2 pooling adds ``(2 - 1) × jump`` and doubles
    the jump (the distance in input pixels between neighbouring outputs). Layers that mix
    every position (Flatten, Dense) see the whole 28×28 digit.
    """
    import pandas as pd

    fields = receptive_field_steps(model)["r"].tolist()
    rows = [
        {
            "layer": layer.name,
            "type": type(layer).__name__,
            "output shape": tuple(layer.output.shape),
            "parameters": layer.count_params(),
            "receptive field": f"{field}×{field}",
        }
        for layer, field in zip(model.layers, fields, strict=True)
    ]
    return pd.DataFrame(rows)
