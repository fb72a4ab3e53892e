"""Wilson intervals and McNemar's test against their textbook formulas and hand-made cases."""

import math

import numpy as np
import pytest

from mnistlab import statistics


def wilson_by_formula(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize("k, n", [(9_961, 10_000), (50, 100), (0, 20), (20, 20), (7, 9)])
def test_wilson_interval_is_the_textbook_formula(k, n):
    assert statistics.wilson_interval(k, n) == pytest.approx(wilson_by_formula(k, n), abs=1e-9)


def test_a_headline_accuracy_is_known_to_about_a_tenth_of_a_point():
    low, high = statistics.wilson_interval(9_960, 10_000)
    assert 0.0010 < 0.9960 - low < 0.0016 and 0.0008 < high - 0.9960 < 0.0014
    assert statistics.wilson_interval(9_960, 10_000, confidence=0.99)[0] < low  # wider at 99 %


def test_accuracy_interval_counts_and_prints():
    result = statistics.accuracy_interval([1, 2, 3, 4], [1, 2, 3, 0])
    assert (result.correct, result.n, result.value) == (3, 4, 0.75)
    assert result.low < 0.75 < result.high
    assert str(result).startswith("75.00 % (95 % CI") and "3 of 4" in str(result)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: statistics.wilson_interval(5, 0), "at least one trial"),
        (lambda: statistics.wilson_interval(11, 10), "between 0 and trials"),
        (lambda: statistics.wilson_interval(1, 10, confidence=95), "between 0 and 1"),
        (lambda: statistics.accuracy_interval([1, 2], [1]), "one prediction per label"),
        (lambda: statistics.mcnemar_test([1, 2], [1, 2], [1]), "one entry per example"),
    ],
)
def test_bad_arguments_say_what_is_wrong(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_mcnemar_uses_only_the_disagreements():
    y = np.zeros(1_000, dtype=int)
    a = y.copy()
    b = y.copy()
    a[:3] = 1  # A wrong on 3 that B gets right
    b[3:15] = 1  # B wrong on 12 that A gets right
    a[15:40] = b[15:40] = 1  # both wrong: no information about which is better
    result = statistics.mcnemar_test(y, a, b)
    assert (result.only_a_right, result.only_b_right) == (12, 3)
    # two-sided exact binomial: 2 * P(X <= 3) for X ~ Binomial(15, 1/2)
    expected = 2 * sum(math.comb(15, i) for i in range(4)) / 2**15
    assert result.p_value == pytest.approx(expected)
    assert "p = 0.0352" in str(result)


def test_mcnemar_on_identical_models_finds_no_difference():
    y = np.arange(10) % 3
    assert statistics.mcnemar_test(y, y, y).p_value == 1.0


def test_compare_to_pairs_every_model_with_the_reference():
    y = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    predictions = {"ref": y.copy(), "worse": np.where(np.arange(10) < 4, (y + 1) % 10, y), "same": y.copy()}
    table = statistics.compare_to(y, predictions, "ref")
    assert table["model"].tolist() == ["ref", "same", "worse"]
    worse = table.set_index("model").loc["worse"]
    assert worse["accuracy"] == pytest.approx(0.6)
    assert (worse["only_reference_right"], worse["only_model_right"]) == (4, 0)
    assert worse["p_value"] == pytest.approx(statistics.mcnemar_test(y, y, predictions["worse"]).p_value)
    assert (worse["low"], worse["high"]) == pytest.approx(statistics.wilson_interval(6, 10))
    assert np.isnan(table.set_index("model").loc["ref", "p_value"])
    assert table["only_model_right"].isna().tolist() == [True, False, False]
    with pytest.raises(ValueError, match="reference 'cnn'"):
        statistics.compare_to(y, predictions, "cnn")
