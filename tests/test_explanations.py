"""mnistlab.explanations on tiny hand-made networks whose right answers are known: a one-pixel model, bar detectors."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab import explanations


def test_saliency_lights_up_exactly_the_pixel_that_drives_the_score(one_pixel_model):
    x = np.full((2, 28, 28, 1), 0.5, dtype="float32")
    maps, explained = explanations.saliency(one_pixel_model, x, digits=[3, 3])
    assert maps.shape == (2, 28, 28)
    assert explained.tolist() == [3, 3]
    assert maps[0, 5, 7] == pytest.approx(1.0)
    maps[:, 5, 7] = 0
    assert np.abs(maps).max() == 0.0  # no other pixel changes the probability of a 3

    # with the predicted digit, the map is normalised to [0, 1]
    maps, explained = explanations.saliency(one_pixel_model, x)
    assert explained.tolist() == [3, 3]
    assert maps.min() >= 0 and maps.max() == pytest.approx(1.0)


# --------------------------------------------------------------------------- Grad-CAM

HORIZONTAL = np.array([[-1, -1, -1], [2, 2, 2], [-1, -1, -1]], dtype="float32")


def bar_detector_model(strength: float = 10.0):
    """Channel 0 of its one convolution finds horizontal bars, channel 1 vertical ones;
    digit 0's score is the mean of channel 0, digit 1's the mean of channel 1."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="bars"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name="bar_detector",
    )
    kernel = np.stack([HORIZONTAL, HORIZONTAL.T], axis=-1)[:, :, np.newaxis, :]
    model.get_layer("bars").set_weights([kernel, np.zeros(2, dtype="float32")])
    head = np.zeros((2, 10), dtype="float32")
    head[0, 0] = head[1, 1] = strength
    model.get_layer("probabilities").set_weights([head, np.zeros(10, dtype="float32")])
    return model


def two_bars() -> np.ndarray:
    """A horizontal bar in the top-left quarter and a vertical bar in the bottom-right one."""
    image = np.zeros((1, 28, 28, 1), dtype="float32")
    image[0, 5, 3:12] = 1.0
    image[0, 16:26, 20] = 1.0
    return image


def functional_bar_detector():
    """The bar detector of :func:`bar_detector_model` written with the functional API, on the very same layers.

    Each layer then belongs to two graphs, and ``layer.output`` is the Sequential model's: explanations must
    still come from this model's own graph. Saved and reloaded, the layers are its alone again.
    """
    import keras

    sequential = bar_detector_model()
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for layer in sequential.layers:
        x = layer(x)
    return keras.Model(inputs, x, name="functional_bars")


def reloaded(model, folder):
    """``model`` saved to a .keras file and loaded back."""
    import keras

    model.save(folder / "model.keras")
    return keras.models.load_model(folder / "model.keras")


def share_in(maps: np.ndarray, rows: slice, cols: slice) -> float:
    return float(maps[0, rows, cols].sum() / maps[0].sum())


TOP_LEFT, BOTTOM_RIGHT = (slice(0, 14), slice(0, 14)), (slice(14, 28), slice(14, 28))


def test_grad_cam_finds_the_evidence_for_each_class_in_its_own_place():
    model = bar_detector_model()
    maps, explained = explanations.grad_cam(model, np.repeat(two_bars(), 2, axis=0), digits=[0, 1])
    assert maps.shape == (2, 28, 28) and explained.tolist() == [0, 1]
    assert maps.min() >= 0.0 and maps.max() == pytest.approx(1.0)
    # digit 0 is explained by the horizontal bar, digit 1 by the vertical one: same image, other place
    # (the detectors answer weakly at the other bar's ends, hence not 100 %)
    assert share_in(maps[:1], *TOP_LEFT) > 0.85
    assert share_in(maps[1:], *BOTTOM_RIGHT) > 0.85
    assert maps[0, 5, 7] == pytest.approx(1.0, abs=0.05)  # the middle of the horizontal bar
    assert maps[1, 21, 20] == pytest.approx(1.0, abs=0.05)  # the middle of the vertical bar


def test_grad_cam_explains_the_predicted_digit_by_default():
    image = two_bars()
    image[0, 16:26, 20] = 0.0  # only the horizontal bar: digit 0 wins
    maps, explained = explanations.grad_cam(bar_detector_model(), image)
    assert explained.tolist() == [0]
    assert share_in(maps, *TOP_LEFT) > 0.95


def test_grad_cam_still_has_a_map_when_the_softmax_saturates():
    # A probability of exactly 1.0 has a zero gradient; Grad-CAM differentiates the score before it.
    image = two_bars()
    image[0, 16:26, 20] = 0.0
    model = bar_detector_model(strength=5_000.0)
    assert float(model(image)[0, 0]) == 1.0
    maps, _ = explanations.grad_cam(model, image, digits=[0])
    assert maps.max() == pytest.approx(1.0)
    assert share_in(maps, *TOP_LEFT) > 0.95


@pytest.mark.parametrize("build", [bar_detector_model, functional_bar_detector], ids=["sequential", "functional"])
def test_grad_cam_and_scores_are_the_same_for_a_saved_and_reloaded_model(build, tmp_path):
    # A reloaded Sequential calls its layers several times; the maps must come from the model's own graph.
    model = build()
    again = reloaded(model, tmp_path)
    for digit in (0, 1):
        expected, _ = explanations.grad_cam(model, two_bars(), digits=[digit])
        actual, _ = explanations.grad_cam(again, two_bars(), digits=[digit])
        np.testing.assert_allclose(actual, expected, atol=1e-6)
    np.testing.assert_allclose(explanations.class_scores(again, two_bars()),
                               explanations.class_scores(model, two_bars()), atol=1e-5)


def test_grad_cam_layer_is_the_last_conv_block_output_with_a_map_of_at_least_5x5():
    from mnistlab import models

    # the default model's blocks end at 13x13, 5x5 and 3x3 maps: the 3x3 one is too small to locate anything
    default = models.build_default_model()
    assert explanations.conv_block_outputs(default) == ["block1_relu", "block2_relu", "block3_relu"]
    assert explanations.grad_cam_layer(default) == "block2_relu"  # after pooling, BN and ReLU
    small = models.build_small_cnn()  # convolution maps 26x26, 11x11 (then pooled to 5x5), 3x3
    assert len(explanations.conv_layers(small)) == 3
    second_block = explanations.grad_cam_layer(small)
    assert second_block != explanations.conv_layers(small)[-1]
    assert tuple(small.get_layer(second_block).output.shape[1:3]) == (5, 5)
    # a model whose only convolution is small still gets it explained
    import keras

    tiny = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3, name="only"),
                             keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    assert explanations.grad_cam_layer(tiny) == "only"
    assert explanations.grad_cam_layer(small, small.layers[0].name) == small.layers[0].name


def test_grad_cam_on_a_cnn_gives_one_map_per_image_in_zero_one():
    from mnistlab import models

    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    maps, explained = explanations.grad_cam(models.build_small_cnn(), x)
    assert maps.shape == (3, 28, 28) and explained.shape == (3,)
    assert maps.min() >= 0.0 and maps.max() <= 1.0


def test_grad_cam_errors_say_what_to_do():
    from mnistlab import models

    x = np.zeros((1, 28, 28, 1), dtype="float32")
    with pytest.raises(ValueError, match="no convolution layer.*saliency"):
        explanations.grad_cam(models.build_dense(), x)
    with pytest.raises(ValueError, match="no layer 'nope'.*bars"):
        explanations.grad_cam(bar_detector_model(), x, layer_name="nope")
    with pytest.raises(ValueError, match="not a feature map"):
        explanations.grad_cam(bar_detector_model(), x, layer_name="probabilities")
    with pytest.raises(ValueError, match="to_cnn_input"):
        explanations.grad_cam(bar_detector_model(), np.zeros((28, 28)))
    with pytest.raises(ValueError, match="empty"):
        explanations.grad_cam(bar_detector_model(), np.zeros((0, 28, 28, 1)))
    with pytest.raises(ValueError, match="one per image"):
        explanations.grad_cam(bar_detector_model(), np.zeros((2, 28, 28, 1)), digits=[1])


# ---------------------------------------------------------------- the class score (logit) both methods explain


def small_softmax_cnn(seed: int = 3):
    """A random tiny CNN ending in Dense(10, softmax), and the same network with a linear last layer."""
    import keras

    keras.utils.set_random_seed(seed)
    stack = [keras.layers.Conv2D(4, 3, activation="relu", name="conv"), keras.layers.MaxPooling2D(2),
             keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax", name="probabilities")]
    model = keras.Sequential([keras.Input((12, 12, 1)), *stack])
    linear = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                               keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dense(10)])
    linear.set_weights(model.get_weights())
    return model, linear


def test_class_scores_are_the_logits_before_the_softmax(tmp_path):
    import keras

    model, linear = small_softmax_cnn()
    x = np.random.default_rng(0).random((5, 12, 12, 1)).astype("float32")
    logits = explanations.class_scores(model, x)
    np.testing.assert_allclose(logits, linear.predict(x, verbose=0), atol=1e-5)
    np.testing.assert_allclose(keras.ops.softmax(logits).numpy(), model.predict(x, verbose=0), atol=1e-6)
    model.save(tmp_path / "m.keras")  # a reloaded model has its layers called more than once
    np.testing.assert_allclose(explanations.class_scores(keras.models.load_model(tmp_path / "m.keras"), x), logits,
                               atol=1e-5)


def test_saliency_is_the_gradient_of_the_logit_not_of_the_probability():
    import tensorflow as tf

    model, linear = small_softmax_cnn()
    x = tf.convert_to_tensor(np.random.default_rng(1).random((3, 12, 12, 1)).astype("float32"))
    digits = np.array([2, 5, 7])

    def gradient(network):
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = tf.gather(network(x), digits, axis=1, batch_dims=1)
        grads = np.abs(tape.gradient(score, x).numpy())[..., 0]
        return grads / grads.reshape(3, -1).max(axis=1).reshape(3, 1, 1)

    maps, _ = explanations.saliency(model, x.numpy(), digits=digits)
    np.testing.assert_allclose(maps, gradient(linear), atol=1e-5)  # the logit's gradient ...
    assert np.abs(maps - gradient(model)).max() > 0.01  # ... which is not the probability's


def test_saliency_still_has_a_map_when_the_softmax_saturates(one_pixel_model):
    import keras

    saturated = keras.models.clone_model(one_pixel_model)
    weights = np.zeros((784, 10), dtype="float32")
    weights[5 * 28 + 7, 3] = 5_000.0
    saturated.layers[-1].set_weights([weights, np.zeros(10, dtype="float32")])
    x = np.zeros((1, 28, 28, 1), dtype="float32")
    x[0, 5, 7] = 1.0
    assert float(saturated(x)[0, 3]) == 1.0  # the probability's gradient is exactly 0 here
    maps, _ = explanations.saliency(saturated, x, digits=[3])
    assert maps[0, 5, 7] == pytest.approx(1.0)


def test_a_separate_softmax_layer_is_dropped_for_the_scores():
    import keras

    model, linear = small_softmax_cnn()
    with_layer = keras.Sequential([keras.Input((12, 12, 1)), *linear.layers, keras.layers.Softmax()])
    x = np.random.default_rng(2).random((2, 12, 12, 1)).astype("float32")
    np.testing.assert_allclose(explanations.class_scores(with_layer, x), linear.predict(x, verbose=0), atol=1e-5)


# --------------------------------------------------------------------------- models loaded from a file


@pytest.mark.parametrize("build", ["sequential", "functional"])
def test_feature_maps_of_a_saved_and_reloaded_model_are_the_original_ones(build, tmp_path):
    from mnistlab import models

    model = models.build_small_cnn() if build == "sequential" else functional_bar_detector()
    image = np.random.default_rng(4).random((28, 28)).astype("float32")
    expected = explanations.feature_maps(model, image)
    actual = explanations.feature_maps(reloaded(model, tmp_path), image)
    assert [name for name, _ in actual] == [name for name, _ in expected] == explanations.conv_layers(model)
    for (_, want), (_, got) in zip(expected, actual, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_a_layer_model_of_a_reloaded_sequential_is_one_graph(tmp_path):
    # Reloaded, each layer of a Sequential model has been called once per rebuild; a sub-model made of
    # layer.output tensors can then take its feature map from one call and its head from another, and the
    # head's gradient with respect to the feature map is None. layer_model re-chains the layers instead.
    import tensorflow as tf

    from mnistlab import models

    again = reloaded(models.build_small_cnn(), tmp_path)
    conv = explanations.conv_layers(again)[1]
    x = np.random.default_rng(5).random((2, 28, 28, 1)).astype("float32")
    with tf.GradientTape() as tape:
        feature_map, head = explanations.layer_model(again, [conv], last_input=True)(x)
        total = tf.reduce_sum(head)
    assert tape.gradient(total, feature_map) is not None
    assert feature_map.shape[1:] == again.get_layer(conv).output.shape[1:]
    with pytest.raises(ValueError, match="no layer 'nope'"):
        explanations.layer_model(again, ["nope"])
