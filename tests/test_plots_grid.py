"""The grid helpers every plot shares: image shapes for imshow, rows × columns, hidden axes."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mnistlab.plots.grid import grid_shape, image_stack, panel_grid, without_channel_axis  # noqa: E402


def test_channel_axis_is_dropped_for_one_image_or_a_stack():
    assert without_channel_axis(np.zeros((28, 28, 1))).shape == (28, 28)
    assert without_channel_axis(np.zeros((5, 28, 28, 1))).shape == (5, 28, 28)
    assert without_channel_axis(np.zeros((28, 28, 3))).shape == (28, 28, 3)  # colour stays colour
    assert without_channel_axis(np.zeros((5, 28, 28))).shape == (5, 28, 28)


def test_image_stack_accepts_the_three_course_layouts():
    digits = np.arange(3 * 784).reshape(3, 28, 28)
    for shaped in (digits, digits[..., None], digits.reshape(3, 784)):
        assert np.array_equal(image_stack(shaped), digits)
    with pytest.raises(ValueError, match=r"images must be a stack .* got shape \(28, 28\)"):
        image_stack(np.zeros((28, 28)))


@pytest.mark.parametrize(("count", "columns", "expected"), [(12, 5, (3, 5)), (3, 8, (1, 3)), (16, 8, (2, 8)),
                                                          (1, 1, (1, 1)), (7, 0, (7, 1))])
def test_grid_shape(count, columns, expected):
    assert grid_shape(count, columns) == expected


def test_panel_grid_sizes_the_figure_and_hides_every_axis():
    fig, axes = panel_grid(7, 3, (1.5, 2.0), extra_height=0.5)
    assert len(axes) == 9 and all(not ax.axison for ax in axes)
    assert tuple(fig.get_size_inches()) == pytest.approx((4.5, 6.5))
