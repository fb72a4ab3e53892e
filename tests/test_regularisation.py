"""Variants of the default model with and without dropout, batch norm and augmentation, and their comparison."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mnistlab import augmentation, config, models, regularisation


def _types(model):
    return [type(layer).__name__ for layer in model.layers]


def test_all_switches_on_is_the_default_model():
    variant = regularisation.build_variant(batch_norm=True)
    default = models.build_default_model()
    assert _types(variant) == _types(default)
    assert variant.count_params() == default.count_params()
    assert variant.name != default.name  # compiled like the tutorial models, not with the default recipe


def test_plain_variant_is_the_classic_small_cnn():
    plain = regularisation.build_variant(batch_norm=False)
    assert "BatchNormalization" not in _types(plain) and "Sequential" not in _types(plain)
    assert all(layer.use_bias for layer in plain.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)))
    assert plain.count_params() == models.EXPECTED_PARAMS["small_cnn"]


def test_dropout_goes_between_flatten_and_the_hidden_layer():
    variant = regularisation.build_variant(batch_norm=False, dropout=0.3)
    types = _types(variant)
    assert types[types.index("Flatten") + 1] == "Dropout"
    assert variant.get_layer("dropout").rate == 0.3
    assert variant.name == "variant-drop0.3"
    with pytest.raises(ValueError, match="dropout"):
        regularisation.build_variant(dropout=1.0)


def test_comparison_budget_follows_the_mode(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV, "1")
    fast = regularisation.comparison_budget()
    monkeypatch.setenv(config.FAST_ENV, "0")
    full = regularisation.comparison_budget()
    assert fast.train_size < full.train_size and fast.epochs <= full.epochs


def test_compare_variants_measures_every_variant_the_same_way(tiny_split):
    variants = {name: regularisation.VARIANTS[name] for name in ("plain", "dropout")}
    budget = config.Run(train_size=200, epochs=1, val_size=50)
    table = regularisation.compare_variants(tiny_split, budget, variants, batch_size=32)
    assert list(table.index) == ["plain", "dropout"]
    assert list(table["dropout"]) == [0.0, regularisation.DROPOUT_RATE]
    assert list(table["augmentation"]) == ["none", "none"]
    for column in ("1-pixel strokes", "bold strokes"):
        assert table[column].between(0, 1).all()
    assert (table["gap"] - (table["train accuracy"] - table["validation accuracy"])).abs().max() < 1e-9
    assert table["validation accuracy"].between(0, 1).all() and (table["seconds"] > 0).all()
    # validation scores use exactly val_size digits: every accuracy is a multiple of 1/50
    scaled = table["validation accuracy"] * 50
    assert np.allclose(scaled, scaled.round(), atol=1e-4)


def test_stroke_variants_differ_only_in_the_stroke_width_part():
    without, with_them = (v["augment"] for v in regularisation.STROKE_VARIANTS.values())
    assert regularisation.describe_augmentation(without) == "affine"
    assert regularisation.describe_augmentation(with_them) == "affine + stroke width"
    assert regularisation.describe_augmentation(augmentation.Settings(elastic=1.0)) == "affine + elastic + stroke width"
    assert augmentation.without(with_them, "stroke") == without
    assert regularisation.describe_augmentation(None) == "none"
