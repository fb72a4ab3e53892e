"""argparse types shared by the commands and the benchmark scripts (no command imports the CLI itself)."""

from __future__ import annotations

import argparse
from pathlib import Path


def positive_int(text: str) -> int:
    """argparse type for counts (epochs, gallery sizes…): a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_notebook_arguments(parser: argparse.ArgumentParser, out_help: str) -> None:
    """``--out DIR`` and the optional list of notebooks, for the commands that convert the course's notebooks."""
    parser.add_argument("--out", type=Path, default=None, help=out_help)
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to convert (default: all)")


def missing_notebooks(paths: list[Path]) -> str | None:
    """The error to print when some of the notebooks named on the command line do not exist, else None."""
    missing = [path for path in paths if not path.is_file()]
    return f"error: no such notebook: {', '.join(map(str, missing))}" if missing else None
