"""Notebook 07's self-checks: a right answer passes, a wrong one fails with why, a placeholder is not done."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from mnistlab.exercises.pipeline_checks import (
    check_centre_of_mass,
    check_confidence_cut,
    check_white_on_black,
    polarity_cases,
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


def test_confidence_cut_right_wrong_and_not_done(capsys):
    confidences = np.array([0.99, 0.95, 0.62, 0.71, 0.88])
    right = np.array([True, True, False, True, False])
    assert check_confidence_cut(0.88, confidences, right)
    assert "2 of 5 answers are accepted" in capsys.readouterr().out
    assert not check_confidence_cut(0.62, confidences, right)
    assert "too low" in capsys.readouterr().out
    assert not check_confidence_cut(0.99, confidences, right)
    assert not check_confidence_cut("high", confidences, right)
    assert not check_confidence_cut(..., confidences, right)
    assert "not done yet" in capsys.readouterr().out
    assert check_confidence_cut(0.0, confidences, np.ones(5, bool))  # nothing wrong: any answer is accepted
