"""Generated non-digits (mnistlab.outliers) and how outlier exposure adds them to training (training_examples)."""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pytest

from mnistlab import architectures, data, outliers, training


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(0)
    canvas = np.zeros((6, 28, 28, 1), dtype=np.float32)
    for image in canvas:  # a blocky "digit": the pairs generator only needs ink in a 28x28 box
        top, left = rng.integers(4, 9, size=2)
        image[top:top + 16, left:left + 4] = 1.0
        image[top:top + 4, left:left + 12] = 1.0
    return canvas


def test_generate_is_prepared_like_a_user_picture_and_repeatable(digits):
    first = outliers.generate(12, seed=3, digits=digits)
    assert first.shape == (12, 28, 28, 1) and first.dtype == np.float32
    assert first.min() >= 0.0 and first.max() <= 1.0
    assert (first.reshape(12, -1).max(axis=1) > 0.5).all()  # every picture has ink
    np.testing.assert_array_equal(first, outliers.generate(12, seed=3, digits=digits))
    assert not np.array_equal(first, outliers.generate(12, seed=4, digits=digits))


@pytest.mark.parametrize("kind", ["letter", "symbol", "scribble", "shape", "photo", "pair"])
def test_every_kind_draws_a_picture_the_pipeline_can_prepare(kind, digits):
    _, draw = outliers.generators(digits)[kind]
    rng = np.random.default_rng(1)
    pictures = [draw(rng) for _ in range(5)]
    assert all(p.dtype == np.uint8 and p.ndim == 2 for p in pictures)
    prepared = []
    for picture in pictures:
        with contextlib.suppress(outliers.images.ImageError):  # the pipeline may refuse a flat photo crop
            prepared.append(outliers.images.prepare_image(picture))
    assert prepared, f"the pipeline refused every {kind} picture"


def test_digit_pairs_only_with_training_digits(digits):
    assert "pair" not in outliers.generators()
    assert "pair" in outliers.generators(digits)
    shares = [share for share, _ in outliers.generators(digits).values()]
    assert sum(shares) == pytest.approx(1.0)


def test_characters_that_read_as_digits_are_never_non_digit_examples():
    for lookalike in "OoIlSsZzBGbgqDσδ":
        assert lookalike not in outliers.LETTERS + outliers.SYMBOLS
    assert "|" not in outliers.SYMBOLS and "/" not in outliers.SYMBOLS


def test_a_lone_stroke_reads_as_a_one():
    bar = np.zeros((28, 28, 1), dtype=np.float32)
    bar[4:24, 13:16] = 1.0
    assert outliers.looks_like_a_one(bar)
    cross = bar.copy()
    cross[12:15, 4:24] = 1.0
    assert not outliers.looks_like_a_one(cross)
    assert not outliers.looks_like_a_one(bar.reshape(28, 28).T)  # a minus sign lies down: a non-digit
    assert outliers.looks_like_a_one(np.zeros((28, 28)))


def test_upright_mnist_ones_would_never_be_non_digit_examples():
    # A safety net only: the generators draw no lone strokes on purpose (no 1-like characters, scribbles pass
    # through at least 5 points). It catches the upright ones; a slanted 1 is wider than ONE_LIKE_WIDTH.
    (x, y), _ = data.load_mnist()
    ones = x[y == 1][:300] / 255.0
    upright = [one for one in ones if np.ptp(np.flatnonzero(one.max(axis=0) > 0.3)) < outliers.ONE_LIKE_WIDTH]
    assert len(upright) > 100 and all(outliers.looks_like_a_one(one) for one in upright)
    assert np.mean([outliers.looks_like_a_one(seven) for seven in x[y == 7][:300] / 255.0]) < 0.05


def test_fonts_ship_with_matplotlib():
    fonts = outliers.font_files()
    assert len(fonts) >= 10
    assert any(f.name == "DejaVuSans.ttf" for f in fonts)


def test_generate_rejects_a_negative_count():
    with pytest.raises(ValueError, match="at least 0"):
        outliers.generate(-1, seed=0)
    assert outliers.generate(0, seed=0).shape == (0, 28, 28, 1)


def _split(n: int) -> data.Split:
    rng = np.random.default_rng(0)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = np.arange(n) % 10
    return data.Split(x, y, x[:4], y[:4], x[:4], y[:4])


def test_outlier_exposure_adds_non_digits_with_a_uniform_target():
    split = _split(40)
    recipe = dataclasses.replace(architectures.DEFAULT_RECIPE, outliers=0.25)
    images, targets = training.training_examples(split, recipe, seed=0)
    assert images.shape == (50, 28, 28, 1) and targets.shape == (50, 10)
    np.testing.assert_array_equal(images[:40], split.x_train)
    np.testing.assert_array_equal(targets[:40], data.one_hot(split.y_train))
    np.testing.assert_allclose(targets[40:], 0.1)


def test_no_outliers_leaves_the_digits_alone():
    split = _split(20)
    images, labels = training.training_examples(split, architectures.TUTORIAL)
    assert images is split.x_train
    np.testing.assert_array_equal(labels, split.y_train)


def test_outlier_exposure_needs_one_hot_targets():
    with pytest.raises(ValueError, match="one-hot"):
        architectures.Recipe(outliers=0.1)
    with pytest.raises(ValueError, match=">= 0"):
        architectures.Recipe(labels="one_hot", outliers=-0.1)


def test_digit_accuracy_ignores_the_non_digits_of_a_batch():
    metric = training.DigitAccuracy()
    targets = np.vstack([data.one_hot(np.array([3, 5])), np.full((2, 10), 0.1)]).astype("float32")
    predictions = np.zeros((4, 10), dtype="float32")
    predictions[0, 3] = predictions[1, 2] = predictions[2, 0] = predictions[3, 7] = 1.0  # one digit right
    metric.update_state(targets, predictions)
    assert metric.name == "accuracy"
    assert float(metric.result()) == pytest.approx(0.5)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_a_recipe_with_outliers_reports_accuracy_on_digits_only():
    from mnistlab import models

    model = training.compile_model(models.build_small_cnn(), total_steps=4, recipe=architectures.DEFAULT_RECIPE)
    split = _split(8)
    targets = np.vstack([data.one_hot(split.y_train[:6]), np.full((2, 10), 0.1)]).astype("float32")
    logged = model.evaluate(split.x_train, targets, verbose=0, return_dict=True)["accuracy"]
    predicted = model.predict(split.x_train[:6], verbose=0).argmax(axis=1)
    assert logged == pytest.approx(np.mean(predicted == split.y_train[:6]))


def test_a_small_pool_of_non_digits_is_repeated():
    split = _split(40)
    recipe = dataclasses.replace(architectures.DEFAULT_RECIPE, outliers=0.5)
    images, targets = training.training_examples(split, recipe, seed=0, pool=8)
    assert images.shape == (60, 28, 28, 1)
    np.testing.assert_array_equal(images[40:48], images[48:56])
    assert len({images[i].tobytes() for i in range(40, 60)}) == 8
