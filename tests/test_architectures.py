"""The registry of architectures and recipes: everything about a model is a field, nothing reads model.name."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from mnistlab import architectures

PACKAGE = Path(architectures.__file__).parent


def test_every_registered_architecture_builds_with_its_parameter_count():
    from mnistlab import models

    for name, arch in architectures.REGISTRY.items():
        model = models.build(arch)
        assert model.count_params() == arch.params, name
        assert model.name == arch.keras_name
    assert {name: arch.params for name, arch in architectures.REGISTRY.items()} == models.EXPECTED_PARAMS


def test_the_default_recipe_is_explicit():
    recipe = architectures.default().recipe
    assert (recipe.optimizer, recipe.labels, recipe.label_smoothing, recipe.augment, recipe.keep) == (
        "adamw", "one_hot", 0.1, True, "last")
    assert architectures.get("dense").recipe == architectures.TUTORIAL and architectures.TUTORIAL.keep == "best"
    assert architectures.default().cut_layer == "block3_relu"


def test_recipes_reject_what_cannot_work():
    with pytest.raises(ValueError, match="one-hot"):
        architectures.Recipe(label_smoothing=0.1)
    with pytest.raises(ValueError, match="optimizer"):
        architectures.Recipe(optimizer="sgd")
    with pytest.raises(ValueError, match="Unknown model name"):
        architectures.get("resnet")


def test_changing_the_default_model_is_one_edit(monkeypatch, course_home):
    from mnistlab import keras_comparison, store, training, transfer

    small = dataclasses.replace(architectures.get("small_cnn"), cut_layer="conv2d_1")
    monkeypatch.setitem(architectures.REGISTRY, "small_cnn", small)
    monkeypatch.setattr(architectures, "DEFAULT_MODEL", "small_cnn")
    assert architectures.default() is small
    assert store.default_model_path().name.startswith("small_cnn-v1-fast")
    assert keras_comparison.LABELS["small_cnn"] == "Small CNN"
    with pytest.raises(ValueError):  # transfer cuts at the new default's layer, which the small CNN names otherwise
        transfer.build_transfer_model()
    assert training.train.__defaults__[0] is None  # train() trains architectures.default() at call time


def test_nothing_in_the_package_dispatches_on_a_model_name():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(isinstance(side, ast.Attribute) and side.attr == "name" and isinstance(side.value, ast.Name)
                       and side.value.id in ("model", "network", "pretrained") for side in sides):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
            if (isinstance(node, ast.Constant) and node.value == "default_cnn"
                    and path.name not in ("models.py", "architectures.py")):  # its builder and its registry entry
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} ('default_cnn')")
    assert not offenders, f"dispatch on a model's name: {offenders}"


def test_changing_a_recipe_is_one_edit_of_its_registry_entry(monkeypatch, tiny_split, tmp_path):
    from mnistlab import training

    smoothed = architectures.Recipe(optimizer="adamw", labels="one_hot", label_smoothing=0.2, keep="last")
    monkeypatch.setitem(architectures.REGISTRY, "dense", dataclasses.replace(architectures.get("dense"),
                                                                             recipe=smoothed))
    result = training.train("dense", epochs=1, batch_size=64, split=tiny_split, verbose=0,
                            checkpoint_path=tmp_path / "c.weights.h5")
    assert type(result.model.optimizer).__name__ == "AdamW"
    assert result.model.loss.label_smoothing == pytest.approx(0.2)
