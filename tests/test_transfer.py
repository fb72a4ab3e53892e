"""mnistlab.transfer: load_digits looks like MNIST, few-label draws are balanced, the base is reused and frozen."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab import architectures, models, transfer


def test_to_mnist_style_fits_a_20_box_centred_by_mass():
    digit = np.zeros((8, 8))
    digit[1:7, 3:5] = 16  # a thick vertical stroke, 6 rows tall
    image = transfer.to_mnist_style(digit)
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() <= 1.0 and image.max() > 0.9
    rows = np.flatnonzero(image.max(axis=1) > 0.05)
    assert 18 <= rows[-1] - rows[0] + 1 <= 21  # the longest side is scaled to MNIST's 20-pixel box
    weights = image / image.sum()
    centre = (weights.sum(axis=1) @ np.arange(28), weights.sum(axis=0) @ np.arange(28))
    assert centre == pytest.approx((14, 14), abs=1.0)
    assert not transfer.to_mnist_style(np.zeros((8, 8))).any()


def test_to_mnist_style_names_bad_input():
    with pytest.raises(ValueError, match="8x8"):
        transfer.to_mnist_style(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="0..16"):
        transfer.to_mnist_style(np.full((8, 8), 255))


def test_load_small_digits_is_cnn_input():
    x, y = transfer.load_small_digits()
    assert x.shape == (1797, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() <= 1.0
    assert sorted(np.unique(y)) == list(range(10))


def test_few_labels_draws_the_same_number_of_each_digit():
    y = np.repeat(np.arange(10), 7)
    x = np.arange(len(y))
    x_few, y_few = transfer.few_labels(x, y, 3, seed=1)
    assert np.bincount(y_few).tolist() == [3] * 10
    assert (y[x_few] == y_few).all() and len(set(x_few)) == 30  # images keep their labels, no repeats
    with pytest.raises(ValueError, match="only 7"):
        transfer.few_labels(x, y, 8)


def test_transfer_model_copies_and_freezes_the_trained_base():
    trained = models.build_default_model()
    trained.get_layer("block2_conv").set_weights([np.full((3, 3, 32, 64), 0.5, dtype="float32")])
    model = transfer.build_transfer_model(trained, freeze=True)
    base = model.layers[0]
    assert base.name == "conv_base" and not base.trainable
    assert base.layers[-1].name == architectures.default().cut_layer
    np.testing.assert_array_equal(base.get_layer("block2_conv").get_weights()[0], 0.5)
    assert model.output_shape == (None, 10)
    # only the new head learns: Dense 576->64 and 64->10 (weights and biases)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 576 * 64 + 64 + 64 * 10 + 10
    # the trained model is not shared: changing the copy leaves it alone
    base.get_layer("block2_conv").set_weights([np.zeros((3, 3, 32, 64), dtype="float32")])
    assert (trained.get_layer("block2_conv").get_weights()[0] == 0.5).all()


def test_from_scratch_is_the_same_architecture_all_trainable():
    scratch = transfer.build_transfer_model(None)
    pretrained = transfer.build_transfer_model(models.build_default_model())
    assert scratch.count_params() == pretrained.count_params()
    assert scratch.layers[0].trainable


def test_transfer_needs_the_default_model():
    with pytest.raises(ValueError, match="load_or_train_default"):
        transfer.build_transfer_model(models.build_small_cnn())


def test_compare_with_scratch_trains_both_methods_on_the_same_few_digits(monkeypatch):
    # The fitting itself is crossval.train_and_score (tested in test_crossval); here: what each method gets.
    from mnistlab import crossval

    seen = []

    def record(build, x_few, y_few, x_test, y_test, epochs, batch_size, seed):
        model = build()
        seen.append((model.layers[0].trainable, np.bincount(y_few).tolist(), x_few.sum(), len(y_test)))
        return 0.5 + 0.1 * len(seen), float(len(seen))

    monkeypatch.setattr(crossval, "train_and_score", record)
    x, y = transfer.load_small_digits()
    table = transfer.compare_with_scratch(models.build_default_model(), x[:400], y[:400], x[400:500], y[400:500],
                                          per_class=(2, 4), epochs=1, batch_size=16)
    assert table["per_class"].tolist() == [2, 2, 4, 4]
    assert table["labels"].tolist() == [20, 20, 40, 40]
    assert table["method"].tolist() == ["transfer (frozen base)", "from scratch"] * 2
    assert table["accuracy"].tolist() == pytest.approx([0.6, 0.7, 0.8, 0.9])  # each row holds its own run
    from mnistlab import statistics

    assert (table["low"].iloc[0], table["high"].iloc[0]) == pytest.approx(statistics.wilson_interval(60, 100))
    assert [trainable for trainable, *_ in seen] == [False, True, False, True]  # base learns only from scratch
    assert seen[0][1:] == seen[1][1:] and seen[2][1:] == seen[3][1:]  # same digits for both methods
    assert seen[0][1] == [2] * 10 and seen[2][1] == [4] * 10 and seen[0][3] == 100
