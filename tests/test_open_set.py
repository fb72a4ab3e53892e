"""mnistlab.open_set on tiny arrays and a tiny model: the scores, the class Gaussians, AUROC and the threshold."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from mnistlab import open_set


def test_max_softmax_is_the_largest_probability_and_temperature_sharpens_it():
    scores = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(open_set.max_softmax(scores), special.softmax(scores, axis=1).max(axis=1))
    assert open_set.max_softmax(scores)[1] == pytest.approx(1 / 3)  # no preference: 1 / classes
    assert open_set.max_softmax(scores, 0.5)[0] > open_set.max_softmax(scores)[0]


def test_energy_is_logsumexp_and_keeps_the_scale_a_softmax_forgets():
    scores = np.array([[1.0, 0.0], [11.0, 10.0]])  # the same softmax, ten times larger scores
    np.testing.assert_allclose(open_set.energy(scores), np.log(np.exp(scores).sum(axis=1)))
    np.testing.assert_allclose(open_set.max_softmax(scores)[0], open_set.max_softmax(scores)[1])
    assert open_set.energy(scores)[1] > open_set.energy(scores)[0]
    assert open_set.energy(scores, 1e-3) == pytest.approx(scores.max(axis=1), abs=1e-2)  # T -> 0: the largest score
    with pytest.raises(ValueError, match="positive"):
        open_set.energy(scores, 0.0)


def two_classes(n: int = 400, seed: int = 0):
    """Features of two classes: class 0 around (0, 0), class 1 around (10, 0); spread 1 along x, 0.1 along y."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    features = rng.normal(size=(n, 2)) * [1.0, 0.1] + np.c_[10.0 * labels, np.zeros(n)]
    return features, labels


def test_class_gaussians_have_the_class_means_and_the_pooled_covariance():
    features, labels = two_classes()
    gaussians = open_set.fit_class_gaussians(features, labels)
    np.testing.assert_allclose(gaussians.means, [[0, 0], [10, 0]], atol=0.2)
    np.testing.assert_allclose(gaussians.covariance.covariance_, np.diag([1.0, 0.01]), rtol=0.2, atol=0.005)
    with pytest.raises(ValueError, match="every class"):
        open_set.fit_class_gaussians(features, labels + 1)


def test_mahalanobis_is_zero_at_a_class_mean_and_weighs_the_narrow_direction_more():
    features, labels = two_classes()
    gaussians = open_set.fit_class_gaussians(features, labels)
    np.testing.assert_allclose(open_set.mahalanobis(gaussians.means, gaussians), 0, atol=1e-9)
    along_x, along_y = open_set.mahalanobis(np.array([[2.0, 0.0], [0.0, 1.0]]), gaussians)
    assert along_x == pytest.approx(-4, rel=0.2)  # two spreads away along x: squared distance 4
    assert along_y < 10 * along_x  # one unit along y is ten spreads away: squared distance about 100


def test_relative_mahalanobis_adds_the_distance_to_all_digits():
    features, labels = two_classes()
    gaussians = open_set.fit_class_gaussians(features, labels)
    points = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(open_set.mahalanobis(points, gaussians, relative=True),
                               open_set.mahalanobis(points, gaussians) + gaussians.background.mahalanobis(points))
    # at a class mean the class distance is 0, and the distance to the centre of all digits (5, 0) is left
    assert open_set.mahalanobis(gaussians.means[:1], gaussians, relative=True)[0] == pytest.approx(25 / 26, rel=0.2)


def test_auroc_and_the_threshold_chosen_on_digits():
    assert open_set.auroc([3, 4, 5], [0, 1, 2]) == 1.0
    assert open_set.auroc([0, 1], [2, 3]) == 0.0
    assert open_set.auroc([1, 2], [1, 2]) == 0.5
    digits = np.arange(1000.0)
    threshold = open_set.threshold_accepting(digits, 0.995)
    assert open_set.accepted(digits, threshold).mean() == pytest.approx(0.995)
    assert open_set.threshold_accepting(digits, 1.0) == 0.0
    with pytest.raises(ValueError, match="fraction"):
        open_set.threshold_accepting(digits, 0.0)


@pytest.fixture(scope="module")
def tiny_model():
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(5, activation="relu", name="hidden"),
                             keras.layers.Dense(10, activation="softmax", name="probabilities")])


def test_features_and_logits_of_a_model_in_batches(tiny_model):
    images = np.random.default_rng(0).random((7, 28, 28, 1)).astype("float32")
    features = open_set.penultimate_features(tiny_model, images, batch_size=3)
    kernel, bias = tiny_model.get_layer("hidden").get_weights()
    np.testing.assert_allclose(features, np.maximum(images.reshape(7, -1) @ kernel + bias, 0), rtol=1e-4, atol=1e-5)
    scores = open_set.logits(tiny_model, images, batch_size=3)
    np.testing.assert_allclose(special.softmax(scores, axis=1), tiny_model.predict(images, verbose=0), atol=1e-5)
    gaussians = open_set.fit_class_gaussians(np.r_[features, features], np.r_[np.arange(7), np.arange(7) + 3])
    table = open_set.all_scores(scores, features, 0.5, gaussians)
    assert list(table) == ["max-softmax", "max-softmax, T=0.50", "energy, T=1", "energy, T=0.50", "max logit",
                           "Mahalanobis (penultimate)", "relative Mahalanobis (penultimate)"]
    assert all(values.shape == (7,) for values in table.values())
