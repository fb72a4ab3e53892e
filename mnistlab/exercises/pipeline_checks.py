"""Self-checks for notebook 07 (your own images): the learner's preprocessing steps run on unseen digits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage as ndi

from mnistlab.exercises.checks import (
    NO_RESULT,
    call_learner,
    check_choice,
    check_function,
    failed,
    is_missing,
    not_done,
    passed,
)


def _test_digits(digits: np.ndarray | None, count: int, seed: int | None) -> np.ndarray:
    """``count`` digits as floats in [0, 1], white on black: given ones, or MNIST test digits picked at random."""
    if digits is None:
        from mnistlab import data

        _, (digits, _) = data.load_mnist()
    rng = np.random.default_rng(seed)
    chosen = digits[rng.choice(len(digits), size=min(count, len(digits)), replace=False)]
    chosen = chosen.astype(np.float64)
    return chosen / 255.0 if chosen.max() > 1 else chosen


def polarity_cases(digits: np.ndarray | None = None, count: int = 12, seed: int | None = None):
    """``(picture, digit)`` pairs: each digit as dark ink on paper or light ink on a dark canvas, with a
    random paper brightness, ink strength and a little noise (nothing the learner has seen before)."""
    rng = np.random.default_rng(seed)
    cases = []
    for number, digit in enumerate(_test_digits(digits, count, seed)):
        ink = rng.uniform(0.55, 0.85) * digit
        # Dark on light, then light on dark, in alternation: both kinds are always tested.
        picture = rng.uniform(0.75, 0.98) - ink if number % 2 == 0 else rng.uniform(0.0, 0.15) + ink
        picture = np.clip(picture + rng.normal(0, 0.01, picture.shape), 0, 1)
        cases.append((picture, digit))
    return cases


def check_white_on_black(function: Callable, digits: np.ndarray | None = None, count: int = 12,
                         seed: int | None = None, what: str = "white on black") -> bool:
    """Run the learner's ``function(grey) -> grey`` on pictures of either polarity made here from unseen
    digits; it passes when every result is a light digit on a dark background."""
    hint = ("look at the outer ring of pixels (e.g. np.concatenate of the first/last row and column): "
            "if it is light, the paper is light, so return 1 - grey; otherwise return grey as it is")
    if is_missing(function):
        return not_done(what, hint)
    if not callable(function):
        return failed(what, f"expected a function, got a {type(function).__name__}", hint)
    cases = polarity_cases(digits, count, seed)
    for number, (picture, digit) in enumerate(cases, start=1):
        kind = "dark ink on light paper" if number % 2 == 1 else "light ink on a dark canvas"
        result = call_learner(function, (picture.copy(),), what, hint, on=f"test picture {number} ({kind})")
        if result is NO_RESULT:
            return False
        result = np.asarray(result, dtype=np.float64)
        if result.shape != picture.shape:
            return failed(what, f"on test picture {number} the result has shape {result.shape}, "
                                f"not the picture's {picture.shape}", hint)
        if result.min() < -0.01 or result.max() > 1.01:  # correlation alone would accept 255 - grey
            return failed(what, f"on test picture {number} ({kind}) the result runs from {result.min():.3g} to "
                                f"{result.max():.3g}: the picture is in [0, 1], so the result must be too "
                                f"(1 - grey, not 255 - grey)", hint)
        agreement = float(np.corrcoef(result.ravel(), digit.ravel())[0, 1])
        if not agreement > 0.9:
            return failed(what, f"on test picture {number} ({kind}) the result is not a light digit on a dark "
                                f"background (its correlation with the digit is {agreement:+.2f})", hint)
    return passed(what, f"({len(cases)} pictures of both polarities, none seen before)")


def centre_of_mass_cases(digits: np.ndarray | None = None, count: int = 8, seed: int | None = None):
    """``((image,), (row, column), description)`` cases for :func:`check_function`: digits shifted
    at random, so the centre is never the same."""
    rng = np.random.default_rng(seed)
    cases = []
    for number, digit in enumerate(_test_digits(digits, count, seed), start=1):
        shifted = np.roll(digit, tuple(rng.integers(-4, 5, size=2)), axis=(0, 1))
        expected = tuple(float(v) for v in ndi.center_of_mass(shifted))
        cases.append(((shifted,), expected, f"test digit {number} (shifted at random)"))
    return cases


def _same_point(result, expected) -> bool:
    values = np.asarray(result, dtype=np.float64).ravel()
    return values.shape == (2,) and bool(np.allclose(values, expected, atol=1e-3))


def check_centre_of_mass(function: Callable, digits: np.ndarray | None = None, count: int = 8,
                         seed: int | None = None, what: str = "centre of mass") -> bool:
    """Compare the learner's ``function(image) -> (row, column)`` with scipy on randomly shifted digits."""
    hint = ("weight each pixel's row and column by its brightness: rows, cols = np.indices(image.shape); "
            "row = (rows * image).sum() / image.sum(), and the same for the column; return (row, column)")
    if is_missing(function) or not callable(function):
        return check_function(function, [], what, hint=hint)
    cases = centre_of_mass_cases(digits, count, seed)
    if _returns_column_row(function, cases):
        return failed(what, "you returned (column, row); the exercise asks (row, column): swap the two", hint)
    return check_function(function, cases, what, hint=hint, compare=_same_point)


def _returns_column_row(function: Callable, cases) -> bool:
    """True when the function gives every case's centre with its two coordinates swapped (a centre on the
    diagonal, where both orders agree, proves nothing either way)."""
    swapped_somewhere = False
    for (image,), expected, _ in cases:
        try:
            result = function(image.copy())
            swapped = np.asarray(result, dtype=np.float64).ravel()[::-1]
        except Exception:  # raised, or not two numbers: check_function reports it
            return False
        right, reversed_right = _same_point(result, expected), _same_point(swapped, expected)
        if not (right or reversed_right):
            return False
        swapped_somewhere |= reversed_right and not right
    return swapped_somewhere


def check_confidence_cut(answer: object, confidences, right, what: str = "confidence cut") -> bool:
    """The answer must be the highest confidence among the wrong answers (0.0 when none is wrong)."""
    hint = "np.max(confidences[~right]) picks the most confident wrong answer (0.0 if there is none)"
    if is_missing(answer):
        return not_done(what, hint)
    confidences, right = np.asarray(confidences, dtype=np.float64), np.asarray(right, dtype=bool)
    expected = float(confidences[~right].max()) if (~right).any() else 0.0
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return failed(what, f"expected a number, got {type(answer).__name__}", hint)
    if abs(value - expected) <= 1e-6:
        accepted = confidences > expected
        return passed(what, f"above {expected:.3f}, {int(accepted.sum())} of {len(confidences)} answers are "
                            f"accepted and every one is right")
    if value < expected:
        wrong_above = int(((confidences >= value) & ~right).sum())
        return failed(what, f"{value:.3f} is too low: {wrong_above} wrong answer(s) are at least that confident",
                      hint)
    return failed(what, f"{value:.3f} is higher than the most confident wrong answer: use that one exactly", hint)


WHY_THICKEN_OPTIONS = {
    "a": "faint grey trace unlike MNIST",
    "b": "faster",
    "c": "every digit the same way",
    "d": "removed as a ruled line",
}


def check_why_thicken(answer: object, what: str = "why thicken") -> bool:
    """Exercise 3 of notebook 07 (multiple choice): why a thin digit is thickened before it is resized."""
    return check_choice(
        answer, "a", WHY_THICKEN_OPTIONS, what,
        why={"a": "MNIST's strokes are a set share of the digit's size (section 1 measured it); the stroke step "
                  "restores it.",
             "b": "speed has nothing to do with it: the resize costs the same.",
             "c": "strokes already in MNIST's range are left alone (see stroke_action 'kept').",
             "d": "the line remover only takes lines crossing the whole picture."},
        hint="look at the thin-strokes drawing in section 2.6, and at its 'stroke ... of its size -> thickened' "
             "line printed in section 2.3",
    )
