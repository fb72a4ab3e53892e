"""Self-checks and the student-copy generator."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import numpy as np
import pytest

from mnistlab import config, exercises
from mnistlab.exercises import SelfCheckFailed


def test_checks_pass_and_say_so(capsys):
    exercises.check(True, "Exercise 1")
    exercises.check_equal((28, 28), (28, 28), "shape tuple")
    exercises.check_shape(np.zeros((4, 28, 28, 1)), (None, 28, 28, 1), "tensor")
    exercises.check_array([0.5, 1.0], np.array([0.5, 1.0]), "scaled")
    exercises.check_between(0.97, 0.9, 1.0, "accuracy")
    out = capsys.readouterr().out
    assert out.count("✅") == 5 and "✅ tensor: correct!" in out


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        (lambda: exercises.check(False, "Ex", "too small", hint="scale"), "too small"),
        (lambda: exercises.check_equal(3, 4, "Ex", hint="scale"), "got 3"),
        (lambda: exercises.check_equal(None, 4, "Ex", hint="scale"), "no answer yet"),
        (lambda: exercises.check_shape(np.zeros((2, 28, 28)), (None, 28, 28, 1), "Ex", hint="scale"), "shape is"),
        (lambda: exercises.check_shape(..., (1,), "Ex", hint="scale"), "no answer yet"),
        (lambda: exercises.check_array(np.ones(4), np.zeros(4), "Ex", hint="scale"), "4 of 4 values differ"),
        (lambda: exercises.check_array(np.ones(3), np.zeros(4), "Ex", hint="scale"), "shape is (3,)"),
        (lambda: exercises.check_between(1.5, 0, 1, "Ex", hint="scale"), "outside the expected range"),
        (lambda: exercises.check_between("high", 0, 1, "Ex", hint="scale"), "expected a number"),
    ],
)
def test_checks_fail_with_problem_and_hint(call, problem):
    with pytest.raises(SelfCheckFailed) as caught:
        call()
    message = str(caught.value)
    assert message.startswith("❌ Ex: ") and problem in message and "💡 Hint: scale" in message
    assert caught.value._render_traceback_() == [message]  # Jupyter shows the message, not a traceback


def test_strip_solutions_keeps_indentation_and_context():
    source = "def f(x):\n    # BEGIN SOLUTION\n    return x * 2\n    # END SOLUTION\n\nanswer = f(2)"
    stripped = exercises.strip_solutions(source)
    assert "return x * 2" not in stripped and "SOLUTION" not in stripped
    assert "    # YOUR CODE HERE\n    raise NotImplementedError" in stripped
    assert stripped.startswith("def f(x):") and stripped.endswith("answer = f(2)")


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("# BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n# END SOLUTION", "without a"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "inside another"),
    ],
)
def test_unbalanced_markers_are_errors(source, problem):
    with pytest.raises(exercises.SolutionMarkerError, match=problem):
        exercises.strip_solutions(source)


def _tiny_notebook():
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    solution = nbformat.v4.new_code_cell("# BEGIN SOLUTION\nanswer = 42\n# END SOLUTION")
    solution.outputs = [nbformat.v4.new_output("stream", text="42\n")]
    solution.execution_count = 3
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# 99 · Test"),
        solution,
        nbformat.v4.new_markdown_cell("Why?\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->"),
    ]
    return notebook


def test_student_copy_of_a_tiny_notebook(tmp_path):
    path = tmp_path / "99_test.ipynb"
    nbformat.write(_tiny_notebook(), path)
    [written] = exercises.write_student_copies([path], tmp_path / "out")
    student = nbformat.read(written, as_version=4)
    nbformat.validate(student)
    code, markdown = student.cells[1], student.cells[2]
    assert "answer = 42" not in code.source and "raise NotImplementedError" in code.source
    assert code.outputs == [] and code.execution_count is None
    assert "Because." not in markdown.source and exercises.MARKDOWN_STUB in markdown.source
    assert not exercises.leaks_solution(student)
    assert nbformat.read(path, as_version=4).cells[1].source.count("answer = 42") == 1  # original untouched


def _course_notebooks():
    return sorted(config.notebooks_dir().glob("[0-9][0-9]_*.ipynb"))


def test_student_command_writes_every_course_notebook(tmp_path):
    out = tmp_path / "student"
    result = subprocess.run(
        [sys.executable, "-m", "mnistlab", "student", "--out", str(out)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    originals = _course_notebooks()
    assert originals, "the course has no notebooks"
    assert sorted(p.name for p in out.iterdir()) == [p.name for p in originals]
    for original in originals:
        teacher = nbformat.read(original, as_version=4)
        student = nbformat.read(out / original.name, as_version=4)
        nbformat.validate(student)
        assert len(student.cells) == len(teacher.cells)
        assert not exercises.leaks_solution(student), original.name
        stubs = [c for c in student.cells if c.cell_type == "code" and "raise NotImplementedError" in c.source]
        assert len(stubs) == sum(
            exercises.has_solution(c) for c in teacher.cells if c.cell_type == "code"
        ), original.name
        for teacher_cell, student_cell in zip(teacher.cells, student.cells, strict=True):
            if not exercises.has_solution(teacher_cell):
                continue
            kept = set(student_cell.source.split("\n"))
            solution_lines = {
                line
                for line in teacher_cell.source.split("\n")
                if line.strip() and "SOLUTION" not in line and line not in kept
            }
            assert solution_lines, f"{original.name}: an empty solution block"
            assert not solution_lines & kept, original.name


def test_student_command_reports_a_missing_notebook(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mnistlab", "student", str(tmp_path / "nope.ipynb")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and "no such notebook" in result.stderr
