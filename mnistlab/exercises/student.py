"""Student copies of the notebooks: solutions become placeholders that every self-check understands."""

from __future__ import annotations

import ast
import copy
import re
import textwrap
from collections.abc import Iterable
from pathlib import Path

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
MD_BEGIN = "<!-- BEGIN SOLUTION -->"
MD_END = "<!-- END SOLUTION -->"
YOUR_CODE = "# YOUR CODE HERE"
# Inside a function body the learner's function must exist but not be done: the check calls it,
# catches this and prints "not done yet" (a placeholder value would be silently returned instead).
NOT_IMPLEMENTED = 'raise NotImplementedError("Exercise: write this part, then run the check below")'
MARKDOWN_STUB = "_Your answer here._"
# Notebook metadata that marks a student copy (nbformat keeps unknown top-level keys).
METADATA_KEY = "mnistlab"


class SolutionMarkerError(ValueError):
    """Solution markers in a notebook do not pair up, or a block cannot be turned into a placeholder."""


# --------------------------------------------------------------------------- finding blocks


def _blocks(lines: list[str], begin: str, end: str) -> list[tuple[int, int, str]]:
    """``(first, last, indent)`` line numbers (0-based, markers included) of each solution block."""
    found: list[tuple[int, int, str]] = []
    start: int | None = None
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped == begin:
            if start is not None:
                raise SolutionMarkerError(f"line {number + 1}: '{begin}' inside another solution block")
            start = number
        elif stripped == end:
            if start is None:
                raise SolutionMarkerError(f"line {number + 1}: '{end}' without a '{begin}' before it")
            opening = lines[start]
            found.append((start, number, opening[: len(opening) - len(opening.lstrip())]))
            start = None
    if start is not None:
        raise SolutionMarkerError(f"'{begin}' is never closed by '{end}'")
    return found


def _inside_function(lines: list[str], first: int, indent: str) -> bool:
    """Whether the indented block starting at ``first`` sits in a ``def`` body (walking outwards)."""
    level = len(indent)
    for line in reversed(lines[:first]):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        line_level = len(line) - len(line.lstrip())
        if line_level < level:
            if text.startswith(("def ", "async def ")):
                return True
            level = line_level
            if level == 0:
                return False
    return False


# --------------------------------------------------------------------------- names a block defines


def _parse(code: str) -> ast.Module:
    code = textwrap.dedent(code)
    try:
        return ast.parse(code)
    except SyntaxError:
        # IPython magics and shell escapes are not Python; they bind nothing, so skip them.
        cleaned = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in code.split("\n"))
        try:
            return ast.parse(cleaned)
        except SyntaxError as error:
            raise SolutionMarkerError(f"the solution is not valid Python ({error.msg}, line {error.lineno})") from None


def bound_names(code: str) -> list[str]:
    """Names a piece of module-level code binds, in order (not those local to its functions)."""
    names: list[str] = []

    def add(name: str) -> None:
        if name not in names:
            names.append(name)

    def add_target(target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            add(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                add_target(element)
        elif isinstance(target, ast.Starred):
            add_target(target.value)

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    add_target(target)
            elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                add_target(node.target)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                add(node.name)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    add(alias.asname or alias.name.split(".")[0])
            elif isinstance(node, ast.For | ast.AsyncFor):
                add_target(node.target)
                visit(node.body + node.orelse)
            elif isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    if item.optional_vars is not None:
                        add_target(item.optional_vars)
                visit(node.body)
            elif isinstance(node, ast.If | ast.While):
                visit(node.body + node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body + node.orelse + node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)

    visit(_parse(code).body)
    return names


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}\b", text) is not None


# --------------------------------------------------------------------------- placeholders


def placeholder(block: list[str], indent: str, in_function: bool, later: str) -> list[str]:
    """What a student sees instead of a solution block.

    At module level: ``name = ...`` for each name the block binds that later code reads (all bound names
    when none is read later), which the checks report as "not done yet". Inside a function body: a
    ``raise NotImplementedError``, which the checks that call the learner's function report the same way.
    """
    if indent:
        if not in_function:
            raise SolutionMarkerError(
                "an indented solution block must sit inside a function body: anywhere else its placeholder "
                "would stop 'Run All' in the student copy"
            )
        return [indent + YOUR_CODE, indent + NOT_IMPLEMENTED]
    names = [name for name in bound_names("\n".join(block)) if not name.startswith("_")]
    read_later = [name for name in names if _mentions(later, name)]
    return [YOUR_CODE] + [f"{name} = ..." for name in (read_later or names)]


def strip_solutions(source: str, later: str = "") -> str:
    """A code cell's student version; ``later`` is the student code that runs after this cell."""
    lines = source.split("\n")
    blocks = _blocks(lines, BEGIN, END)
    out = list(lines)
    for first, last, indent in reversed(blocks):  # from the end, so `later` includes what follows each block
        after = "\n".join(out[last + 1 :]) + "\n" + later
        stub = placeholder(lines[first + 1 : last], indent, _inside_function(lines, first, indent), after)
        out[first : last + 1] = stub
    return "\n".join(out)


def strip_markdown_solutions(source: str) -> str:
    """A markdown cell's student version: each written answer becomes "_Your answer here._"."""
    lines = source.split("\n")
    out = list(lines)
    for first, last, _indent in reversed(_blocks(lines, MD_BEGIN, MD_END)):
        out[first : last + 1] = [MARKDOWN_STUB]
    return "\n".join(out)


# --------------------------------------------------------------------------- notebooks


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def has_solution(cell: dict) -> bool:
    """Whether a notebook cell holds a marked solution."""
    marker = BEGIN if cell["cell_type"] == "code" else MD_BEGIN
    return any(line.strip() == marker for line in _source(cell).split("\n"))


def student_notebook(notebook):
    """A copy of ``notebook`` (nbformat node) with solutions replaced by placeholders and outputs cleared.

    The copy is marked as one in its metadata, so a test run knows to expect ❌ from its self-checks.
    """
    student = copy.deepcopy(notebook)
    student.metadata[METADATA_KEY] = {"student_copy": True}
    later = ""
    for index in reversed(range(len(student.cells))):  # backwards: each block needs the code after it
        cell = student.cells[index]
        try:
            if cell.cell_type == "code":
                cell.source = strip_solutions(_source(cell), later)
                cell.outputs = []
                cell.execution_count = None
                later = cell.source + "\n" + later
            elif cell.cell_type == "markdown":
                cell.source = strip_markdown_solutions(_source(cell))
        except SolutionMarkerError as error:
            raise SolutionMarkerError(f"cell {index}: {error}") from None
    return student


def write_student_copies(notebooks: Iterable[Path] | None = None, out_dir: Path | None = None) -> list[Path]:
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


def is_student_copy(notebook) -> bool:
    """Whether ``notebook`` (nbformat node) was written by :func:`student_notebook`."""
    return bool(notebook.metadata.get(METADATA_KEY, {}).get("student_copy"))


def count_exercises(notebook) -> int:
    """How many cells of a notebook hold a marked solution."""
    return sum(has_solution(cell) for cell in notebook.cells)


def count_solution_lines(notebook) -> int:
    """Lines of code a learner writes in a notebook: non-blank, non-comment lines inside code solution blocks."""
    total = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        lines = _source(cell).split("\n")
        for first, last, _indent in _blocks(lines, BEGIN, END):
            total += sum(1 for line in lines[first + 1 : last] if line.strip() and not line.strip().startswith("#"))
    return total


_SOLUTION_WORDS = re.compile(r"BEGIN SOLUTION|END SOLUTION")


def leaks_solution(notebook) -> bool:
    """True if any marker survived (used by tests on generated student copies)."""
    return any(_SOLUTION_WORDS.search(_source(cell)) for cell in notebook.cells)
