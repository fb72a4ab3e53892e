"""Full comparison table: the scikit-learn baselines, the dense net and the CNNs (accuracy, time, size).

Run ``nice -n 10 python benchmarks/compare_models.py`` (full mode, tens of minutes on 2 cores) or
with ``--fast``. Rows are written to ``benchmarks/results/compare_models[_fast].csv`` as soon as
each model is measured (a row for the same model and mode replaces the old one), so parts can be
run separately with ``--only``. Notebook 05 shows the full-mode file in its section 4 (the recorded full-data table).

What is measured, per model, on this machine:
- accuracy on all 10,000 test digits;
- training time (wall clock, seconds) on the budget's training digits;
- prediction time for the 10,000 test digits;
- size: the pickled scikit-learn model, or the saved ``.keras`` file.
Keras models are trained with the course recipe (``mnistlab.training.fit``: early stopping and
best-epoch weights on 10 % held-out validation digits, up to ``budget.epochs`` epochs).
"""

from __future__ import annotations

import argparse
import platform
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from mnistlab import baselines, config, data, keras_comparison

RESULTS = Path(__file__).resolve().parent / "results"
KERAS_MODELS = keras_comparison.LABELS
ALL = list(baselines.BASELINES) + list(KERAS_MODELS)


def results_path(budget: config.Budget) -> Path:
    return RESULTS / ("compare_models.csv" if budget.name == "full" else f"compare_models_{budget.name}.csv")


def save_row(path: Path, row: dict) -> None:
    """Insert or replace the row for this model in the CSV at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=list(row))
    table = table[table["key"] != row["key"]]
    table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
    order = {key: i for i, key in enumerate(ALL)}
    table = table.sort_values("key", key=lambda keys: keys.map(order)).reset_index(drop=True)
    table.to_csv(path, index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fast-mode budget (minutes instead of tens of minutes)")
    parser.add_argument("--only", nargs="+", choices=ALL, metavar="NAME", help=f"measure only these ({', '.join(ALL)})")
    parser.add_argument("--jobs", type=int, default=-1, help="cores for k-NN and the random forest (default: all)")
    args = parser.parse_args(argv)

    budget = config.budget(fast=args.fast)
    out = results_path(budget)
    arrays = data.load_mnist()
    (x_train, y_train), (x_test, y_test) = arrays
    stamp = {"mode": budget.name, "machine": f"{platform.machine()}, {_cores()} cores",
             "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    print(f"Mode {budget.name}; writing {out}", flush=True)

    for key in args.only or ALL:
        if key in baselines.BASELINES:
            # one key at a time, so each row reaches the CSV as soon as its model is measured
            table = baselines.run_baselines([key], budget=budget, arrays=arrays, seed=config.SEED, n_jobs=args.jobs)
            result = table.to_dict("records")[0]
            family = "scikit-learn"
        else:
            x, y = data.stratified_subset(x_train, y_train, budget.train_size, seed=config.SEED)
            model, measured, _ = keras_comparison.fit_and_score(
                key, x, y, x_test, y_test, epochs=budget.epochs, batch_size=budget.batch_size, seed=config.SEED
            )
            result = asdict(measured)
            family = f"keras, up to {budget.epochs} epochs, {model.count_params():,} parameters"
        row = {"key": key, **result, "family": family, **stamp}
        save_row(out, row)
        print(f"{result['model']}: accuracy {result['accuracy']:.4f}, train {result['train_seconds']:.1f} s, "
              f"predict {result['predict_seconds']:.2f} s, {result['size_bytes'] / 1e6:.2f} MB", flush=True)

    table = pd.read_csv(out)
    print()
    print(baselines.format_table(table))
    return 0


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
