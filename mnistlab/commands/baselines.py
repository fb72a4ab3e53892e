"""``python -m mnistlab [--fast] baselines``: train the scikit-learn baselines and print the comparison table."""

from __future__ import annotations

from pathlib import Path

# The keys of mnistlab.baselines.BASELINES, spelled out because importing that module pulls in
# pandas and makes every `--help` ~0.5 s slower; tests/test_baselines.py keeps the two equal.
NAMES = ("logistic_regression", "knn", "random_forest", "rbf_svm")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "baselines",
        help="train logistic regression, k-NN, random forest and an RBF SVM and print their scores",
        description="Train the classical scikit-learn baselines on MNIST pixels and print accuracy on "
        "the test digits, training time, prediction time and pickled model size. Full mode uses all "
        "60,000 training digits (the RBF SVM is capped, see mnistlab.config.FULL); --fast or "
        "MNISTLAB_FAST=1 uses the fast-mode subset.",
    )
    parser.add_argument(
        "--only", nargs="+", choices=NAMES, metavar="NAME",
        help=f"run only these baselines ({', '.join(NAMES)})",
    )
    parser.add_argument(
        "--test-size", type=int, default=None, metavar="N",
        help="score on a class-balanced subset of N test digits (default: all 10,000)",
    )
    parser.add_argument("--jobs", type=int, default=None, help="CPU cores for k-NN and the forest (default: 1)")
    parser.add_argument("--csv", type=Path, default=None, help="also save the table as CSV here")
    parser.set_defaults(run=run)


def run(args) -> int:
    from mnistlab import baselines, config
    from mnistlab.errors import UsageError

    if args.test_size is not None and not 10 <= args.test_size <= 10_000:
        raise UsageError(f"--test-size {args.test_size} must be between 10 and 10,000.")
    budget = config.budget()
    sizes = baselines.train_sizes(budget)
    chosen = args.only or NAMES
    counts = ", ".join(f"{name} {size or 60_000:,}" for name, size in sizes.items() if name in chosen)
    print(f"Mode: {budget.name}; training digits per baseline: {counts}", flush=True)
    table = baselines.run_baselines(
        names=args.only, budget=budget, test_size=args.test_size, n_jobs=args.jobs, verbose=True
    )
    print()
    print(baselines.format_table(table))
    if args.csv is not None:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv, index=False)
        print(f"\nSaved {args.csv}")
    return 0
