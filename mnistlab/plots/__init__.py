"""Figure helpers shared by the notebooks; each returns a matplotlib Figure and can save it."""

from mnistlab.plots.digits import (
    mean_digit_images,
    plot_class_balance,
    plot_digit_grid,
    plot_intensity_histogram,
    plot_mean_digits,
)
from mnistlab.plots.saving import save_figure

__all__ = [
    "mean_digit_images",
    "plot_class_balance",
    "plot_digit_grid",
    "plot_intensity_histogram",
    "plot_mean_digits",
    "save_figure",
]
