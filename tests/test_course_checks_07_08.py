"""Every exercise of notebooks 07 and 08: two correct styles pass, a plausible wrong answer fails and says why.

(Exercise 3 of notebook 08 needs a TFLite export: it is tested in ``test_deploy.py`` with the tiny model.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage as ndi

from mnistlab.deploy import QuantisedTensor
from mnistlab.exercises.deployment_checks import (
    check_api_number,
    check_p95_nearest_rank,
    check_quantised_kernel,
    check_representative_purpose,
)
from mnistlab.exercises.pipeline_checks import (
    check_centre_of_mass,
    check_fit_box,
    check_otsu,
    check_white_on_black,
    otsu_variants,
)


def outcome(capsys) -> str:
    return capsys.readouterr().out


# --------------------------------------------------------------------------- notebook 07


def test_07_ex1_polarity(test_pictures, capsys):
    def by_the_ring(grey):
        ring = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        return 1.0 - grey if np.median(ring) > 0.5 else grey

    def by_the_corner(grey):
        return grey.max() - grey if grey[0, 0] > grey.mean() else grey

    assert check_white_on_black(by_the_ring, digits=test_pictures, seed=3)
    assert check_white_on_black(by_the_corner, digits=test_pictures, seed=3)
    assert outcome(capsys).count("✅") == 2
    assert not check_white_on_black(lambda g: 255 - g if np.median(g) > 0.5 else g, digits=test_pictures, seed=3)
    assert "1 - grey, not 255 - grey" in outcome(capsys)  # correlation alone would have accepted it


def test_07_ex2_centre_of_mass(test_pictures, capsys):
    def with_indices(image):
        rows, cols = np.indices(image.shape)
        return float((rows * image).sum() / image.sum()), float((cols * image).sum() / image.sum())

    def with_marginals(image):
        total = image.sum()
        return (np.arange(image.shape[0]) @ image.sum(axis=1) / total,
                np.arange(image.shape[1]) @ image.sum(axis=0) / total)

    assert check_centre_of_mass(with_indices, digits=test_pictures, seed=4)
    assert check_centre_of_mass(with_marginals, digits=test_pictures, seed=4)
    assert check_centre_of_mass(ndi.center_of_mass, digits=test_pictures, seed=4)
    assert outcome(capsys).count("✅") == 3
    assert not check_centre_of_mass(lambda image: with_indices(image)[::-1], digits=test_pictures, seed=4)
    assert "you returned (column, row); the exercise asks (row, column)" in outcome(capsys)
    assert not check_centre_of_mass(lambda image: np.argwhere(image > 0.5).mean(axis=0), digits=test_pictures, seed=4)
    assert "returned" in outcome(capsys)  # unweighted: a different point, with the expected one beside it


def otsu_by_cumsum(grey):
    counts, edges = np.histogram(grey, bins=256)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(counts)[:-1]
    w1 = counts.sum() - w0
    m0 = np.cumsum(counts * centres)[:-1] / w0
    m1 = ((counts * centres).sum() - np.cumsum(counts * centres)[:-1]) / np.maximum(w1, 1)
    return centres[np.argmax(w0 * w1 * (m0 - m1) ** 2)]


def otsu_by_loop(grey):
    counts, edges = np.histogram(grey, bins=256)
    centres = (edges[:-1] + edges[1:]) / 2
    best, threshold = -1.0, None
    for split in range(255):
        low, high = counts[: split + 1], counts[split + 1:]
        if low.sum() == 0 or high.sum() == 0:
            continue
        between = low.sum() * high.sum() * ((low @ centres[: split + 1]) / low.sum()
                                            - (high @ centres[split + 1:]) / high.sum()) ** 2
        if between >= best:  # the last of tied splits: another split of the same pixels, also right
            best, threshold = between, centres[split]
    return threshold


@pytest.mark.parametrize("seed", [3, 11])
def test_07_ex3_otsu(test_pictures, capsys, seed):
    assert check_otsu(otsu_by_cumsum, digits=test_pictures, seed=seed)
    assert check_otsu(otsu_by_loop, digits=test_pictures, seed=seed)
    assert outcome(capsys).count("✅") == 2
    assert not check_otsu(lambda g: otsu_variants(g)["within"], digits=test_pictures, seed=seed)
    assert "you maximised the within-class variance" in outcome(capsys)
    assert not check_otsu(lambda g: otsu_variants(g)["one bin too high"], digits=test_pictures, seed=seed)
    assert "(one bin too high): return the centre of the last bin of the dark class" in outcome(capsys)
    assert not check_otsu(lambda g: otsu_variants(g)["one bin too low"], digits=test_pictures, seed=seed)
    assert "one bin too low" in outcome(capsys)
    assert not check_otsu(lambda g: float(np.mean(g)), digits=test_pictures, seed=seed)
    assert "threshold_otsu gives" in outcome(capsys)


def _crop(picture):
    rows, cols = np.nonzero(picture > 0)
    return picture[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def fit_with_pil(picture, keep_aspect=True, by_mass=True):
    from PIL import Image

    crop = _crop(picture)
    scale = 20 / max(crop.shape)
    h, w = (max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))) if keep_aspect else (20, 20)
    small = np.asarray(Image.fromarray(crop.astype(np.float32)).resize((w, h), Image.LANCZOS))
    field = np.zeros((28, 28))
    top, left = (28 - h) // 2, (28 - w) // 2
    field[top:top + h, left:left + w] = small
    if not by_mass:
        return field
    row, col = ndi.center_of_mass(field)
    return np.roll(field, (round(14 - row), round(14 - col)), axis=(0, 1))


def fit_with_scipy(picture):
    crop = _crop(picture)
    small = np.clip(ndi.zoom(crop, 20 / max(crop.shape), order=1), 0, 1)
    field = np.zeros((28, 28))
    field[: small.shape[0], : small.shape[1]] = small
    row, col = ndi.center_of_mass(field)
    return ndi.shift(field, (14 - row, 14 - col), order=1)  # a sub-pixel shift


@pytest.mark.parametrize("seed", [2, 5])
def test_07_ex4_fit_box(test_pictures, capsys, seed):
    assert check_fit_box(fit_with_pil, digits=test_pictures, seed=seed)
    assert check_fit_box(fit_with_scipy, digits=test_pictures, seed=seed)
    assert outcome(capsys).count("✅") == 2
    assert not check_fit_box(lambda p: fit_with_pil(p, keep_aspect=False), digits=test_pictures, seed=seed)
    assert "keep the aspect ratio" in outcome(capsys)
    assert not check_fit_box(lambda p: fit_with_pil(p, by_mass=False), digits=test_pictures, seed=seed)
    assert "shift by the centre of mass, not by the middle of the box" in outcome(capsys)
    assert not check_fit_box(lambda p: np.asarray(p)[:28, :28], digits=test_pictures, seed=seed)  # no resize
    assert "❌" in outcome(capsys)
    assert not check_fit_box(..., digits=test_pictures) and "not done yet" in outcome(capsys)


# --------------------------------------------------------------------------- notebook 08


def test_08_ex1_p95_nearest_rank(capsys):
    def with_numpy(values):
        return float(np.percentile(values, 95, method="inverted_cdf"))

    def by_hand(values):
        ordered = sorted(values)
        return ordered[math.ceil(0.95 * len(ordered)) - 1]

    assert check_p95_nearest_rank(with_numpy, seed=5)
    assert check_p95_nearest_rank(by_hand, seed=5)
    assert outcome(capsys).count("✅") == 2
    assert not check_p95_nearest_rank(lambda values: float(np.percentile(values, 95)), seed=5)  # interpolates
    message = outcome(capsys)
    assert "200 timings as a list" in message and "expected" in message
    assert not check_p95_nearest_rank(lambda values: sorted(values)[int(0.95 * len(values))], seed=5)  # off by one
    assert "❌" in outcome(capsys)


@pytest.fixture(scope="module")
def stored_output_layer():
    """A kernel (64 inputs, 10 outputs) and the tensor a converter would store for it: (outputs, inputs)."""
    kernel = np.random.default_rng(6).normal(0, 0.1, (64, 10)).astype(np.float32)
    scales = np.abs(kernel).max(axis=0) / 127
    values = np.clip(np.round(kernel / scales), -127, 127).astype(np.int8).T
    return kernel, QuantisedTensor("probabilities/MatMul", values, scales, np.zeros(10, np.int64), axis=0)


def test_08_ex2_quantise_a_layer(stored_output_layer, capsys):
    kernel, stored = stored_output_layer
    scales = np.abs(kernel).max(axis=0) / 127
    assert check_quantised_kernel(scales, np.clip(np.round(kernel / scales), -127, 127).astype(np.int8), stored, "ex")
    kept = np.max(np.abs(kernel), axis=0, keepdims=True) / 127  # (1, 10): the same scales
    assert check_quantised_kernel(kept, np.rint(kernel / kept).astype(np.int8), stored, "ex")
    assert outcome(capsys).count("✅") == 2
    per_input = np.abs(kernel).max(axis=1) / 127
    assert not check_quantised_kernel(per_input, np.round(kernel / scales).astype(np.int8), stored, "ex")
    assert "one per input" in outcome(capsys)
    assert not check_quantised_kernel(scales, (kernel / scales).astype(np.int8), stored, "ex")  # truncates
    assert "do not truncate" in outcome(capsys)
    assert not check_quantised_kernel(scales, np.round(kernel / scales), stored, "ex")  # float, not int8
    assert "dtype float" in outcome(capsys)
    assert not check_quantised_kernel(..., ..., stored, "ex")
    assert "not done yet" in outcome(capsys)


def test_08_ex4_representative_dataset(capsys):
    assert check_representative_purpose("b")
    assert check_representative_purpose("B")
    assert outcome(capsys).count("✅") == 2
    assert not check_representative_purpose("c")
    assert "their ranges need no data" in outcome(capsys)


def test_08_ex5_api_number(capsys):
    json_answer = {"number": "1234", "confidence": 0.97, "status": "ok",
                   "digits": [{"digit": d, "top3": [[d, 0.99]] * 3} for d in range(4)] * 10}
    assert check_api_number(json_answer["number"], "1234", "ex")
    assert check_api_number(np.str_("1234"), "1234", "ex")
    assert outcome(capsys).count("✅") == 2
    assert not check_api_number(json_answer, "1234", "ex")
    message = outcome(capsys)
    assert "the whole JSON answer" in message and '"number" entry' in message and len(message) < 400
    assert not check_api_number(1234, "1234", "ex")
    assert "as a int (the right digits)" in outcome(capsys)
    assert not check_api_number("1284", "1234", "ex")
    assert "the library reads '1234'" in outcome(capsys)
