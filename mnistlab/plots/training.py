"""Training figures: accuracy and loss curves, the learning-rate schedule, and hyperparameter-search results."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mnistlab.plots.saving import finish_figure


def _checked_history(history) -> pd.DataFrame:
    if not isinstance(history, pd.DataFrame):
        raise TypeError(
            f"history must be a DataFrame (TrainingResult.history or store.load_default_history()), "
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
    :func:`mnistlab.store.load_default_history`, indexed by epoch. A validation curve
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
    return finish_figure(fig, save)


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
    return finish_figure(fig, save)


def plot_tuning_results(table: pd.DataFrame, save: str | None = None):
    """Validation accuracy of every trial in the order they ran, with the best so far."""
    if table.empty or "val_accuracy" not in table:
        raise ValueError("plot_tuning_results needs the table of mnistlab.tuning.results_table with at least one trial")
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
    return finish_figure(fig, save)


def plot_loss_gradients(gradients: pd.DataFrame, wrong_logit: float | None = None, save: str | None = None):
    """∂loss/∂(true-digit logit) for cross-entropy and MSE (the table of :func:`mnistlab.losses.true_logit_gradients`).

    Left of ``wrong_logit`` the model prefers a wrong digit; far left it is confidently wrong.
    """
    missing = [c for c in ("true_logit", "p_true", "cross_entropy", "mse") if c not in gradients]
    if missing or gradients.empty:
        raise ValueError(f"plot_loss_gradients needs the table of losses.true_logit_gradients; missing {missing}")
    fig, (grad_ax, prob_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    logits = gradients["true_logit"]
    grad_ax.plot(logits, gradients["cross_entropy"], label="cross-entropy")
    grad_ax.plot(logits, gradients["mse"], label="MSE")
    grad_ax.axhline(0, color="grey", lw=0.8)
    grad_ax.set_xlabel("logit of the true digit")
    grad_ax.set_ylabel("∂loss / ∂logit (negative: push it up)")
    grad_ax.set_title("How hard each loss corrects the true digit")
    prob_ax.plot(logits, gradients["p_true"], color="black")
    prob_ax.set_xlabel("logit of the true digit")
    prob_ax.set_ylabel("softmax probability of the true digit")
    prob_ax.set_title("What the model believes")
    for ax in (grad_ax, prob_ax):
        if wrong_logit is not None:
            ax.axvline(wrong_logit, color="tab:red", ls="--", lw=1, label="logit of the wrong favourite")
            ax.axvspan(float(logits.min()), wrong_logit, color="tab:red", alpha=0.06)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return finish_figure(fig, save)


def plot_accuracy_race(curves: pd.DataFrame, title: str, save: str | None = None):
    """Validation accuracy per epoch, one line per column (e.g. :func:`mnistlab.races.race_curves`)."""
    if curves.empty:
        raise ValueError("plot_accuracy_race needs at least one epoch")
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for name in curves.columns:
        ax.plot(np.asarray(curves.index), curves[name], "o-", label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    ax.set_xticks(np.asarray(curves.index))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return finish_figure(fig, save)


def plot_variant_comparison(table: pd.DataFrame, save: str | None = None):
    """Validation accuracy (left) and train − validation gap (right) per variant.

    ``table`` is the result of :func:`mnistlab.regularisation.compare_variants`.
    """
    missing = [c for c in ("validation accuracy", "gap") if c not in table]
    if missing or table.empty:
        raise ValueError(
            f"plot_variant_comparison needs the table of regularisation.compare_variants; missing {missing}"
        )
    names = [str(name) for name in table.index]
    positions = np.arange(len(names))
    fig, (acc_ax, gap_ax) = plt.subplots(1, 2, figsize=(11, 0.5 * len(names) + 1.8), sharey=True)
    acc_ax.barh(positions, table["validation accuracy"], color="tab:blue")
    low = float(table["validation accuracy"].min())
    acc_ax.set_xlim(max(0.0, low - 0.05), 1.0)
    acc_ax.set_xlabel("validation accuracy (higher is better)")
    gap_ax.barh(positions, table["gap"], color="tab:orange")
    gap_ax.axvline(0, color="grey", lw=0.8)
    gap_ax.set_xlabel("train − validation accuracy (smaller: less memorised)")
    for ax, column in ((acc_ax, "validation accuracy"), (gap_ax, "gap")):
        for y, value in zip(positions, table[column], strict=True):
            ax.annotate(f"{value:.3f}", (value, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        ax.grid(alpha=0.3, axis="x")
    acc_ax.set_yticks(positions, names)
    acc_ax.invert_yaxis()
    fig.suptitle("Same digits, same epochs: what each ingredient changes")
    return finish_figure(fig, save)


def plot_rate_finder(rates, losses, chosen_rate: float | None = None, save: str | None = None):
    """A learning-rate range test (:mod:`mnistlab.rate_finder`): each batch's loss against its rate (log axis),
    a smoothed trend to read it by, the rate at the lowest loss and, if given, the rate chosen from it.
    """
    from mnistlab import rate_finder

    rates, losses = np.asarray(rates, dtype="float64"), np.asarray(losses, dtype="float64")
    if rates.shape != losses.shape or rates.size == 0:
        raise ValueError(f"plot_rate_finder needs one loss per rate; got {rates.shape} rates, {losses.shape} losses")
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(rates, losses, ".", alpha=0.5, label="batch loss")
    ax.plot(rates, rate_finder.smoothed(losses), "-", label="smoothed")
    lowest = int(np.nanargmin(np.where(np.isfinite(losses), losses, np.nan)))
    ax.axvline(rates[lowest], color="tab:red", ls="--", lw=1, label=f"lowest loss ({rates[lowest]:.2g})")
    if chosen_rate is not None:
        ax.axvline(chosen_rate, color="tab:green", lw=1.5, label=f"chosen rate ({chosen_rate:.2g})")
    ax.set_xscale("log")
    finite = losses[np.isfinite(losses)]
    ax.set_ylim(0, min(float(finite.max()), 3 * float(finite[0])) * 1.05)  # an explosion would flatten the rest
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("loss of the batch")
    ax.set_title("Learning-rate range test")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return finish_figure(fig, save)


def plot_rate_sweep(sweep: pd.DataFrame, title: str, save: str | None = None):
    """A learning-rate sweep (:func:`mnistlab.races.rate_sweep`): left, final validation accuracy per rate
    for each contestant (log scale, its best rate starred); right, validation accuracy per epoch at each best rate.
    """
    from mnistlab import races

    missing = [c for c in ("contestant", "learning_rate", "epoch", "val_accuracy") if c not in sweep]
    if missing or sweep.empty:
        raise ValueError(f"plot_rate_sweep needs the table of races.rate_sweep; missing {missing}")
    final = sweep[sweep["epoch"] == sweep["epoch"].max()]
    best = races.best_rates(sweep)
    fig, (rate_ax, race_ax) = plt.subplots(1, 2, figsize=(11, 3.8))
    for name, rows in final.groupby("contestant", sort=False):
        rows = rows.sort_values("learning_rate")
        (line,) = rate_ax.plot(rows["learning_rate"], rows["val_accuracy"], "o-", label=name)
        top = rows[rows["learning_rate"] == best[name]]
        rate_ax.plot(top["learning_rate"], top["val_accuracy"], "*", ms=14, color=line.get_color())
    rate_ax.set_xscale("log")
    rate_ax.set_xlabel("learning rate (log scale)")
    rate_ax.set_ylabel("validation accuracy, last epoch")
    rate_ax.set_title("The sweep: ★ = each one's best rate")
    curves = races.race_curves(sweep)
    for name in curves.columns:
        race_ax.plot(np.asarray(curves.index), curves[name], "o-", label=name)
    race_ax.set_xlabel("epoch")
    race_ax.set_ylabel("validation accuracy")
    race_ax.set_xticks(np.asarray(curves.index))
    race_ax.set_title("The race: each at its best rate")
    for ax in (rate_ax, race_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return finish_figure(fig, save)
