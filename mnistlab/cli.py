"""Command line: ``python -m mnistlab COMMAND``, dispatching to one module per command."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys

# Each module in mnistlab.commands exposes register(subparsers) and run(args) -> int.
# Listed by name so that `--help` does not import TensorFlow: modules import it inside run().
COMMANDS = ("data", "train", "calibrate", "evaluate", "baselines", "predict", "export", "serve", "student", "nbgrader")


class _Parser(argparse.ArgumentParser):
    """argparse that prints a one-line hint with the usage error (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\nRun '{self.prog} --help' for the options.\n")


FAST_HELP = "fast mode for this command, exactly as MNISTLAB_FAST=1: the small budget and its model files"


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every command module that is installed.

    ``--fast`` is global: ``python -m mnistlab --fast train`` (or ``train --fast``) means the same
    for every command, so a following ``--fast evaluate``/``export``/``serve`` finds the same file.
    """
    parser = _Parser(prog="python -m mnistlab", description=__doc__)
    parser.add_argument("--fast", action="store_true", help=FAST_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"mnistlab.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"mnistlab.commands.{name}":
                raise
            continue
        module.register(subparsers)
    for command in subparsers.choices.values():  # also accepted after the command; SUPPRESS keeps a global --fast
        command.add_argument("--fast", action="store_true", default=argparse.SUPPRESS, help=FAST_HELP)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the process exit code.

    Every expected failure is a :class:`mnistlab.errors.MnistlabError`, handled here once: its
    message on stderr after ``error:``, and its exit code (1, or 2 for a usage error).
    """
    from mnistlab import config
    from mnistlab.errors import MnistlabError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        with config.fast_mode_forced() if args.fast else contextlib.nullcontext():
            return int(args.run(args) or 0)
    except MnistlabError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
