"""mnistlab.evaluation on tiny hand-made predictions whose right answers are worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mnistlab import evaluation

# Six digits, four right: 0 is confused with 1 once, 2 with 0 once.
Y_TRUE = np.array([0, 0, 1, 1, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 0])


def one_hot_like(rows: list[dict[int, float]]) -> np.ndarray:
    """Probability rows from {digit: probability} dicts; the rest is spread evenly."""
    out = np.zeros((len(rows), 10))
    for i, row in enumerate(rows):
        rest = (1 - sum(row.values())) / (10 - len(row))
        out[i] = rest
        for digit, p in row.items():
            out[i, digit] = p
    return out


# --------------------------------------------------------------------------- headline metrics


def test_accuracy_counts_exact_matches():
    assert evaluation.accuracy(Y_TRUE, Y_PRED) == pytest.approx(4 / 6)
    assert evaluation.accuracy([3, 3], [3, 3]) == 1.0


def test_metrics_table_per_class_values_worked_out_by_hand():
    table = evaluation.metrics_table(Y_TRUE, Y_PRED)
    assert list(table.index) == [str(d) for d in range(10)] + ["macro", "weighted"]
    assert list(table.columns) == ["precision", "recall", "f1", "support"]
    # digit 0: predicted at positions 0 and 5, right once -> P = 1/2; found 1 of 2 -> R = 1/2
    assert table.loc["0", ["precision", "recall", "f1"]].tolist() == pytest.approx([0.5, 0.5, 0.5])
    # digit 1: predicted 3 times, right twice -> P = 2/3; both 1s found -> R = 1; F1 = 0.8
    assert table.loc["1", ["precision", "recall", "f1"]].tolist() == pytest.approx([2 / 3, 1.0, 0.8])
    # digit 2: predicted once, right -> P = 1; one of two found -> R = 1/2; F1 = 2/3
    assert table.loc["2", ["precision", "recall", "f1"]].tolist() == pytest.approx([1.0, 0.5, 2 / 3])
    assert table["support"].tolist()[:4] == [2, 2, 2, 0]
    # digits that never occur have zero support and zeros, not warnings
    assert table.loc["7"].tolist() == [0, 0, 0, 0]


def test_macro_and_weighted_average_only_the_digits_that_occur():
    table = evaluation.metrics_table(Y_TRUE, Y_PRED)
    assert table.loc["macro", "precision"] == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert table.loc["macro", "recall"] == pytest.approx((0.5 + 1 + 0.5) / 3)
    assert table.loc["macro", "f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert table.loc["macro", "support"] == 6

    # unequal support: three 4s all right, one 9 predicted as 4
    weighted = evaluation.metrics_table([4, 4, 4, 9], [4, 4, 4, 4])
    # precision: 4 -> 3/4, 9 -> 0 (never predicted); weights 3/4 and 1/4
    assert weighted.loc["weighted", "precision"] == pytest.approx(0.75 * 0.75 + 0.25 * 0)
    assert weighted.loc["macro", "precision"] == pytest.approx((0.75 + 0) / 2)
    # recall: 4 -> 1, 9 -> 0; weighted recall equals accuracy
    assert weighted.loc["weighted", "recall"] == pytest.approx(0.75)
    assert weighted.loc["macro", "recall"] == pytest.approx(0.5)


def test_metrics_table_agrees_with_scikit_learn_report():
    from sklearn.metrics import classification_report

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, 300)
    y_pred = np.where(rng.random(300) < 0.8, y_true, rng.integers(0, 10, 300))
    ours = evaluation.metrics_table(y_true, y_pred)
    theirs = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    for digit in range(10):
        assert ours.loc[str(digit), "f1"] == pytest.approx(theirs[str(digit)]["f1-score"])
    assert ours.loc["macro", "f1"] == pytest.approx(theirs["macro avg"]["f1-score"])
    assert ours.loc["weighted", "recall"] == pytest.approx(theirs["weighted avg"]["recall"])
    text = evaluation.classification_report_text(y_true, y_pred)
    assert "macro avg" in text and "weighted avg" in text


def test_log_loss_is_mean_negative_log_of_the_true_digit():
    proba = one_hot_like([{0: 0.5}, {1: 0.25}])
    expected = -(math.log(0.5) + math.log(0.25)) / 2
    assert evaluation.log_loss([0, 1], proba) == pytest.approx(expected)
    # a zero probability on the true digit is clipped like Keras, so the loss stays finite
    certain_wrong = np.zeros((1, 10))
    certain_wrong[0, 3] = 1.0
    assert evaluation.log_loss([2], certain_wrong) == pytest.approx(-math.log(evaluation.EPSILON))


# --------------------------------------------------------------------------- confusions


def test_confusion_matrix_counts_and_row_normalised():
    counts = evaluation.confusion(Y_TRUE, Y_PRED)
    assert counts.shape == (10, 10)
    expected = np.zeros((10, 10), dtype=int)
    expected[0, 0] = expected[0, 1] = 1
    expected[1, 1] = 2
    expected[2, 2] = expected[2, 0] = 1
    np.testing.assert_array_equal(counts, expected)

    rows = evaluation.confusion(Y_TRUE, Y_PRED, normalize="true")
    np.testing.assert_allclose(rows[:3].sum(axis=1), 1.0)
    np.testing.assert_allclose(rows[3:], 0.0)  # digits never seen: a row of zeros, not NaN
    assert rows[1, 1] == 1.0 and rows[0, 1] == 0.5


def test_confusion_rejects_unknown_normalisation():
    with pytest.raises(ValueError, match="normalize='rows'"):
        evaluation.confusion(Y_TRUE, Y_PRED, normalize="rows")


def test_per_digit_accuracy_is_recall_and_nan_for_absent_digits():
    per_digit = evaluation.per_digit_accuracy(Y_TRUE, Y_PRED)
    assert per_digit[:3].tolist() == [0.5, 1.0, 0.5]
    assert per_digit[3:].isna().all()
    table = evaluation.metrics_table(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(per_digit[:3].to_numpy(), table["recall"][:3].to_numpy())


def test_most_confused_pairs_directed_and_symmetric():
    y_true = [3, 3, 3, 5, 5, 8, 4, 9, 9, 7]
    y_pred = [5, 5, 8, 3, 5, 3, 9, 4, 9, 7]
    directed = evaluation.most_confused_pairs(y_true, y_pred, top=3)
    assert directed[["true", "predicted", "count"]].values.tolist() == [[3, 5, 2], [3, 8, 1], [4, 9, 1]]
    assert directed.loc[0, "share"] == pytest.approx(2 / 3)

    pairs = evaluation.most_confused_pairs(y_true, y_pred, symmetric=True)
    assert pairs[["digit_a", "digit_b", "count", "a_as_b", "b_as_a"]].values.tolist() == [
        [3, 5, 3, 2, 1],
        [3, 8, 2, 1, 1],
        [4, 9, 2, 1, 1],
    ]
    assert evaluation.most_confused_pairs([1, 2], [1, 2]).empty


# --------------------------------------------------------------------------- mistakes and calibration


def test_ranked_mistakes_most_confident_first():
    y_true = [0, 1, 2, 3]
    proba = one_hot_like([
        {0: 0.9},            # right
        {7: 0.6, 1: 0.3},    # wrong: 1 -> 7 at 0.6
        {5: 0.95, 3: 0.02},  # wrong: 2 -> 5 at 0.95, p(true)=rest
        {3: 0.8},            # right
    ])
    mistakes = evaluation.ranked_mistakes(y_true, proba)
    assert mistakes["index"].tolist() == [2, 1]
    assert mistakes["true"].tolist() == [2, 1]
    assert mistakes["predicted"].tolist() == [5, 7]
    assert mistakes["confidence"].tolist() == pytest.approx([0.95, 0.6])
    assert mistakes.loc[1, "p_true"] == pytest.approx(0.3)
    assert mistakes.loc[1, "runner_up"] == 1
    assert mistakes.loc[0, "runner_up"] == 3


def test_calibration_table_and_ece_worked_out_by_hand():
    # two predictions at 0.95 (one right), two at 0.55 (both right)
    proba = one_hot_like([{1: 0.95}, {1: 0.95}, {2: 0.55}, {2: 0.55}])
    y_true = [1, 0, 2, 2]
    table = evaluation.calibration_table(y_true, proba, bins=10)
    assert table["count"].tolist() == [2, 2]
    assert table["low"].tolist() == pytest.approx([0.5, 0.9])
    assert table["accuracy"].tolist() == pytest.approx([1.0, 0.5])
    assert table["gap"].tolist() == pytest.approx([0.55 - 1.0, 0.95 - 0.5])
    expected_ece = (2 * 0.45 + 2 * 0.45) / 4
    assert evaluation.expected_calibration_error(y_true, proba) == pytest.approx(expected_ece)

    summary = evaluation.confidence_summary(y_true, proba)
    assert summary.n == 4 and summary.accuracy == pytest.approx(0.75)
    assert summary.mean_confidence_wrong == pytest.approx(0.95)
    assert summary.mean_confidence_right == pytest.approx((0.95 + 0.55 + 0.55) / 3)
    assert summary.share_wrong_above_90 == 1.0
    assert summary.as_series()["expected_calibration_error"] == pytest.approx(expected_ece)


def test_confidence_of_exactly_one_falls_in_the_last_bin():
    proba = np.zeros((1, 10))
    proba[0, 4] = 1.0
    table = evaluation.calibration_table([4], proba, bins=5)
    assert table[["low", "high", "count", "gap"]].values.tolist() == [[0.8, 1.0, 1, 0.0]]


def test_precision_recall_curves_perfect_scores_give_ap_one():
    proba = one_hot_like([{0: 0.9}, {1: 0.9}, {0: 0.8}, {1: 0.7}])
    curves = evaluation.precision_recall_curves([0, 1, 0, 1], proba)
    assert sorted(curves) == [0, 1]  # digits absent from y_true have no curve
    assert curves[0][2] == pytest.approx(1.0)
    assert curves[1][2] == pytest.approx(1.0)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([0, 1], [0], "y_true has 2 labels but y_pred has 1"),
        ([0, 10], [0, 1], "y_true must lie in 0..9"),
        ([[0, 1]], [0], "1-D array"),
        ([0.5, 1], [0, 1], "whole-number"),
        ([], [], "empty"),
    ],
)
def test_bad_labels_are_named_in_the_error(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        evaluation.metrics_table(y_true, y_pred)


def test_probabilities_must_be_rows_of_ten_that_sum_to_one():
    with pytest.raises(ValueError, match=r"shape \(N, 10\)"):
        evaluation.ranked_mistakes([0], np.ones((1, 9)) / 9)
    with pytest.raises(ValueError, match="softmax"):
        evaluation.ranked_mistakes([0], np.full((1, 10), 3.0))


# --------------------------------------------------------------------------- any model that can predict


class LabelsOnly:
    """Like an SVC without probability=True: predict gives labels."""

    def predict(self, x):
        return np.asarray(x)[:, 0].astype(int)


class WithProba:
    """Like a scikit-learn classifier with predict_proba."""

    def predict_proba(self, x):
        return one_hot_like([{int(v): 0.91} for v in np.asarray(x)[:, 0]])


def test_report_is_tidy_for_a_label_only_model():
    x = np.array([[0], [1], [1], [1], [2], [0]])  # the "model" predicts the first column
    frame = evaluation.report(LabelsOnly(), x, Y_TRUE, name="toy")
    assert list(frame.columns) == ["model", "scope", "metric", "value"]
    assert set(frame["model"]) == {"toy"}
    wide = frame.pivot(index="scope", columns="metric", values="value")
    assert wide.loc["overall", "accuracy"] == pytest.approx(4 / 6)
    assert wide.loc["1", "precision"] == pytest.approx(2 / 3)
    assert wide.loc["macro", "recall"] == pytest.approx(2 / 3)
    assert "log_loss" not in set(frame["metric"])  # no probabilities, so no loss


def test_report_adds_loss_and_ece_when_the_model_gives_probabilities():
    x = Y_PRED.reshape(-1, 1)
    frame = evaluation.report(WithProba(), x, Y_TRUE)
    assert set(frame["model"]) == {"WithProba"}
    overall = frame[frame["scope"] == "overall"].set_index("metric")["value"]
    assert overall["accuracy"] == pytest.approx(4 / 6)
    expected_loss = -(4 * math.log(0.91) + 2 * math.log(0.01)) / 6
    assert overall["log_loss"] == pytest.approx(expected_loss)
    assert overall["ece"] == pytest.approx(abs(0.91 - 4 / 6))


def test_report_accepts_a_plain_function_and_rejects_objects_that_cannot_predict():
    frame = evaluation.report(lambda x: np.asarray(x)[:, 0], Y_PRED.reshape(-1, 1), Y_TRUE, name="fn")
    assert frame.query("scope == 'overall' and metric == 'accuracy'")["value"].item() == pytest.approx(4 / 6)
    with pytest.raises(TypeError, match="cannot predict"):
        evaluation.report(object(), Y_PRED.reshape(-1, 1), Y_TRUE)


@pytest.fixture(scope="module")
def one_pixel_model():
    """A tiny Keras softmax model whose output depends on pixel (5, 7) only, and only for digit 3."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    weights = np.zeros((784, 10), dtype="float32")
    weights[5 * 28 + 7, 3] = 8.0
    model.layers[-1].set_weights([weights, np.zeros(10, dtype="float32")])
    return model


def test_evaluate_and_report_work_with_a_keras_model(one_pixel_model):
    x = np.zeros((4, 28, 28, 1), dtype="float32")
    x[:2, 5, 7, 0] = 1.0  # lit pixel -> digit 3 wins; dark images -> all ten equal, argmax 0
    y = np.array([3, 0, 0, 1])
    result = evaluation.evaluate(one_pixel_model, x, y)
    assert result.y_pred.tolist() == [3, 3, 0, 0]
    assert result.accuracy == pytest.approx(0.5)
    p3 = math.exp(8) / (math.exp(8) + 9)
    assert result.loss == pytest.approx(-(math.log(p3) + math.log((1 - p3) / 9) + 2 * math.log(0.1)) / 4, rel=1e-5)
    assert result.mistakes()["index"].tolist() == [1, 3]
    assert result.confusion()[0, 3] == 1
    assert isinstance(result.metrics(), pd.DataFrame)
    frame = evaluation.report(one_pixel_model, x, y, name="one-pixel")
    assert frame.query("scope == 'overall' and metric == 'accuracy'")["value"].item() == pytest.approx(0.5)


def test_evaluate_refuses_label_only_models():
    with pytest.raises(ValueError, match="labels, not probabilities"):
        evaluation.evaluate(LabelsOnly(), Y_PRED.reshape(-1, 1), Y_TRUE)


def test_saliency_lights_up_exactly_the_pixel_that_drives_the_score(one_pixel_model):
    x = np.full((2, 28, 28, 1), 0.5, dtype="float32")
    maps, explained = evaluation.saliency(one_pixel_model, x, digits=[3, 3])
    assert maps.shape == (2, 28, 28)
    assert explained.tolist() == [3, 3]
    assert maps[0, 5, 7] == pytest.approx(1.0)
    maps[:, 5, 7] = 0
    assert np.abs(maps).max() == 0.0  # no other pixel changes the probability of a 3

    # with the predicted digit, the map is normalised to [0, 1]
    maps, explained = evaluation.saliency(one_pixel_model, x)
    assert explained.tolist() == [3, 3]
    assert maps.min() >= 0 and maps.max() == pytest.approx(1.0)


# --------------------------------------------------------------------------- Grad-CAM

HORIZONTAL = np.array([[-1, -1, -1], [2, 2, 2], [-1, -1, -1]], dtype="float32")


def bar_detector_model(strength: float = 10.0):
    """Channel 0 of its one convolution finds horizontal bars, channel 1 vertical ones;
    digit 0's score is the mean of channel 0, digit 1's the mean of channel 1."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="bars"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name="bar_detector",
    )
    kernel = np.stack([HORIZONTAL, HORIZONTAL.T], axis=-1)[:, :, np.newaxis, :]
    model.get_layer("bars").set_weights([kernel, np.zeros(2, dtype="float32")])
    head = np.zeros((2, 10), dtype="float32")
    head[0, 0] = head[1, 1] = strength
    model.get_layer("probabilities").set_weights([head, np.zeros(10, dtype="float32")])
    return model


def two_bars() -> np.ndarray:
    """A horizontal bar in the top-left quarter and a vertical bar in the bottom-right one."""
    image = np.zeros((1, 28, 28, 1), dtype="float32")
    image[0, 5, 3:12] = 1.0
    image[0, 16:26, 20] = 1.0
    return image


def share_in(maps: np.ndarray, rows: slice, cols: slice) -> float:
    return float(maps[0, rows, cols].sum() / maps[0].sum())


TOP_LEFT, BOTTOM_RIGHT = (slice(0, 14), slice(0, 14)), (slice(14, 28), slice(14, 28))


def test_grad_cam_finds_the_evidence_for_each_class_in_its_own_place():
    model = bar_detector_model()
    maps, explained = evaluation.grad_cam(model, np.repeat(two_bars(), 2, axis=0), digits=[0, 1])
    assert maps.shape == (2, 28, 28) and explained.tolist() == [0, 1]
    assert maps.min() >= 0.0 and maps.max() == pytest.approx(1.0)
    # digit 0 is explained by the horizontal bar, digit 1 by the vertical one: same image, other place
    # (the detectors answer weakly at the other bar's ends, hence not 100 %)
    assert share_in(maps[:1], *TOP_LEFT) > 0.85
    assert share_in(maps[1:], *BOTTOM_RIGHT) > 0.85
    assert maps[0, 5, 7] == pytest.approx(1.0, abs=0.05)  # the middle of the horizontal bar
    assert maps[1, 21, 20] == pytest.approx(1.0, abs=0.05)  # the middle of the vertical bar


def test_grad_cam_explains_the_predicted_digit_by_default():
    image = two_bars()
    image[0, 16:26, 20] = 0.0  # only the horizontal bar: digit 0 wins
    maps, explained = evaluation.grad_cam(bar_detector_model(), image)
    assert explained.tolist() == [0]
    assert share_in(maps, *TOP_LEFT) > 0.95


def test_grad_cam_still_has_a_map_when_the_softmax_saturates():
    # A probability of exactly 1.0 has a zero gradient; Grad-CAM differentiates the score before it.
    image = two_bars()
    image[0, 16:26, 20] = 0.0
    model = bar_detector_model(strength=5_000.0)
    assert float(model(image)[0, 0]) == 1.0
    maps, _ = evaluation.grad_cam(model, image, digits=[0])
    assert maps.max() == pytest.approx(1.0)
    assert share_in(maps, *TOP_LEFT) > 0.95


def test_grad_cam_is_the_same_for_a_saved_and_reloaded_model(tmp_path):
    # A reloaded Sequential calls its layers several times; the map must come from the real graph.
    import keras

    model = bar_detector_model()
    model.save(tmp_path / "bars.keras")
    reloaded = keras.models.load_model(tmp_path / "bars.keras")
    expected, _ = evaluation.grad_cam(model, two_bars(), digits=[1])
    actual, _ = evaluation.grad_cam(reloaded, two_bars(), digits=[1])
    np.testing.assert_allclose(actual, expected, atol=1e-6)


def test_grad_cam_layer_is_the_last_conv_block_output_with_a_map_of_at_least_5x5():
    from mnistlab import models

    # the default model's blocks end at 13x13, 5x5 and 3x3 maps: the 3x3 one is too small to locate anything
    default = models.build_default_model()
    assert evaluation.conv_block_outputs(default) == ["block1_relu", "block2_relu", "block3_relu"]
    assert evaluation.grad_cam_layer(default) == "block2_relu"  # after pooling, BN and ReLU
    small = models.build_small_cnn()  # convolution maps 26x26, 11x11 (then pooled to 5x5), 3x3
    assert len(evaluation.conv_layers(small)) == 3
    second_block = evaluation.grad_cam_layer(small)
    assert second_block != evaluation.conv_layers(small)[-1]
    assert tuple(small.get_layer(second_block).output.shape[1:3]) == (5, 5)
    # a model whose only convolution is small still gets it explained
    import keras

    tiny = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="only"),
                             keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    assert evaluation.grad_cam_layer(tiny) == "only"
    assert evaluation.grad_cam_layer(small, small.layers[0].name) == small.layers[0].name


def test_grad_cam_on_a_cnn_gives_one_map_per_image_in_zero_one():
    from mnistlab import models

    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    maps, explained = evaluation.grad_cam(models.build_small_cnn(), x)
    assert maps.shape == (3, 28, 28) and explained.shape == (3,)
    assert maps.min() >= 0.0 and maps.max() <= 1.0


def test_grad_cam_errors_say_what_to_do():
    from mnistlab import models

    x = np.zeros((1, 28, 28, 1), dtype="float32")
    with pytest.raises(ValueError, match="no convolution layer.*saliency"):
        evaluation.grad_cam(models.build_dense(), x)
    with pytest.raises(ValueError, match="no layer 'nope'.*bars"):
        evaluation.grad_cam(bar_detector_model(), x, layer_name="nope")
    with pytest.raises(ValueError, match="not a feature map"):
        evaluation.grad_cam(bar_detector_model(), x, layer_name="probabilities")
    with pytest.raises(ValueError, match="to_cnn_input"):
        evaluation.grad_cam(bar_detector_model(), np.zeros((28, 28)))
    with pytest.raises(ValueError, match="empty"):
        evaluation.grad_cam(bar_detector_model(), np.zeros((0, 28, 28, 1)))
    with pytest.raises(ValueError, match="one per image"):
        evaluation.grad_cam(bar_detector_model(), np.zeros((2, 28, 28, 1)), digits=[1])


# ---------------------------------------------------------------- the class score (logit) both methods explain


def small_softmax_cnn(seed: int = 3):
    """A random tiny CNN ending in Dense(10, softmax), and the same network with a linear last layer."""
    import keras

    keras.utils.set_random_seed(seed)
    stack = [keras.layers.Conv2D(4, 3, activation="relu", name="conv"), keras.layers.MaxPooling2D(2),
             keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax", name="probabilities")]
    model = keras.Sequential([keras.Input((12, 12, 1)), *stack])
    linear = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                               keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dense(10)])
    linear.set_weights(model.get_weights())
    return model, linear


def test_class_scores_are_the_logits_before_the_softmax(tmp_path):
    import keras

    model, linear = small_softmax_cnn()
    x = np.random.default_rng(0).random((5, 12, 12, 1)).astype("float32")
    logits = evaluation.class_scores(model, x)
    np.testing.assert_allclose(logits, linear.predict(x, verbose=0), atol=1e-5)
    np.testing.assert_allclose(keras.ops.softmax(logits).numpy(), model.predict(x, verbose=0), atol=1e-6)
    model.save(tmp_path / "m.keras")  # a reloaded model has its layers called more than once
    np.testing.assert_allclose(evaluation.class_scores(keras.models.load_model(tmp_path / "m.keras"), x), logits,
                               atol=1e-5)


def test_saliency_is_the_gradient_of_the_logit_not_of_the_probability():
    import tensorflow as tf

    model, linear = small_softmax_cnn()
    x = tf.convert_to_tensor(np.random.default_rng(1).random((3, 12, 12, 1)).astype("float32"))
    digits = np.array([2, 5, 7])

    def gradient(network):
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = tf.gather(network(x), digits, axis=1, batch_dims=1)
        grads = np.abs(tape.gradient(score, x).numpy())[..., 0]
        return grads / grads.reshape(3, -1).max(axis=1).reshape(3, 1, 1)

    maps, _ = evaluation.saliency(model, x.numpy(), digits=digits)
    np.testing.assert_allclose(maps, gradient(linear), atol=1e-5)  # the logit's gradient ...
    assert np.abs(maps - gradient(model)).max() > 0.01  # ... which is not the probability's


def test_saliency_still_has_a_map_when_the_softmax_saturates(one_pixel_model):
    import keras

    saturated = keras.models.clone_model(one_pixel_model)
    weights = np.zeros((784, 10), dtype="float32")
    weights[5 * 28 + 7, 3] = 5_000.0
    saturated.layers[-1].set_weights([weights, np.zeros(10, dtype="float32")])
    x = np.zeros((1, 28, 28, 1), dtype="float32")
    x[0, 5, 7] = 1.0
    assert float(saturated(x)[0, 3]) == 1.0  # the probability's gradient is exactly 0 here
    maps, _ = evaluation.saliency(saturated, x, digits=[3])
    assert maps[0, 5, 7] == pytest.approx(1.0)


def test_a_separate_softmax_layer_is_dropped_for_the_scores():
    import keras

    model, linear = small_softmax_cnn()
    with_layer = keras.Sequential([keras.Input((12, 12, 1)), *linear.layers, keras.layers.Softmax()])
    x = np.random.default_rng(2).random((2, 12, 12, 1)).astype("float32")
    np.testing.assert_allclose(evaluation.class_scores(with_layer, x), linear.predict(x, verbose=0), atol=1e-5)
