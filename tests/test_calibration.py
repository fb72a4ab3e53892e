"""mnistlab.calibration on tiny arrays: ECE, softmax with temperature, fitting T, the coverage-accuracy curve."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from mnistlab import calibration, evaluation


def made_up_model(sharpness: float, n: int = 2000, seed: int = 0):
    """Scores of a 10-class model whose labels follow softmax(raw scores), returned as raw * sharpness."""
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=(n, 10)) * 2
    raw[np.arange(n), rng.integers(0, 10, n)] += 4
    y = np.array([rng.choice(10, p=p) for p in special.softmax(raw, axis=1)])
    return raw * sharpness, y


def test_ece_by_hand_on_four_predictions():
    # confidences 0.9 and 0.9 (bin (0.8, 0.9], one right: gap 0.4), 0.5 and 0.45 (bin (0.4, 0.5], both right:
    # gap 1 - 0.475); each bin holds half the predictions
    proba = np.array([[0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0.3, 0.2, 0.5], [0.3, 0.25, 0.45]])
    y = np.array([0, 0, 2, 2])
    assert calibration.expected_calibration_error(y, proba) == pytest.approx(0.5 * 0.4 + 0.5 * 0.525)
    assert calibration.expected_calibration_error(y, proba, 1) == pytest.approx(abs(0.6875 - 0.75))


def test_ece_is_zero_when_confidence_matches_accuracy_and_one_is_the_last_bin():
    y = np.zeros(4, dtype=int)
    assert calibration.expected_calibration_error(y, np.eye(3)[[0, 0, 0, 0]]) == 0.0  # sure and right
    assert calibration.expected_calibration_error(y, np.eye(3)[[1, 1, 1, 1]]) == 1.0  # sure and wrong


@pytest.mark.parametrize("bins", [1, 5, 10, 15])
def test_ece_agrees_with_the_evaluation_table(bins):
    logits, y = made_up_model(2.0, n=500)
    proba = special.softmax(logits, axis=1)
    table = evaluation.calibration_table(y, proba, bins=bins)  # the reliability diagram's bins, weighted by count
    want = float(np.sum(table["count"] * table["gap"].abs()) / table["count"].sum())
    assert calibration.expected_calibration_error(y, proba, bins) == pytest.approx(want, abs=1e-12)


def test_ece_rejects_bad_input():
    with pytest.raises(ValueError, match="bins"):
        calibration.expected_calibration_error([0], [[1.0, 0.0]], bins=0)
    with pytest.raises(ValueError, match="one row per label"):
        calibration.expected_calibration_error([0, 1], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="one row of class probabilities"):
        calibration.expected_calibration_error([0], [1.0, 0.0])


def test_softmax_with_temperature_divides_and_never_overflows():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(calibration.softmax_with_temperature(logits, 2.0), special.softmax(logits / 2, axis=1))
    assert np.isfinite(calibration.softmax_with_temperature(logits, 0.05)).all()
    np.testing.assert_allclose(calibration.apply_temperature(logits, 1.0), special.softmax(logits, axis=1))
    sharper = calibration.softmax_with_temperature(logits[:1], 0.5).max()
    assert sharper > calibration.softmax_with_temperature(logits[:1], 1.0).max()  # T < 1 sharpens
    with pytest.raises(ValueError, match="positive"):
        calibration.softmax_with_temperature(logits, 0.0)


@pytest.mark.parametrize("sharpness", [0.4, 1.0, 2.5])
def test_fit_temperature_recovers_the_scale_and_minimises_the_nll(sharpness):
    logits, y = made_up_model(sharpness)
    t = calibration.fit_temperature(logits, y)
    assert t == pytest.approx(sharpness, rel=0.15)  # sampling noise on 2,000 labels
    best = calibration.negative_log_likelihood(logits, y, t)
    assert best <= calibration.negative_log_likelihood(logits, y, 1.0) + 1e-12
    assert best <= min(calibration.negative_log_likelihood(logits, y, t * f) for f in (0.9, 1.1))


def test_temperature_keeps_every_prediction_and_lowers_the_ece_of_an_under_confident_model():
    logits, y = made_up_model(0.4, seed=1)
    val, test = slice(0, 1000), slice(1000, None)
    t = calibration.fit_temperature(logits[val], y[val])  # fitted on one part, measured on the other
    before = special.softmax(logits[test], axis=1)
    after = calibration.apply_temperature(logits[test], t)
    assert t < 1
    assert (before.argmax(axis=1) == after.argmax(axis=1)).all()
    assert calibration.expected_calibration_error(y[test], after) < calibration.expected_calibration_error(
        y[test], before
    )


def test_coverage_accuracy_curve_by_hand():
    proba = np.array([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6], [0.55, 0.45]])
    y = np.array([0, 1, 1, 0])  # right, wrong, right, right; confidences 0.9, 0.7, 0.6, 0.55
    thresholds, coverage, accuracy = calibration.coverage_accuracy_curve(y, proba, [0.5, 0.6, 0.8, 0.95])
    np.testing.assert_allclose(coverage, [1.0, 0.75, 0.25, 0.0])
    np.testing.assert_allclose(accuracy, [0.75, 2 / 3, 1.0, np.nan])  # 0.6 is kept at threshold 0.6
    np.testing.assert_allclose(thresholds, [0.5, 0.6, 0.8, 0.95])
    default, _, _ = calibration.coverage_accuracy_curve(y, proba)
    assert len(default) == 100 and default[0] == 0.0


def test_plots_draw_one_panel_per_model_and_mark_the_threshold():
    import matplotlib

    matplotlib.use("Agg")
    from mnistlab import plots

    logits, y = made_up_model(0.5, n=300)
    named = {"before": special.softmax(logits, axis=1), "after": calibration.apply_temperature(logits, 0.5)}
    fig = plots.plot_reliability_comparison(y, named)
    assert len(fig.axes) == 2 and fig.axes[0].get_title().startswith("before: ECE")
    fig = plots.plot_coverage_accuracy(y, named, threshold=0.6)
    assert "threshold 0.6" in " ".join(t.get_text() for t in fig.axes[0].texts)
