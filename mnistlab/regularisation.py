"""Dropout, batch normalisation and augmentation measured with and without, on the same training budget."""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import pandas as pd

from mnistlab import config, data, models, training

DROPOUT_RATE = 0.5  # the rate of the keras-io dropout CNN (models.build_dropout_cnn)

# name -> which ingredients the variant of the default model keeps
VARIANTS: dict[str, dict] = {
    "plain": {"augment": False, "batch_norm": False, "dropout": 0.0},
    "dropout": {"augment": False, "batch_norm": False, "dropout": DROPOUT_RATE},
    "batch norm": {"augment": False, "batch_norm": True, "dropout": 0.0},
    "augmentation": {"augment": True, "batch_norm": False, "dropout": 0.0},
    "augmentation + batch norm (default)": {"augment": True, "batch_norm": True, "dropout": 0.0},
}



@dataclass(frozen=True)
class ComparisonBudget:
    """How much every variant trains in :func:`compare_variants`, and on how many validation digits it is scored."""

    train_size: int
    epochs: int
    val_size: int | None  # None: the whole validation set


# Fast mode must stay a few seconds per variant (notebook 03 trains five of them).
COMPARISON_BUDGETS = {
    "fast": ComparisonBudget(train_size=1_500, epochs=4, val_size=1_000),
    "full": ComparisonBudget(train_size=6_000, epochs=6, val_size=None),
}


def comparison_budget(plan: config.Budget | None = None) -> ComparisonBudget:
    """The :class:`ComparisonBudget` of ``plan`` (default: the current mode's budget)."""
    return COMPARISON_BUDGETS[(plan or config.budget()).name]


def build_variant(augment: bool = True, batch_norm: bool = True, dropout: float = 0.0) -> keras.Model:
    """The default model (:func:`mnistlab.models.build_default_model`) with its ingredients switched.

    ``augment=False`` drops the augmentation block (the builder's own switch);
    ``batch_norm=False`` removes every BatchNormalization layer and gives the layer
    before it back its bias (which batch norm made redundant); ``dropout > 0`` inserts
    a Dropout layer between Flatten and the hidden dense layer, where the keras-io
    dropout CNN has it. Everything else (layers, sizes, activations) is the default
    model's, rebuilt from its layer configurations, so the variants cannot drift from it.
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be a rate in [0, 1), got {dropout}")
    base = models.build_default_model(augment=augment)
    configs = [(type(layer), layer.get_config()) for layer in base.layers]
    stack: list = [keras.Input(shape=models.INPUT_SHAPE)]
    for kind, layer_config in configs:
        if kind is keras.layers.BatchNormalization and not batch_norm:
            stack[-1] = type(stack[-1]).from_config({**stack[-1].get_config(), "use_bias": True})
            continue
        stack.append(kind.from_config(layer_config))
        if kind is keras.layers.Flatten and dropout > 0:
            stack.append(keras.layers.Dropout(dropout, name="dropout"))
    return keras.Sequential(stack, name=variant_name(augment, batch_norm, dropout))


def variant_name(augment: bool, batch_norm: bool, dropout: float) -> str:
    """A model name saying what the variant keeps, e.g. ``variant-aug-bn-drop0.5``.

    Never ``default_cnn``: every variant is compiled alike (Adam, plain cross-entropy;
    see :func:`mnistlab.training.compile_model`), so only the ingredients differ.
    """
    parts = ["variant"] + ["aug"] * augment + ["bn"] * batch_norm + [f"drop{dropout:g}"] * (dropout > 0)
    return "-".join(parts) if len(parts) > 1 else "variant-plain"


def compare_variants(
    split: training.Split,
    budget: ComparisonBudget | None = None,
    variants: dict[str, dict] | None = None,
    batch_size: int = 64,
    seed: int = config.SEED,
) -> pd.DataFrame:
    """Train every variant on the same digits for the same epochs and measure what each ingredient does.

    Every variant sees the same ``budget.train_size`` class-balanced digits of
    ``split``'s training set, for ``budget.epochs`` epochs at ``batch_size``, from the
    same seed (default budget: :func:`comparison_budget`). Then both accuracies are
    measured the same way, with ``model.evaluate`` (dropout and augmentation switched
    off): on those training digits and on ``budget.val_size`` digits of ``split``'s
    validation set. One row per variant: its ingredients, ``train accuracy``,
    ``validation accuracy``, ``gap`` (train − validation: how much it memorised rather
    than learned) and ``seconds`` of training.
    """
    budget = budget or comparison_budget()
    variants = VARIANTS if variants is None else variants
    x, y = data.stratified_subset(split.x_train, split.y_train, budget.train_size, seed=seed)
    x_val, y_val = split.x_val[: budget.val_size], split.y_val[: budget.val_size]
    rows = []
    for name, switches in variants.items():
        config.set_seed(seed)
        model = training.compile_model(build_variant(**switches))
        # XLA compilation of a fresh model takes longer than these few hundred steps save.
        model.jit_compile = False
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=budget.epochs, verbose=0)
        seconds = time.perf_counter() - start
        train_accuracy = _accuracy(model, x, y)
        val_accuracy = _accuracy(model, x_val, y_val)
        rows.append(
            {
                "variant": name,
                "dropout": switches.get("dropout", 0.0),
                "batch norm": switches.get("batch_norm", True),
                "augmentation": switches.get("augment", True),
                "train accuracy": train_accuracy,
                "validation accuracy": val_accuracy,
                "gap": train_accuracy - val_accuracy,
                "seconds": seconds,
            }
        )
    return pd.DataFrame(rows).set_index("variant")


def _accuracy(model: keras.Model, images, labels) -> float:
    return float(model.evaluate(images, labels, batch_size=500, verbose=0, return_dict=True)["accuracy"])


def parameter_counts(variants: dict[str, dict] | None = None) -> pd.Series:
    """Trainable + non-trainable parameters of each variant (dropout and augmentation add none)."""
    variants = VARIANTS if variants is None else variants
    return pd.Series({name: build_variant(**switches).count_params() for name, switches in variants.items()})
