"""The digit browser builds headless and follows its controls."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mnistlab.widgets import DigitBrowser  # noqa: E402


@pytest.fixture
def browser():
    labels = np.array([1, 3, 1, 3, 3, 1, 1])
    images = np.stack([np.full((28, 28), index, dtype=np.uint8) for index in range(len(labels))])
    return DigitBrowser(images, labels, digit=3)


def test_starts_on_the_requested_digit(browser):
    image, label, position = browser.selected()
    assert (label, position) == (3, 1) and image[0, 0] == 1
    assert browser.digit.options == (1, 3)  # only digits that exist
    assert browser.index.max == 2
    assert "digit <b>3</b>, example 1 of 3" in browser.caption.value


def test_follows_the_controls(browser):
    browser.index.value = 2
    assert browser.selected()[1:] == (3, 4)
    browser.digit.value = 1
    assert browser.index.value == 0 and browser.index.max == 3
    browser.index.value = 3
    assert browser.selected()[1:] == (1, 6)
    assert "example 4 of 4" in browser.caption.value


def test_rejects_mismatched_input():
    with pytest.raises(ValueError, match="needs images"):
        DigitBrowser(np.zeros((3, 28, 28)), np.zeros(2))
