"""``python -m mnistlab student``: write student copies of the notebooks (solutions stubbed, outputs cleared)."""

from __future__ import annotations

import sys

from mnistlab.commands import arguments


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "student",
        help="write student copies of the notebooks into a build folder",
        description="Replace every '# BEGIN SOLUTION' ... '# END SOLUTION' block with a stub, clear "
        "all outputs and write the notebooks to OUT (default: build/student).",
    )
    arguments.add_notebook_arguments(parser, out_help="folder for the student notebooks")
    parser.set_defaults(run=run)


def run(args) -> int:
    from mnistlab.exercises import student

    missing = arguments.missing_notebooks(args.notebooks)
    if missing:
        print(missing, file=sys.stderr)
        return 1
    try:
        written = student.write_student_copies(args.notebooks or None, args.out)
    except (student.SolutionMarkerError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0
