"""``python -m mnistlab nbgrader``: write an nbgrader course folder from the notebooks (one assignment each)."""

from __future__ import annotations

from mnistlab.commands import arguments


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "nbgrader",
        help="write an nbgrader course folder (source notebooks and config) to grade the exercises",
        description="Write OUT/source/<notebook>/<notebook>.ipynb for each notebook, with nbgrader's cell "
        "metadata (solution cells, read-only cells, self-checks as autograded test cells with points), and "
        "OUT/nbgrader_config.py if OUT has none (default OUT: build/nbgrader). Then run nbgrader in OUT: "
        "see README, 'For instructors'.",
    )
    arguments.add_notebook_arguments(parser, out_help="course folder (default: build/nbgrader)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from mnistlab import config
    from mnistlab.exercises import nbgrader_course

    arguments.check_notebooks(args.notebooks)
    out = args.out or config.repo_root() / "build" / "nbgrader"
    with arguments.converting_notebooks():
        assignments = nbgrader_course.write_course(args.notebooks or None, out)
    for name, cells in assignments.items():
        points = sum(cell.points for cell in cells)
        print(f"source/{name}: {len(cells)} graded self-check cells, {points:g} points")
    print(f"wrote the course folder {out}; next: cd {out} && nbgrader generate_assignment {next(iter(assignments))}")
    return 0
