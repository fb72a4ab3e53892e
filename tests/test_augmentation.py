"""Augmentation outside the model: the warp, stroke-width changes, the settings, test strokes and the tf.data stream."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab import augmentation, data

NOTHING = augmentation.Settings(
    rotation=0, shear=0, zoom=0, stretch=0, shift=0, elastic=0, thin=0, thick=0
)


@pytest.fixture(scope="module")
def digits(mnist_small):
    (x_train, _), _ = mnist_small
    return data.to_cnn_input(x_train[:16])


def test_settings_reject_impossible_values():
    with pytest.raises(ValueError, match="rotation must be a number >= 0"):
        augmentation.Settings(rotation=-1)
    with pytest.raises(ValueError, match="together at most 1"):
        augmentation.Settings(thin=0.6, thick=0.6)
    with pytest.raises(ValueError, match="zoom"):
        augmentation.Settings(zoom=1.0)
    with pytest.raises(ValueError, match="elastic_grid"):
        augmentation.Settings(elastic_grid=1)
    with pytest.raises(ValueError, match="unknown augmentation part 'colour'"):
        augmentation.without(augmentation.DEFAULT, "colour")


def test_without_switches_off_only_the_named_parts():
    wobbly = augmentation.Settings(elastic=0.8)
    geometry_only = augmentation.without(wobbly, "stroke", "elastic")
    assert geometry_only.thin == geometry_only.thick == geometry_only.elastic == 0
    assert geometry_only.rotation == wobbly.rotation > 0 and geometry_only == augmentation.AFFINE_ONLY
    assert augmentation.without(augmentation.DEFAULT, "affine", "stroke", "elastic") == NOTHING


def test_no_change_gives_back_the_digits_exactly(digits):
    np.testing.assert_array_equal(augmentation.augment(digits, (0, 1), NOTHING).numpy(), digits)


def test_augment_is_reproducible_and_changes_every_digit(digits):
    first = augmentation.augment(digits, (3, 7)).numpy()
    np.testing.assert_array_equal(first, augmentation.augment(digits, (3, 7)).numpy())
    other = augmentation.augment(digits, (3, 8)).numpy()
    assert first.shape == digits.shape and first.dtype == np.float32
    assert first.min() >= 0.0 and first.max() <= 1.0
    changed = np.abs(first - digits).reshape(len(digits), -1).max(axis=1)
    assert (changed > 0.05).all(), "every digit is changed"
    assert not np.array_equal(first, other), "another seed, other versions"


def test_warp_reads_the_input_where_the_coordinates_say(digits):
    import tensorflow as tf

    grid = np.arange(28, dtype="float32")
    rows = np.broadcast_to(grid[:, None], (28, 28))[None].repeat(2, axis=0)
    cols = np.broadcast_to(grid[None, :], (28, 28))[None].repeat(2, axis=0)
    pair = digits[:2]
    shifted = augmentation.warp(tf.constant(pair), tf.constant(rows - 2), tf.constant(cols + 3)).numpy()
    expected = np.zeros_like(pair)
    expected[:, 2:, :-3] = pair[:, :-2, 3:]  # read 2 rows up, 3 columns right: the digit moves down and left
    np.testing.assert_allclose(shifted, expected, atol=1e-6)
    turned = augmentation.warp(tf.constant(pair), tf.constant(cols), tf.constant(27 - rows)).numpy()
    np.testing.assert_allclose(turned[..., 0], np.rot90(pair[..., 0], k=1, axes=(1, 2)), atol=1e-6)
    halfway = augmentation.warp(tf.constant(pair), tf.constant(rows), tf.constant(cols + 0.5)).numpy()
    np.testing.assert_allclose(halfway[:, :, :-1], (pair[:, :, :-1] + pair[:, :, 1:]) / 2, atol=1e-6)


def test_stroke_width_thins_or_thickens_every_digit_it_is_asked_to(digits):
    always_thin = augmentation.Settings(thin=1.0, thick=0.0)
    always_thick = augmentation.Settings(thin=0.0, thick=1.0)
    ink = digits.sum(axis=(1, 2, 3))
    thinner = augmentation.vary_stroke_width(digits, np.array([1, 2]), always_thin).numpy().sum(axis=(1, 2, 3))
    thicker = augmentation.vary_stroke_width(digits, np.array([1, 2]), always_thick).numpy().sum(axis=(1, 2, 3))
    assert (thinner < 0.9 * ink).all() and (thicker > 1.1 * ink).all()
    untouched = augmentation.vary_stroke_width(digits, np.array([1, 2]), NOTHING).numpy()
    np.testing.assert_array_equal(untouched, digits)


def test_test_strokes_are_thinner_and_bolder_than_mnist(digits):
    thin, bold = augmentation.one_pixel_strokes(digits), augmentation.bold_strokes(digits)
    assert thin.shape == bold.shape == digits.shape
    ink, thin_ink, bold_ink = (a.sum(axis=(1, 2, 3)) for a in (digits, thin, bold))
    assert (thin_ink < ink).all() and (thin_ink / ink).mean() < 0.6
    assert (bold_ink > 1.3 * ink).all()
    np.testing.assert_allclose(thin.max(axis=(1, 2, 3)), 1.0, atol=1e-6)  # a thin line, still full ink
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        augmentation.bold_strokes(np.zeros((2, 14, 14)))


def test_examples_have_one_version_per_copy(digits):
    versions = augmentation.examples(digits[:3, ..., 0], copies=4)
    assert versions.shape == (4, 3, 28, 28, 1)
    assert not np.array_equal(versions[0], versions[1])


def _take(stream, count):
    return [(x.numpy(), y.numpy()) for x, y in stream.take(count)]


def test_training_batches_cover_every_digit_once_per_epoch():
    images = np.arange(50, dtype="float32")[:, None, None, None] * np.ones((50, 28, 28, 1), "float32") / 50
    labels = np.arange(50)
    steps = augmentation.steps_per_epoch(50, 16)
    assert steps == 4
    batches = _take(augmentation.training_batches(images, labels, 16, seed=0, settings=None), 2 * steps)
    assert [len(y) for _, y in batches] == [16, 16, 16, 2] * 2, "batches never straddle two epochs"
    for epoch in range(2):
        seen = np.concatenate([y for _, y in batches[epoch * steps : (epoch + 1) * steps]])
        assert sorted(seen) == list(range(50))
    first_order = np.concatenate([y for _, y in batches[:steps]])
    second_order = np.concatenate([y for _, y in batches[steps:]])
    assert not np.array_equal(first_order, second_order), "reshuffled every epoch"
    x, y = batches[0]
    np.testing.assert_allclose(x[:, 0, 0, 0], y / 50)  # without settings, images are passed through with their labels


def test_a_stream_started_later_continues_the_same_epochs(digits):
    labels = np.arange(len(digits))
    steps = augmentation.steps_per_epoch(len(digits), 8)
    whole = _take(augmentation.training_batches(digits, labels, 8, seed=5), 3 * steps)
    resumed = _take(augmentation.training_batches(digits, labels, 8, seed=5, first_epoch=2), steps)
    for (x_whole, y_whole), (x_resumed, y_resumed) in zip(whole[2 * steps :], resumed, strict=True):
        np.testing.assert_array_equal(y_whole, y_resumed)
        np.testing.assert_array_equal(x_whole, x_resumed)
    assert not np.array_equal(whole[0][0], digits[whole[0][1]]), "the batches are augmented"


def test_training_batches_reject_bad_input(digits):
    with pytest.raises(ValueError, match="as many labels as images"):
        augmentation.training_batches(digits, np.arange(3), 8, seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        augmentation.training_batches(digits, np.arange(len(digits)), 0, seed=0)
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28, 1\)"):
        augmentation.augment(np.zeros((2, 28, 28)), (0, 0))


def test_the_elastic_wobble_bends_strokes_without_moving_the_digit(digits):
    wobble = augmentation.Settings(rotation=0, zoom=0, shift=0, thin=0, thick=0, elastic=1.0)
    bent = augmentation.augment(digits, (2, 2), wobble).numpy()
    assert (np.abs(bent - digits).reshape(len(digits), -1).max(axis=1) > 0.1).all()
    rows = np.arange(28)[None, :, None, None]
    centre, bent_centre = ((a * rows).sum(axis=(1, 2, 3)) / a.sum(axis=(1, 2, 3)) for a in (digits, bent))
    assert np.abs(centre - bent_centre).max() < 1.5, "a smooth local displacement, not a shift"
