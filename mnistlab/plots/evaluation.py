"""Figures for evaluating a classifier: confusions, mistakes, confidence, k-fold, transfer."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mnistlab import evaluation
from mnistlab.data import NUM_CLASSES
from mnistlab.evaluation import DIGITS
from mnistlab.plots.grid import DIGIT_CMAP, image_stack, panel_grid
from mnistlab.plots.saving import finish_figure

# --------------------------------------------------------------------------- confusion


def plot_confusion_matrix(
    y_true, y_pred, normalize: str = "both", title: str | None = None, save: str | None = None
) -> Figure:
    """Seaborn heatmap of the confusion matrix: ``"counts"``, ``"true"`` (row-normalised) or ``"both"``.

    Rows are the true digits, columns the predictions; in the row-normalised panel each row
    sums to 1 and the diagonal is the per-digit recall.
    """
    import seaborn as sns

    panels = {"counts": ["counts"], "true": ["true"], "both": ["counts", "true"]}
    if normalize not in panels:
        raise ValueError(f"normalize={normalize!r} is not understood: use 'counts', 'true' or 'both'.")
    kinds = panels[normalize]
    fig, axes = plt.subplots(1, len(kinds), figsize=(6.2 * len(kinds), 5.2), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        if kind == "counts":
            matrix = evaluation.confusion(y_true, y_pred)
            sns.heatmap(matrix, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax,
                        xticklabels=DIGITS, yticklabels=DIGITS, annot_kws={"size": 8})
            ax.set_title("Counts")
        else:
            matrix = evaluation.confusion(y_true, y_pred, normalize="true")
            sns.heatmap(matrix, annot=True, fmt=".2f", cmap="Blues", vmin=0, vmax=1, cbar=False,
                        ax=ax, xticklabels=DIGITS, yticklabels=DIGITS, annot_kws={"size": 7})
            ax.set_title("Row-normalised (each true digit sums to 1)")
        ax.set_xlabel("predicted digit")
        ax.set_ylabel("true digit")
    if title:
        fig.suptitle(title)
    return finish_figure(fig, save)


def plot_per_digit_accuracy(y_true, y_pred, save: str | None = None) -> Figure:
    """Bars of the accuracy on each true digit, with the overall accuracy as a dashed line."""
    per_digit = evaluation.per_digit_accuracy(y_true, y_pred)
    overall = evaluation.accuracy(y_true, y_pred)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    bars = ax.bar(per_digit.index, per_digit.values, color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:.3f}" for v in per_digit.values], fontsize=8, padding=2)
    ax.axhline(overall, color="tab:red", linestyle="--", label=f"overall {overall:.4f}")
    low = np.nanmin(per_digit.values)
    ax.set_ylim(max(0.0, low - (1 - low) * 0.6 - 0.01), 1.0)
    ax.set_xticks(DIGITS)
    ax.set_xlabel("true digit")
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy per digit")
    ax.legend(loc="lower right")
    return finish_figure(fig, save)


# --------------------------------------------------------------------------- examples


def plot_mistakes(
    images, y_true, probabilities, n: int = 16, indices=None, columns: int = 8,
    title: str | None = None, save: str | None = None,
) -> Figure:
    """Gallery of misclassified digits, most confident mistake first (or the given ``indices``).

    Each title reads ``true → predicted`` and the confidence of the prediction.
    """
    images = image_stack(images)
    y_true = np.asarray(y_true)
    proba = np.asarray(probabilities)
    if indices is None:
        indices = evaluation.ranked_mistakes(y_true, proba)["index"].to_numpy()[:n]
    indices = np.asarray(indices, dtype=int)
    if len(indices) == 0:
        fig, ax = plt.subplots(figsize=(4, 1.5))
        ax.text(0.5, 0.5, "no mistakes to show", ha="center", va="center")
        ax.axis("off")
        return finish_figure(fig, save)
    fig, axes = panel_grid(len(indices), columns, (1.5, 1.8))
    for ax, i in zip(axes, indices, strict=False):
        predicted = int(proba[i].argmax())
        ax.imshow(images[i], cmap=DIGIT_CMAP)
        ax.set_title(f"#{i}\n{y_true[i]}→{predicted} ({proba[i, predicted]:.2f})", fontsize=8,
                     color="tab:red" if predicted != y_true[i] else "black")
    fig.suptitle(title or "Mistakes: true→predicted (confidence)", fontsize=10)
    return finish_figure(fig, save)


def plot_predictions(images, probabilities, y_true=None, n: int = 8, save: str | None = None) -> Figure:
    """The first ``n`` images, each above a bar chart of its ten predicted probabilities."""
    images = image_stack(images)[:n]
    proba = np.asarray(probabilities)[: len(images)]
    fig, axes = plt.subplots(2, len(images), figsize=(1.7 * len(images), 3.6), squeeze=False,
                             gridspec_kw={"height_ratios": [1.2, 1]})
    for k, (image, row) in enumerate(zip(images, proba, strict=True)):
        predicted = int(row.argmax())
        axes[0, k].imshow(image, cmap=DIGIT_CMAP)
        axes[0, k].axis("off")
        label = f"pred {predicted} ({row[predicted]:.2f})"
        wrong = y_true is not None and int(y_true[k]) != predicted
        if y_true is not None:
            label = f"true {int(y_true[k])}\n" + label
        axes[0, k].set_title(label, fontsize=8, color="tab:red" if wrong else "black")
        colors = ["tab:blue"] * NUM_CLASSES
        colors[predicted] = "tab:red" if wrong else "tab:green"
        axes[1, k].bar(DIGITS, row, color=colors)
        axes[1, k].set_ylim(0, 1)
        axes[1, k].set_xticks(DIGITS)
        axes[1, k].tick_params(labelsize=6)
        if k:
            axes[1, k].set_yticklabels([])
    axes[1, 0].set_ylabel("probability", fontsize=8)
    return finish_figure(fig, save)


# --------------------------------------------------------------------------- confidence


def plot_precision_recall(y_true, probabilities, save: str | None = None) -> Figure:
    """One-vs-rest precision-recall curve per digit, with its average precision in the legend."""
    curves = evaluation.precision_recall_curves(y_true, probabilities)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    cmap = plt.get_cmap("tab10")
    for digit, (precision, recall, ap) in curves.items():
        ax.plot(recall, precision, color=cmap(digit), label=f"{digit} (AP {ap:.4f})", lw=1.3)
    low = min(float(np.min(p[r >= 0.5])) for p, r, _ in curves.values())
    ax.set_ylim(max(0.0, low - 0.02), 1.005)
    ax.set_xlim(0.5, 1.005)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall per digit (zoomed on recall ≥ 0.5)")
    ax.legend(fontsize=8, ncol=2, loc="lower left")
    return finish_figure(fig, save)


def plot_confidence_histogram(y_true, probabilities, bins: int = 20, save: str | None = None) -> Figure:
    """Histogram of the top probability for right and for wrong predictions (log count axis)."""
    y_true = np.asarray(y_true)
    proba = np.asarray(probabilities)
    confidence = proba.max(axis=1)
    right = proba.argmax(axis=1) == y_true
    fig, ax = plt.subplots(figsize=(7, 3.6))
    edges = np.linspace(0.1, 1.0, bins + 1)
    ax.hist(confidence[right], bins=edges, alpha=0.7, label=f"right ({right.sum()})", color="tab:green")
    ax.hist(confidence[~right], bins=edges, alpha=0.8, label=f"wrong ({(~right).sum()})", color="tab:red")
    ax.set_yscale("log")
    ax.set_xlabel("confidence (probability of the predicted digit)")
    ax.set_ylabel("predictions (log scale)")
    ax.set_title("How sure is the model when it is right, and when it is wrong?")
    ax.legend()
    return finish_figure(fig, save)


def plot_calibration(y_true, probabilities, bins: int = 10, save: str | None = None) -> Figure:
    """Reliability diagram: accuracy per confidence bin against the diagonal of perfect calibration."""
    table = evaluation.calibration_table(y_true, probabilities, bins=bins)
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    width = table["high"] - table["low"]
    ax.bar(table["low"], table["accuracy"], width=width, align="edge", edgecolor="black",
           alpha=0.7, label="accuracy in bin")
    ax.plot([0, 1], [0, 1], "k--", label="perfect calibration")
    ax.plot(table["confidence"], table["accuracy"], "o", color="tab:red", ms=4,
            label="mean confidence")
    for _, row in table.iterrows():
        middle = (row["low"] + row["high"]) / 2
        ax.annotate(f"{int(row['count'])}", (middle, min(row["accuracy"] + 0.02, 1.0)),
                    ha="center", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title("Reliability diagram (numbers: predictions per bin)")
    ax.legend(loc="upper left", fontsize=8)
    return finish_figure(fig, save)


# --------------------------------------------------------------------------- k-fold, transfer


def plot_kfold(folds, single_split_accuracy: float | None = None, save: str | None = None) -> Figure:
    """Accuracy of each fold, their mean ± one standard deviation, and (if given) the single split."""
    values = np.asarray(folds["accuracy"], dtype=float)
    mean, std = float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.bar(folds["fold"].astype(str), values, color="tab:blue", alpha=0.8, label="held-out fold")
    ax.axhline(mean, color="black", label=f"mean {mean:.4f}")
    ax.axhspan(mean - std, mean + std, color="grey", alpha=0.25, label=f"± 1 std ({std:.4f})")
    if single_split_accuracy is not None:
        ax.axhline(single_split_accuracy, color="tab:red", linestyle="--",
                   label=f"single split {single_split_accuracy:.4f}")
    low = min(values.min(), single_split_accuracy if single_split_accuracy is not None else 1.0, mean - std)
    ax.set_ylim(max(0.0, low - 0.05), min(1.0, max(values.max(), mean + std) + 0.03))
    ax.set_xlabel("fold")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Stratified {len(values)}-fold cross-validation")
    ax.legend(fontsize=8, loc="lower right")
    return finish_figure(fig, save)


def plot_transfer(table, zero_shot: float | None = None, save: str | None = None) -> Figure:
    """Test accuracy against labelled examples per digit, one line per method (``compare_with_scratch``)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for method, rows in table.groupby("method", sort=False):
        ax.plot(rows["per_class"], rows["accuracy"], "o-", label=method)
        for _, row in rows.iterrows():
            ax.annotate(f"{row['accuracy']:.3f}", (row["per_class"], row["accuracy"]), fontsize=7,
                        textcoords="offset points", xytext=(0, 5), ha="center")
    if zero_shot is not None:
        ax.axhline(zero_shot, color="grey", linestyle=":", label=f"MNIST model as it is ({zero_shot:.3f})")
    ax.set_xscale("log")
    ticks = sorted(table["per_class"].unique())
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("labelled examples per digit")
    ax.set_ylabel("test accuracy")
    ax.set_title("Transfer learning vs training from scratch (load_digits)")
    ax.legend(fontsize=8, loc="lower right")
    return finish_figure(fig, save)


# --------------------------------------------------------------------------- calibration: before and after


def plot_reliability_comparison(y_true, probabilities_by_name: dict, bins: int = 10, save: str | None = None) -> Figure:
    """Reliability diagrams side by side, one per set of probabilities (e.g. before and after temperature scaling).

    Each panel is :func:`plot_calibration`'s diagram on the same examples ``y_true``, titled with its
    name and expected calibration error (:func:`mnistlab.calibration.expected_calibration_error`).
    """
    from mnistlab import calibration

    fig, axes = plt.subplots(1, len(probabilities_by_name), figsize=(4.2 * len(probabilities_by_name), 4.2),
                             squeeze=False, sharey=True)
    for ax, (name, proba) in zip(axes[0], probabilities_by_name.items(), strict=True):
        table = evaluation.calibration_table(y_true, proba, bins=bins)
        ax.bar(table["low"], table["accuracy"], width=table["high"] - table["low"], align="edge",
               edgecolor="black", alpha=0.7, label="accuracy in bin")
        ax.plot([0, 1], [0, 1], "k--", label="perfect calibration")
        ax.plot(table["confidence"], table["accuracy"], "o", color="tab:red", ms=4, label="mean confidence")
        for _, row in table.iterrows():
            ax.annotate(f"{int(row['count'])}", ((row["low"] + row["high"]) / 2, min(row["accuracy"] + 0.02, 1.0)),
                        ha="center", fontsize=7)
        ece = calibration.expected_calibration_error(y_true, proba, bins=bins)
        ax.set_title(f"{name}: ECE {ece:.4f}", fontsize=10)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("confidence")
    axes[0, 0].set_ylabel("accuracy (numbers: predictions per bin)")
    axes[0, 0].legend(loc="upper left", fontsize=8)
    return finish_figure(fig, save)


def plot_coverage_accuracy(
    y_true, probabilities_by_name: dict, threshold: float | None = None, min_coverage: float = 0.0,
    save: str | None = None,
) -> Figure:
    """Accuracy of the answers kept against the fraction kept, as a confidence threshold rises.

    One curve per set of probabilities (:func:`mnistlab.calibration.coverage_accuracy_curve`);
    ``threshold`` (e.g. the predictor's "unsure" cut-off) is marked on each curve with what it keeps.
    ``min_coverage`` zooms in on the right end, where a good model's useful thresholds are.
    """
    from mnistlab import calibration

    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    shown = []
    for name, proba in probabilities_by_name.items():
        _, coverage, accuracy = calibration.coverage_accuracy_curve(y_true, proba, np.linspace(0, 0.999, 400))
        shown.append(accuracy[(coverage >= min_coverage) & np.isfinite(accuracy)])
        (line,) = ax.plot(coverage, accuracy, "-", label=name)
        if threshold is not None:
            _, kept, right = calibration.coverage_accuracy_curve(y_true, proba, [threshold])
            ax.plot(kept, right, "o", color=line.get_color(), ms=7)
            ax.annotate(f"threshold {threshold:g}: keeps {kept[0]:.1%}, {right[0]:.2%} right", (kept[0], right[0]),
                        textcoords="offset points", xytext=(-8, 8), ha="right", fontsize=8, color=line.get_color())
    low = np.concatenate(shown).min() if np.concatenate(shown).size else 0.0
    ax.set_xlim(min_coverage, 1.005)
    ax.set_ylim(low - 0.1 * (1 - low) - 1e-4, 1 + 0.05 * (1 - low) + 1e-4)
    ax.set_xlabel("coverage (fraction of answers kept)")
    ax.set_ylabel("accuracy of the answers kept")
    ax.set_title("Coverage vs accuracy (the threshold rises from right to left)", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    return finish_figure(fig, save)


# --------------------------------------------------------------------------- open set: digits vs non-digits


def plot_open_set_roc(
    scores_by_name: dict, thresholds: dict | None = None, save: str | None = None
) -> Figure:
    """ROC curves of telling digits from non-digits by an open-set score (higher = more digit-like), one per model.

    ``scores_by_name`` maps a name to ``(digit_scores, non_digit_scores)``; each curve is
    :func:`sklearn.metrics.roc_curve` with the digits as the positive class, labelled with its area
    (AUROC). ``thresholds`` (name -> threshold, e.g. the predictor's rule) marks what the rule
    ``score >= threshold`` accepts of each, digits (up) and non-digits (right), with the shares in the legend.
    """
    from sklearn.metrics import roc_curve

    from mnistlab import open_set

    thresholds = thresholds or {}
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    for name, (digit_scores, non_digit_scores) in scores_by_name.items():
        digit_scores, non_digit_scores = np.ravel(digit_scores), np.ravel(non_digit_scores)
        truth = np.r_[np.ones(len(digit_scores)), np.zeros(len(non_digit_scores))]
        scores = np.r_[digit_scores, non_digit_scores]
        false_positive, true_positive, _ = roc_curve(truth, scores)
        area = open_set.auroc(digit_scores, non_digit_scores)
        (line,) = ax.plot(false_positive, true_positive, "-", drawstyle="steps-post", label=f"{name}: AUROC {area:.3f}")
        if name in thresholds:
            threshold = thresholds[name]
            digits_in, others_in = (digit_scores >= threshold).mean(), (non_digit_scores >= threshold).mean()
            accepts = f"accepts {digits_in:.1%} of digits, {others_in:.1%} of non-digits"
            ax.plot(others_in, digits_in, "o", color=line.get_color(), ms=8, mfc="none", mew=2,
                    label=f"  threshold {threshold:.3g}: {accepts}")
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="chance")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel("non-digits accepted (false-positive rate)")
    ax.set_ylabel("digits accepted (true-positive rate)")
    ax.set_title("Is it a digit? ROC of the open-set score", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return finish_figure(fig, save)
