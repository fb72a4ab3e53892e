"""Every exercise of notebooks 05 and 06: two correct styles pass, a plausible wrong answer fails saying why."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab import statistics
from mnistlab.exercises import evaluation_checks as ev
from mnistlab.exercises import explaining_checks as ex


def marks(capsys) -> list[str]:
    return [line[0] for line in capsys.readouterr().out.splitlines() if line[:1] in ("✅", "❌")]


@pytest.fixture(scope="module")
def predictions():
    """A made-up test set: labels, probability rows and their confusion matrix (not the notebook's)."""
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(5)
    y = rng.integers(0, 10, 500)
    logits = rng.normal(size=(500, 10))
    logits[np.arange(500), y] += 3.0
    logits[y == 4, 9] += 2.5  # 4s often read as 9s: the most confused direction is (4, 9)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y_pred = proba.argmax(axis=1)
    return y, proba, y_pred, confusion_matrix(y, y_pred, labels=range(10))


# --------------------------------------------------------------------------- notebook 05


def test_05_ex1_precision(capsys, predictions):
    from sklearn.metrics import precision_score

    y, _, y_pred, counts = predictions
    assert ev.check_precision(counts[9, 9] / counts[:, 9].sum(), counts, 9, "Ex")  # NumPy, a column
    assert ev.check_precision(precision_score(y, y_pred, labels=[9], average=None)[0], counts, 9, "Ex")  # sklearn
    assert not ev.check_precision(counts[9, 9] / counts[9].sum(), counts, 9, "Ex")  # the row: a recall
    out = capsys.readouterr().out
    assert ev.check_precision(round(counts[9, 9] / counts[:, 9].sum(), 4), counts, 9, "Ex")  # as the table prints it
    assert out.count("✅") == 2 and "❌" in out and "is the recall of 9" in out and "column" in out


def right_metrics_vectorised(counts):
    counts = np.asarray(counts, dtype=float)
    right, predicted, actual = np.diag(counts), counts.sum(axis=0), counts.sum(axis=1)
    precision = np.divide(right, predicted, out=np.zeros(10), where=predicted > 0)
    recall = np.divide(right, actual, out=np.zeros(10), where=actual > 0)
    both = precision + recall
    return precision, recall, np.divide(2 * precision * recall, both, out=np.zeros(10), where=both > 0)


def right_metrics_loops(counts):
    precision, recall, f1 = [], [], []
    for d in range(10):
        column, row = sum(counts[t][d] for t in range(10)), sum(counts[d])
        p = counts[d][d] / column if column else 0.0
        r = counts[d][d] / row if row else 0.0
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
    return precision, recall, f1


def test_05_ex2_metrics_from_confusion(capsys):
    assert ev.check_metrics_from_confusion(right_metrics_vectorised, "Ex")
    assert ev.check_metrics_from_confusion(right_metrics_loops, "Ex")
    swapped = lambda c: right_metrics_vectorised(c.T)  # noqa: E731  rows and columns swapped
    assert not ev.check_metrics_from_confusion(swapped, "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "❌" in out and "your precision of digit" in out and "scikit-learn says" in out


def test_05_ex3_confident_mistakes(capsys, predictions):
    import pandas as pd

    y, proba, _, _ = predictions
    numpy_style = int(((proba.argmax(axis=1) != y) & (proba.max(axis=1) > 0.5)).sum())
    frame = pd.DataFrame({"true": y, "predicted": proba.argmax(axis=1), "confidence": proba.max(axis=1)})
    pandas_style = len(frame.query("true != predicted and confidence > 0.5"))
    all_mistakes = int((proba.argmax(axis=1) != y).sum())
    assert ev.check_confident_mistakes(numpy_style, y, proba, 0.5, "Ex")
    assert ev.check_confident_mistakes(np.int64(pandas_style), y, proba, 0.5, "Ex")
    assert not ev.check_confident_mistakes(all_mistakes, y, proba, 0.5, "Ex")
    assert not ev.check_confident_mistakes(int((proba.max(axis=1) > 0.5).sum()), y, proba, 0.5, "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "is every mistake" in out and "right ones too" in out


def test_05_ex4_worst_pair(capsys, predictions):
    _, _, _, counts = predictions
    off = counts.copy()
    np.fill_diagonal(off, 0)
    by_argmax = tuple(int(i) for i in np.unravel_index(off.argmax(), off.shape))
    by_loops = max(((t, p) for t in range(10) for p in range(10) if t != p), key=lambda tp: counts[tp])
    assert by_argmax == (4, 9)
    assert ev.check_worst_pair(by_argmax, counts, "Ex")
    assert ev.check_worst_pair(list(by_loops), counts, "Ex")
    assert not ev.check_worst_pair((9, 4), counts, "Ex")  # (predicted, true)
    assert not ev.check_worst_pair((1, 1), counts, "Ex")  # the diagonal
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "is reversed: rows are the true digit and columns the predicted one" in out
    assert "on the diagonal" in out


def test_05_ex4_a_tie_between_the_two_directions_accepts_both(capsys):
    counts = np.eye(10, dtype=int) * 50
    counts[3, 5] = counts[5, 3] = 7
    assert ev.check_worst_pair((3, 5), counts, "Ex") and ev.check_worst_pair((5, 3), counts, "Ex")


def mcnemar_binomtest(y_true, pred_a, pred_b):
    from scipy.stats import binomtest

    a_right, b_right = pred_a == y_true, pred_b == y_true
    only_a, only_b = int((a_right & ~b_right).sum()), int((~a_right & b_right).sum())
    p = binomtest(only_a, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return only_a, only_b, p


def mcnemar_binom_cdf(y_true, pred_a, pred_b):
    from scipy.stats import binom

    only_a = sum(1 for t, a, b in zip(y_true, pred_a, pred_b, strict=True) if a == t and b != t)
    only_b = sum(1 for t, a, b in zip(y_true, pred_a, pred_b, strict=True) if b == t and a != t)
    n = only_a + only_b
    return only_a, only_b, min(1.0, 2 * binom.cdf(min(only_a, only_b), n, 0.5))


def mcnemar_counts_prediction_changes(y_true, pred_a, pred_b):
    differ = pred_a != pred_b
    only_a, only_b = int((differ & (pred_a == y_true)).sum()), int((differ & (pred_a != y_true)).sum())
    return only_a, only_b, mcnemar_binomtest(y_true, pred_a, pred_b)[2]


def test_05_ex5_mcnemar(capsys):
    assert ev.check_mcnemar(mcnemar_binomtest, "Ex")
    assert ev.check_mcnemar(mcnemar_binom_cdf, "Ex")
    assert not ev.check_mcnemar(mcnemar_counts_prediction_changes, "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "where the two predictions differ" in out and "one model is right" in out


def test_05_ex5_mcnemar_names_an_approximate_p_value_and_never_raises(capsys):
    from scipy.stats import chi2

    def chi_square(y_true, pred_a, pred_b):
        only_a, only_b, _ = mcnemar_binomtest(y_true, pred_a, pred_b)
        n = only_a + only_b
        return only_a, only_b, 1.0 if n == 0 else chi2.sf((abs(only_a - only_b) - 1) ** 2 / n, 1)

    def stub(*args):
        raise NotImplementedError

    assert not ev.check_mcnemar(chi_square, "Ex")
    assert not ev.check_mcnemar(lambda y, a, b: mcnemar_binomtest(y, b, a), "Ex")
    assert not ev.check_mcnemar(stub, "Ex") and not ev.check_mcnemar(..., "Ex")
    assert not ev.check_mcnemar(lambda y, a, b: 1 / 0, "Ex") and not ev.check_mcnemar(lambda y, a, b: 3, "Ex")
    out = capsys.readouterr().out
    assert "exact two-sided test" in out and "swapped" in out and out.count("not done yet") == 2
    assert "ZeroDivisionError" in out and "three numbers" in out
    assert statistics.mcnemar_test([1, 2], [1, 2], [1, 2]).p_value == 1.0


# --------------------------------------------------------------------------- notebook 06


def gradient_by_gather(scorer, images, digits):
    import tensorflow as tf

    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.gather(scorer(x), digits, axis=1, batch_dims=1)
    return np.abs(tape.gradient(score, x).numpy())[..., 0]


def gradient_by_one_hot(scorer, images, digits):
    import tensorflow as tf

    x = tf.Variable(images)
    with tf.GradientTape() as tape:
        score = tf.reduce_sum(scorer(x) * tf.one_hot(digits, 10), axis=1)
    return tf.abs(tape.gradient(score, x))  # (N, h, w, 1): the channel axis is accepted


def test_06_ex1_input_gradient(capsys):
    assert ex.check_input_gradient(gradient_by_gather, "Ex")
    assert ex.check_input_gradient(gradient_by_one_hot, "Ex")

    def every_score(scorer, images, digits):
        import tensorflow as tf

        x = tf.convert_to_tensor(images)
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(scorer(x))
        return np.abs(tape.gradient(total, x).numpy())[..., 0]

    def no_abs(scorer, images, digits):
        return gradient_by_gather(scorer, images, digits) * np.sign(np.random.default_rng(0).normal(size=(4, 10, 10)))

    assert not ex.check_input_gradient(every_score, "Ex")
    assert not ex.check_input_gradient(no_abs, "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "sum of all ten scores" in out and "absolute value" in out


def folds_by_sklearn(labels, k, seed):
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [test for _, test in splitter.split(np.zeros(len(labels)), labels)]


def folds_by_numpy(labels, k, seed):
    rng = np.random.default_rng(seed)
    folds = [[] for _ in range(k)]
    position = 0
    for digit in range(10):
        for index in rng.permutation(np.flatnonzero(labels == digit)):
            folds[position % k].append(index)
            position += 1
    return [np.array(fold) for fold in folds]


def StratifiedKFold_pairs(labels, k, seed):  # noqa: N802  the splitter's own (train, held_out) pairs
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels)


def test_06_ex3_stratified_folds(capsys):
    from sklearn.model_selection import KFold

    assert ex.check_stratified_folds(folds_by_sklearn, "Ex")
    assert ex.check_stratified_folds(folds_by_numpy, "Ex")
    assert not ex.check_stratified_folds(
        lambda labels, k, seed: [test for _, test in KFold(k).split(labels)], "Ex")  # not stratified, not shuffled
    assert not ex.check_stratified_folds(lambda labels, k, seed: np.array_split(np.arange(len(labels) - 1), k), "Ex")
    assert not ex.check_stratified_folds(lambda labels, k, seed: StratifiedKFold_pairs(labels, k, seed), "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "not stratified" in out and "exactly once" in out and "held-out indices" in out


def test_06_ex4_paired_difference(capsys):
    from scipy import stats

    def by_numpy(acc_a, acc_b):
        d = np.asarray(acc_a) - np.asarray(acc_b)
        return d.mean(), d.std(ddof=1) / np.sqrt(len(d))

    def by_scipy(acc_a, acc_b):
        d = [a - b for a, b in zip(acc_a, acc_b, strict=True)]
        return float(np.mean(d)), float(stats.sem(d))

    def unpaired(acc_a, acc_b):
        k = len(acc_a)
        return np.mean(acc_a) - np.mean(acc_b), np.sqrt(np.var(acc_a, ddof=1) / k + np.var(acc_b, ddof=1) / k)

    assert ex.check_paired_difference(by_numpy, "Ex")
    assert ex.check_paired_difference(by_scipy, "Ex")
    assert not ex.check_paired_difference(unpaired, "Ex")
    assert not ex.check_paired_difference(lambda a, b: by_numpy(b, a), "Ex")
    assert not ex.check_paired_difference(lambda a, b: (np.mean(a - b), np.std(a - b) / np.sqrt(len(a))), "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "unpaired standard error" in out and "subtract per fold" in out
    assert "you computed b - a" in out and "ddof=1" in out


def test_06_ex5_fold_spread_choice(capsys):
    assert ex.check_fold_spread("b", "Ex") and ex.check_fold_spread("B", "Ex")
    assert not ex.check_fold_spread("a", "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "not the uncertainty of the difference" in out


def test_06_ex2_grad_cam_step(capsys):
    def vectorised(feature_maps, gradients):
        return np.maximum((gradients.mean(axis=(1, 2), keepdims=True) * feature_maps).sum(axis=-1), 0)

    def einsum(feature_maps, gradients):
        weights = gradients.mean(axis=(1, 2))
        return np.clip(np.einsum("nhwk,nk->nhw", feature_maps, weights), 0, None)

    assert ev.check_grad_cam_step(vectorised, "Ex")
    assert ev.check_grad_cam_step(einsum, "Ex")
    assert not ev.check_grad_cam_step(lambda a, g: (g.mean(axis=(1, 2), keepdims=True) * a).sum(axis=-1), "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "ReLU" in out


def test_not_done_answers_never_raise(capsys):
    for check in (ev.check_mcnemar, ex.check_input_gradient, ex.check_stratified_folds, ex.check_paired_difference):
        assert check(..., "Ex") is False

        def stub(*args):
            raise NotImplementedError

        assert check(stub, "Ex") is False
    assert not ev.check_worst_pair(..., np.eye(10), "Ex") and not ev.check_precision(None, np.eye(10), 1, "Ex")
    assert not ev.check_confident_mistakes(..., [0], np.eye(10)[:1], 0.5, "Ex") and not ex.check_fold_spread(..., "Ex")
    out = capsys.readouterr().out
    assert "Traceback" not in out and out.count("❌") == 12
