"""Self-checks for notebook 02's convolution exercises: the learner's NumPy loops against Keras' own layers."""

# Every check makes new inputs each run (random images and kernels the learner has never seen), asks
# Keras (``Conv2D`` with ``use_bias=False`` and the same kernels, ``MaxPooling2D``) for the answer, and
# when the learner's result differs, tries the usual mistakes (a flipped kernel, zeros padded on the
# wrong side, an average instead of a maximum...) to say which one it is.


from __future__ import annotations

import numpy as np

from mnistlab import convolution
from mnistlab.exercises.checks import (
    NO_RESULT,
    call_learner,
    describe_error,
    failed,
    passed,
    require_function,
)

_ATOL = 1e-4  # float32 sums of a few dozen products: Keras and a NumPy loop agree to ~1e-6


def _close(result, expected) -> bool:
    return result.shape == expected.shape and bool(np.allclose(result, expected, rtol=1e-4, atol=_ATOL))


def _as_array(result, what: str, on: str, hint: str | None):
    """The learner's result as a float array, or None after reporting (❌) that it is not one."""
    try:
        return np.asarray(result, dtype="float64")
    except (TypeError, ValueError) as error:
        failed(what, f"on {on} your function returned a {type(result).__name__}, not an array of numbers "
                     f"({describe_error(error)})", hint)
        return None


def _first_difference(result: np.ndarray, expected: np.ndarray) -> str:
    different = ~np.isclose(result, expected, rtol=1e-4, atol=_ATOL)
    first = tuple(int(i) for i in np.argwhere(different)[0])
    return (f"{int(different.sum())} of {different.size} values differ from Keras' "
            f"(the first at index {first}: you have {result[first]:.4g}, Keras {expected[first]:.4g})")


def _run_cases(function, cases, what: str, hint: str, diagnose, note: str) -> bool:
    """Call ``function`` on each case ``(args, expected, description)``; the first wrong one is diagnosed."""
    if not require_function(function, what, hint):
        return False
    for args, expected, on in cases:
        result = call_learner(function, tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in args),
                              what, hint, on=on)
        if result is NO_RESULT:
            return False
        result = _as_array(result, what, on, hint)
        if result is None:
            return False
        if not _close(result, expected):
            return failed(what, f"on {on}: " + diagnose(result, expected, *args), hint)
    return passed(what, note.format(count=len(cases)))


# --------------------------------------------------------------------------- one channel, stride and padding

CORRELATE_HINT = (
    "for 'same', pad first with the zeros same_padding gives for each side; then the window of output (i, j) is "
    "kernel-sized and starts stride times further along for each step of i and j: multiply it by the kernel, as it "
    "is, and add up"
)


def _conv_cases(settings, rng, describe) -> list[tuple]:
    """``((image, kernel, stride, padding), Keras' Conv2D output, description)`` for each of ``settings``
    ``(image_shape, kernel_shape, stride, padding)``: new random numbers every run; ``describe(image_shape,
    kernel_shape)`` says what the case is, before its stride and padding."""
    rng = rng or np.random.default_rng()  # new numbers every run
    cases = []
    for image_shape, kernel_shape, stride, padding in settings:
        image = rng.normal(size=image_shape).astype("float32")
        kernel = rng.normal(size=kernel_shape).astype("float32")
        cases.append(((image, kernel, stride, padding), convolution.keras_conv(image, kernel, stride, padding),
                      f"{describe(image_shape, kernel_shape)}, stride {stride}, '{padding}'"))
    return cases


def correlate2d_cases(rng=None) -> list[tuple]:
    """Exercise 1's cases: new random images and kernels, strides 1 and 2, 'valid' and 'same', Keras' answers."""
    settings = [((7, 9), (3, 3), 1, "valid"), ((8, 11), (2, 3), 2, "valid"), ((9, 8), (3, 3), 1, "same"),
                ((10, 12), (3, 3), 2, "same"), ((12, 10), (5, 5), 2, "same")]

    def describe(image, kernel):
        return f"a {image[0]}×{image[1]} image, {kernel[0]}×{kernel[1]} kernel"

    return _conv_cases(settings, rng, describe)


def _padded_the_other_way(image, kernel, stride):
    """'same' with the larger half of the zeros at the top/left (or split evenly): a common slip."""
    widths = [convolution.same_padding(image.shape[axis], kernel.shape[axis], stride)[::-1] for axis in (0, 1)]
    return convolution.correlate2d(np.pad(image, widths), kernel, stride)


def _diagnose_correlate2d(result, expected, image, kernel, stride, padding) -> str:
    if result.shape != expected.shape:
        return (f"your output has shape {result.shape}; Keras' has {expected.shape} "
                f"(rows: conv_output_size({image.shape[0]}, {kernel.shape[0]}, {stride}, '{padding}'))")
    if _close(result, convolution.keras_conv(image, kernel[::-1, ::-1], stride, padding)):
        return ("your result is the convolution of mathematics, with the kernel flipped; Conv2D does not flip it "
                "(cross-correlation): multiply each window by the kernel as it is")
    if padding == "same" and _close(result, _padded_the_other_way(image, kernel, stride)):
        return ("the zeros are on the wrong side: with an odd number of zeros to add, Keras puts the smaller half "
                "at the top/left and the extra row/column at the bottom/right (same_padding gives both)")
    return _first_difference(result, expected)


def check_correlate2d(function: object, what: str = "Exercise 1", rng=None) -> bool:
    """Exercise 1: ``function(image, kernel, stride, padding)`` computes what ``Conv2D`` (no bias) does."""
    return _run_cases(function, correlate2d_cases(rng), what, CORRELATE_HINT, _diagnose_correlate2d,
                      "It matches keras.layers.Conv2D on {count} new images (strides 1 and 2, 'valid' and 'same').")


# --------------------------------------------------------------------------- several channels, several filters

CHANNELS_HINT = (
    "each output channel is the SUM over the input channels of a one-channel correlation of that channel with its "
    "own kernel of the filter; the F output maps go on the last axis"
)


def correlate_channels_cases(rng=None) -> list[tuple]:
    """Exercise 2's cases: new (H, W, C) images and (kh, kw, C, F) kernel stacks, with Keras' answers."""
    settings = [((8, 7, 3), (3, 3, 3, 4), 1, "valid"), ((9, 10, 2), (3, 3, 2, 5), 2, "same"),
                ((6, 6, 1), (3, 3, 1, 2), 1, "valid")]

    def describe(image, kernels):
        return f"a {'×'.join(map(str, image))} image with {kernels[3]} filters of {'×'.join(map(str, kernels[:3]))}"

    return _conv_cases(settings, rng, describe)


def _diagnose_channels(result, expected, image, kernels, stride, padding) -> str:
    channels, filters = kernels.shape[2], kernels.shape[3]
    if result.shape != expected.shape:
        if result.shape == (filters, *expected.shape[:2]):
            return (f"your output has shape {result.shape}, the filters first; Keras puts them last: "
                    f"{expected.shape} (np.stack(maps, axis=-1))")
        return f"your output has shape {result.shape}; Keras' has {expected.shape} (H', W', filters)"
    if channels > 1 and _close(result * channels, expected):
        return (f"your maps are the average over the {channels} input channels; a convolution layer adds them up "
                "(each filter's weights already set how much each channel counts)")
    if channels > 1 and _close(result, convolution.keras_conv(image[:, :, :1], kernels[:, :, :1], stride, padding)):
        return f"only the first of the {channels} input channels reached your maps: add up all of them"
    if _close(result, convolution.keras_conv(image, kernels[::-1, ::-1], stride, padding)):
        return "your kernels are flipped (a true convolution); Conv2D uses them as they are (cross-correlation)"
    return _first_difference(result, expected)


def check_correlate_channels(function: object, what: str = "Exercise 2", rng=None) -> bool:
    """Exercise 2: ``function(image, kernels, stride, padding)`` on (H, W, C) and (kh, kw, C, F) gives Conv2D's maps."""
    return _run_cases(function, correlate_channels_cases(rng), what, CHANNELS_HINT, _diagnose_channels,
                      "It matches keras.layers.Conv2D on {count} new images with 1 to 3 channels and 2 to 5 filters.")


# --------------------------------------------------------------------------- max-pooling

POOL_HINT = (
    "the output has as many rows as a 'valid' window of this size and stride has positions (likewise columns); each "
    "output value is the largest value of its window, one maximum per channel"
)


def max_pool_cases(rng=None) -> list[tuple]:
    """Exercise 3's cases: new (H, W, C) maps, windows of 2 and 3, strides 1 to 2, with MaxPooling2D's answers."""
    rng = rng or np.random.default_rng()
    settings = [((8, 8, 3), 2, 2), ((9, 7, 2), 3, 2), ((6, 5, 1), 2, 1)]
    cases = []
    for shape, size, stride in settings:
        image = rng.normal(size=shape).astype("float32")
        cases.append(((image, size, stride), convolution.keras_max_pool(image, size, stride),
                      f"a {'×'.join(map(str, shape))} map, {size}×{size} windows, stride {stride}"))
    return cases


def _pool(image, size, stride, reduce):
    """Pooling with any ``reduce`` over the window axes (the checks use it to recognise average pooling)."""
    rows = (image.shape[0] - size) // stride + 1
    columns = (image.shape[1] - size) // stride + 1
    return np.array([[reduce(image[i * stride : i * stride + size, j * stride : j * stride + size], axis=(0, 1))
                      for j in range(columns)] for i in range(rows)])


def _diagnose_pool(result, expected, image, size, stride) -> str:
    if result.shape != expected.shape:
        if stride != size and result.shape == convolution.keras_max_pool(image, size, size).shape:
            return (f"your output has shape {result.shape}, as if the window moved {size} at a time; "
                    f"it moves stride = {stride}: Keras gives {expected.shape}")
        return f"your output has shape {result.shape}; MaxPooling2D gives {expected.shape}"
    if _close(result, _pool(image, size, stride, np.mean)):
        return "your result is the average of each window (average pooling); max-pooling keeps the largest value"
    if _close(result, _pool(image, size, stride, np.min)):
        return "your result is the smallest value of each window; max-pooling keeps the largest"
    return _first_difference(result, expected)


def check_max_pool(function: object, what: str = "Exercise 3", rng=None) -> bool:
    """Exercise 3: ``function(image, size, stride)`` on an (H, W, C) map computes ``MaxPooling2D(size, stride)``."""
    return _run_cases(function, max_pool_cases(rng), what, POOL_HINT, _diagnose_pool,
                      "It matches keras.layers.MaxPooling2D on {count} new maps (windows 2 and 3, strides 1 and 2).")


# --------------------------------------------------------------------------- learning a kernel

LEARN_HINT = (
    "start from a kernel of zeros; at every step measure the mean squared error between the 'valid' correlation of "
    "the images with the kernel and the targets, take its gradient with respect to the kernel (tf.GradientTape, or "
    "by hand) and move the kernel a small step against it; record the loss of every step"
)
LEARN_STEPS, LEARN_RATE = 100, 0.1
EDGE_KERNELS = {
    "Sobel": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype="float32"),
    "Prewitt": np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype="float32"),
    "Scharr": np.array([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]], dtype="float32") / 4,
}


def hidden_edge_kernel(rng=None) -> np.ndarray:
    """A 3×3 edge detector the learner has not been shown: Sobel, Prewitt or Scharr, turned by a random quarter."""
    rng = rng or np.random.default_rng()
    kernel = list(EDGE_KERNELS.values())[rng.integers(len(EDGE_KERNELS))]
    return np.rot90(kernel, k=int(rng.integers(1, 4))).astype("float32")


def kernel_learning_pairs(kernel: np.ndarray, count: int = 8, size: int = 12, rng=None):
    """``count`` random images (size×size, standard normal) and their 'valid' cross-correlation with ``kernel``.

    Noise images make a well-posed problem: every pixel pattern occurs, so only one kernel fits.
    """
    rng = rng or np.random.default_rng()
    images = rng.normal(size=(count, size, size)).astype("float32")
    targets = np.stack([convolution.keras_conv(image, kernel) for image in images])
    return images, targets


def _learned(result, what: str) -> tuple | None:
    """``(kernel as 3×3, losses as 1-D)`` from the learner's ``(kernel, losses)``, or None after reporting why not."""
    if not isinstance(result, tuple | list) or len(result) != 2:
        failed(what, f"your function returned a {type(result).__name__}; return two things: (kernel, losses)",
               LEARN_HINT)
        return None
    kernel, losses = result
    try:
        kernel = np.asarray(kernel, dtype="float64")
        losses = np.asarray([float(loss) for loss in losses], dtype="float64")
    except (TypeError, ValueError) as error:
        failed(what, f"the kernel must be an array and the losses a list of numbers ({describe_error(error)})",
               LEARN_HINT)
        return None
    if kernel.size != 9:
        failed(what, f"your kernel has shape {kernel.shape}; it should hold 3×3 = 9 weights", LEARN_HINT)
        return None
    if losses.size < 2 or not np.isfinite(losses).all():
        failed(what, f"expected one finite loss per step, got {losses.size} values "
                     f"({'some not finite' if losses.size else 'none'})", LEARN_HINT)
        return None
    return kernel.reshape(3, 3), losses


def check_learn_kernel(function: object, what: str = "Exercise 4", rng=None, plot: bool = True) -> bool:
    """Exercise 4: ``function(images, targets, steps, learning_rate)`` recovers a hidden edge kernel.

    The check makes pairs with a kernel the learner has not seen, runs the learner's gradient
    descent for ``LEARN_STEPS`` steps, and wants the loss to have fallen a hundredfold and the kernel
    found to be within 0.05 of the hidden one, weight by weight. With ``plot`` it draws the loss curve
    and both kernels whenever the learner's function returned them.
    """
    if not require_function(function, what, LEARN_HINT):
        return False
    rng = rng or np.random.default_rng()
    hidden = hidden_edge_kernel(rng)
    images, targets = kernel_learning_pairs(hidden, rng=rng)
    result = call_learner(function, (images.copy(), targets.copy(), LEARN_STEPS, LEARN_RATE), what, LEARN_HINT,
                          on=f"{len(images)} new image pairs")
    if result is NO_RESULT:
        return False
    learned = _learned(result, what)
    if learned is None:
        return False
    kernel, losses = learned
    if plot:
        from mnistlab.plots.foundations import plot_kernel_recovery

        plot_kernel_recovery(hidden, kernel, losses)
    first, last = losses[0], losses[-1]
    if last > first:
        return failed(what, f"the loss rose from {first:.3g} to {last:.3g}: step against the gradient "
                            "(kernel -= learning_rate × gradient), not along it", LEARN_HINT)
    if last > first / 100:
        return failed(what, f"the loss went only from {first:.3g} to {last:.3g} in {losses.size} steps; "
                            "it should fall at least a hundredfold (is the update applied at every step?)", LEARN_HINT)
    error = np.abs(kernel - hidden)
    if error.max() > 0.05:
        if np.abs(kernel[::-1, ::-1] - hidden).max() <= 0.05:
            return failed(what, "your kernel is the hidden one flipped: the targets were made by Conv2D, "
                                "which does not flip its kernel", LEARN_HINT)
        worst = tuple(int(i) for i in np.unravel_index(error.argmax(), error.shape))
        return failed(what, f"your kernel differs from the hidden one by up to {error.max():.3g} "
                            f"(at {worst}: you have {kernel[worst]:.3g}, hidden {hidden[worst]:.3g})", LEARN_HINT)
    return passed(what, f"The loss fell from {first:.3g} to {last:.3g}; the kernel found is within "
                        f"{error.max():.1g} of the hidden edge detector.")
