"""Notebook 07's self-checks: a right answer passes, a wrong one fails with why, a placeholder is not done."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from mnistlab.exercises.pipeline_checks import (
    check_centre_of_mass,
    check_open_set_threshold,
    check_white_on_black,
    polarity_cases,
    threshold_cases,
)


def by_the_border(grey):
    ring = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1 - grey if np.median(ring) > 0.5 else grey


def not_written(grey):
    raise NotImplementedError("Exercise: write this part, then run the check below")


def test_white_on_black_right_wrong_and_not_done(test_pictures, capsys):
    assert check_white_on_black(by_the_border, digits=test_pictures, seed=1)
    assert "✅" in capsys.readouterr().out
    assert not check_white_on_black(lambda grey: grey, digits=test_pictures, seed=1)  # never inverts
    assert "dark ink on light paper" in capsys.readouterr().out
    assert not check_white_on_black(lambda grey: 1 - grey, digits=test_pictures, seed=1)  # always inverts
    assert "light ink on a dark canvas" in capsys.readouterr().out
    assert not check_white_on_black(lambda grey: grey[:10], digits=test_pictures, seed=1)
    assert "shape" in capsys.readouterr().out
    assert not check_white_on_black(..., digits=test_pictures)
    assert not check_white_on_black(not_written, digits=test_pictures)
    assert capsys.readouterr().out.count("not done yet") == 2


def test_polarity_cases_differ_from_call_to_call(test_pictures):
    first, second = polarity_cases(test_pictures, count=4), polarity_cases(test_pictures, count=4)
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(first, second, strict=True))


def test_centre_of_mass_right_wrong_and_not_done(test_pictures, capsys):
    def weighted(image):
        rows, cols = np.indices(image.shape)
        return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()

    assert check_centre_of_mass(weighted, digits=test_pictures, seed=2)
    assert check_centre_of_mass(ndi.center_of_mass, digits=test_pictures, seed=2)
    assert "✅" in capsys.readouterr().out
    assert not check_centre_of_mass(lambda image: weighted(image)[::-1], digits=test_pictures, seed=2)  # swapped
    assert "you returned (column, row); the exercise asks (row, column)" in capsys.readouterr().out
    assert not check_centre_of_mass(lambda image: (14.0, 14.0), digits=test_pictures, seed=2)  # the constant
    assert "your function returned 2 of 2 values wrong (at index (0,): 14.0, expected" in capsys.readouterr().out
    assert not check_centre_of_mass(..., digits=test_pictures)
    assert "not done yet" in capsys.readouterr().out


def by_sorting(digit_scores, accept=0.997):
    ordered = np.sort(np.ravel(digit_scores))
    may_refuse = int(np.floor((1 - accept) * len(ordered) + 1e-9))
    return float(ordered[min(may_refuse, len(ordered) - 1)])


def by_counting(digit_scores, accept=0.997):
    scores = np.asarray(digit_scores)
    for threshold in np.unique(scores)[::-1]:  # the highest first
        if (scores >= threshold).mean() >= accept:
            return threshold
    return scores.min()


def share_below(scores, threshold):
    return float(np.mean(np.asarray(scores) < threshold))


def test_open_set_threshold_two_right_styles_and_plausible_wrong_ones(capsys):
    assert check_open_set_threshold(by_sorting, share_below, seed=3)
    assert check_open_set_threshold(by_counting, lambda s, t: 1 - (np.asarray(s) >= t).mean(), seed=4)
    assert capsys.readouterr().out.count("✅") == 2
    # np.quantile interpolates: between two scores, below the border digit or (2,003 scores) past it
    assert not check_open_set_threshold(lambda s, accept=0.997: np.quantile(s, 1 - accept), share_below, seed=3)
    out = capsys.readouterr().out
    assert "❌" in out and "falls between two scores" in out
    # off by one: one digit more refused than allowed
    assert not check_open_set_threshold(lambda s, accept=0.997: by_sorting(s, accept) if False else
                                        float(np.sort(s)[int(np.floor((1 - accept) * len(s) + 1e-9)) + 1]),
                                        share_below, seed=3)
    assert "accepts too few" in capsys.readouterr().out
    # one fewer refused than allowed: still accepts enough, but not the highest threshold
    assert not check_open_set_threshold(
        lambda s, accept=0.997: float(np.sort(s)[max(int(np.floor((1 - accept) * len(s) + 1e-9)) - 1, 0)]),
        share_below, seed=3)
    assert "lets through more non-digits than it needs to" in capsys.readouterr().out
    # accept read as the share refused
    assert not check_open_set_threshold(lambda s, accept=0.997: by_sorting(s, 1 - accept), share_below, seed=3)
    assert "share of digits kept, not the share refused" in capsys.readouterr().out
    # ties: a score equal to the threshold counted as refused
    assert not check_open_set_threshold(by_sorting, lambda s, t: float(np.mean(np.asarray(s) <= t)), seed=3)
    assert "strictly below it" in capsys.readouterr().out
    assert not check_open_set_threshold(by_sorting, lambda s, t: float(np.mean(np.asarray(s) >= t)), seed=3)
    assert "that is the share accepted" in capsys.readouterr().out
    assert not check_open_set_threshold(..., share_below)
    assert "not done yet" in capsys.readouterr().out


def test_open_set_threshold_of_the_model_must_be_the_stored_one(capsys):
    assert check_open_set_threshold(by_sorting, share_below, model_threshold=(0.42189, 0.421897), seed=5)
    assert "the one stored with it" in capsys.readouterr().out
    # chosen on the non-digits (or anything but the validation digits): another number
    assert not check_open_set_threshold(by_sorting, share_below, model_threshold=(0.93, 0.421897), seed=5)
    assert "never of the non-digits or the test digits" in capsys.readouterr().out
    assert not check_open_set_threshold(by_sorting, share_below, model_threshold=(..., 0.421897), seed=5)
    assert "not done yet" in capsys.readouterr().out


def test_threshold_cases_have_ties_and_change_from_call_to_call():
    first, second = threshold_cases(), threshold_cases()
    assert any(len(np.unique(s)) < len(s) for s, _, _ in first), "ties, as calibrated scores have"
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(first, second, strict=True))
