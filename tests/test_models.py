"""The architectures: parameter counts, shapes, softmax outputs and the arithmetic helpers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mnistlab import models


@pytest.mark.parametrize("name", list(models.MODELS))
def test_parameter_counts_are_exact(name):
    model = models.build_model(name)
    assert model.count_params() == models.EXPECTED_PARAMS[name]


def test_published_counts_of_the_tutorial_models():
    # the numbers the tutorials these models come from print in their model.summary()
    assert models.build_small_cnn().count_params() == 93_322
    assert models.build_dropout_cnn().count_params() == 225_034
    assert models.build_dense().count_params() == 784 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10


def test_every_architecture_name_has_a_builder():
    from mnistlab import architectures

    assert list(models.MODELS) == list(architectures.MODEL_NAMES)
    assert architectures.DEFAULT_MODEL in models.MODELS and architectures.ANCHOR_MODEL in models.MODELS
    assert models.MODELS[architectures.DEFAULT_MODEL] is models.build_default_model


def test_hand_arithmetic_matches_keras_for_the_small_cnn():
    size = models.conv_output_size(28, 3)  # 26
    size = models.conv_output_size(size, 2, stride=2)  # 13
    size = models.conv_output_size(size, 3)  # 11
    size = models.conv_output_size(size, 2, stride=2)  # 5
    size = models.conv_output_size(size, 3)  # 3
    assert size == 3
    total = (
        models.conv_params(3, 1, 32)
        + models.conv_params(3, 32, 64)
        + models.conv_params(3, 64, 64)
        + models.dense_params(size * size * 64, 64)
        + models.dense_params(64, 10)
    )
    assert total == models.build_small_cnn().count_params()


@pytest.mark.parametrize("name", list(models.MODELS))
def test_models_map_digits_to_probabilities(name):
    model = models.build_model(name)
    assert tuple(model.input_shape) == (None, 28, 28, 1)
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    probabilities = np.asarray(model(images, training=False))
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities >= 0).all()


def test_default_model_pools_before_batch_norm_and_has_no_bias_before_bn():
    model = models.build_default_model()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[:8] == ["Conv2D", "MaxPooling2D", "BatchNormalization", "ReLU"] * 2
    assert kinds.count("BatchNormalization") == 4
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 64, 64]
    assert all(not c.use_bias for c in convs)
    assert tuple(model.get_layer("block1_bn").output.shape) == (None, 13, 13, 32)  # a quarter of the conv's output


def test_the_deployable_default_model_holds_no_augmentation():
    model = models.build_default_model()
    random_layers = [layer.name for layer in model._flatten_layers() if type(layer).__name__.startswith("Random")]
    assert random_layers == [] and "augmentation" not in [layer.name for layer in model.layers]
    digits = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    # in training mode too, the same input gives the same output: nothing random is left in the graph
    np.testing.assert_allclose(np.asarray(model(digits, training=True)), np.asarray(model(digits, training=True)))


def test_unknown_model_name_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown model name 'resnet'.*dense"):
        models.build_model("resnet")


def test_conv_output_size_rules():
    assert models.conv_output_size(28, 3, padding="same") == 28
    assert models.conv_output_size(28, 3, stride=2, padding="same") == 14
    assert models.conv_output_size(28, 5, stride=2) == 12
    with pytest.raises(ValueError, match="padding"):
        models.conv_output_size(28, 3, padding="full")
    with pytest.raises(ValueError, match="larger"):
        models.conv_output_size(2, 3)


def test_layer_table_shapes_params_and_receptive_fields():
    table = models.layer_table(models.build_small_cnn())
    assert table["parameters"].sum() == 93_322
    assert list(table["output shape"])[:2] == [(None, 26, 26, 32), (None, 13, 13, 32)]
    # 3 → pool 4 → conv 8 → pool 10 → conv 18 (classic receptive-field arithmetic)
    assert list(table["receptive field"])[:5] == ["3×3", "4×4", "8×8", "10×10", "18×18"]
    assert table["receptive field"].iloc[-1] == "28×28"


def test_lenet5_matches_the_hand_count_and_the_paper_shapes():
    model = models.build_lenet5()
    by_hand = (
        models.conv_params(5, 1, 6)  # C1: 156
        + models.conv_params(5, 6, 16)  # C3, every map connected: 2,416
        + models.dense_params(5 * 5 * 16, 120)  # C5: 48,120
        + models.dense_params(120, 84)  # F6: 10,164
        + models.dense_params(84, 10)
    )
    assert model.count_params() == by_hand == 61_706
    shapes = [tuple(layer.output.shape) for layer in model.layers]
    assert shapes[:4] == [(None, 28, 28, 6), (None, 14, 14, 6), (None, 10, 10, 16), (None, 5, 5, 16)]
    assert [layer.activation.__name__ for layer in model.layers if hasattr(layer, "activation")] == ["tanh"] * 4 + [
        "softmax"
    ]
    assert model.layers[0].name == "c1" and isinstance(model.layers[1], keras.layers.AveragePooling2D)


def test_lenet5_maps_digits_to_probabilities():
    images = np.random.default_rng(1).random((2, 28, 28, 1)).astype("float32")
    probabilities = np.asarray(models.build_lenet5()(images, training=False))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_deep_stack_has_the_asked_depth_and_activation():
    model = models.build_deep_stack("tanh", depth=4, width=16)
    hidden = [layer for layer in model.layers if layer.name.startswith("hidden")]
    assert len(hidden) == 4 and all(layer.activation.__name__ == "tanh" for layer in hidden)
    assert model.count_params() == models.dense_params(784, 16) + 3 * models.dense_params(16, 16) + models.dense_params(
        16, 10
    )
    with pytest.raises(ValueError, match="depth"):
        models.build_deep_stack("relu", depth=0)


def test_sigmoid_stacks_starve_their_first_layers_of_gradient(mnist_small):
    (x_train, y_train), _ = mnist_small
    images, labels = x_train[:128, :, :, None] / 255.0, y_train[:128]
    survival = {}
    for activation in ("sigmoid", "relu"):
        keras.utils.set_random_seed(0)
        sizes = models.kernel_gradient_sizes(models.build_deep_stack(activation, depth=8), images, labels)
        assert len(sizes) == 9 and all(size >= 0 for size in sizes)
        survival[activation] = sizes[0] / sizes[-2]  # first hidden layer vs last hidden layer
    # sigmoid's derivative is at most 1/4, so 8 layers shrink the gradient by orders of magnitude
    assert survival["sigmoid"] < 1e-3 < 0.1 < survival["relu"]


def test_kernel_gradient_sizes_reject_bad_input():
    model = models.build_deep_stack("relu", depth=2, width=8)
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        models.kernel_gradient_sizes(model, np.zeros((3, 28, 28, 1)), np.zeros(2, int))
    pooling_only = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.MaxPooling2D(2)], name="pool")
    with pytest.raises(ValueError, match="no layer with a kernel"):
        models.kernel_gradient_sizes(pooling_only, np.zeros((1, 28, 28, 1)), np.zeros(1, int))
