"""argparse types shared by the commands and the benchmark scripts (no command imports the CLI itself)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
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


def check_notebooks(paths: list[Path]) -> None:
    """Raise a :class:`~mnistlab.errors.MnistlabError` (reported by ``cli.main``) naming notebooks that do not exist."""
    from mnistlab.errors import MnistlabError

    missing = [path for path in paths if not path.is_file()]
    if missing:
        raise MnistlabError(f"no such notebook: {', '.join(map(str, missing))}")


@contextlib.contextmanager
def converting_notebooks() -> Iterator[None]:
    """Inside, a notebook that cannot be converted (bad solution markers, a missing file) raises a
    :class:`~mnistlab.errors.MnistlabError`, so ``cli.main`` reports it like every other expected failure."""
    from mnistlab.errors import MnistlabError
    from mnistlab.exercises.student import SolutionMarkerError

    try:
        yield
    except (SolutionMarkerError, FileNotFoundError) as error:
        raise MnistlabError(str(error)) from error
