"""Convolution and max-pooling written out in NumPy: what ``keras.layers.Conv2D`` and ``MaxPooling2D`` compute."""

# Notebook 02 shows these loops and its exercises ask learners to write their own; the self-checks
# compare a learner's function with Keras, and ``tests/test_convolution.py`` compares these with Keras.
# Like Keras (and every deep-learning library), a "convolution" here is a *cross-correlation*:
# the kernel slides over the image as it is, not flipped as in the convolution of mathematics.
# Layout follows Keras: an image is (height, width[, channels]), a kernel stack (kh, kw, channels, filters).


from __future__ import annotations

import numpy as np

from mnistlab.models import conv_output_size

PADDINGS = ("valid", "same")


def same_padding(size: int, kernel: int, stride: int = 1) -> tuple[int, int]:
    """Zeros to add before and after one axis for Keras' 'same' padding: ``(before, after)``.

    'same' keeps ``ceil(size / stride)`` outputs; the windows then need
    ``(outputs - 1) * stride + kernel`` values, and the missing ones are split with the
    smaller half before (top/left) and the larger after (bottom/right), as TensorFlow does.
    """
    outputs = conv_output_size(size, kernel, stride, "same")
    total = max((outputs - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_image(image: np.ndarray, kernel_shape: tuple[int, int], stride: int = 1, padding: str = "valid") -> np.ndarray:
    """``image`` (H, W[, C]) with the zero border that ``padding`` asks for (none for 'valid')."""
    if padding not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    image = np.asarray(image, dtype="float32")
    if padding == "valid":
        return image
    widths = [same_padding(image.shape[axis], kernel_shape[axis], stride) for axis in (0, 1)]
    return np.pad(image, widths + [(0, 0)] * (image.ndim - 2))


def correlate2d(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: str = "valid") -> np.ndarray:
    """One channel: slide ``kernel`` (kh, kw) over ``image`` (H, W), multiply and add at each stop.

    The output has ``conv_output_size(H, kh, stride, padding)`` rows (likewise columns); it equals
    ``Conv2D(1, (kh, kw), strides=stride, padding=padding, use_bias=False)`` given the same kernel.
    """
    kernel = np.asarray(kernel, dtype="float32")
    kh, kw = kernel.shape
    padded = pad_image(image, (kh, kw), stride, padding)
    rows = conv_output_size(padded.shape[0], kh, stride)  # the padding is already added: count 'valid' stops
    columns = conv_output_size(padded.shape[1], kw, stride)
    out = np.zeros((rows, columns), dtype="float32")
    for i in range(rows):
        for j in range(columns):
            window = padded[i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[i, j] = np.sum(window * kernel)
    return out


def correlate_channels(image: np.ndarray, kernels: np.ndarray, stride: int = 1, padding: str = "valid") -> np.ndarray:
    """A convolution layer without bias: ``image`` (H, W, C) and ``kernels`` (kh, kw, C, F) give (H', W', F).

    Output channel ``f`` is the sum over the input channels ``c`` of ``correlate2d(image[..., c],
    kernels[:, :, c, f])``: each filter is a stack of C kernels, one per input channel.
    """
    image = np.asarray(image, dtype="float32")
    kernels = np.asarray(kernels, dtype="float32")
    if image.ndim != 3 or kernels.ndim != 4 or kernels.shape[2] != image.shape[2]:
        raise ValueError(f"need image (H, W, C) and kernels (kh, kw, C, F), got {image.shape} and {kernels.shape}")
    maps = [
        sum(correlate2d(image[:, :, c], kernels[:, :, c, f], stride, padding) for c in range(image.shape[2]))
        for f in range(kernels.shape[3])
    ]
    return np.stack(maps, axis=-1)


def max_pool2d(image: np.ndarray, size: int = 2, stride: int | None = None) -> np.ndarray:
    """The largest value of each ``size``×``size`` window, moved ``stride`` at a time (default: ``size``).

    ``image`` is (H, W) or (H, W, C), each channel pooled alone; windows that would stick out of the
    image are dropped ('valid'), as in ``keras.layers.MaxPooling2D(size, strides=stride)``.
    """
    image = np.asarray(image, dtype="float32")
    stride = stride or size
    rows = conv_output_size(image.shape[0], size, stride)
    columns = conv_output_size(image.shape[1], size, stride)
    out = np.zeros((rows, columns, *image.shape[2:]), dtype="float32")
    for i in range(rows):
        for j in range(columns):
            window = image[i * stride : i * stride + size, j * stride : j * stride + size]
            out[i, j] = window.max(axis=(0, 1))
    return out


def keras_conv(image: np.ndarray, kernels: np.ndarray, stride: int = 1, padding: str = "valid") -> np.ndarray:
    """What ``keras.layers.Conv2D`` (no bias) computes with ``kernels`` (kh, kw[, C, F]) on ``image`` (H, W[, C]).

    The reference the self-checks and the tests compare NumPy loops with; a 2-D image and kernel
    give a 2-D result, like :func:`correlate2d`.
    """
    import keras

    image = np.asarray(image, dtype="float32")
    kernels = np.asarray(kernels, dtype="float32")
    flat = image.ndim == 2
    if flat:
        image, kernels = image[:, :, None], kernels[:, :, None, None]
    layer = keras.layers.Conv2D(kernels.shape[3], kernels.shape[:2], strides=stride, padding=padding, use_bias=False)
    layer.build((None, *image.shape))
    layer.set_weights([kernels])
    out = np.asarray(layer(image[None]))[0]
    return out[:, :, 0] if flat else out


def keras_max_pool(image: np.ndarray, size: int = 2, stride: int | None = None) -> np.ndarray:
    """What ``keras.layers.MaxPooling2D(size, strides=stride)`` computes on ``image`` (H, W[, C])."""
    import keras

    image = np.asarray(image, dtype="float32")
    flat = image.ndim == 2
    batch = (image[:, :, None] if flat else image)[None]
    out = np.asarray(keras.layers.MaxPooling2D(size, strides=stride or size)(batch))[0]
    return out[:, :, 0] if flat else out
