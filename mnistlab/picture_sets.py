"""The labelled folders of real pictures the benchmarks measure on (real digits and non-digits), read in place."""

# Third-party pictures kept outside the project (``../shared/real_digits`` and ``../shared/real_non_digits`` next
# to the repository, or a folder given on the command line), each with a ``labels.csv``: file, label, kind,
# source_repo. They are never copied into the project; a benchmark whose folder is missing says so and stops.

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from mnistlab import config

LABELS_FILE = "labels.csv"
REAL_SETS = {"digits": "real_digits", "non-digits": "real_non_digits"}


def shared_folder(name: str) -> Path:
    """``../shared/<name>`` next to the repository."""
    return config.repo_root().parent / "shared" / name


def read_labels(folder: str | Path) -> list[dict]:
    """The rows of ``folder``'s ``labels.csv``, one dict per picture."""
    with open(Path(folder) / LABELS_FILE, newline="") as handle:
        return list(csv.DictReader(handle))


def add_real_set_options(parser: argparse.ArgumentParser) -> None:
    """``--digits DIR`` and ``--non-digits DIR``, defaulting to the shared folders."""
    for what, name in REAL_SETS.items():
        parser.add_argument(f"--{what}", type=Path, default=None, help=f"real {what} (default: ../shared/{name})")


def chosen_real_sets(args: argparse.Namespace) -> dict[str, Path] | None:
    """The folders ``add_real_set_options`` chose; None (after saying which is missing) when one has no labels."""
    folders = {}
    for what, name in REAL_SETS.items():
        folder = (getattr(args, what.replace("-", "_")) or shared_folder(name)).expanduser()
        if not (folder / LABELS_FILE).is_file():
            print(f"No real {what} at {folder} (no {LABELS_FILE}): skipped. Pass --{what} DIR.")
            return None
        folders[what] = folder
    return folders
