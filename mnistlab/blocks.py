"""Modern CNN building blocks (1×1 convolution, GAP head, residual block, He vs Glorot): notebook 06's reference."""

# * a 1×1 convolution: a Dense layer applied to every pixel's channel vector (Lin et al., 2014);
# * global average pooling in place of Flatten + Dense (Lin et al., 2014): one number per channel, so the head's
#   size no longer depends on the image size;
# * a residual block (He et al., 2016): ``ReLU(F(x) + x)``, with a 1×1 projection of ``x`` when the channels differ;
# * He initialisation (He et al., 2015) against Glorot's (Glorot & Bengio, 2010) on a deep ReLU stack.

from __future__ import annotations

import numpy as np

from mnistlab import config
from mnistlab.architectures import Recipe

SMALL_CNN_FILTERS = (16, 32)  # the two convolution blocks of the small CNN both heads sit on


def _conv_blocks(input_shape) -> list:
    """The two convolution blocks both small CNNs share: 3×3 'same' convolutions, each halved by 2×2 max-pooling."""
    import keras

    layers = [keras.Input(shape=tuple(input_shape))]
    for filters in SMALL_CNN_FILTERS:
        layers += [keras.layers.Conv2D(filters, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(2)]
    return layers


def flatten_cnn(input_shape=(28, 28, 1), classes: int = 10):
    """The small CNN with the classic head: Flatten, then one Dense softmax layer (20,490 parameters on 28×28×1)."""
    import keras

    return keras.Sequential([*_conv_blocks(input_shape), keras.layers.Flatten(),
                             keras.layers.Dense(classes, activation="softmax")], name="flatten_head")


def gap_cnn(input_shape=(28, 28, 1), classes: int = 10):
    """The same convolution blocks with global average pooling instead of Flatten (5,130 parameters on 28×28×1).

    Each channel's feature map is averaged to one number, so the head has ``channels × classes + classes``
    weights whatever the image size.
    """
    import keras

    return keras.Sequential([*_conv_blocks(input_shape), keras.layers.GlobalAveragePooling2D(),
                             keras.layers.Dense(classes, activation="softmax")], name="gap_head")


def residual_block(x, filters: int):
    """``ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut)`` with 3×3 'same' convolutions (He et al., 2016).

    The shortcut is ``x`` itself when it already has ``filters`` channels, else a 1×1 convolution of ``x``
    (a *projection*) so that the two tensors can be added.
    """
    import keras

    layers = keras.layers
    y = layers.Conv2D(filters, 3, padding="same")(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(y))
    shortcut = x if x.shape[-1] == filters else layers.Conv2D(filters, 1)(x)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def deep_relu_stack(initializer: str, depth: int = 20, width: int = 256, inputs: int = 784):
    """``depth`` Dense ReLU layers of ``width`` units, kernels drawn by ``initializer`` (biases start at 0)."""
    import keras

    return keras.Sequential([keras.Input(shape=(inputs,))] + [
        keras.layers.Dense(width, activation="relu", kernel_initializer=initializer) for _ in range(depth)
    ], name=f"deep_relu_{initializer}")


def activation_stds(model, x) -> list[float]:
    """The standard deviation of each layer's output when ``x`` goes through ``model``, first layer first."""
    stds = []
    for layer in model.layers:
        x = layer(x)
        stds.append(float(np.std(np.asarray(x))))
    return stds


# A short budget: on 5,000 digits x 3 epochs, Adam at 3e-3 lifted the GAP head well above what the course's usual
# 1e-3 reaches and left the Flatten head where it was (benchmarks/RESULTS.md).
BRIEF_RECIPE = Recipe(learning_rate=3e-3)


def train_briefly(build, x, y, epochs: int, batch_size: int = 64, seed: int = config.SEED):
    """A model from ``build()`` trained on ``(x, y)`` with :data:`BRIEF_RECIPE` (Adam, integer labels).

    The seed is set before the model is built, so every model compared starts from the same random state and sees
    the same batches.
    """
    from mnistlab import training

    config.set_seed(seed)
    model = build()
    training.fit_briefly(model, x, np.asarray(y), epochs, batch_size, recipe=BRIEF_RECIPE)
    return model
