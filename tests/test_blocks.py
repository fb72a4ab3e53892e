"""mnistlab.blocks: the reference building blocks of notebook 06 §5, on tiny inputs (offline, a few seconds)."""

from __future__ import annotations

import keras
import numpy as np

from mnistlab import blocks


def test_gap_head_is_smaller_and_does_not_grow_with_the_image():
    assert blocks.flatten_cnn().count_params() == 20_490
    assert blocks.gap_cnn().count_params() == 5_130
    assert blocks.gap_cnn((40, 40, 1), 10).count_params() == 5_130
    assert blocks.flatten_cnn((40, 40, 1), 10).count_params() > 20_490
    assert blocks.gap_cnn((12, 12, 3), 4)(np.zeros((2, 12, 12, 3), "float32")).shape == (2, 4)


def test_residual_block_adds_its_input_and_projects_new_channels():
    same_in = keras.Input(shape=(6, 5, 4))
    same = keras.Model(same_in, blocks.residual_block(same_in, 4))
    projected_in = keras.Input(shape=(6, 5, 2))
    projected = keras.Model(projected_in, blocks.residual_block(projected_in, 4))
    assert same.output.shape[1:] == projected.output.shape[1:] == (6, 5, 4)
    # two 3x3 convolutions and two batch normalisations; the projection adds a 1x1 convolution (2*4 + 4)
    assert same.count_params() == 2 * (9 * 4 * 4 + 4) + 2 * 4 * 4
    assert projected.count_params() == (9 * 2 * 4 + 4) + (9 * 4 * 4 + 4) + 2 * 4 * 4 + (2 * 4 + 4)
    for layer in same.layers:
        if isinstance(layer, keras.layers.Conv2D):
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    x = np.random.default_rng(1).normal(size=(2, 6, 5, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(same(x, training=False)), np.maximum(x, 0), atol=1e-3)


def test_he_keeps_the_spread_of_a_deep_relu_stack_where_glorot_shrinks_it():
    x = np.random.default_rng(2).normal(size=(128, 64)).astype("float32")
    ratios = {}
    for initializer in ("he_normal", "glorot_uniform"):
        keras.utils.set_random_seed(3)
        stds = blocks.activation_stds(blocks.deep_relu_stack(initializer, depth=10, width=64, inputs=64), x)
        assert len(stds) == 10
        ratios[initializer] = stds[-1] / stds[0]
    assert 1 / 3 < ratios["he_normal"] < 3
    assert ratios["glorot_uniform"] < 0.1  # predicted (1/sqrt 2) ** 9, about 0.04


def test_train_briefly_is_reproducible_with_its_seed():
    rng = np.random.default_rng(4)
    x, y = rng.random((64, 8, 8, 1)).astype("float32"), rng.integers(0, 3, 64)
    first, second = (blocks.train_briefly(lambda: blocks.gap_cnn((8, 8, 1), 3), x, y, epochs=1, seed=5)
                     for _ in range(2))
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
