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


def test_int8_softmax_rows_in_steps_of_1_256_are_probabilities():
    exact = np.full((2, 10), 0.01)
    exact[:, 3] = 0.91
    quantised = np.round(exact * 256) / 256  # an int8 model's output: rows sum to 0.996, not 1
    assert not np.allclose(quantised.sum(axis=1), 1.0, atol=1e-3)
    assert evaluation.log_loss(np.array([3, 3]), quantised) == pytest.approx(-np.log(quantised[0, 3]))
    with pytest.raises(ValueError, match="apply a softmax"):
        evaluation.log_loss(np.array([3, 3]), exact * 3)
