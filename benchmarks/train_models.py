"""Train every course architecture under the same budget; print params, epochs, wall time and test accuracy.

    python benchmarks/train_models.py                 # full budget, default model on 3 seeds
    python benchmarks/train_models.py --fast          # fast-mode budget
    python benchmarks/train_models.py --only default --seeds 3
    python benchmarks/train_models.py --only default --epochs 12   # try another budget

The default model is trained on ``--seeds`` seeds (median reported); its deployable copy
(no optimizer state) is saved to a temporary folder and its size printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Lightweight: none of these imports TensorFlow, so a bad option fails in a fraction of a second.
from mnistlab import config
from mnistlab.commands.arguments import positive_int
from mnistlab.commands.train import MODEL_NAMES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="use the fast-mode budget")
    parser.add_argument(
        "--only", nargs="+", choices=MODEL_NAMES, default=None, help="architectures to train (default: all)"
    )
    parser.add_argument("--seeds", type=positive_int, default=3, help="seeds for the default model (default: 3)")
    parser.add_argument(
        "--epochs", type=positive_int, default=None, help="override the budget's epochs (to try another budget)"
    )
    parser.add_argument("--batch-size", type=positive_int, default=None, help="override the budget's batch size")
    args = parser.parse_args(argv)
    if args.fast:
        os.environ[config.FAST_ENV] = "1"

    from mnistlab import data, training

    names = args.only or list(MODEL_NAMES)
    plan = config.budget()
    epochs = args.epochs or plan.epochs
    batch_size = args.batch_size or plan.batch_size
    print(
        f"budget: {plan.name}, {epochs} epochs, batch {batch_size}, "
        f"train size {plan.train_size or 60_000} (10% validation); load: {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    arrays = data.load_mnist()
    rows = []
    size_mb = None
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            seeds = range(args.seeds) if name == "default" else range(1)
            runs = []
            for seed in seeds:
                split = training.prepare_data(plan.train_size, seed=seed, arrays=arrays)
                start_load = os.getloadavg()[0]
                result = training.train(
                    name,
                    epochs=epochs,
                    batch_size=batch_size,
                    seed=seed,
                    split=split,
                    verbose=0,
                    checkpoint_path=Path(folder) / f"{name}-{seed}.weights.h5",
                )
                runs.append(result)
                print(
                    f"  {name} seed {seed}: test accuracy {result.test_accuracy:.4f}, "
                    f"{result.epochs} epochs, {result.train_seconds:.1f} s "
                    f"(load {start_load:.2f} -> {os.getloadavg()[0]:.2f})",
                    flush=True,
                )
                if name == "default" and size_mb is None:
                    path = training.save_deployable(result.model, Path(folder) / "default.keras")
                    size_mb = training.file_size_mb(path)
            accuracies = [r.test_accuracy for r in runs]
            rows.append(
                {
                    "model": name,
                    "params": runs[0].model.count_params(),
                    "epochs": runs[0].epochs,
                    "wall time (s)": statistics.median(r.train_seconds for r in runs),
                    "test accuracy": statistics.median(accuracies),
                    "seeds": ", ".join(f"{a:.4f}" for a in accuracies),
                }
            )
    header = f"{'model':<12} {'params':>8} {'epochs':>6} {'wall time (s)':>13} {'test accuracy':>13}  per seed"
    print("\n" + header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['model']:<12} {row['params']:>8,} {row['epochs']:>6} {row['wall time (s)']:>13.1f} "
            f"{row['test accuracy']:>13.4f}  {row['seeds']}"
        )
    if size_mb is not None:
        print(f"\ndefault model, deployable .keras (no optimizer state): {size_mb:.3f} MB")
    print(f"finished {time.strftime('%H:%M:%S')}; load average now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
