"""Dropout, batch normalisation and augmentation (and its stroke-width part) measured with and without."""

from __future__ import annotations

import time

import keras
import pandas as pd

from mnistlab import augmentation, config, data, models, training

DROPOUT_RATE = 0.5  # the rate of the keras-io dropout CNN (models.build_dropout_cnn)

# name -> which ingredients the variant of the default model keeps; "augment" is what the input pipeline
# does to the training digits (None: nothing), the other two switches change the network itself.
VARIANTS: dict[str, dict] = {
    "plain": {"augment": None, "batch_norm": False, "dropout": 0.0},
    "dropout": {"augment": None, "batch_norm": False, "dropout": DROPOUT_RATE},
    "batch norm": {"augment": None, "batch_norm": True, "dropout": 0.0},
    "augmentation": {"augment": augmentation.DEFAULT, "batch_norm": False, "dropout": 0.0},
    "augmentation + batch norm (default)": {"augment": augmentation.DEFAULT, "batch_norm": True, "dropout": 0.0},
}

# The with/without pair for the part of the augmentation added for real users' strokes.
STROKE_VARIANTS: dict[str, dict] = {
    "default without stroke-width changes": {
        "augment": augmentation.without(augmentation.DEFAULT, "stroke"),
        "batch_norm": True,
    },
    "default (with them)": {"augment": augmentation.DEFAULT, "batch_norm": True},
}


def comparison_budget(plan: config.Budget | None = None) -> config.Run:
    """How much each variant trains under ``plan`` (default: the current mode's budget): its ``comparison_run``."""
    return (plan or config.budget()).comparison_run


def build_variant(batch_norm: bool = True, dropout: float = 0.0) -> keras.Model:
    """The default model (:func:`mnistlab.models.build_default_model`) with its ingredients switched.

    ``batch_norm=False`` removes every BatchNormalization layer and gives the layer
    before it back its bias (which batch norm made redundant); ``dropout > 0`` inserts
    a Dropout layer between Flatten and the hidden dense layer, where the keras-io
    dropout CNN has it. Everything else (layers, sizes, activations) is the default
    model's, rebuilt from its layer configurations, so the variants cannot drift from it.
    (Augmentation is not part of any model: :func:`compare_variants` switches it in the
    input pipeline.)
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be a rate in [0, 1), got {dropout}")
    base = models.build_default_model()
    stack: list = [keras.Input(shape=data.INPUT_SHAPE)]
    last_weighted = None
    for layer in base.layers:
        kind, layer_config = type(layer), layer.get_config()
        if kind is keras.layers.BatchNormalization and not batch_norm:
            # the bias goes back to the convolution or dense layer this batch norm follows
            index = stack.index(last_weighted)
            stack[index] = type(last_weighted).from_config({**last_weighted.get_config(), "use_bias": True})
            continue
        stack.append(kind.from_config(layer_config))
        if kind in (keras.layers.Conv2D, keras.layers.Dense):
            last_weighted = stack[-1]
        if kind is keras.layers.Flatten and dropout > 0:
            stack.append(keras.layers.Dropout(dropout, name="dropout"))
    return keras.Sequential(stack, name=variant_name(batch_norm, dropout))


def variant_name(batch_norm: bool, dropout: float) -> str:
    """A model name saying what the variant keeps, e.g. ``variant-bn-drop0.5``.

    Every variant is compiled alike (the tutorial recipe: Adam, plain cross-entropy; see
    :func:`mnistlab.training.compile_model`), so only the ingredients differ.
    """
    parts = ["variant"] + ["bn"] * batch_norm + [f"drop{dropout:g}"] * (dropout > 0)
    return "-".join(parts) if len(parts) > 1 else "variant-plain"


def compare_variants(
    split: data.Split,
    budget: config.Run | None = None,
    variants: dict[str, dict] | None = None,
    batch_size: int = 64,
    seed: int = config.SEED,
) -> pd.DataFrame:
    """Train every variant on the same digits for the same epochs and measure what each ingredient does.

    Every variant sees the same ``budget.train_size`` class-balanced digits of
    ``split``'s training set, for ``budget.epochs`` epochs at ``batch_size``, from the
    same seed (default budget: :func:`comparison_budget`), through the same input pipeline
    (:func:`mnistlab.augmentation.training_batches`, augmenting only where the variant
    says so). Then every accuracy is measured the same way, with ``model.evaluate``
    (dropout off): on those training digits, on ``budget.val_size`` digits of ``split``'s
    validation set, and on the same validation digits redrawn with one-pixel strokes and
    with bold strokes (:func:`mnistlab.augmentation.one_pixel_strokes`, :func:`~mnistlab.augmentation.bold_strokes`),
    as real users draw them. One row per variant: its ingredients, ``train accuracy``,
    ``validation accuracy``, ``gap`` (train − validation: how much it memorised rather
    than learned), ``1-pixel strokes`` and ``bold strokes`` accuracy, and ``seconds`` of training.
    """
    budget = budget or comparison_budget()
    variants = VARIANTS if variants is None else variants
    x, y = data.stratified_subset(split.x_train, split.y_train, budget.train_size, seed=seed)
    x_val, y_val = split.x_val[: budget.val_size], split.y_val[: budget.val_size]
    thin, bold = augmentation.one_pixel_strokes(x_val), augmentation.bold_strokes(x_val)
    steps = augmentation.steps_per_epoch(len(x), batch_size)
    rows = []
    for name, switches in variants.items():
        config.set_seed(seed)
        model = training.compile_model(
            build_variant(switches.get("batch_norm", True), switches.get("dropout", 0.0))
        )
        settings = switches.get("augment")
        batches = augmentation.training_batches(x, y, batch_size, seed, settings)
        start = time.perf_counter()
        model.fit(batches, steps_per_epoch=steps, epochs=budget.epochs, verbose=0, shuffle=False)
        seconds = time.perf_counter() - start
        train_accuracy = _accuracy(model, x, y)
        val_accuracy = _accuracy(model, x_val, y_val)
        rows.append(
            {
                "variant": name,
                "dropout": switches.get("dropout", 0.0),
                "batch norm": switches.get("batch_norm", True),
                "augmentation": describe_augmentation(settings),
                "train accuracy": train_accuracy,
                "validation accuracy": val_accuracy,
                "gap": train_accuracy - val_accuracy,
                "1-pixel strokes": _accuracy(model, thin, y_val),
                "bold strokes": _accuracy(model, bold, y_val),
                "seconds": seconds,
            }
        )
    return pd.DataFrame(rows).set_index("variant")


def describe_augmentation(settings: augmentation.Settings | None) -> str:
    """A few words for the table: which parts of the augmentation a variant's pipeline applies."""
    if settings is None:
        return "none"
    parts = []
    if settings.rotation or settings.shear or settings.zoom or settings.stretch or settings.shift:
        parts.append("affine")
    if settings.elastic:
        parts.append("elastic")
    if settings.thin or settings.thick:
        parts.append("stroke width")
    return " + ".join(parts) or "none"


def _accuracy(model: keras.Model, images, labels) -> float:
    return training.accuracy_and_loss(model, images, labels)[0]  # the one way the course scores a model
