"""Architecture and training figures: visualkeras on Keras 3 without warnings, filters, curves."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mnistlab import config, models, plots  # noqa: E402
from mnistlab.plots import architecture  # noqa: E402


@pytest.fixture()
def digit(mnist_small):
    return mnist_small[0][0][0].astype("float32") / 255.0


@pytest.mark.parametrize("name", list(models.MODELS))
def test_layered_view_works_on_keras3_and_is_quiet(name, capsys):
    model = models.build_model(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        image = plots.layered_view_image(model)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    width, height = image.size
    assert 100 < width < 4000 and 50 < height < 3000
    pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 10, "the picture is not blank"
    assert not any("output_shape" in vars(layer) for layer in model.layers), "the model is left unchanged"


def test_layered_view_is_a_figure_of_the_diagram_and_saves(course_home):
    model = models.build_small_cnn()
    fig = plots.layered_view(model, title="small CNN", save="arch")
    assert isinstance(fig, Figure) and fig.axes[0].get_title() == "small CNN"
    shown = fig.axes[0].images[0].get_array()
    assert shown.shape[:2] == plots.layered_view_image(model).size[::-1]  # the diagram itself, not resampled
    assert fig.get_figwidth() <= architecture.LAYERED_VIEW_MAX_WIDTH
    assert (config.figures_dir() / "arch.png").is_file()


def test_layered_view_rejects_unbuilt_models():
    import keras

    with pytest.raises(ValueError, match="keras.Input"):
        plots.layered_view(keras.Sequential([keras.layers.Dense(3)]))


def test_filters_figure_has_one_panel_per_filter():
    fig = plots.plot_filters(models.build_small_cnn())
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 32


def test_edge_filter_figure_shows_the_filtered_digit(digit):
    kernel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], "float32")
    assert isinstance(plots.plot_edge_filter(digit, kernel), Figure)


def test_history_and_tuning_plots():
    history = pd.DataFrame(
        {"accuracy": [0.9, 0.95], "loss": [0.3, 0.1], "val_accuracy": [0.92, 0.94], "val_loss": [0.25, 0.2]},
        index=pd.RangeIndex(1, 3, name="epoch"),
    )
    fig = plots.plot_history(history, title="t")
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError, match="accuracy"):
        plots.plot_history(pd.DataFrame({"x": [1]}))
    table = pd.DataFrame(
        {"filters": [32, 64], "units": [32, 32], "learning_rate": [1e-3, 1e-2], "val_accuracy": [0.9, 0.8]},
        index=pd.Index([1, 2], name="trial"),
    )
    fig = plots.plot_tuning_results(table)
    best_line = fig.axes[0].lines[1].get_ydata()
    np.testing.assert_allclose(best_line, [0.9, 0.9])


def test_learning_rate_plot_follows_the_schedule():
    from mnistlab import training

    fig = plots.plot_learning_rate(training.warmup_cosine_schedule(50, peak=1e-2), 50, steps_per_epoch=10)
    ys = fig.axes[0].lines[0].get_ydata()
    assert len(ys) == 50 and max(ys) == pytest.approx(1e-2, rel=1e-2)
