"""Notebook 05's self-checks: a right answer passes, a wrong one fails saying why, `...` is 'not done yet'."""

from __future__ import annotations

import numpy as np

from mnistlab.exercises.evaluation_checks import check_grad_cam_step, check_metrics_from_confusion


def right_metrics(counts):
    tp = np.diag(counts).astype(float)
    predicted, actual = counts.sum(axis=0), counts.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros(10), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros(10), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(10), where=both > 0)
    return precision, recall, f1


def test_metrics_right_answer_passes(capsys):
    assert check_metrics_from_confusion(right_metrics, "Ex") is True
    assert capsys.readouterr().out.startswith("✅ Ex")


def test_metrics_swapped_axes_are_named(capsys):
    def swapped(counts):
        p, r, f = right_metrics(counts)
        return r, p, f

    assert check_metrics_from_confusion(swapped, "Ex", hint="rows are true digits") is False
    out = capsys.readouterr().out
    assert out.startswith("❌ Ex") and "your precision of digit" in out and "💡 Hint: rows are true digits" in out


def test_metrics_nan_for_a_digit_never_predicted_is_reported(capsys):
    def naive(counts):
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.diag(counts) / counts.sum(axis=0)
            r = np.diag(counts) / counts.sum(axis=1)
            return p, r, 2 * p * r / (p + r)

    assert check_metrics_from_confusion(naive, "Ex") is False
    assert "precision of digit 7 is NaN" in capsys.readouterr().out


def test_metrics_not_done_and_broken_answers_never_raise(capsys):
    def stub(counts):
        raise NotImplementedError

    assert check_metrics_from_confusion(..., "Ex") is False
    assert check_metrics_from_confusion(stub, "Ex") is False
    assert check_metrics_from_confusion(lambda counts: 1 / 0, "Ex") is False
    assert check_metrics_from_confusion(lambda counts: counts, "Ex") is False  # ten rows, not three arrays
    assert check_metrics_from_confusion(3, "Ex") is False
    out = capsys.readouterr().out
    assert out.count("not done yet") == 2 and "ZeroDivisionError" in out and "three arrays" in out


def right_cam(feature_maps, gradients):
    weights = gradients.mean(axis=(1, 2), keepdims=True)
    return np.maximum((weights * feature_maps).sum(axis=-1), 0)


def test_grad_cam_step_right_answer_passes(capsys):
    assert check_grad_cam_step(right_cam, "Ex") is True
    assert capsys.readouterr().out.startswith("✅ Ex")


def test_grad_cam_step_common_mistakes_are_named(capsys):
    def no_relu(a, g):
        return (g.mean(axis=(1, 2), keepdims=True) * a).sum(axis=-1)

    def per_pixel(a, g):
        return np.maximum((g * a).sum(axis=-1), 0)

    def channels_kept(a, g):
        return np.maximum(g.mean(axis=(1, 2), keepdims=True) * a, 0)

    def wrong_axes(a, g):
        return np.maximum((g.mean(axis=(0, 1), keepdims=True) * a).sum(axis=-1), 0)

    def summed(a, g):
        return np.maximum((g.sum(axis=(1, 2), keepdims=True) * a).sum(axis=-1), 0)

    assert not check_grad_cam_step(summed, "Ex")
    assert "you summed the gradients over the grid" in capsys.readouterr().out
    assert not check_grad_cam_step(no_relu, "Ex")
    assert not check_grad_cam_step(per_pixel, "Ex")
    assert not check_grad_cam_step(channels_kept, "Ex")
    assert not check_grad_cam_step(wrong_axes, "Ex")
    out = capsys.readouterr().out
    assert "ReLU" in out and "one weight per channel" in out and "sum over the channel axis" in out
    assert "the values differ" in out


def test_grad_cam_step_not_done_never_raises(capsys):
    def stub(a, g):
        raise NotImplementedError

    assert not check_grad_cam_step(..., "Ex")
    assert not check_grad_cam_step(stub, "Ex")
    assert not check_grad_cam_step(lambda a, g: a.nope, "Ex")
    out = capsys.readouterr().out
    assert out.count("not done yet") == 2 and "AttributeError" in out
