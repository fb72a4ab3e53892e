"""The open-set ROC figure: one curve per model with its AUROC, the threshold marked where the rule puts it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mnistlab.plots.evaluation import plot_open_set_roc  # noqa: E402

DIGITS = np.array([0.99, 0.95, 0.9, 0.9, 0.8, 0.7])
OTHERS = np.array([0.9, 0.5, 0.4, 0.3])


@pytest.fixture(autouse=True)
def _throwaway_figures(course_home):
    yield
    plt.close("all")


def test_one_curve_per_model_with_its_auroc_and_the_threshold_marked(course_home):
    fig = plot_open_set_roc({"perfect": (DIGITS, OTHERS - 0.5), "mixed": (DIGITS, OTHERS)},
                            thresholds={"mixed": 0.9}, save="open_set_roc.png")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    # 24 pairs: the 0.9 non-digit ties with two digits (half a win each) and beats two: 20 + 2 * 0.5 = 21 wins
    # score >= 0.9 accepts 4 of 6 digits and 1 of 4 non-digits (a tie is accepted)
    assert labels == ["perfect: AUROC 1.000", f"mixed: AUROC {21 / 24:.3f}",
                      "  threshold 0.9: accepts 66.7% of digits, 25.0% of non-digits", "chance"]
    marker = next(line for line in ax.lines if line.get_marker() == "o")
    assert marker.get_xdata()[0] == pytest.approx(0.25) and marker.get_ydata()[0] == pytest.approx(4 / 6)
    assert (course_home / "images" / "figures" / "open_set_roc.png").is_file()


def test_without_thresholds_nothing_is_marked():
    fig = plot_open_set_roc({"model": (DIGITS, OTHERS)})
    assert not [line for line in fig.axes[0].lines if line.get_marker() == "o"]
