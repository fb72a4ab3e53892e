"""``python -m mnistlab train``: train one architecture, save it, and print test accuracy, loss, time and size."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mnistlab.commands.arguments import positive_int

MODEL_NAMES = ("dense", "small_cnn", "dropout_cnn", "default")  # keys of mnistlab.models.MODELS


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model on MNIST and save it as a .keras file",
        description="Train one of the course architectures with the course callbacks (checkpoint of the "
        "best weights, early stopping, learning-rate schedule), test it on the 10,000 test digits "
        "and save a deployable copy (no optimizer state).",
    )
    parser.add_argument("--fast", action="store_true", help="fast mode: a small budget that runs in about a minute")
    parser.add_argument("--model", choices=MODEL_NAMES, default="default", help="architecture (default: %(default)s)")
    parser.add_argument("--epochs", type=positive_int, default=None, help="epochs (default: from the budget)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to save the .keras file (default for the default model: the file later notebooks load)",
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.out is not None and args.out.suffix != ".keras":
        print(f"error: --out {args.out} must end in .keras (the Keras 3 model format)", file=sys.stderr)
        return 2
    from mnistlab import config

    if args.fast:
        os.environ[config.FAST_ENV] = "1"
    from mnistlab import data, training

    try:
        plan = config.budget()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    epochs = args.epochs or plan.epochs
    out = args.out
    if out is None and args.model == "default" and epochs == plan.epochs:
        out = training.default_model_path()  # the file the later notebooks load
    elif out is None:  # never let a shorter or longer run pose as the notebooks' default model
        out = config.models_dir() / f"{args.model}-{plan.name}-{epochs}ep.keras"
    train_size = plan.train_size or 60_000
    print(
        f"Training {args.model} ({plan.name} mode): {epochs} epochs, batch {plan.batch_size}, "
        f"{train_size:,} training digits (10% held out for validation)",
        flush=True,
    )
    checkpoint_path, backup_dir = training.training_state_paths(out)
    try:
        result = training.train(
            args.model,
            epochs=epochs,
            verbose=2,
            checkpoint_path=checkpoint_path,
            backup_dir=backup_dir,
            save_to=out,
        )
    except data.MnistDataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"test accuracy: {result.test_accuracy:.4f}")
    print(f"test loss: {result.test_loss:.4f}")
    print(f"training wall time: {result.train_seconds:.1f} s ({result.epochs} epochs)")
    print(f"parameters: {result.model.count_params():,}")
    print(f"saved file: {out} ({training.file_size_mb(out):.2f} MB)")
    return 0
