"""``python -m mnistlab student``: write student copies of the notebooks (solutions stubbed, outputs cleared)."""

from __future__ import annotations

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

    arguments.check_notebooks(args.notebooks)
    with arguments.converting_notebooks():
        written = student.write_student_copies(args.notebooks or None, args.out)
    for path in written:
        print(f"wrote {path}")
    return 0
