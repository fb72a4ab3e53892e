"""Evaluation figures: built from tiny hand-made predictions, checked for content, and saved on request."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mnistlab.plots import evaluation as plots  # noqa: E402

Y_TRUE = np.array([0, 0, 1, 1, 2, 2, 3, 5, 8, 9])
Y_PRED = np.array([0, 1, 1, 1, 2, 0, 5, 5, 3, 4])


def probabilities(y_pred, confidence=0.8):
    proba = np.full((len(y_pred), 10), (1 - confidence) / 9)
    proba[np.arange(len(y_pred)), y_pred] = confidence
    return proba


@pytest.fixture(autouse=True)
def _throwaway_figures(course_home):
    """Figures are saved under a throwaway course folder, and closed after each test."""
    yield
    plt.close("all")


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_confusion_heatmap_shows_counts_and_row_shares(course_home):
    fig = plots.plot_confusion_matrix(Y_TRUE, Y_PRED, save="cm.png")
    assert isinstance(fig, Figure)
    counts_ax, rows_ax = fig.axes[:2]
    assert counts_ax.get_title() == "Counts" and rows_ax.get_title().startswith("Row-normalised")
    # seaborn writes one annotation per cell, row by row: cell (0, 0) holds 1, (1, 1) holds 2
    assert len(texts(counts_ax)) == 100
    assert texts(counts_ax)[0] == "1" and texts(counts_ax)[11] == "2"
    assert texts(rows_ax)[0] == "0.50" and texts(rows_ax)[11] == "1.00"
    assert (course_home / "images" / "figures" / "cm.png").stat().st_size > 0


def test_confusion_heatmap_single_panel_and_bad_option():
    fig = plots.plot_confusion_matrix(Y_TRUE, Y_PRED, normalize="true")
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="normalize='rows'"):
        plots.plot_confusion_matrix(Y_TRUE, Y_PRED, normalize="rows")


def test_per_digit_accuracy_bars_have_the_per_digit_heights():
    fig = plots.plot_per_digit_accuracy(Y_TRUE, Y_PRED)
    ax = fig.axes[0]
    heights = [patch.get_height() for patch in ax.patches]
    assert heights[:4] == pytest.approx([0.5, 1.0, 0.5, 0.0])
    assert np.isnan(heights[4])  # no 4 in y_true
    assert "overall 0.5000" in ax.get_legend().get_texts()[0].get_text()


def test_mistakes_gallery_titles_name_true_predicted_and_confidence():
    images = np.random.default_rng(0).random((10, 28, 28, 1))
    proba = probabilities(Y_PRED)
    proba[8] = probabilities([3], confidence=0.95)[0]  # the most confident mistake: 8 -> 3
    fig = plots.plot_mistakes(images, Y_TRUE, proba, n=3, columns=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["#8\n8→3 (0.95)", "#1\n0→1 (0.80)", "#5\n2→0 (0.80)"]


def test_mistakes_gallery_with_no_mistakes_says_so():
    fig = plots.plot_mistakes(np.zeros((2, 28, 28)), [1, 2], probabilities([1, 2]))
    assert texts(fig.axes[0]) == ["no mistakes to show"]


def test_predictions_show_each_image_over_its_probability_bars():
    images = np.zeros((3, 28, 28))
    fig = plots.plot_predictions(images, probabilities([4, 7, 1], 0.7), y_true=[4, 7, 2], n=3)
    assert len(fig.axes) == 6
    assert fig.axes[0].get_title() == "true 4\npred 4 (0.70)"
    bars = fig.axes[3].patches  # bottom row starts after the three images
    assert len(bars) == 10 and bars[4].get_height() == pytest.approx(0.7)


def test_precision_recall_curves_have_one_line_per_digit_present():
    fig = plots.plot_precision_recall(Y_TRUE, probabilities(Y_PRED))
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert [label.split()[0] for label in labels] == ["0", "1", "2", "3", "5", "8", "9"]


def test_confidence_histogram_counts_right_and_wrong():
    proba = probabilities(Y_PRED, 0.6)
    proba[0] = probabilities([0], 0.99)[0]
    fig = plots.plot_confidence_histogram(Y_TRUE, proba)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["right (5)", "wrong (5)"]


def test_calibration_diagram_has_a_bar_per_non_empty_bin():
    proba = np.vstack([probabilities([1], 0.95), probabilities([2], 0.55)])
    fig = plots.plot_calibration([1, 0], proba)
    ax = fig.axes[0]
    assert [round(p.get_height(), 6) for p in ax.patches] == [0.0, 1.0]
    assert texts(ax) == ["1", "1"]


def test_bad_image_shape_is_named():
    with pytest.raises(ValueError, match="images must be a stack"):
        plots.plot_mistakes(np.zeros((2, 100)), [0, 1], probabilities([1, 0]))


def test_kfold_figure_shows_every_fold_the_mean_and_the_single_split():
    import pandas as pd

    folds = pd.DataFrame({"fold": [1, 2, 3], "accuracy": [0.90, 0.92, 0.94]})
    fig = plots.plot_kfold(folds, single_split_accuracy=0.88)
    ax = fig.axes[0]
    # the bars themselves: ax.patches also holds the ± 1 std band (a Polygon before matplotlib 3.9)
    assert [round(bar.get_height(), 2) for bar in ax.containers[0]] == [0.90, 0.92, 0.94]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "mean 0.9200" in labels and "± 1 std (0.0200)" in labels and "single split 0.8800" in labels


def test_transfer_figure_has_one_line_per_method():
    import pandas as pd

    table = pd.DataFrame({"per_class": [10, 10, 50, 50], "accuracy": [0.9, 0.7, 0.95, 0.9],
                          "method": ["transfer (frozen base)", "from scratch"] * 2})
    fig = plots.plot_transfer(table, zero_shot=0.85, save="transfer")
    ax = fig.axes[0]
    lines = {line.get_label(): list(np.asarray(line.get_ydata(), dtype=float)) for line in ax.get_lines()}
    assert lines["transfer (frozen base)"] == [0.9, 0.95]
    assert lines["from scratch"] == [0.7, 0.9]
    assert any(label.startswith("MNIST model as it is") for label in lines)
