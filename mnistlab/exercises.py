"""Exercises: self-checks that give learners clear feedback, and the student-copy generator."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

import numpy as np

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
MD_BEGIN = "<!-- BEGIN SOLUTION -->"
MD_END = "<!-- END SOLUTION -->"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError(\"Exercise: replace this line with your solution\")"
MARKDOWN_STUB = "_Your answer here._"


# --------------------------------------------------------------------------- self-checks


class SelfCheckFailed(AssertionError):
    """A learner's answer is not right yet; shown in Jupyter as a short message, not a traceback."""

    def _render_traceback_(self) -> list[str]:  # IPython calls this instead of printing a traceback
        return [str(self)]


def _fail(what: str, problem: str, hint: str | None) -> NoReturn:
    message = f"❌ {what}: {problem}"
    if hint:
        message += f"\n💡 Hint: {hint}"
    raise SelfCheckFailed(message)


def _passed(what: str) -> None:
    # Returns None on purpose: a check is the last line of a cell, and Jupyter would echo "True".
    print(f"✅ {what}: correct!")


def _not_answered(value: object) -> bool:
    return value is None or value is Ellipsis


def check(condition: bool, what: str, problem: str = "not right yet", hint: str | None = None) -> None:
    """Pass when ``condition`` holds; otherwise raise with ``problem`` and ``hint``."""
    if not condition:
        _fail(what, problem, hint)
    _passed(what)


def check_equal(actual: object, expected: object, what: str, hint: str | None = None) -> None:
    """Pass when ``actual == expected`` (plain Python values: numbers, strings, tuples)."""
    if _not_answered(actual):
        _fail(what, "no answer yet (the value is still None or ...)", hint)
    if actual != expected:
        _fail(what, f"got {actual!r}, which is not the expected value", hint)
    _passed(what)


def check_shape(actual: object, expected_shape: tuple[int | None, ...], what: str, hint: str | None = None) -> None:
    """Pass when ``actual`` has ``expected_shape`` (``None`` in the shape matches any size)."""
    if _not_answered(actual):
        _fail(what, "no answer yet (the value is still None or ...)", hint)
    shape = tuple(np.shape(actual))
    matches = len(shape) == len(expected_shape) and all(
        want is None or want == got for want, got in zip(expected_shape, shape, strict=True)
    )
    if not matches:
        _fail(what, f"shape is {shape}, expected {tuple(expected_shape)}", hint)
    _passed(what)


def check_array(
    actual: object,
    expected: np.ndarray,
    what: str,
    hint: str | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> None:
    """Pass when ``actual`` has the shape and (within tolerance) the values of ``expected``."""
    if _not_answered(actual):
        _fail(what, "no answer yet (the value is still None or ...)", hint)
    actual_array, expected = np.asarray(actual), np.asarray(expected)
    if actual_array.shape != expected.shape:
        _fail(what, f"shape is {actual_array.shape}, expected {expected.shape}", hint)
    if not np.allclose(actual_array, expected, rtol=rtol, atol=atol):
        wrong = int(np.sum(~np.isclose(actual_array, expected, rtol=rtol, atol=atol)))
        _fail(what, f"{wrong} of {expected.size} values differ from the expected ones", hint)
    _passed(what)


def check_between(actual: object, low: float, high: float, what: str, hint: str | None = None) -> None:
    """Pass when ``low <= actual <= high``."""
    if _not_answered(actual):
        _fail(what, "no answer yet (the value is still None or ...)", hint)
    try:
        value = float(actual)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        _fail(what, f"expected a number, got {type(actual).__name__}", hint)
    if not low <= value <= high:
        _fail(what, f"{value:g} is outside the expected range [{low:g}, {high:g}]", hint)
    _passed(what)


# --------------------------------------------------------------------------- student copies


class SolutionMarkerError(ValueError):
    """Solution markers in a notebook do not pair up."""


def strip_solutions(source: str, begin: str = BEGIN, end: str = END, stub: str = CODE_STUB) -> str:
    """Replace every ``begin``..``end`` block (markers included) by ``stub``, keeping its indentation."""
    lines = source.split("\n")
    out: list[str] = []
    inside_indent: str | None = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped == begin:
            if inside_indent is not None:
                raise SolutionMarkerError(f"line {number}: '{begin}' inside another solution block")
            inside_indent = line[: len(line) - len(line.lstrip())]
            out.extend(inside_indent + stub_line for stub_line in stub.split("\n"))
        elif stripped == end:
            if inside_indent is None:
                raise SolutionMarkerError(f"line {number}: '{end}' without a '{begin}' before it")
            inside_indent = None
        elif inside_indent is None:
            out.append(line)
    if inside_indent is not None:
        raise SolutionMarkerError(f"'{begin}' is never closed by '{end}'")
    return "\n".join(out)


def has_solution(cell: dict) -> bool:
    """Whether a notebook cell holds a marked solution."""
    marker = BEGIN if cell["cell_type"] == "code" else MD_BEGIN
    return any(line.strip() == marker for line in _source(cell).split("\n"))


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def student_notebook(notebook):
    """A copy of ``notebook`` (nbformat node) with solutions stubbed and every output cleared."""
    import copy

    student = copy.deepcopy(notebook)
    for index, cell in enumerate(student.cells):
        try:
            if cell.cell_type == "code":
                cell.source = strip_solutions(_source(cell))
                cell.outputs = []
                cell.execution_count = None
            elif cell.cell_type == "markdown":
                cell.source = strip_solutions(_source(cell), MD_BEGIN, MD_END, MARKDOWN_STUB)
        except SolutionMarkerError as error:
            raise SolutionMarkerError(f"cell {index}: {error}") from None
    return student


def write_student_copies(
    notebooks: Iterable[Path] | None = None, out_dir: Path | None = None
) -> list[Path]:
    """Write a student copy of each course notebook into ``out_dir`` (default ``build/student``)."""
    import nbformat

    from mnistlab import config

    paths = sorted(config.notebooks_dir().glob("[0-9][0-9]_*.ipynb")) if notebooks is None else list(notebooks)
    if not paths:
        raise FileNotFoundError(f"No notebooks found (looked in {config.notebooks_dir()}).")
    out_dir = Path(out_dir or config.repo_root() / "build" / "student")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        try:
            student = student_notebook(notebook)
        except SolutionMarkerError as error:
            raise SolutionMarkerError(f"{path.name}: {error}") from None
        nbformat.validate(student)
        target = out_dir / path.name
        nbformat.write(student, target)
        written.append(target)
    return written


def count_exercises(notebook) -> int:
    """How many cells of a notebook hold a marked solution."""
    return sum(has_solution(cell) for cell in notebook.cells)


_SOLUTION_WORDS = re.compile(r"BEGIN SOLUTION|END SOLUTION")


def leaks_solution(notebook) -> bool:
    """True if any marker survived (used by tests on generated student copies)."""
    return any(_SOLUTION_WORDS.search(_source(cell)) for cell in notebook.cells)
