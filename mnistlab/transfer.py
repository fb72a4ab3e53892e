"""Transfer learning: the trained CNN's convolutional base on scikit-learn's 8x8 digits, upscaled to MNIST's style."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mnistlab import config

LOAD_DIGITS_MAX = 16  # load_digits counts ink in 4x4 blocks of a 32x32 bitmap: values 0..16


def to_mnist_style(digit: np.ndarray) -> np.ndarray:
    """One 8x8 ``load_digits`` image (0..16) as an MNIST-like (28, 28) float image in [0, 1].

    As MNIST was made: scale to [0, 1], crop to the ink, fit the longest side into a 20x20 box
    (aspect kept), then place in 28x28 with the centre of mass at the centre.
    """
    from mnistlab import images

    small = np.asarray(digit, dtype="float32")
    if small.shape != (8, 8):
        raise ValueError(f"expected one 8x8 load_digits image, got shape {small.shape}.")
    if small.min() < 0 or small.max() > LOAD_DIGITS_MAX:
        raise ValueError(f"load_digits pixels run 0..{LOAD_DIGITS_MAX}, got {small.min()}..{small.max()}.")
    small = small / LOAD_DIGITS_MAX
    ink = small > 0
    if not ink.any():
        return np.zeros((28, 28), dtype="float32")
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    cropped = small[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return images.centre_by_mass(images.fit_box(cropped)).astype("float32")


def load_small_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``load_digits`` (1,797 handwritten digits, shipped offline) as CNN input.

    Returns ``(x, y)``: x of shape (1797, 28, 28, 1), float32 in [0, 1]; y the integer labels.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.stack([to_mnist_style(image) for image in bunch.images])[..., np.newaxis]
    return x, bunch.target.astype(int)


def few_labels(x, y, per_class: int, seed: int = config.SEED) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` randomly chosen examples of every digit (a labelling budget), shuffled."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    picked = []
    for digit in np.unique(y):
        where = np.flatnonzero(y == digit)
        if per_class > len(where):
            raise ValueError(f"per_class={per_class} but digit {digit} has only {len(where)} examples.")
        picked.append(rng.choice(where, per_class, replace=False))
    order = rng.permutation(np.concatenate(picked))
    return np.asarray(x)[order], y[order]


def build_transfer_model(pretrained=None, freeze: bool = True, name: str = "transfer"):
    """The default model's convolution blocks plus a new head (Flatten → Dense 64 → Dropout → Dense 10).

    With ``pretrained`` (a trained default model) the blocks start from its weights, copied, so
    training never changes ``pretrained``; ``freeze`` keeps them fixed (their batch normalisation
    then also stays in inference mode) and only the head learns. Without it, the same
    architecture starts from random weights: training from scratch.
    """
    import keras

    from mnistlab import architectures, data, models

    arch = architectures.default()
    if arch.cut_layer is None:
        raise ValueError(f"the default model {arch.name!r} names no cut_layer in mnistlab.architectures")
    fresh = models.build(arch)
    names = [layer.name for layer in fresh.layers]
    base_layers = fresh.layers[: names.index(arch.cut_layer) + 1]
    base = keras.Sequential([keras.Input(shape=data.INPUT_SHAPE), *base_layers], name="conv_base")
    if pretrained is not None:
        available = {layer.name for layer in pretrained.layers}
        missing = [layer.name for layer in base_layers if layer.name not in available]
        if missing:
            raise ValueError(
                f"pretrained model {pretrained.name!r} has no layers {', '.join(missing)}: pass the trained "
                f"default model (training.load_or_train_default())."
            )
        for layer in base_layers:
            layer.set_weights(pretrained.get_layer(layer.name).get_weights())
        base.trainable = not freeze
    return keras.Sequential(
        [
            keras.Input(shape=data.INPUT_SHAPE),
            base,
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(10, activation="softmax"),
        ],
        name=name,
    )


def compare_with_scratch(pretrained, x_pool, y_pool, x_test, y_test, per_class=(10, 50), epochs: int = 30,
                         batch_size: int = 32, seed: int = config.SEED) -> pd.DataFrame:
    """Accuracy on ``x_test`` of the frozen pretrained base + new head vs the same network from scratch.

    For each labelling budget in ``per_class`` both learn from the same few labelled digits drawn
    from the pool. Returns one row per (budget, method): ``per_class``, ``labels``, ``method``
    (``"transfer (frozen base)"`` or ``"from scratch"``), ``accuracy``, ``low`` and ``high`` (its 95 %
    Wilson interval on the ``len(y_test)`` test digits) and ``seconds``.
    """
    from mnistlab import statistics
    from mnistlab.crossval import train_and_score

    rows = []
    for n in per_class:
        x_few, y_few = few_labels(x_pool, y_pool, n, seed=seed)
        builders = {
            "transfer (frozen base)": lambda: build_transfer_model(pretrained, freeze=True),
            "from scratch": lambda: build_transfer_model(None),
        }
        for method, build in builders.items():
            accuracy, seconds = train_and_score(build, x_few, y_few, x_test, y_test, epochs, batch_size, seed)
            low, high = statistics.wilson_interval(round(accuracy * len(y_test)), len(y_test))
            rows.append((n, len(y_few), method, accuracy, low, high, seconds))
    return pd.DataFrame(rows, columns=["per_class", "labels", "method", "accuracy", "low", "high", "seconds"])
