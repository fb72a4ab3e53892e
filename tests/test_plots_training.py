"""Figures of notebooks 03 and 04: loss gradients, learning-rate sweeps and races, the with/without comparison."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mnistlab import losses, plots  # noqa: E402


def test_loss_gradient_figure_has_both_losses(course_home):
    table = losses.true_logit_gradients(np.linspace(-6, 8, 15))
    fig = plots.plot_loss_gradients(table, wrong_logit=4.0, save="gradients.png")
    assert isinstance(fig, Figure)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "cross-entropy" in labels and "MSE" in labels
    assert (course_home / "images" / "figures" / "gradients.png").is_file()


def test_loss_gradient_figure_rejects_other_tables():
    with pytest.raises(ValueError, match="true_logit_gradients"):
        plots.plot_loss_gradients(pd.DataFrame({"x": [1.0]}))


def test_accuracy_race_draws_one_line_per_column():
    curves = pd.DataFrame({"a": [0.5, 0.7], "b": [0.2, 0.3]}, index=pd.RangeIndex(1, 3, name="epoch"))
    fig = plots.plot_accuracy_race(curves, "race")
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["a", "b"]
    with pytest.raises(ValueError, match="at least one epoch"):
        plots.plot_accuracy_race(pd.DataFrame(), "empty")


def test_variant_comparison_bars_match_the_table():
    table = pd.DataFrame(
        {"validation accuracy": [0.91, 0.95], "gap": [0.02, -0.01]}, index=pd.Index(["plain", "bn"], name="variant")
    )
    fig = plots.plot_variant_comparison(table)
    accuracy_bars = [patch.get_width() for patch in fig.axes[0].patches]
    gap_bars = [patch.get_width() for patch in fig.axes[1].patches]
    np.testing.assert_allclose(accuracy_bars, [0.91, 0.95])
    np.testing.assert_allclose(gap_bars, [0.02, -0.01])
    with pytest.raises(ValueError, match="compare_variants"):
        plots.plot_variant_comparison(table.drop(columns="gap"))


def test_rate_sweep_figure_has_the_sweep_and_the_race():
    rows = [("A", r, e, 0.1 * e + r) for r in (0.1, 0.3) for e in (1, 2)] + [("B", 0.01, e, 0.2 * e) for e in (1, 2)]
    sweep = pd.DataFrame(rows, columns=["contestant", "learning_rate", "epoch", "val_accuracy"])
    fig = plots.plot_rate_sweep(sweep, "sweep")
    sweep_ax, race_ax = fig.axes[:2]
    assert sweep_ax.get_xscale() == "log"
    assert [line.get_label() for line in race_ax.get_lines()] == ["A (0.3)", "B (0.01)"]
    with pytest.raises(ValueError, match="rate_sweep"):
        plots.plot_rate_sweep(sweep.drop(columns="epoch"), "broken")
