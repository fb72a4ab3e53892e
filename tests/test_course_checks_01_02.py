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

from mnistlab import data, models, plots, priors  # noqa: E402
from mnistlab.exercises import check_equal, data_checks, model_checks  # noqa: E402


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
    assert priors.priors_budget() == priors.PRIORS_BUDGETS["fast"]
    monkeypatch.setenv("MNISTLAB_FAST", "0")
    assert priors.priors_budget() == priors.PRIORS_BUDGETS["full"]


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


def test_02_exercise_1_output_shape(capsys):
    expected = keras.layers.Conv2D(16, 5, strides=2).compute_output_shape((None, 28, 28, 1))[1]
    answers = [(28 - 5) // 2 + 1, models.conv_output_size(28, 5, 2), math.ceil(28 / 2)]  # the last: 'same' padding
    results = _outcomes(capsys, lambda a: check_equal(a, expected, "Exercise 1"), answers)
    _assert_right_right_wrong(results, "got 14")


def test_02_exercise_2_parameter_count(capsys):
    reference = keras.layers.Conv2D(16, 5)
    reference.build((None, 28, 28, 1))
    answers = [(5 * 5 * 1 + 1) * 16, models.conv_params(5, 1, 16), 5 * 5 * 16]  # the last forgets the biases
    results = _outcomes(capsys, lambda a: check_equal(a, reference.count_params(), "Exercise 2"), answers)
    _assert_right_right_wrong(results, "got 400")


def _slope_from_sigmoid(z):
    s = 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
    return s * (1 - s)


def _slope_from_exp(z):
    from scipy.special import expit

    z = np.asarray(z, dtype=float)
    return expit(z) * expit(-z)


def _sigmoid_itself(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))


def test_02_exercise_3_sigmoid_slope(capsys):
    rng = np.random.default_rng(3)
    results = _outcomes(capsys, lambda f: model_checks.check_sigmoid_slope(f, rng=rng),
                        [_slope_from_sigmoid, _slope_from_exp, _sigmoid_itself])
    _assert_right_right_wrong(results, "on an array of shape (20,)", "values wrong")


def test_02_exercise_3_a_flattened_result_is_wrong(capsys):
    ok = model_checks.check_sigmoid_slope(lambda z: _slope_from_sigmoid(z).ravel(), rng=np.random.default_rng(0))
    assert ok is False and "shape (15,), expected shape (3, 5)" in capsys.readouterr().out


def test_02_exercise_4_shrink_per_layer(capsys):
    sizes = [1e-6 * 5.0**layer for layer in range(10)] + [1.0]  # shrinks by 5 per layer towards the input
    by_ends = ((sizes[9] / sizes[0]) ** (1 / 9), "a")
    by_logs = (float(np.exp(np.mean(np.diff(np.log(sizes[:10]))))), "(a)")
    inverted = ((sizes[0] / sizes[9]) ** (1 / 9), "b")
    results = _outcomes(capsys, lambda a: model_checks.check_shrink_per_layer(*a, sizes), [by_ends, by_logs, inverted])
    _assert_right_right_wrong(results, "Exercise 4 (factor): 0.2 is not the value", "'b' (less than 4) is not right")


def test_02_exercise_5_lenet_dense_share(capsys):
    lenet = models.build_lenet5()
    dense = sum(layer.count_params() for layer in lenet.layers if isinstance(layer, keras.layers.Dense))
    by_type = dense / lenet.count_params()
    by_name = sum(lenet.get_layer(name).count_params() for name in ("c5", "f6", "output")) / lenet.count_params()
    hidden_only = (dense - lenet.get_layer("output").count_params()) / lenet.count_params()
    results = _outcomes(capsys, model_checks.check_lenet_dense_share, [by_type, by_name, hidden_only])
    _assert_right_right_wrong(results, "is not the value this exercise asks for")


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


def test_02_exercise_6_dropout_cnn(capsys):
    reference = models.build_dropout_cnn()
    answers = [_functional_dropout_cnn(), _sequential_dropout_cnn(), _sequential_dropout_cnn(dropout=False)]
    results = _outcomes(capsys, lambda a: model_checks.check_model(a, reference, "Exercise 6"), answers)
    _assert_right_right_wrong(results, "layer 6 is a Dense; the reference has here: Dropout")
