"""Self-checks for notebook 07 (your own images): the learner's preprocessing steps run on unseen digits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage as ndi

from mnistlab.exercises.checks import (
    NO_RESULT,
    call_learner,
    check_function,
    failed,
    is_missing,
    learner_number,
    not_done,
    passed,
    require_function,
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
    hint = ("look at the outer ring of pixels, where the paper is: if it is light, invert the picture; "
            "otherwise leave it as it is")
    if not require_function(function, what, hint):
        return False
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
    hint = ("the centre of mass is the brightness-weighted mean of the pixels' row indices (and of their column "
            "indices): each pixel counts as much as it is bright")
    if not require_function(function, what, hint):
        return False
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


# --------------------------------------------------------------------------- Otsu's threshold


def _otsu_parts(grey: np.ndarray, bins: int = 256):
    """scikit-image's histogram of a float picture (``bins`` bins over its own range): counts, centres, edges."""
    counts, edges = np.histogram(grey.ravel(), bins=bins, range=(float(grey.min()), float(grey.max())))
    return counts.astype(np.float64), (edges[:-1] + edges[1:]) / 2, edges


def otsu_variants(grey: np.ndarray) -> dict[str, float]:
    """Otsu's threshold and the near misses a learner writes: ``right`` (scikit-image's), one bin too high or
    too low, the bin's upper edge, and the split that maximises the *within*-class variance."""
    counts, centres, edges = _otsu_parts(grey)
    w0, w1 = np.cumsum(counts)[:-1], np.cumsum(counts[::-1])[::-1][1:]
    m0 = np.cumsum(counts * centres)[:-1] / w0
    m1 = (np.cumsum((counts * centres)[::-1])[::-1][1:]) / w1
    best = int(np.argmax(w0 * w1 * (m0 - m1) ** 2))
    v0 = np.cumsum(counts * centres**2)[:-1] / w0 - m0**2
    v1 = np.cumsum((counts * centres**2)[::-1])[::-1][1:] / w1 - m1**2
    return {"right": float(centres[best]), "one bin too high": float(centres[min(best + 1, len(centres) - 1)]),
            "one bin too low": float(centres[max(best - 1, 0)]), "upper edge": float(edges[best + 1]),
            "within": float(centres[int(np.argmax(w0 * v0 + w1 * v1))])}


def _ties_with_otsu(picture: np.ndarray, value: float) -> bool:
    """Whether ``value`` is the centre of a bin whose split is as good as Otsu's: splits inside a run of empty
    bins tie exactly, and rounding decides which one an implementation finds first."""
    counts, centres, _ = _otsu_parts(picture)
    index = int(np.argmin(np.abs(centres - value)))
    if index == len(centres) - 1 or abs(centres[index] - value) > (centres[1] - centres[0]) / 4:
        return False
    w0, w1 = np.cumsum(counts)[:-1], np.cumsum(counts[::-1])[::-1][1:]
    m0 = np.cumsum(counts * centres)[:-1] / w0
    m1 = (np.cumsum((counts * centres)[::-1])[::-1][1:]) / w1
    between = w0 * w1 * (m0 - m1) ** 2
    return bool(between[index] >= np.nanmax(between) * (1 - 1e-9))


def otsu_cases(digits: np.ndarray | None = None, count: int = 4,
               seed: int | None = None) -> list[tuple[np.ndarray, str]]:
    """Grey pictures the learner has not seen, each with a description: two- and three-level synthetic pictures
    with noise and a lighting gradient, and MNIST test digits rendered as ink on paper (both polarities)."""
    rng = np.random.default_rng(seed)
    cases = []
    for number in range(2):
        height, width = rng.integers(30, 60, size=2)
        levels = np.sort(rng.uniform(0.05, 0.95, size=2 + number))
        labels = rng.choice(len(levels), size=(height, width), p=rng.dirichlet(np.full(len(levels), 3.0)))
        picture = levels[labels] + rng.normal(0, 0.03, (height, width)) + np.linspace(0, 0.05, width)[None, :]
        cases.append((np.clip(picture, 0, 1), f"a synthetic {len(levels)}-level picture ({height}x{width})"))
    for number, digit in enumerate(_test_digits(digits, count, seed)):
        paper, ink = rng.uniform(0.6, 0.95), rng.uniform(0.4, 0.55)
        digit = np.kron(digit, np.ones((2, 2)))  # 56x56: a histogram dense enough to tell neighbouring bins apart
        picture = paper - ink * digit if number % 2 == 0 else (1 - paper) + ink * digit
        picture = picture + rng.normal(0, 0.04, digit.shape) + np.linspace(-0.04, 0.04, digit.shape[0])[:, None]
        kind = "dark ink on paper" if number % 2 == 0 else "light ink on a dark canvas"
        cases.append((np.clip(picture, 0, 1), f"an MNIST test digit as {kind}"))
    return cases


def check_otsu(function: Callable, digits: np.ndarray | None = None, count: int = 4, seed: int | None = None,
               what: str = "Otsu's threshold", hint: str | None = None) -> bool:
    """Compare the learner's ``function(grey) -> threshold`` with ``skimage.filters.threshold_otsu`` on pictures made
    here; a threshold off by one bin, at a bin edge, or maximising the within-class variance is named."""
    from skimage.filters import threshold_otsu

    hint = hint or ("a 256-bin histogram of the grey values; for every split between two bins, weigh the two "
                    "classes' shares and mean greys (running sums help) and keep the split with the largest "
                    "between-class variance; return the centre of the last dark bin")
    if not require_function(function, what, hint):
        return False
    cases = otsu_cases(digits, count, seed)
    for picture, description in cases:
        value = learner_number(function, (picture.copy(),), what, hint, on=description)
        if value is NO_RESULT:
            return False
        want = float(threshold_otsu(picture))
        bin_width = (picture.max() - picture.min()) / 256
        if abs(value - want) <= bin_width / 4 or _ties_with_otsu(picture, value):
            continue
        variants = otsu_variants(picture)
        near = [name for name, v in variants.items() if name != "right" and abs(value - v) <= bin_width / 4]
        problem = f"on {description} your threshold is {value:.4f}, threshold_otsu gives {want:.4f}"
        if "within" in near:
            problem += (": you maximised the within-class variance; Otsu's split makes the classes as different "
                        "as possible, maximising the between-class variance w0 * w1 * (m0 - m1) ** 2")
        elif near and near[0].startswith("one bin"):
            problem += f" ({near[0]}): return the centre of the last bin of the dark class"
        elif "upper edge" in near:
            problem += ": that is the bin's upper edge; return the bin's centre"
        elif value > 1.5:  # a bin number (argmax), not a grey level
            problem += ": the picture is in [0, 1], so is its threshold (use the histogram's bin centres)"
        return failed(what, problem, hint)
    return passed(what, f"(the same as skimage.filters.threshold_otsu on {len(cases)} pictures you had not seen)")


# --------------------------------------------------------------------------- MNIST's 20x20 box and centre of mass


def _reference_box(picture: np.ndarray) -> np.ndarray:
    """The library's stage: crop to the ink's bounding box, fit into the 20-pixel box, centre by mass in 28x28."""
    from mnistlab import images

    top, left, bottom, right = images.bounding_box(picture > 0)
    return images.centre_by_mass(images.fit_box(picture[top:bottom, left:right]))


def _box(image: np.ndarray, level: float = 0.25) -> tuple[int, int]:
    """(height, width) of the box around the pixels brighter than ``level`` of the brightest."""
    rows, cols = np.nonzero(image > level * image.max())
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def fit_box_cases(digits: np.ndarray | None = None, count: int = 5, seed: int | None = None):
    """``(picture, description)``: MNIST test digits enlarged 2-4 times, stretched, on a bigger black canvas at a
    random place; only digits whose box centre and centre of mass are over a pixel apart (so centring the box
    instead of the mass shows)."""
    from PIL import Image

    from mnistlab import images

    rng = np.random.default_rng(seed)
    cases = []
    for digit in _test_digits(digits, 8 * count, seed):
        top, left, bottom, right = images.bounding_box(digit > 0)
        crop = digit[top:bottom, left:right]
        scale, stretch = rng.uniform(2, 4), rng.uniform(0.8, 1.25)
        size = (max(2, round(crop.shape[1] * scale * stretch)), max(2, round(crop.shape[0] * scale)))
        big = np.clip(np.asarray(Image.fromarray(crop.astype(np.float32)).resize(size, Image.LANCZOS)), 0, 1)
        big[big < 0.02] = 0
        if max(big.shape) < 1.3 * min(big.shape):
            continue  # nearly square: a stretched square would not show a lost aspect ratio
        canvas = np.zeros((big.shape[0] + rng.integers(4, 30), big.shape[1] + rng.integers(4, 30)))
        at = rng.integers(0, canvas.shape[0] - big.shape[0]), rng.integers(0, canvas.shape[1] - big.shape[1])
        canvas[at[0]:at[0] + big.shape[0], at[1]:at[1] + big.shape[1]] = big
        reference = _reference_box(canvas)
        rows, cols = np.nonzero(reference > 0.25 * reference.max())
        box_centre = np.array([(rows.min() + rows.max()) / 2, (cols.min() + cols.max()) / 2])
        if np.abs(box_centre - np.array(ndi.center_of_mass(reference))).max() < 1.0:
            continue
        cases.append((canvas, f"a digit {big.shape[0]}x{big.shape[1]} on a {canvas.shape[0]}x{canvas.shape[1]} canvas"))
        if len(cases) == count:
            break
    return cases


def check_fit_box(function: Callable, digits: np.ndarray | None = None, count: int = 5, seed: int | None = None,
                  what: str = "MNIST's box", hint: str | None = None) -> bool:
    """Compare the learner's ``function(picture) -> 28x28`` with the library's stage (``images.fit_box`` and
    ``images.centre_by_mass``) on enlarged, stretched digits placed anywhere on a canvas: the longer side 20 px,
    the aspect ratio kept, the centre of mass at (14, 14), and the same picture (any interpolation)."""
    hint = hint or ("crop to the ink's bounding box, resize it so that its longer side is 20 pixels (keep the "
                    "aspect ratio), paste it in the middle of a 28×28 black field, then shift it, without wrapping "
                    "around, so that its centre of mass lands at (14, 14)")
    if not require_function(function, what, hint):
        return False
    cases = fit_box_cases(digits, count, seed)
    for picture, description in cases:
        result = call_learner(function, (picture.copy(),), what, hint, on=description)
        if result is NO_RESULT:
            return False
        try:
            got = np.asarray(result, dtype=np.float64).squeeze()
        except (TypeError, ValueError):
            return failed(what, f"on {description} you returned a {type(result).__name__}; return a 28x28 array", hint)
        if got.shape != (28, 28):
            return failed(what, f"on {description} the result has shape {got.shape}, not (28, 28)", hint)
        if not got.max() > 0:
            return failed(what, f"on {description} the result is empty", hint)
        want = _reference_box(picture)
        (height, width), (want_height, want_width) = _box(got), _box(want)
        if not 18 <= max(height, width) <= 21:
            return failed(what, f"on {description} the digit's longer side is {max(height, width)} px: scale it so "
                                f"the longer side is 20 px", hint)
        if abs(min(height, width) - min(want_height, want_width)) > 2:
            return failed(what, f"on {description} the digit is {height}x{width} px, the library makes it "
                                f"{want_height}x{want_width}: keep the aspect ratio (one scale for both sides)", hint)
        centre = np.array(ndi.center_of_mass(np.clip(got, 0, None)))
        if np.abs(centre - 14).max() > 0.75:
            return failed(what, f"on {description} the centre of mass is at ({centre[0]:.1f}, {centre[1]:.1f}), not "
                                f"(14, 14): shift by the centre of mass, not by the middle of the box", hint)
        # Blurred a little, so that another interpolation or a sub-pixel shift (both right) does not count
        agreement = float(np.corrcoef(ndi.gaussian_filter(got, 1).ravel(), ndi.gaussian_filter(want, 1).ravel())[0, 1])
        if agreement < 0.9:
            return failed(what, f"on {description} your 28x28 digit differs from the library's (correlation "
                                f"{agreement:.2f})", hint)
    return passed(what, f"(the library's box and centre on {len(cases)} digits you had not seen)")


# --------------------------------------------------------------------------- the open-set threshold


def threshold_cases(seed: int | None = None) -> list[tuple[np.ndarray, float, str]]:
    """``(digit_scores, accept, description)`` the learner has not seen: scores that pile up at 1.0 and repeat
    (calibrated probabilities do), and sizes where one digit more or less below the threshold shows, including
    some where ``np.quantile``'s interpolation lands past the border digit."""
    rng = np.random.default_rng(seed)

    def scores(count: int, decimals: int | None = None, ones: int = 0) -> np.ndarray:
        values = 1 - rng.beta(1, 8, size=count)  # most near 1, a tail of low ones, as digits score
        values = values.round(decimals) if decimals else values
        values[rng.choice(count, size=ones, replace=False)] = 1.0
        return rng.permutation(values)

    return [
        (scores(1000, decimals=3, ones=300), 0.997, "1,000 scores with ties, accept 99.7 %"),
        (scores(10), 0.75, "10 scores, accept 75 %"),
        (scores(2003, decimals=4, ones=500), 0.997, "2,003 scores with ties, accept 99.7 %"),
        (scores(40, decimals=2, ones=30), 0.9, "40 scores, 30 of them exactly 1.0, accept 90 %"),
        (scores(7), 0.5, "7 scores, accept 50 %"),
    ]


def _reference_threshold(digit_scores: np.ndarray, accept: float) -> float:
    from mnistlab import open_set

    return open_set.threshold_accepting(digit_scores, accept)


def _threshold_problem(value: float, digit_scores: np.ndarray, accept: float, want: float) -> str:
    """Why ``value`` is not the highest threshold accepting ``accept`` of ``digit_scores`` (``want`` is)."""
    count, kept = len(digit_scores), int((digit_scores >= value).sum())
    problem = (f"your threshold {value:.6g} accepts {kept} of the {count} digits ({kept / count:.2%}); "
               f"the highest threshold that accepts at least {accept:.1%} of them is {want:.6g}")
    if kept < accept * count - 1e-9:
        problem += f", so yours accepts too few: at least {accept:.1%} must be accepted (score >= threshold)"
        if kept < 0.5 * count < accept * count:
            problem += " — is `accept` the share of digits kept, not the share refused?"
    elif count - kept < (digit_scores < want).sum():
        problem += (f": yours refuses {count - kept} digit(s) where {int((digit_scores < want).sum())} may be "
                    f"refused, so it lets through more non-digits than it needs to")
    else:
        problem += ": that one refuses the same digits and no more non-digits than yours, often fewer"
    if not np.isin(value, digit_scores):
        problem += (". It falls between two scores (np.quantile interpolates between them): return the score "
                    "of the border digit itself")
    return problem


def _refusal_problem(value: float, scores: np.ndarray, threshold: float) -> str:
    want = float((scores < threshold).mean())
    problem = f"your refusal rate is {value:.4g}, expected {want:.4g}"
    if np.isclose(value, (scores <= threshold).mean()):
        problem += (": a score equal to the threshold is accepted (score >= threshold), so count only the scores "
                    "strictly below it")
    elif np.isclose(value, (scores >= threshold).mean()):
        problem += ": that is the share accepted; the refusal rate is the share below the threshold"
    elif np.isclose(value, (scores < threshold).sum()):
        problem += ": that is a count; return the share (a number between 0 and 1)"
    return problem


def check_open_set_threshold(choose_threshold: Callable, refusal_rate: Callable,
                             model_threshold: tuple[object, float] | None = None, seed: int | None = None,
                             what: str = "open-set threshold") -> bool:
    """The learner's ``choose_threshold(digit_scores, accept)`` must give the library's threshold
    (:func:`mnistlab.open_set.threshold_accepting`: the highest that accepts ``accept`` of the digits, one of
    their scores) on score arrays made here, and ``refusal_rate(scores, threshold)`` the share of scores below it.

    ``model_threshold``: ``(the learner's threshold for a model, the threshold stored in its decision rule)``,
    which must agree (the rule's was fitted on the same validation digits)."""
    hint = ("sort the digit scores; at most (1 - accept) x n of them may fall below the threshold, so the "
            "threshold is the score of the first digit that must stay accepted (accepted: score >= threshold); "
            "the refusal rate is the share of scores strictly below the threshold")
    for function in (choose_threshold, refusal_rate):
        if not require_function(function, what, hint):
            return False
    cases = threshold_cases(seed)
    rng = np.random.default_rng(seed)
    for digit_scores, accept, description in cases:
        value = learner_number(choose_threshold, (digit_scores.copy(), accept), what, hint, on=description)
        if value is NO_RESULT:
            return False
        want = _reference_threshold(digit_scores, accept)
        if not np.isclose(value, want, rtol=0, atol=1e-12):
            return failed(what, f"on {description}: {_threshold_problem(value, digit_scores, accept, want)}", hint)
        # the refusal rate of made-up non-digit scores, some exactly at the threshold
        others = np.r_[rng.uniform(0, 1, size=60), np.full(int(rng.integers(3, 9)), want)]
        rate_value = learner_number(refusal_rate, (others.copy(), want), what, hint,
                                    on=f"non-digit scores ({description})")
        if rate_value is NO_RESULT:
            return False
        if not np.isclose(rate_value, (others < want).mean(), rtol=0, atol=1e-12):
            return failed(what, f"on non-digit scores: {_refusal_problem(rate_value, others, want)}", hint)
    note = f"(the library's threshold on {len(cases)} score arrays you had not seen, ties included"
    if model_threshold is not None:
        mine, stored = model_threshold
        model_hint = ("my_threshold = choose_threshold(validation_scores, predictor.rule.accepted_fraction), where "
                      "validation_scores are the rule's open-set scores of the validation digits: never of the "
                      "non-digits or the test digits")
        if is_missing(mine):
            return not_done(what, model_hint)
        try:
            value = float(np.asarray(mine).item())
        except (TypeError, ValueError):
            return failed(what, f"my_threshold is a {type(mine).__name__}; it must be one number", model_hint)
        if abs(value - stored) > 1e-4 * max(1.0, abs(stored)):  # float32 model calls differ in the last digits
            return failed(what, f"your threshold for the default model is {value:.4f}, but the rule fitted on its "
                                f"validation digits has {stored:.4f}", model_hint)
        note += "; and your threshold for the default model is the one stored with it"
    return passed(what, note + ")")
