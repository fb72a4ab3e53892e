"""Notebooks 01 and 02: their library helpers, and every exercise's check fed two right styles and one wrong answer."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from mnistlab import config, convolution, data, models, plots, priors  # noqa: E402
from mnistlab.exercises import convolution_checks, data_checks, model_checks  # noqa: E402


def _outcomes(capsys, run, answers):
    """Run a check on each answer; return (ok, printed text) per answer."""
    results = []
    for answer in answers:
        ok = run(answer)
        results.append((ok, capsys.readouterr().out))
    return results


def _assert_right_right_wrong(results, *wrong_words):
    (ok1, out1), (ok2, out2), (ok3, out3) = results
    assert ok1 is True and "✅" in out1 and "❌" not in out1, out1
    assert ok2 is True and "✅" in out2 and "❌" not in out2, out2
    assert ok3 is False and "❌" in out3, out3
    for words in wrong_words:
        assert words in out3, out3


# --------------------------------------------------------------------------- data helpers


def test_shift_images_moves_ink_and_fills_with_background():
    images = np.arange(2 * 5 * 5, dtype=np.uint8).reshape(2, 5, 5) + 1
    shifted = data.shift_images(images, [1, -2], [0, 1])
    assert np.array_equal(shifted[0, 1:], images[0, :-1]) and not shifted[0, 0].any()
    assert np.array_equal(shifted[1, :-2, 1:], images[1, 2:, :-1])
    assert not shifted[1, -2:].any() and not shifted[1, :, 0].any()
    assert np.array_equal(data.shift_images(images, 0, 0), images)
    with pytest.raises(ValueError, match="smaller than the image"):
        data.shift_images(images, 5, 0)


def test_random_shifts_move_exactly_the_distance_in_one_of_eight_directions():
    rows, columns = data.random_shifts(500, 2, seed=3)
    assert set(np.abs(rows)) <= {0, 2} and set(np.abs(columns)) <= {0, 2}
    assert not np.any((rows == 0) & (columns == 0))
    assert len(set(zip(rows.tolist(), columns.tolist(), strict=True))) == 8
    again = data.random_shifts(500, 2, seed=3)
    assert np.array_equal(rows, again[0]) and np.array_equal(columns, again[1])


def test_a_fixed_permutation_scatters_pixels_and_can_be_undone():
    permutation = data.fixed_pixel_permutation(seed=1)
    assert np.array_equal(permutation, data.fixed_pixel_permutation(seed=1))
    assert sorted(permutation.tolist()) == list(range(784))
    images = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28)).astype(np.uint8)
    scrambled = data.permute_pixels(images, permutation)
    assert scrambled.shape == images.shape and not np.array_equal(scrambled, images)
    assert np.array_equal(data.permute_pixels(scrambled, np.argsort(permutation)), images)
    with pytest.raises(ValueError, match="each of the 784"):
        data.permute_pixels(images, np.zeros(784, dtype=int))


def _line(slope_per_row: float) -> np.ndarray:
    """A one-pixel stroke whose column moves ``slope_per_row`` to the right per row upwards."""
    image = np.zeros((28, 28))
    for row in range(4, 24):
        image[row, int(round(14 + (14 - row) * slope_per_row))] = 1.0
    return image


def test_slant_angles_of_known_strokes():
    upright, right, left = _line(0.0), _line(0.5), _line(-0.5)
    angles = data.slant_angles(np.stack([upright, right, left]))
    assert abs(angles[0]) < 1e-9
    assert angles[1] == pytest.approx(math.degrees(math.atan(0.5)), abs=1.5)
    assert angles[2] == pytest.approx(-angles[1], abs=1e-9)
    stack = np.stack([right] * 12)[..., None]  # with a channel axis, and more than one chunk
    data_module_chunk = data._SLANT_CHUNK
    try:
        data._SLANT_CHUNK = 5
        assert np.allclose(data.slant_angles(stack), angles[1])
    finally:
        data._SLANT_CHUNK = data_module_chunk
    with pytest.raises(ValueError, match="needs some ink"):
        data.slant_angles(np.zeros((1, 28, 28)))


def test_slant_histogram_draws_the_rotation_band():
    fig = plots.plot_slant_histogram(np.array([-10.0, 0.0, 5.0, 20.0]), rotation=3.6)
    assert "3.6" in fig.axes[0].get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError, match="1-D"):
        plots.plot_slant_histogram(np.zeros((2, 2)))


# --------------------------------------------------------------------------- priors


def test_one_template_per_digit_is_its_mean_image(mnist_small):
    (x_train, y_train), _ = mnist_small
    templates, labels = priors.digit_templates(x_train, y_train, per_class=1)
    assert templates.shape == (10, 784) and labels.tolist() == list(range(10))
    assert np.allclose(templates[3], (x_train[y_train == 3] / 255.0).mean(axis=0).ravel(), atol=1e-6)
    many, many_labels = priors.digit_templates(x_train, y_train, per_class=4)
    assert many.shape == (40, 784) and np.bincount(many_labels).tolist() == [4] * 10
    with pytest.raises(ValueError, match="at least 1"):
        priors.digit_templates(x_train, y_train, per_class=0)


def test_more_templates_per_digit_classify_better(mnist_small):
    (x_train, y_train), (x_test, y_test) = mnist_small
    one = priors.template_accuracy(x_train, y_train, x_test, y_test, per_class=1)
    ten = priors.template_accuracy(x_train, y_train, x_test, y_test, per_class=10)
    assert 0.5 < one < ten <= 1.0


def test_compare_priors_returns_one_row_per_model(mnist_small):
    tiny = priors.PriorsBudget(train_size=200, epochs=1, test_size=50, shift=2)
    table = priors.compare_priors(mnist_small, tiny)
    assert table.index.tolist() == ["dense", "small_cnn"]
    assert table.columns.tolist() == ["original", "shifted test digits", "permuted pixels", "seconds"]
    accuracies = table.drop(columns="seconds").to_numpy()
    assert ((accuracies >= 0) & (accuracies <= 1)).all() and (table["seconds"] > 0).all()


def test_priors_budget_follows_the_mode(monkeypatch):
    monkeypatch.setenv("MNISTLAB_FAST", "1")
    assert priors.priors_budget() == priors.priors_budget(config.FAST)
    monkeypatch.setenv("MNISTLAB_FAST", "0")
    assert priors.priors_budget() == priors.priors_budget(config.FULL)


# --------------------------------------------------------------------------- receptive fields


def test_receptive_field_recurrence_for_the_default_model():
    steps = models.receptive_field_steps(models.build_default_model()).set_index("layer")
    assert steps.loc["block1_conv", "r"] == 3 and steps.loc["block1_pool", "r"] == 4
    assert steps.loc["block2_conv", "r"] == 8 and steps.loc["block2_pool", "r"] == 10
    assert steps.loc["block3_conv", "r"] == 18 and steps.loc["hidden", "r"] == 28
    assert steps.loc["block2_conv", "j in"] == 2 and steps.loc["block3_conv", "j in"] == 4
    assert steps.loc["block1_bn", "k"] == 1 and steps.loc["block1_bn", "r"] == 4


def test_receptive_field_of_a_strided_convolution():
    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(4, 5, strides=2), layers.Conv2D(4, 3)])
    steps = models.receptive_field_steps(model)
    assert steps["r"].tolist() == [5, 5 + 2 * 2] and steps["j"].tolist() == [2, 2]


# --------------------------------------------------------------------------- notebook 01's exercises


@pytest.fixture(scope="module")
def small(mnist_arrays):
    (x_train, y_train), (x_test, y_test) = mnist_arrays
    x, y = data.stratified_subset(x_train, y_train, 3_000, seed=0)
    return x, y, x_test[:500], y_test[:500]


def test_01_exercise_1_brightest_digit(capsys, small):
    x, y, _, _ = small
    by_loop = int(np.argmax([x[y == d].mean() for d in range(10)]))
    by_bincount = int(np.argmax(np.bincount(y, weights=x.mean(axis=(1, 2))) / np.bincount(y)))
    brightest_image = int(x.mean(axis=(1, 2)).argmax())  # wrong: the position of the brightest image, not a digit
    assert brightest_image != by_loop
    results = _outcomes(capsys, lambda a: data_checks.check_brightest_digit(a, x, y), [by_loop, by_bincount,
                                                                                       brightest_image])
    _assert_right_right_wrong(results, "which is not the expected value")


def test_01_exercise_2_dense_input(capsys, small):
    _, _, x_test, _ = small
    answers = [
        data.flatten_images(data.scale_pixels(x_test)),
        (x_test.reshape(len(x_test), -1) / np.float32(255)).astype("float32"),
        x_test.reshape(len(x_test), 784) / 255,  # float64
    ]
    results = _outcomes(capsys, lambda a: data_checks.check_dense_input(a, x_test), answers)
    _assert_right_right_wrong(results, "dtype is float64, not float32")
    assert results[2][1].count("✅") == 2  # shape and values are right, only the dtype is not


@pytest.mark.filterwarnings("ignore:self.within_class_std_dev_:UserWarning")
def test_01_exercise_3_nearest_mean(capsys, small):
    from sklearn.neighbors import NearestCentroid

    x, y, x_test, y_test = small
    reference = data_checks.nearest_mean_predictions(x, y, x_test)

    templates = np.stack([x[y == d].mean(axis=0) / 255.0 for d in range(10)]).reshape(10, -1)
    samples = x_test.reshape(len(x_test), -1) / 255.0
    by_numpy = ((samples[:, None] - templates[None]) ** 2).sum(axis=2).argmin(axis=1)
    by_sklearn = NearestCentroid().fit(x.reshape(len(x), -1) / 255.0, y).predict(samples)
    by_argmax = ((samples[:, None] - templates[None]) ** 2).sum(axis=2).argmax(axis=1)  # wrong: farthest mean

    def answer(predictions):
        accuracy = float((predictions == y_test).mean())
        return predictions, accuracy, (1 - accuracy) / 0.01

    def run(predictions):
        return data_checks.check_nearest_mean(*answer(predictions), reference, y_test)

    results = _outcomes(capsys, run, [by_numpy, by_sklearn, by_argmax])
    _assert_right_right_wrong(results, "Exercise 3 (predictions)", "values differ from the expected ones")


def test_01_exercise_4_worst_digit(capsys, small):
    from sklearn.metrics import confusion_matrix

    _, _, _, y_test = small
    x, y, x_test, _ = small
    predictions = data_checks.nearest_mean_predictions(x, y, x_test)
    by_loop = int(np.argmin([(predictions[y_test == d] == d).mean() for d in range(10)]))
    matrix = confusion_matrix(y_test, predictions, labels=range(10))
    by_matrix = int(np.argmin(np.diag(matrix) / matrix.sum(axis=1)))
    best = int(np.argmax(np.diag(matrix) / matrix.sum(axis=1)))  # wrong: the highest recall
    results = _outcomes(capsys, lambda a: data_checks.check_worst_digit(a, y_test, predictions),
                        [by_loop, by_matrix, best])
    _assert_right_right_wrong(results, f"got {best}, which is not the expected value")


def _one_hot_by_eye(labels, num_classes=10):
    return np.eye(num_classes, dtype="float32")[np.asarray(labels)]


def _one_hot_by_loop(labels, num_classes=10):
    rows = np.zeros((len(labels), num_classes), dtype=np.float32)
    for row, label in enumerate(labels):
        rows[row, label] = 1
    return rows


def _one_hot_as_int(labels, num_classes=10):
    return np.eye(num_classes, dtype=np.int64)[np.asarray(labels)]


def test_01_exercise_5_one_hot(capsys):
    rng = np.random.default_rng(5)
    results = _outcomes(capsys, lambda f: data_checks.check_one_hot(f, rng=rng),
                        [_one_hot_by_eye, _one_hot_by_loop, _one_hot_as_int])
    _assert_right_right_wrong(results, "the right values with dtype int64, expected dtype float32")


def _pick_by_choice(labels, fraction, seed=0):
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    picked = [rng.choice(np.flatnonzero(labels == c), size=round(fraction * np.sum(labels == c)), replace=False)
              for c in np.unique(labels)]
    return np.sort(np.concatenate(picked))


def _pick_by_shuffle(labels, fraction, seed=0):
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.unique(labels):
        positions = rng.permutation(np.flatnonzero(labels == c))
        picked.extend(positions[: round(fraction * len(positions))].tolist())
    return np.array(picked)


def _pick_ignoring_seed(labels, fraction, seed=0):
    return _pick_by_choice(labels, fraction, seed=None)  # a fresh random pick every call


def _pick_with_fixed_seed(labels, fraction, seed=0):
    return _pick_by_choice(labels, fraction, seed=123)


def _pick_first(labels, fraction, seed=0):
    labels = np.asarray(labels)
    return np.concatenate([np.flatnonzero(labels == c)[: round(fraction * np.sum(labels == c))]
                           for c in np.unique(labels)])


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (_pick_ignoring_seed, "two calls with the same seed gave different positions"),
        (_pick_with_fixed_seed, "the pick does not change with the seed"),
        (_pick_first, "the first positions of each class"),
    ],
    ids=["no seed", "fixed seed", "first positions"],
)
def test_01_exercise_6_stratified_split(capsys, mnist_arrays, wrong, words):
    (_, _), (_, y_test) = mnist_arrays
    rng = np.random.default_rng(6)
    results = _outcomes(capsys, lambda f: data_checks.check_stratified_split(f, y_test, rng=rng),
                        [_pick_by_choice, _pick_by_shuffle, wrong])
    _assert_right_right_wrong(results, "Exercise 6 (random, seeded)", words)
    assert "✅ Exercise 6: correct!" in results[2][1]  # stratified all right: only the seed is wrong


def test_01_exercise_6_an_unstratified_pick_is_told(capsys, mnist_arrays):
    (_, _), (_, y_test) = mnist_arrays

    def anywhere(labels, fraction, seed=0):
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(len(labels), size=round(fraction * len(labels)), replace=False))

    ok = data_checks.check_stratified_split(anywhere, y_test, rng=np.random.default_rng(1))
    out = capsys.readouterr().out
    assert ok is False and "❌ Exercise 6: on 100 labels of 3 classes" in out
    assert "positions of class" in out and "pick that share of every class separately" in out


def test_01_checks_say_not_done_for_placeholders(capsys, small):
    x, y, x_test, y_test = small

    def unwritten(*args, **kwargs):
        raise NotImplementedError

    for ok in (
        data_checks.check_brightest_digit(..., x, y),
        data_checks.check_dense_input(..., x_test),
        data_checks.check_nearest_mean(..., ..., ..., y_test, y_test),
        data_checks.check_worst_digit(..., y_test, y_test),
        data_checks.check_one_hot(unwritten),
        data_checks.check_stratified_split(unwritten, y_test),
    ):
        assert ok is False
    out = capsys.readouterr().out
    assert "✅" not in out and out.count("❌ ") == out.count("not done yet")
    assert out.count("Exercise 6") == 2  # both parts of exercise 6 say "not done yet"


# --------------------------------------------------------------------------- notebook 02's exercises
# Exercises 1-4 (convolution, channels, max-pooling, learning a kernel): each check is fed a loop, a vectorised
# answer and the usual mistakes, on its own random inputs compared with Keras.


def _padded(image, kernel_shape, stride, padding):
    if padding == "valid":
        return image
    return np.pad(image, [convolution.same_padding(image.shape[axis], kernel_shape[axis], stride) for axis in (0, 1)]
                  + [(0, 0)] * (image.ndim - 2))


def _correlate_by_loops(image, kernel, stride=1, padding="valid"):
    kh, kw = kernel.shape
    image = _padded(image, kernel.shape, stride, padding)
    rows, columns = (image.shape[0] - kh) // stride + 1, (image.shape[1] - kw) // stride + 1
    out = np.zeros((rows, columns))
    for i in range(rows):
        for j in range(columns):
            out[i, j] = np.sum(image[i * stride : i * stride + kh, j * stride : j * stride + kw] * kernel)
    return out


def _correlate_by_windows(image, kernel, stride=1, padding="valid"):
    windows = np.lib.stride_tricks.sliding_window_view(_padded(image, kernel.shape, stride, padding), kernel.shape)
    return np.einsum("ijkl,kl->ij", windows[::stride, ::stride], kernel)


def _convolve_flipped(image, kernel, stride=1, padding="valid"):  # the convolution of mathematics
    return _correlate_by_loops(image, kernel[::-1, ::-1], stride, padding)


def _padded_evenly(image, kernel, stride=1, padding="valid"):  # (k - 1) // 2 zeros on every side
    if padding == "same":
        image = np.pad(image, [((kernel.shape[0] - 1) // 2,) * 2, ((kernel.shape[1] - 1) // 2,) * 2])
    return _correlate_by_loops(image, kernel, stride)


@pytest.mark.parametrize(
    ("wrong", "words"),
    [(_convolve_flipped, "the kernel flipped"), (_padded_evenly, "the zeros are on the wrong side")],
    ids=["flipped kernel", "padding offset"],
)
def test_02_exercise_1_correlate2d(capsys, wrong, words):
    rng = np.random.default_rng(1)
    results = _outcomes(capsys, lambda f: convolution_checks.check_correlate2d(f, rng=rng),
                        [_correlate_by_loops, _correlate_by_windows, wrong])
    _assert_right_right_wrong(results, "❌ Exercise 1: on a ", words)


def test_02_exercise_1_a_wrong_output_size_is_told(capsys):
    def no_padding(image, kernel, stride=1, padding="valid"):
        return _correlate_by_loops(image, kernel, stride)

    ok = convolution_checks.check_correlate2d(no_padding, rng=np.random.default_rng(0))
    out = capsys.readouterr().out
    assert ok is False and "'same': your output has shape (7, 6); Keras' has (9, 8)" in out


def _channels_by_loops(image, kernels, stride=1, padding="valid"):
    maps = [sum(_correlate_by_loops(image[:, :, c], kernels[:, :, c, f], stride, padding)
                for c in range(image.shape[2])) for f in range(kernels.shape[3])]
    return np.stack(maps, axis=-1)


def _channels_by_tensordot(image, kernels, stride=1, padding="valid"):
    padded = _padded(image, kernels.shape, stride, padding)
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernels.shape[:2], axis=(0, 1))[::stride, ::stride]
    return np.tensordot(windows, kernels, axes=([3, 4, 2], [0, 1, 2]))  # windows: (H', W', C, kh, kw)


def _channels_averaged(image, kernels, stride=1, padding="valid"):
    return _channels_by_loops(image, kernels, stride, padding) / image.shape[2]


def _channels_first(image, kernels, stride=1, padding="valid"):
    return np.moveaxis(_channels_by_loops(image, kernels, stride, padding), -1, 0)


@pytest.mark.parametrize(
    ("wrong", "words"),
    [(_channels_averaged, "the average over the 3 input channels"), (_channels_first, "the filters first")],
    ids=["mean over channels", "filters first"],
)
def test_02_exercise_2_correlate_channels(capsys, wrong, words):
    rng = np.random.default_rng(2)
    results = _outcomes(capsys, lambda f: convolution_checks.check_correlate_channels(f, rng=rng),
                        [_channels_by_loops, _channels_by_tensordot, wrong])
    _assert_right_right_wrong(results, "❌ Exercise 2: on a 8×7×3 image with 4 filters", words)


def _pool_by_loops(image, size=2, stride=2):
    rows, columns = (image.shape[0] - size) // stride + 1, (image.shape[1] - size) // stride + 1
    out = np.zeros((rows, columns, image.shape[2]))
    for i in range(rows):
        for j in range(columns):
            out[i, j] = image[i * stride : i * stride + size, j * stride : j * stride + size].max(axis=(0, 1))
    return out


def _pool_by_windows(image, size=2, stride=2):
    windows = np.lib.stride_tricks.sliding_window_view(image, (size, size), axis=(0, 1))
    return windows[::stride, ::stride].max(axis=(-2, -1))


def _pool_average(image, size=2, stride=2):
    windows = np.lib.stride_tricks.sliding_window_view(image, (size, size), axis=(0, 1))
    return windows[::stride, ::stride].mean(axis=(-2, -1))


def _pool_ignoring_stride(image, size=2, stride=2):
    return _pool_by_loops(image, size, size)


@pytest.mark.parametrize(
    ("wrong", "words"),
    [(_pool_average, "on a 8×8×3 map, 2×2 windows, stride 2: your result is the average of each window"),
     (_pool_ignoring_stride, "on a 9×7×2 map, 3×3 windows, stride 2: your output has shape (3, 2, 2), as if the "
                             "window moved 3 at a time")],
    ids=["average pooling", "stride ignored"],
)
def test_02_exercise_3_max_pool(capsys, wrong, words):
    rng = np.random.default_rng(3)
    results = _outcomes(capsys, lambda f: convolution_checks.check_max_pool(f, rng=rng),
                        [_pool_by_loops, _pool_by_windows, wrong])
    _assert_right_right_wrong(results, "❌ Exercise 3", words)


def _learn_with_nn_conv2d(images, targets, steps=100, learning_rate=0.1, ascend=False):
    x, y = tf.constant(images[..., None]), tf.constant(targets[..., None])
    kernel = tf.Variable(tf.zeros((3, 3, 1, 1)))
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.nn.conv2d(x, kernel, strides=1, padding="VALID") - y) ** 2)
        step = learning_rate * tape.gradient(loss, kernel)
        kernel.assign_add(step) if ascend else kernel.assign_sub(step)  # ascend: the wrong sign
        losses.append(float(loss))
    return kernel.numpy()[:, :, 0, 0], losses


def _learn_with_a_layer(images, targets, steps=100, learning_rate=0.1):
    layer = keras.layers.Conv2D(1, 3, use_bias=False, kernel_initializer="random_normal")
    optimizer = keras.optimizers.SGD(learning_rate)
    x = images[..., None]
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = keras.losses.MeanSquaredError()(targets[..., None], layer(x))
        optimizer.apply_gradients(zip(tape.gradient(loss, layer.trainable_weights), layer.trainable_weights,
                                      strict=True))
        losses.append(loss.numpy())
    return np.squeeze(layer.get_weights()[0]), losses


def _learn_by_ascending(images, targets, steps=100, learning_rate=0.1):
    return _learn_with_nn_conv2d(images, targets, steps, learning_rate, ascend=True)


def test_02_exercise_4_learn_kernel(capsys):
    rng = np.random.default_rng(4)
    results = _outcomes(capsys, lambda f: convolution_checks.check_learn_kernel(f, rng=rng, plot=False),
                        [_learn_with_nn_conv2d, _learn_with_a_layer, _learn_by_ascending])
    _assert_right_right_wrong(results, "Exercise 4: the loss rose from", "step against the gradient")


def test_02_exercise_4_too_few_updates_and_its_figure(capsys):
    import matplotlib.pyplot as plt

    def one_update(images, targets, steps=100, learning_rate=0.1):  # wrong: the update sits after the loop
        kernel, losses = _learn_with_nn_conv2d(images, targets, 1, learning_rate)
        return kernel, losses * steps

    ok = convolution_checks.check_learn_kernel(one_update, rng=np.random.default_rng(5))
    out = capsys.readouterr().out
    assert ok is False and "the loss went only from" in out and "is the update applied at every step?" in out
    assert [ax.get_title() for ax in plt.gcf().axes] == ["loss", "hidden kernel", "kernel found"]
    plt.close("all")


def test_02_exercise_4_the_hidden_kernel_is_an_edge_detector_not_shown_in_the_notebook():
    seen = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])  # the notebook's sobel_x
    for seed in range(12):
        kernel = convolution_checks.hidden_edge_kernel(np.random.default_rng(seed))
        assert kernel.shape == (3, 3) and abs(kernel.sum()) < 1e-6 and not np.allclose(kernel, seen)


def test_02_convolution_checks_say_not_done_for_placeholders(capsys):
    def unwritten(*args, **kwargs):
        raise NotImplementedError

    for check in (convolution_checks.check_correlate2d, convolution_checks.check_correlate_channels,
                  convolution_checks.check_max_pool):
        assert check(unwritten) is False and check(...) is False
    assert convolution_checks.check_learn_kernel(unwritten, plot=False) is False
    out = capsys.readouterr().out
    assert "✅" not in out and out.count("❌ ") == out.count("not done yet") == 7


def _functional_dropout_cnn():
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, (3, 3), activation="relu")(inputs)
    x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Conv2D(64, (3, 3))(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Dropout(0.5)(layers.Flatten()(x))
    x = layers.Dense(128, activation=tf.nn.relu)(x)
    outputs = layers.Softmax()(layers.Dense(10)(x))
    return keras.Model(inputs, outputs)


def _sequential_dropout_cnn(dropout=True):
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), *([layers.Dropout(0.5)] if dropout else []),
        layers.Dense(128, activation="relu"), layers.Dense(10, activation=tf.nn.softmax),
    ])


def test_02_exercise_5_dropout_cnn(capsys):
    reference = models.build_dropout_cnn()
    answers = [_functional_dropout_cnn(), _sequential_dropout_cnn(), _sequential_dropout_cnn(dropout=False)]
    results = _outcomes(capsys, lambda a: model_checks.check_model(a, reference, "Exercise 5"), answers)
    _assert_right_right_wrong(results, "layer 6 is a Dense; the reference has here: Dropout")
