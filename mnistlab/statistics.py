"""Statistics for comparing models: a confidence interval on an accuracy, McNemar's test for two models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Accuracy:
    """An accuracy measured on ``n`` examples, with its Wilson confidence interval."""

    correct: int
    n: int
    low: float
    high: float
    confidence: float = 0.95

    @property
    def value(self) -> float:
        return self.correct / self.n

    def __str__(self) -> str:
        return (
            f"{100 * self.value:.2f} % ({100 * self.confidence:.0f} % CI {100 * self.low:.2f}–{100 * self.high:.2f} %, "
            f"{self.correct:,} of {self.n:,})"
        )


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a proportion ``successes / trials``.

    Unlike "p ± 1.96·sqrt(p(1-p)/n)" it stays inside [0, 1] and keeps its coverage near 0 and 1,
    where a good classifier's accuracy lives.
    """
    successes, trials = int(successes), int(trials)
    if trials <= 0:
        raise ValueError(f"an interval needs at least one trial, got {trials}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and trials ({trials}), got {successes}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, e.g. 0.95, got {confidence}")
    interval = stats.binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def accuracy_interval(y_true, y_pred, confidence: float = 0.95) -> Accuracy:
    """The accuracy of ``y_pred`` against ``y_true`` with its Wilson interval (printable)."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} labels but y_pred has {y_pred.size}: pass one prediction per label")
    correct = int((y_true == y_pred).sum())
    low, high = wilson_interval(correct, y_true.size, confidence)
    return Accuracy(correct, y_true.size, low, high, confidence)


@dataclass(frozen=True)
class McNemar:
    """McNemar's test on two models' answers to the same examples."""

    only_a_right: int  # examples model A gets right and model B wrong
    only_b_right: int
    p_value: float

    def __str__(self) -> str:
        return (
            f"A right where B is wrong: {self.only_a_right}, B right where A is wrong: {self.only_b_right}; "
            f"exact McNemar p = {self.p_value:.3g}"
        )


def mcnemar_test(y_true, pred_a, pred_b) -> McNemar:
    """Exact McNemar test: do models A and B differ in accuracy on these examples?

    Only the disagreements count: examples both get right or both get wrong say nothing about
    which is better. Under "equally good", each disagreement is a fair coin, so the p-value is the
    two-sided binomial test of ``only_a_right`` out of all disagreements at 1/2.
    """
    y_true, pred_a, pred_b = (np.asarray(a).ravel() for a in (y_true, pred_a, pred_b))
    if not y_true.shape == pred_a.shape == pred_b.shape:
        raise ValueError(
            "y_true, pred_a and pred_b must have one entry per example, "
            f"got {y_true.size}, {pred_a.size} and {pred_b.size}"
        )
    a_right, b_right = pred_a == y_true, pred_b == y_true
    only_a, only_b = int((a_right & ~b_right).sum()), int((b_right & ~a_right).sum())
    disagreements = only_a + only_b
    p_value = 1.0 if disagreements == 0 else float(stats.binomtest(only_a, disagreements, 0.5).pvalue)
    return McNemar(only_a, only_b, p_value)


def compare_to(y_true, predictions: dict, reference: str, confidence: float = 0.95):
    """Each model's accuracy with its interval, and McNemar's test against the ``reference`` model.

    ``predictions`` maps a model's name to its predicted labels on the same examples ``y_true``
    (McNemar pairs the answers, so they must be the same digits in the same order). One row per
    model: ``model``, ``accuracy``, ``low``, ``high``, ``only_reference_right``, ``only_model_right``
    and ``p_value`` (missing for the reference itself), most accurate first.
    """
    import pandas as pd

    if reference not in predictions:
        raise ValueError(f"reference {reference!r} is not one of the models: {', '.join(map(str, predictions))}")
    rows = []
    for name, predicted in predictions.items():
        acc = accuracy_interval(y_true, predicted, confidence)
        if name == reference:
            test = (np.nan, np.nan, np.nan)
        else:
            result = mcnemar_test(y_true, predictions[reference], predicted)
            test = (result.only_a_right, result.only_b_right, result.p_value)
        rows.append((name, acc.value, acc.low, acc.high, *test))
    columns = ["model", "accuracy", "low", "high", "only_reference_right", "only_model_right", "p_value"]
    table = pd.DataFrame(rows, columns=columns).sort_values("accuracy", ascending=False, kind="stable")
    # counts as integers, <NA> for the reference itself
    table = table.astype({"only_reference_right": "Int64", "only_model_right": "Int64"})
    return table.reset_index(drop=True)
