"""Figure helpers shared by the notebooks; each returns a matplotlib Figure and can save it."""

from mnistlab.plots.architecture import layered_view, layered_view_image, plot_edge_filter, plot_filters
from mnistlab.plots.augmentation import plot_augmentation, plot_augmentation_parts
from mnistlab.plots.digits import (
    mean_digit_images,
    plot_class_balance,
    plot_digit_grid,
    plot_intensity_histogram,
    plot_mean_digits,
    plot_pixel_values,
    plot_slant_histogram,
)
from mnistlab.plots.evaluation import (
    plot_calibration,
    plot_confidence_histogram,
    plot_confusion_matrix,
    plot_coverage_accuracy,
    plot_kfold,
    plot_mistakes,
    plot_per_digit_accuracy,
    plot_precision_recall,
    plot_predictions,
    plot_reliability_comparison,
    plot_transfer,
)
from mnistlab.plots.explanations import plot_feature_maps, plot_grad_cam, plot_saliency
from mnistlab.plots.foundations import activation_curves, plot_activations, plot_gradient_sizes
from mnistlab.plots.images import (
    plot_confidence_bars,
    plot_image_predictions,
    plot_pipeline_grid,
    plot_pipeline_steps,
)
from mnistlab.plots.saving import save_figure
from mnistlab.plots.training import (
    plot_accuracy_race,
    plot_history,
    plot_learning_rate,
    plot_loss_gradients,
    plot_rate_finder,
    plot_rate_sweep,
    plot_tuning_results,
    plot_variant_comparison,
)

__all__ = [
    "activation_curves",
    "plot_activations",
    "plot_gradient_sizes",
    "plot_calibration",
    "plot_coverage_accuracy",
    "plot_reliability_comparison",
    "plot_confidence_histogram",
    "plot_confusion_matrix",
    "plot_mistakes",
    "plot_per_digit_accuracy",
    "plot_precision_recall",
    "plot_predictions",
    "plot_saliency",
    "plot_grad_cam",
    "plot_kfold",
    "plot_transfer",
    "mean_digit_images",
    "plot_class_balance",
    "plot_digit_grid",
    "plot_intensity_histogram",
    "plot_mean_digits",
    "plot_pixel_values",
    "plot_slant_histogram",
    "save_figure",
    "plot_confidence_bars",
    "plot_image_predictions",
    "plot_pipeline_grid",
    "plot_pipeline_steps",
    "layered_view",
    "layered_view_image",
    "plot_augmentation",
    "plot_augmentation_parts",
    "plot_edge_filter",
    "plot_feature_maps",
    "plot_filters",
    "plot_accuracy_race",
    "plot_history",
    "plot_learning_rate",
    "plot_loss_gradients",
    "plot_rate_finder",
    "plot_rate_sweep",
    "plot_tuning_results",
    "plot_variant_comparison",
]
