"""Explanation figures: feature maps, saliency and Grad-CAM of tiny networks whose answers are known."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mnistlab import explanations, models  # noqa: E402
from mnistlab.plots import explanations as plots  # noqa: E402


@pytest.fixture(autouse=True)
def _throwaway_figures(course_home):
    """Figures are saved under a throwaway course folder, and closed after each test."""
    yield
    plt.close("all")


@pytest.fixture()
def digit(mnist_small):
    return mnist_small[0][0][0].astype("float32") / 255.0


def test_feature_maps_have_the_conv_shapes(digit):
    maps = explanations.feature_maps(models.build_small_cnn(), digit)
    assert [m.shape for _, m in maps] == [(26, 26, 32), (11, 11, 64), (3, 3, 64)]
    fig = plots.plot_feature_maps(models.build_default_model(), digit, max_maps=4)
    assert isinstance(fig, Figure) and len(fig.axes) == 3 * 5
    with pytest.raises(ValueError, match="no Conv2D"):
        explanations.feature_maps(models.build_dense(), digit)


def test_saliency_overlay_marks_the_pixel_that_matters():
    import keras

    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    weights = np.zeros((784, 10), dtype="float32")
    weights[14 * 28 + 14, 6] = 5.0
    model.layers[-1].set_weights([weights, np.zeros(10, dtype="float32")])
    images = np.full((2, 28, 28, 1), 0.5, dtype="float32")
    fig = plots.plot_saliency(model, images, y_true=[6, 6], save="saliency")
    assert len(fig.axes) == 6
    assert fig.axes[0].get_title() == "true 6, explains 6"
    saliency_image = fig.axes[2].get_images()[0].get_array()  # middle row, first column
    assert np.unravel_index(np.argmax(saliency_image), (28, 28)) == (14, 14)


def test_grad_cam_figure_puts_each_map_over_its_digit(course_home):
    from test_explanations import bar_detector_model, two_bars

    from mnistlab import config

    images = np.repeat(two_bars(), 2, axis=0)
    fig = plots.plot_grad_cam(bar_detector_model(), images, digits=[0, 1], y_true=[0, 1], save="gradcam")
    assert len(fig.axes) == 6  # 3 rows (digit, saliency, Grad-CAM) x 2 images
    assert fig.axes[0].get_title() == "true 0, explains 0"
    assert "bars" in fig._suptitle.get_text()
    cam_0 = fig.axes[4].get_images()[1].get_array()  # bottom row, first image: the heat map layer
    cam_1 = fig.axes[5].get_images()[1].get_array()
    assert np.unravel_index(np.argmax(cam_0), (28, 28))[0] < 14  # horizontal bar, top half
    assert np.unravel_index(np.argmax(cam_1), (28, 28))[0] >= 14  # vertical bar, bottom half
    assert (config.figures_dir() / "gradcam.png").is_file()
