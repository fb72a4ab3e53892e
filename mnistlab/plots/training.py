"""Training figures: accuracy and loss curves, the learning-rate schedule, and hyperparameter-search results."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mnistlab.plots.saving import save_figure


def _checked_history(history) -> pd.DataFrame:
    if not isinstance(history, pd.DataFrame):
        raise TypeError(
            f"history must be a DataFrame (TrainingResult.history or training.load_default_history()), "
            f"got {type(history).__name__}"
        )
    missing = [c for c in ("accuracy", "loss") if c not in history]
    if missing or history.empty:
        raise ValueError(
            f"history needs 'accuracy' and 'loss' columns with at least one epoch; got columns {list(history.columns)}"
        )
    return history


def plot_history(history, title: str | None = None, save: str | None = None):
    """Accuracy (left) and loss (right) per epoch, training vs validation.

    ``history`` is the DataFrame of :class:`mnistlab.training.TrainingResult` or of
    :func:`mnistlab.training.load_default_history`, indexed by epoch. A validation curve
    that turns up while the training curve keeps going down is the signature of over-fitting.
    """
    frame = _checked_history(history)
    epochs = np.asarray(frame.index)
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, metric in ((acc_ax, "accuracy"), (loss_ax, "loss")):
        ax.plot(epochs, frame[metric], "o-", label="training")
        if f"val_{metric}" in frame:
            ax.plot(epochs, frame[f"val_{metric}"], "s-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric.capitalize())
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, save)
    return fig


def plot_learning_rate(schedule, total_steps: int, steps_per_epoch: int | None = None, save: str | None = None):
    """The learning rate a Keras schedule gives at every training step."""
    steps = np.arange(total_steps)
    rates = np.array([float(schedule(int(step))) for step in steps])
    fig, ax = plt.subplots(figsize=(6, 3.2))
    x = steps / steps_per_epoch if steps_per_epoch else steps
    ax.plot(x, rates)
    ax.set_xlabel("epoch" if steps_per_epoch else "step")
    ax.set_ylabel("learning rate")
    ax.set_title("Learning-rate schedule: warm-up, then cosine decay")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, save)
    return fig


def plot_tuning_results(table: pd.DataFrame, save: str | None = None):
    """Validation accuracy of every trial in the order they ran, with the best so far."""
    if table.empty or "val_accuracy" not in table:
        raise ValueError("plot_tuning_results needs the table of mnistlab.tuning.search with at least one trial")
    trials = np.asarray(table.index)
    scores = table["val_accuracy"].to_numpy()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(trials, scores, "o", label="trial")
    ax.plot(trials, np.maximum.accumulate(scores), "-", label="best so far")
    for trial, row in table.iterrows():
        label = ", ".join(f"{row[c]:g}" for c in table.columns if c != "val_accuracy")
        ax.annotate(label, (trial, row["val_accuracy"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("trial")
    ax.set_ylabel("validation accuracy")
    ax.set_title("Hyperparameter search: accuracy vs trial (filters, units, learning rate)")
    ax.set_xticks(trials)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, save)
    return fig
