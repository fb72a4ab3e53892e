"""Command line: ``python -m mnistlab COMMAND``, dispatching to one module per command."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each module in mnistlab.commands exposes register(subparsers) and run(args) -> int.
# Listed by name so that `--help` does not import TensorFlow: modules import it inside run().
COMMANDS = ("data", "train", "evaluate", "baselines", "predict", "export", "serve", "student", "nbgrader")


class _Parser(argparse.ArgumentParser):
    """argparse that prints a one-line hint with the usage error (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\nRun '{self.prog} --help' for the options.\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every command module that is installed."""
    parser = _Parser(prog="python -m mnistlab", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"mnistlab.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"mnistlab.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
