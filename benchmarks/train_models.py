"""Train course architectures and default-model recipes side by side; print time, accuracy and ratios to the anchor.

    nice -n 10 python benchmarks/train_models.py                       # the default model and the anchor, 3 seeds
    nice -n 10 python benchmarks/train_models.py --fast                # fast-mode budget
    nice -n 10 python benchmarks/train_models.py --only dense small_cnn dropout_cnn default --seeds 1
    nice -n 10 python benchmarks/train_models.py --recipe default v3-order --epochs 10 12 --batch-size 128 256

Every run of the same seed trains on the same digits (``data.split_mnist(seed=...)``). Runs are
interleaved — seed 0 of every configuration, then seed 1 of every configuration… — so that a change
in the machine's load hits all configurations alike, and the anchor, the seed project's dropout CNN
(``models.build_dropout_cnn``, trained with the budget's epochs), is always in the same run: its ratios
(time and error rate) are what to compare between machines. Each line records the 1-minute load
average before and after the run. The table goes to ``--csv`` (default
``benchmarks/results/train_models.csv``) with the command and the load averages.

``--recipe`` names default-model candidates (see :data:`RECIPES`); ``--epochs`` and ``--batch-size``
take several values and every combination is trained (or list configurations with ``--runs``). The
default model's deployable copy (no optimizer state) is saved to a temporary folder and its size printed.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Lightweight: none of these imports TensorFlow, so a bad option fails in a fraction of a second.
from mnistlab import config
from mnistlab.architectures import ANCHOR_MODEL, DEFAULT_MODEL, MODEL_NAMES
from mnistlab.commands.arguments import positive_int

# Candidates for the default model's recipe: (what the network is, what the input pipeline does).
RECIPES = {
    "default": "the default model as it is: pooling before batch norm, augmentation.DEFAULT",
    "affine-only": "augmentation.AFFINE_ONLY: the geometry of version 3 (rotation 3.6 deg, shift 2.8 px, zoom 10%), "
    "no elastic, no stroke width",
    "affine+stroke": "the version-3 geometry + stroke width (thin 25%, thick 25%)",
    "affine+stroke+elastic": "the version-3 geometry + stroke width + elastic wobble (0.8 px)",
    "strong-affine+stroke+elastic": "rotation 8 deg, shear 0.15, stretch 10%, shift 2.5 px, zoom 10% + stroke width "
    "+ elastic",
    "no-augmentation": "the default model without any augmentation",
    "v3-order": "batch norm before pooling, as in version 3 (same weights, 4x the normalised values), "
    "augmentation.DEFAULT",
}
RESULTS = Path(__file__).resolve().parent / "results" / "train_models.csv"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="use the fast-mode budget")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=MODEL_NAMES,
        default=None,
        help=f"architectures to train (default: {DEFAULT_MODEL} and the anchor {ANCHOR_MODEL})",
    )
    parser.add_argument(
        "--recipe",
        nargs="+",
        choices=RECIPES,
        default=["default"],
        help="default-model recipes to compare (default: default): "
        # argparse %-formats help text, and the recipe descriptions contain percentages.
        + "; ".join(f"{k}: {v}" for k, v in RECIPES.items()).replace("%", "%%"),
    )
    parser.add_argument("--seeds", type=positive_int, default=3, help="seeds per configuration (default: 3)")
    parser.add_argument("--epochs", type=positive_int, nargs="+", default=None, help="default-model epochs to try")
    parser.add_argument("--batch-size", type=positive_int, nargs="+", default=None, help="default-model batch sizes")
    parser.add_argument(
        "--runs",
        nargs="+",
        type=run_spec,
        default=None,
        metavar="RECIPE:EPOCHS:BATCH",
        help="default-model configurations to train instead of the --recipe x --epochs x --batch-size grid, "
        "e.g. default:12:128 v3-order:12:128",
    )
    parser.add_argument("--csv", type=Path, default=RESULTS, help="where to write the table (default: %(default)s)")
    return parser.parse_args(argv)


def run_spec(text: str) -> dict:
    """argparse type for ``RECIPE:EPOCHS:BATCH``."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in RECIPES:
        raise argparse.ArgumentTypeError(
            f"expected RECIPE:EPOCHS:BATCH with RECIPE one of {', '.join(RECIPES)}, got {text!r}"
        )
    epochs, batch = positive_int(parts[1]), positive_int(parts[2])
    return {"model": DEFAULT_MODEL, "recipe": parts[0], "epochs": epochs, "batch": batch}


def build_recipe(name: str):
    """``(model, augmentation settings)`` of a default-model recipe."""
    import dataclasses

    import keras

    from mnistlab import augmentation, models

    if name == "v3-order":
        return v3_order_model(keras, models), augmentation.DEFAULT
    affine = augmentation.AFFINE_ONLY
    stroke = dataclasses.replace(affine, thin=0.25, thick=0.25)
    settings = {
        "default": augmentation.DEFAULT,
        "affine-only": affine,
        "affine+stroke": stroke,
        "affine+stroke+elastic": dataclasses.replace(stroke, elastic=0.8),
        "strong-affine+stroke+elastic": augmentation.Settings(
            rotation=8.0, shear=0.15, zoom=0.1, stretch=0.1, shift=2.5, elastic=0.8, thin=0.25, thick=0.25
        ),
        "no-augmentation": None,
    }
    return models.build_default_model(), settings[name]


def v3_order_model(keras, models):
    """The default model with each block's batch norm and ReLU before its pooling, as the v3 model had them."""
    stack, pending_pool = [keras.Input(shape=models.INPUT_SHAPE)], None
    for layer in models.build_default_model().layers:
        clone = type(layer).from_config(layer.get_config())
        if isinstance(layer, keras.layers.MaxPooling2D):
            pending_pool = clone
            continue
        stack.append(clone)
        if isinstance(layer, keras.layers.ReLU) and pending_pool is not None:
            stack.append(pending_pool)
            pending_pool = None
    return keras.Sequential(stack, name="default_cnn_v3_order")


def configurations(args, plan) -> list[dict]:
    names = args.only or [DEFAULT_MODEL, ANCHOR_MODEL]
    rows = []
    for name in names:
        if name != DEFAULT_MODEL:
            rows.append({"model": name, "recipe": "-", "epochs": plan.epochs, "batch": plan.batch_size})
            continue
        if args.runs:
            rows += args.runs
            continue
        for recipe in args.recipe:
            for epochs in args.epochs or [plan.epochs]:
                for batch in args.batch_size or [plan.batch_size]:
                    rows.append({"model": name, "recipe": recipe, "epochs": epochs, "batch": batch})
    return rows


def label(conf: dict) -> str:
    if conf["model"] != DEFAULT_MODEL:
        return conf["model"]
    return f"{conf['recipe']} {conf['epochs']}ep b{conf['batch']}"


def train_once(conf: dict, split, seed: int, folder: Path):
    from mnistlab import architectures, models, training

    if conf["model"] == DEFAULT_MODEL:
        model, settings = build_recipe(conf["recipe"])
        augment = settings
    else:
        model, augment = models.build_model(conf["model"]), "recipe"
    recipe = architectures.get(conf["model"]).recipe  # every variant of the default model trains with its recipe
    config.set_seed(seed)
    result = training.fit(
        model,
        split,
        conf["epochs"],
        conf["batch"],
        checkpoint_path=folder / f"{label(conf).replace(' ', '_')}-{seed}.weights.h5",
        verbose=0,
        augment=augment,
        seed=seed,
        recipe=recipe,
    )
    result.test_accuracy, result.test_loss = training.accuracy_and_loss(result.model, split.x_test, split.y_test)
    return result


def stroke_tests(split) -> dict:
    """The test digits redrawn with one-pixel and with bold strokes (how real users' strokes differ from MNIST's)."""
    from mnistlab import augmentation

    return {
        "1-px strokes": augmentation.one_pixel_strokes(split.x_test),
        "bold strokes": augmentation.bold_strokes(split.x_test),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = config.budget(fast=args.fast)
    confs = configurations(args, plan)

    from mnistlab import data, store, training

    command = "python benchmarks/train_models.py " + " ".join(sys.argv[1:] if argv is None else argv)
    print(
        f"{command}\nbudget: {plan.name}, train size {plan.train_size or 60_000} (10% validation), "
        f"{len(confs)} configurations x {args.seeds} seeds; load averages {_load()}",
        flush=True,
    )
    arrays = data.load_mnist()
    runs: dict[str, list[dict]] = {label(conf): [] for conf in confs}
    strokes = None
    size_mb = None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for seed in range(args.seeds):
            split = data.split_mnist(plan.train_size, seed=seed, arrays=arrays)
            strokes = strokes or stroke_tests(split)  # the test set is the same for every seed
            for conf in confs:
                before = os.getloadavg()[0]
                result = train_once(conf, split, seed, folder)
                after = os.getloadavg()[0]
                history = result.history
                run = {
                    "seconds": result.train_seconds,
                    "epoch seconds": _after_first(history["seconds"]),
                    "epoch cpu seconds": _after_first(history["cpu_seconds"]),
                    "epochs run": len(history),
                    "accuracy": result.test_accuracy,
                    **{
                        name: training.accuracy_and_loss(result.model, images, split.y_test)[0]
                        for name, images in strokes.items()
                    },
                    "params": result.model.count_params(),
                    "load": (before, after),
                }
                runs[label(conf)].append(run)
                print(
                    f"  {label(conf):<28} seed {seed}: test accuracy {run['accuracy']:.4f}, "
                    f"1-px strokes {run['1-px strokes']:.4f}, bold {run['bold strokes']:.4f}, "
                    f"{run['epochs run']} epochs, "
                    f"{run['seconds']:.1f} s ({run['epoch seconds']:.1f} s, {run['epoch cpu seconds']:.1f} CPU-s "
                    f"per epoch after the first); load {before:.2f} -> {after:.2f}",
                    flush=True,
                )
                if conf["model"] == DEFAULT_MODEL and conf["recipe"] == "default" and size_mb is None:
                    path = store.save_deployable(result.model, folder / "default.keras")
                    size_mb = store.file_size_mb(path)
    table = summarise(confs, runs)
    print_table(table)
    if size_mb is not None:
        print(f"\ndefault model, deployable .keras (no optimizer state): {size_mb:.3f} MB")
    write_csv(args.csv, table, command)
    print(f"finished {time.strftime('%Y-%m-%d %H:%M:%S')}; load averages now {_load()}; table written to {args.csv}")
    return 0


def summarise(confs, runs) -> list[dict]:
    anchor = runs.get(ANCHOR_MODEL)
    anchor_seconds = statistics.median(r["seconds"] for r in anchor) if anchor else None
    anchor_epoch = statistics.median(r["epoch cpu seconds"] for r in anchor) if anchor else None
    anchor_error = 1 - statistics.median(r["accuracy"] for r in anchor) if anchor else None
    table = []
    for conf in confs:
        rs = runs[label(conf)]
        seconds = statistics.median(r["seconds"] for r in rs)
        epoch_cpu = statistics.median(r["epoch cpu seconds"] for r in rs)
        accuracy = statistics.median(r["accuracy"] for r in rs)
        table.append(
            {
                "configuration": label(conf),
                "params": rs[0]["params"],
                "epochs": statistics.median(r["epochs run"] for r in rs),
                "seconds": seconds,
                "epoch seconds": statistics.median(r["epoch seconds"] for r in rs),
                "epoch cpu seconds": epoch_cpu,
                "test accuracy": accuracy,
                "1-px strokes": statistics.median(r["1-px strokes"] for r in rs),
                "bold strokes": statistics.median(r["bold strokes"] for r in rs),
                "time / anchor": seconds / anchor_seconds if anchor_seconds else float("nan"),
                "epoch cpu / anchor": epoch_cpu / anchor_epoch if anchor_epoch else float("nan"),
                "error / anchor": (1 - accuracy) / anchor_error if anchor_error else float("nan"),
                "per seed": " ".join(f"{r['accuracy']:.4f}" for r in rs),
                "load": " ".join(f"{a:.1f}-{b:.1f}" for a, b in (r["load"] for r in rs)),
            }
        )
    return table


def print_table(table: list[dict]) -> None:
    header = (
        f"{'configuration':<28} {'params':>7} {'epochs':>6} {'time s':>7} {'s/epoch':>7} {'CPU-s/ep':>8} "
        f"{'accuracy':>8} {'1-px':>6} {'bold':>6} {'time/anchor':>11} {'CPU/ep/anchor':>13} {'error/anchor':>12}"
        "  per seed (load)"
    )
    print("\nmedians over seeds\n" + header + "\n" + "-" * len(header))
    for row in table:
        print(
            f"{row['configuration']:<28} {row['params']:>7,} {row['epochs']:>6g} {row['seconds']:>7.1f} "
            f"{row['epoch seconds']:>7.1f} {row['epoch cpu seconds']:>8.1f} {row['test accuracy']:>8.4f} "
            f"{row['1-px strokes']:>6.3f} {row['bold strokes']:>6.3f} "
            f"{row['time / anchor']:>11.2f} {row['epoch cpu / anchor']:>13.2f} {row['error / anchor']:>12.2f}  "
            f"{row['per seed']} ({row['load']})"
        )


def write_csv(path: Path, table: list[dict], command: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        handle.write(f"# {command}\n# finished {time.strftime('%Y-%m-%d %H:%M')}, load averages {_load()}\n")
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        for row in table:
            writer.writerow({k: f"{v:.4f}" if isinstance(v, float) else v for k, v in row.items()})


def _after_first(per_epoch) -> float:
    """Median over the epochs after the first (which also pays for tracing the training step)."""
    return float(per_epoch.iloc[1:].median() if len(per_epoch) > 1 else per_epoch.iloc[0])


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
