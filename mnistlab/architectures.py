"""Names of the architectures the course trains, importable without TensorFlow (the CLI checks options with them)."""

# One builder each in mnistlab.models.MODELS, in this order.
MODEL_NAMES = ("dense", "small_cnn", "dropout_cnn", "default")
DEFAULT_MODEL = "default"
ANCHOR_MODEL = "dropout_cnn"  # the seed project's model, which benchmarks measure the default model against
