"""The course as an nbgrader course: source notebooks with nbgrader cell metadata and points, and its config."""

from __future__ import annotations

import copy
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mnistlab.exercises import grading, student

COURSE_ID = "mnistlab"
CONFIG_NAME = "nbgrader_config.py"
DEFAULT_POINTS = 1
# A course notebook gives a self-check cell (a capstone's, say) other points in its own metadata:
# {"mnistlab": {"points": 3}} on that cell; every other self-check cell is worth DEFAULT_POINTS.
POINTS_KEY = "points"
SCHEMA_VERSION = 3  # the version of nbgrader's cell metadata format that nbgrader 0.9 writes

# Written once into the course folder and then left alone, so an instructor's edits survive a regeneration.
CONFIG_TEXT = '''\
"""nbgrader settings of the mnistlab course (written by `python -m mnistlab nbgrader`; yours to edit, it is kept)."""

from mnistlab.exercises import nbgrader_preprocessors as course

c = get_config()  # noqa: F821 -- nbgrader defines get_config() when it reads this file

c.CourseDirectory.course_id = "{course_id}"
# Releasing and collecting through nbgrader's exchange (JupyterHub) needs a folder every user can reach:
# c.Exchange.root = "/srv/nbgrader/exchange"

# Student versions get the placeholders of `python -m mnistlab student` (`name = ...`, or `raise
# NotImplementedError` in a function body), so "Run All" finishes and every self-check says "not done yet".
c.GenerateAssignment.preprocessors = course.generate_assignment_preprocessors()

# Autograding runs each submission in a kernel in grading mode (MNISTLAB_GRADING=1: a failed self-check raises
# AssertionError, so its test cell scores 0 and the feedback shows the ❌ message) and with these variables
# (fast mode; "MNISTLAB_FAST": "0" grades the full course, which takes far longer).
c.Autograde.autograde_preprocessors = course.autograde_preprocessors()
c.GradingExecute.environment = {{"MNISTLAB_FAST": "1"}}

# Limits: seconds per cell, and per notebook (cells still running after that time out and score 0).
c.Execute.timeout = {cell_timeout}
c.GradingExecute.notebook_timeout = {notebook_timeout}

# A test cell scores 0 when it raises. TensorFlow and Keras also write warnings to stderr, which nbgrader
# would count as a failure too, so stderr is dropped from the graded notebooks.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"[\\s\\S]"
'''
# Far above what a course notebook takes to grade in fast mode (benchmarks/RESULTS.md, "Fast-mode budgets of the
# course"): room for a slow machine and a first training of the default model.
CELL_TIMEOUT = 300
NOTEBOOK_TIMEOUT = 1200


@dataclass(frozen=True)
class GradedCell:
    """One autograded self-check cell of a notebook: its nbgrader id and points."""

    grade_id: str
    points: float


def _nbgrader_metadata(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    metadata = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
    }
    if grade:
        metadata["points"] = points
    return metadata


def cell_points(cell) -> float:
    """The points of a graded cell: ``{"mnistlab": {"points": N}}`` in its metadata, else ``DEFAULT_POINTS``."""
    points = cell.get("metadata", {}).get(student.METADATA_KEY, {}).get(POINTS_KEY, DEFAULT_POINTS)
    if isinstance(points, bool) or not isinstance(points, numbers.Real) or points <= 0:
        raise ValueError(f"cell {cell.get('id')}: points must be a positive number, got {points!r}")
    return points


def source_notebook(notebook):
    """nbgrader's source version of a course notebook (an nbformat node; the input is left unchanged).

    - a cell with ``BEGIN SOLUTION`` markers is a solution cell, ``exercise-N`` (the Nth such cell); a
      markdown answer is also a manually graded cell, as nbgrader requires for written answers;
    - a code cell calling a self-check after the first exercise is an autograded test cell,
      ``exercise-N-check``, worth :func:`cell_points`;
    - every other cell is read-only. Test and read-only cells are locked: autograding puts their original
      source back (nbgrader checksums), so an edited self-check cannot award itself points.
    """
    notebook = copy.deepcopy(notebook)
    exercise = 0
    checks_per_exercise: dict[int, int] = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if student.has_solution(cell):
            exercise += 1
            written = cell.cell_type == "markdown"
            metadata = _nbgrader_metadata(
                f"exercise-{exercise}", solution=True, grade=written, points=cell_points(cell) if written else None
            )
        elif cell.cell_type == "code" and exercise and grading.is_check_cell(cell.source):
            count = checks_per_exercise[exercise] = checks_per_exercise.get(exercise, 0) + 1
            grade_id = f"exercise-{exercise}-check" + (f"-{count}" if count > 1 else "")
            metadata = _nbgrader_metadata(grade_id, grade=True, locked=True, points=cell_points(cell))
        else:
            metadata = _nbgrader_metadata(f"given-{cell.get('id') or index}", locked=True)
        cell.metadata["nbgrader"] = metadata
    return notebook


def graded_cells(notebook) -> list[GradedCell]:
    """The autograded test cells of a :func:`source_notebook`, in order."""
    return [
        GradedCell(cell.metadata["nbgrader"]["grade_id"], cell.metadata["nbgrader"]["points"])
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade") and not cell.metadata["nbgrader"].get("solution")
    ]


def write_course(notebooks: Iterable[Path] | None = None, out_dir: Path | None = None) -> dict[str, list[GradedCell]]:
    """Write an nbgrader course folder: ``source/<notebook>/<notebook>.ipynb`` per notebook and the config.

    Each notebook is its own assignment, named after the file. ``nbgrader_config.py`` is written only when the
    folder has none. Returns the graded cells of each assignment.
    """
    import nbformat

    from mnistlab import config

    paths = sorted(config.notebooks_dir().glob("[0-9][0-9]_*.ipynb")) if notebooks is None else list(notebooks)
    if not paths:
        raise FileNotFoundError(f"No notebooks found (looked in {config.notebooks_dir()}).")
    out_dir = Path(out_dir or config.repo_root() / "build" / "nbgrader")
    assignments = {}
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        try:
            student.student_notebook(notebook)  # the markers must pair up, as for `mnistlab student`
            source = source_notebook(notebook)
        except (student.SolutionMarkerError, ValueError) as error:
            raise student.SolutionMarkerError(f"{path.name}: {error}") from None
        nbformat.validate(source)
        target = out_dir / "source" / path.stem / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(source, target)
        assignments[path.stem] = graded_cells(source)
    config_path = out_dir / CONFIG_NAME
    if not config_path.exists():
        config_path.write_text(
            CONFIG_TEXT.format(course_id=COURSE_ID, cell_timeout=CELL_TIMEOUT, notebook_timeout=NOTEBOOK_TIMEOUT)
        )
    return assignments
