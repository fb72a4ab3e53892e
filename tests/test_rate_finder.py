"""The learning-rate range test (mnistlab.rate_finder) and its figure, on tiny made-up data (offline, seconds)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mnistlab import plots, rate_finder  # noqa: E402


def test_the_schedule_grows_by_the_same_factor_from_first_to_last_rate():
    rates = rate_finder.rate_schedule(1e-4, 1.0, 5)
    np.testing.assert_allclose(rates, [1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    np.testing.assert_allclose(rates[1:] / rates[:-1], 10.0)
    with pytest.raises(ValueError, match="min_rate < max_rate"):
        rate_finder.rate_schedule(1.0, 1e-3, 10)


def _tiny_problem(n=640, seed=0):
    """Four features, ten classes decided by a fixed linear rule: easy to learn, easy to blow up."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ rng.normal(size=(4, 10))).argmax(axis=1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])
    model.set_weights([w * 0 for w in model.get_weights()])  # every run starts from the same weights
    return model, x, y


def test_the_range_test_falls_then_stops_when_the_loss_explodes():
    model, x, y = _tiny_problem()
    table = rate_finder.range_test(
        model, keras.optimizers.SGD(), keras.losses.SparseCategoricalCrossentropy(), x, y, 1e-3, 1e3, 40, 16
    )
    assert list(table.columns) == ["learning_rate", "loss"] and 5 < len(table) < 40
    np.testing.assert_allclose(table["learning_rate"], rate_finder.rate_schedule(1e-3, 1e3, 40)[: len(table)])
    losses = table["loss"].to_numpy()
    assert losses.min() < 0.8 * losses[0]  # it learned before it exploded
    assert losses[-1] > rate_finder.EXPLODE_FACTOR * losses.min()  # it stopped because of the explosion
    assert (losses[:-1] <= rate_finder.EXPLODE_FACTOR * np.minimum.accumulate(losses[:-1])).all()


def test_the_range_test_needs_a_batch_per_step():
    model, x, y = _tiny_problem(n=100)
    with pytest.raises(ValueError, match="need 320 digits"):
        rate_finder.range_test(model, keras.optimizers.SGD(), keras.losses.SparseCategoricalCrossentropy(), x, y,
                               steps=20, batch_size=16)


def test_the_suggested_rate_is_a_tenth_of_the_rate_at_the_lowest_finite_loss():
    rates = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    assert rate_finder.suggest_rate(rates, [2.3, 2.0, 0.9, 1.5, 9.0]) == pytest.approx(1e-3)
    assert rate_finder.suggest_rate(rates, [2.3, 2.0, 1.2, 0.7, np.nan]) == pytest.approx(1e-2)
    with pytest.raises(ValueError, match="one loss per rate"):
        rate_finder.suggest_rate(rates, [1.0])


def test_smoothing_keeps_a_flat_curve_flat_and_lags_a_jump():
    np.testing.assert_allclose(rate_finder.smoothed([2.0] * 5), 2.0)
    trend = rate_finder.smoothed([1.0] * 5 + [3.0] * 5)
    assert trend[0] == 1.0 and 1.0 < trend[5] < trend[-1] < 3.0


def test_the_figure_has_a_log_rate_axis_and_marks_the_lowest_and_chosen_rates():
    rates = rate_finder.rate_schedule(1e-5, 1.0, 30)
    losses = np.r_[np.linspace(2.3, 0.5, 25), [0.6, 1.0, 2.0, 5.0, 50.0]]
    fig = plots.plot_rate_finder(rates, losses, chosen_rate=rates[24] / 10)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert ax.get_xscale() == "log" and "batch loss" in labels and "smoothed" in labels
    assert any(label.startswith("lowest loss") for label in labels)
    assert any(label.startswith("chosen rate") for label in labels)
    assert ax.get_ylim()[1] < 50  # the explosion does not squash the curve
    with pytest.raises(ValueError, match="one loss per rate"):
        plots.plot_rate_finder(rates, losses[:-1])
