"""``python -m mnistlab train``: train one architecture, save it, and print test accuracy, loss, time and size."""

from __future__ import annotations

from pathlib import Path

from mnistlab.architectures import DEFAULT_MODEL, MODEL_NAMES
from mnistlab.commands.arguments import positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model on MNIST and save it as a .keras file",
        description="Train one of the course architectures with the course callbacks (checkpoint of the "
        "best weights, backup of the training state, early stopping, learning-rate schedule), test it on "
        "the 10,000 test digits and save a deployable copy (no optimizer state). Run the same command again "
        "after an interruption and it resumes after the last finished epoch.",
    )
    parser.add_argument(
        "--model", choices=MODEL_NAMES, default=DEFAULT_MODEL, help="architecture (default: %(default)s)"
    )
    parser.add_argument("--epochs", type=positive_int, default=None, help="epochs (default: from the budget)")
    parser.add_argument(
        "--train-size",
        type=positive_int,
        default=None,
        help="training digits drawn from the 60,000, 10%% of them held out for validation (default: from the budget)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to save the .keras file (default for the default model: the file later notebooks load)",
    )
    parser.set_defaults(run=run)


def run(args) -> int:
    from mnistlab import config
    from mnistlab.errors import UsageError

    if args.out is not None and args.out.suffix != ".keras":
        raise UsageError(f"--out {args.out} must end in .keras (the Keras 3 model format)")
    if args.train_size is not None and not 100 <= args.train_size <= 60_000:
        raise UsageError(
            f"--train-size {args.train_size} must be between 100 and 60000 (MNIST has 60,000 training "
            f"digits, and the 10% held out for validation must hold every digit class)"
        )
    plan = config.budget()  # python -m mnistlab --fast train: fast mode, decided in config like everywhere
    from mnistlab import store, training

    epochs = args.epochs or plan.epochs
    train_size = args.train_size or plan.train_size or 60_000
    budget_size = train_size == (plan.train_size or 60_000)
    out = args.out
    if out is None and args.model == DEFAULT_MODEL and epochs == plan.epochs and budget_size:
        out = store.default_model_path(plan)  # the file the later notebooks load
    elif out is None:  # never let a shorter or longer run pose as the notebooks' default model
        size = "" if budget_size else f"-{train_size}"
        out = config.models_dir() / f"{args.model}-{plan.name}{size}-{epochs}ep.keras"
    print(
        f"Training {args.model} ({plan.name} mode): {epochs} epochs, batch {plan.batch_size}, "
        f"{train_size:,} training digits (10% held out for validation)",
        flush=True,
    )
    checkpoint_path, backup_dir = store.training_state_paths(out)
    done = training.backed_up_epochs(backup_dir)
    if done:
        print(training.resume_message(done, epochs, backup_dir), flush=True)
    result = training.train(
        args.model,
        epochs=epochs,
        train_size=train_size,
        verbose=0,
        checkpoint_path=checkpoint_path,
        backup_dir=backup_dir,
        save_to=out,
        extra_callbacks=[training.EpochPrinter(epochs, lambda line: print(line, flush=True))],
        plan=plan,
    )
    print(f"test accuracy: {result.test_accuracy:.4f}")
    print(f"test loss: {result.test_loss:.4f}")
    if done:
        print(
            f"training wall time: {result.train_seconds:.1f} s for epochs {done + 1}-{result.epochs} "
            f"({result.history['seconds'].sum():.1f} s for all {result.epochs} epochs, "
            f"with those before the interruption)"
        )
    else:
        print(f"training wall time: {result.train_seconds:.1f} s ({result.epochs} epochs)")
    print(f"parameters: {result.model.count_params():,}")
    print(f"saved file: {out} ({store.file_size_mb(out):.2f} MB)")
    return 0
