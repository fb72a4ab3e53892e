"""The registry of architectures the course trains, each with its explicit training recipe."""

# Importable without TensorFlow (the command line checks its options with it). Everything that
# differs between the course's networks -- optimiser, loss, label format, augmentation, which epoch
# a run keeps, file version, expected parameter count, display label, transfer cut layer -- is a
# field here, so nothing in the package dispatches on a Keras model's name, and changing the
# default model is the one edit of :data:`DEFAULT_MODEL`.

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recipe:
    """How an architecture is trained; :func:`mnistlab.training.compile_model` and ``fit`` read it.

    * ``optimizer``: ``"adam"`` (constant ``learning_rate``) or ``"adamw"`` (decoupled
      ``weight_decay``, warm-up + cosine schedule peaking at ``learning_rate``);
    * the loss is cross-entropy on ``labels`` -- ``"integer"`` (sparse) or ``"one_hot"``, the only
      format that allows ``label_smoothing``;
    * ``augment``: train on digits augmented by ``mnistlab.augmentation.DEFAULT``;
    * ``keep``: the weights a run returns -- ``"best"`` validation epoch, or the ``"last"`` epoch
      (a cosine schedule ends with tiny steps, so its last epoch is the intended result);
    * ``outliers``: outlier exposure -- generated non-digits (:mod:`mnistlab.outliers`) added to the
      training digits, this many per digit, with the uniform distribution over the ten digits as their
      target, so the network spreads its probability when nothing fits (needs one-hot labels).
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    labels: str = "integer"
    label_smoothing: float = 0.0
    augment: bool = False
    keep: str = "best"
    outliers: float = 0.0

    def __post_init__(self):
        if self.optimizer not in ("adam", "adamw"):
            raise ValueError(f"Recipe.optimizer must be 'adam' or 'adamw', got {self.optimizer!r}")
        if self.labels not in ("integer", "one_hot"):
            raise ValueError(f"Recipe.labels must be 'integer' or 'one_hot', got {self.labels!r}")
        if self.keep not in ("best", "last"):
            raise ValueError(f"Recipe.keep must be 'best' or 'last', got {self.keep!r}")
        if self.label_smoothing and self.labels != "one_hot":
            raise ValueError("label smoothing needs one-hot labels (Recipe.labels='one_hot')")
        if self.outliers < 0 or (self.outliers and self.labels != "one_hot"):
            raise ValueError("Recipe.outliers must be >= 0, and outlier exposure needs one-hot labels "
                             "(its target is the uniform distribution)")

    @property
    def one_hot(self) -> bool:
        """Whether the loss wants one-hot labels rather than integers."""
        return self.labels == "one_hot"


# The tutorial architectures: plain Adam at its default rate on integer labels, as in the tutorials they come from.
TUTORIAL = Recipe()
# The default model: AdamW with a warm-up + cosine schedule, label smoothing 0.1 (targets 0.91 / 0.01 instead of
# 1 / 0, which keeps the network from becoming over-confident), augmented digits, the last epoch kept, and
# outlier exposure: 0.3 generated non-digits per digit, so a letter or a drawing is not read as a digit.
DEFAULT_RECIPE = Recipe(
    optimizer="adamw", learning_rate=3e-3, weight_decay=1e-4, labels="one_hot", label_smoothing=0.1,
    augment=True, keep="last", outliers=0.3,
)


@dataclass(frozen=True)
class Architecture:
    """One registered network: its builder in :mod:`mnistlab.models` and everything about training and storing it.

    ``version`` is part of the saved file's name: bump it when the builder or the recipe changes,
    so a model of an older design is never loaded by mistake. ``cut_layer`` is the last layer of
    the convolutional base that transfer learning reuses (None: not offered for transfer).
    """

    name: str
    builder: str  # a function of mnistlab.models (by name: this module imports no Keras)
    keras_name: str  # the Keras model's name, also the stem of its saved file
    label: str  # what comparison tables call it
    params: int  # parameter count the tests assert (and notebook 02 derives by hand)
    recipe: Recipe = TUTORIAL
    version: str = "v1"
    cut_layer: str | None = None


REGISTRY: dict[str, Architecture] = {
    arch.name: arch
    for arch in (
        Architecture("dense", "build_dense", "dense", "Dense net (2x128)", 118_282),
        Architecture("small_cnn", "build_small_cnn", "small_cnn", "Small CNN", 93_322),
        Architecture("dropout_cnn", "build_dropout_cnn", "dropout_cnn", "Dropout CNN", 225_034),
        # v4: augmentation moved out of the model into the input pipeline, with stroke-width changes; pooling
        # before BN. v5: outlier exposure (generated non-digits).
        Architecture(
            "default", "build_default_model", "default_cnn", "Default model (CNN + BN + augmentation)", 93_994,
            recipe=DEFAULT_RECIPE, version="v5", cut_layer="block3_relu",
        ),
    )
}

MODEL_NAMES = tuple(REGISTRY)
DEFAULT_MODEL = "default"  # the one edit that changes the course's default model
ANCHOR_MODEL = "dropout_cnn"  # the seed project's model, which benchmarks measure the default model against


def get(name: str) -> Architecture:
    """The registered architecture called ``name`` (one of :data:`MODEL_NAMES`)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"Unknown model name {name!r}: choose one of {', '.join(REGISTRY)}.") from None


def default() -> Architecture:
    """The course's default model (:data:`DEFAULT_MODEL`), looked up at call time."""
    return get(DEFAULT_MODEL)
