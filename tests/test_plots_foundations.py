"""Foundations figures: activation curves come from Keras and their slopes are right; gradient plots check input."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mnistlab import plots  # noqa: E402


def test_activation_curves_values_and_derivatives():
    z, curves = plots.activation_curves(["sigmoid", "tanh", "relu"], low=-4, high=4, points=801)
    sigmoid, sigmoid_slope = curves["sigmoid"]
    np.testing.assert_allclose(sigmoid, 1 / (1 + np.exp(-z.astype(float))), atol=1e-6)
    assert sigmoid_slope.max() == pytest.approx(0.25, abs=1e-3)  # sigmoid' = s(1 - s) peaks at 1/4
    tanh, tanh_slope = curves["tanh"]
    assert tanh_slope.max() == pytest.approx(1.0, abs=1e-3) and tanh_slope[0] < 0.01  # saturated at z = -4
    relu, relu_slope = curves["relu"]
    assert relu.min() == 0 and relu[-1] == pytest.approx(4)
    np.testing.assert_allclose(relu_slope[z > 0.1], 1.0)
    np.testing.assert_allclose(relu_slope[z < -0.1], 0.0)


def test_activation_curves_reject_unknown_names_and_bad_ranges():
    with pytest.raises(ValueError, match="'swishy' is not a Keras activation"):
        plots.activation_curves(["swishy"])
    with pytest.raises(ValueError, match="low < high"):
        plots.activation_curves(["relu"], low=1, high=0)


def test_plot_activations_draws_each_function_and_saves(course_home):
    fig = plots.plot_activations(("sigmoid", "relu"), save="activations")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")] == [
        "sigmoid",
        "relu",
    ]
    assert (course_home / "images" / "figures" / "activations.png").stat().st_size > 1000


def test_plot_gradient_sizes_one_line_per_model_on_log_scale():
    fig = plots.plot_gradient_sizes({"sigmoid": [1e-8, 1e-5, 1e-2], "relu": [1e-3, 2e-3, 3e-3]})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["sigmoid", "relu"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])


@pytest.mark.parametrize("bad", [{}, {"relu": []}, {"relu": [0.1, 0.0]}, {"relu": [[0.1]]}])
def test_plot_gradient_sizes_rejects_empty_or_non_positive_sizes(bad):
    with pytest.raises(ValueError, match="sizes"):
        plots.plot_gradient_sizes(bad)
