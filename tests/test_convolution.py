"""mnistlab.convolution: the NumPy loops compute what Keras' Conv2D and MaxPooling2D compute; its figures draw."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mnistlab import convolution  # noqa: E402
from mnistlab.plots import foundations  # noqa: E402


def _keras_conv(image, kernels, stride, padding):
    """Conv2D without bias, the kernels set with set_weights: written here independently of the library."""
    layer = keras.layers.Conv2D(kernels.shape[-1], kernels.shape[:2], strides=stride, padding=padding, use_bias=False)
    layer.build((None, *image.shape))
    layer.set_weights([kernels])
    return np.asarray(layer(image[None]))[0]


@pytest.mark.parametrize(
    ("image_shape", "kernel_shape", "stride", "padding"),
    [((7, 9), (3, 3), 1, "valid"), ((8, 11), (2, 3), 2, "valid"), ((9, 8), (3, 3), 1, "same"),
     ((10, 12), (3, 3), 2, "same"), ((12, 10), (5, 5), 2, "same"), ((11, 10), (4, 4), 3, "same")],
)
def test_correlate2d_is_keras_conv2d(image_shape, kernel_shape, stride, padding):
    rng = np.random.default_rng(0)
    image = rng.normal(size=image_shape).astype("float32")
    kernel = rng.normal(size=kernel_shape).astype("float32")
    expected = _keras_conv(image[:, :, None], kernel[:, :, None, None], stride, padding)[:, :, 0]
    np.testing.assert_allclose(convolution.correlate2d(image, kernel, stride, padding), expected, atol=1e-5)
    np.testing.assert_allclose(convolution.keras_conv(image, kernel, stride, padding), expected, atol=1e-6)


def test_correlate2d_does_not_flip_the_kernel():
    image = np.zeros((5, 5), dtype="float32")
    image[2, 2] = 1.0  # one bright pixel: each output value reads one kernel weight
    kernel = np.arange(9, dtype="float32").reshape(3, 3)
    out = convolution.correlate2d(image, kernel, padding="same")
    # a window centred above-left of the pixel sees it at its bottom-right weight: the kernel appears turned by 180°
    np.testing.assert_array_equal(out[1:4, 1:4], kernel[::-1, ::-1])


def test_same_padding_puts_the_extra_zero_after():
    assert convolution.same_padding(10, 3, 1) == (1, 1)
    assert convolution.same_padding(10, 3, 2) == (0, 1)  # 5 windows of 3, stride 2, need 11 values: one zero
    assert convolution.same_padding(10, 4, 1) == (1, 2)
    assert convolution.same_padding(9, 3, 3) == (0, 0)


def test_correlate_channels_is_a_conv2d_layer():
    rng = np.random.default_rng(1)
    image = rng.normal(size=(9, 10, 3)).astype("float32")
    kernels = rng.normal(size=(3, 3, 3, 4)).astype("float32")
    for stride, padding in ((1, "valid"), (2, "same")):
        np.testing.assert_allclose(convolution.correlate_channels(image, kernels, stride, padding),
                                   _keras_conv(image, kernels, stride, padding), atol=1e-5)
    with pytest.raises(ValueError, match=r"kernels \(kh, kw, C, F\)"):
        convolution.correlate_channels(image, kernels[:, :, :2])


@pytest.mark.parametrize(("shape", "size", "stride"), [((8, 8, 3), 2, None), ((9, 7, 2), 3, 2), ((6, 5), 2, 1)])
def test_max_pool2d_is_keras_max_pooling(shape, size, stride):
    image = np.random.default_rng(2).normal(size=shape).astype("float32")
    batch = (image if image.ndim == 3 else image[:, :, None])[None]
    expected = np.asarray(keras.layers.MaxPooling2D(size, strides=stride or size)(batch))[0]
    ours = convolution.max_pool2d(image, size, stride)
    np.testing.assert_array_equal(ours if ours.ndim == 3 else ours[:, :, None], expected)
    np.testing.assert_array_equal(convolution.keras_max_pool(image, size, stride), ours)


def test_a_bad_padding_name_is_refused():
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        convolution.correlate2d(np.zeros((4, 4)), np.ones((3, 3)), padding="full")


def test_plot_kernel_stack_draws_filters_by_channels():
    kernels = np.random.default_rng(3).normal(size=(3, 3, 5, 10))
    fig = foundations.plot_kernel_stack(kernels, max_filters=4, max_channels=3)
    assert len(fig.axes) == 12 and "first 4 of 10 filters, 3 of 5 channels" in fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(ValueError, match="kh, kw, channels, filters"):
        foundations.plot_kernel_stack(np.zeros((3, 3)))


def test_plot_kernel_recovery_shows_the_loss_and_both_kernels():
    true = np.arange(9.0).reshape(3, 3)
    fig = foundations.plot_kernel_recovery(true, true.ravel() + 0.01, [10.0, 1.0, 0.1])
    assert [ax.get_title() for ax in fig.axes] == ["loss", "hidden kernel", "kernel found"]
    assert len(fig.axes[0].lines[0].get_xdata()) == 3
    plt.close(fig)
    with pytest.raises(ValueError, match="losses is empty"):
        foundations.plot_kernel_recovery(true, true, [])
