"""Student copies: solutions become placeholders the checks understand; markers must pair up."""

from __future__ import annotations

import copy
import subprocess
import sys

import nbformat
import pytest

from mnistlab import config
from mnistlab.exercises import grading, student


def test_a_top_level_solution_becomes_placeholders_for_the_names_read_later():
    source = "x = 1\n# BEGIN SOLUTION\nink = [2, 3]\nbrightest = max(ink)\n# END SOLUTION"
    later = "check_equal(brightest, 3, 'Ex')"
    stripped = student.strip_solutions(source, later)
    assert stripped == "x = 1\n# YOUR CODE HERE\nbrightest = ..."  # the helper name `ink` is not given away


def test_without_later_readers_every_bound_name_gets_a_placeholder():
    source = (
        "# BEGIN SOLUTION\nimport numpy as np\nfor i, (a, *b) in enumerate([]):\n    pass\n"
        "def f():\n    y = 1\n# END SOLUTION"
    )
    assert student.strip_solutions(source) == "# YOUR CODE HERE\nnp = ...\ni = ...\na = ...\nb = ...\nf = ..."


def test_a_solution_inside_a_function_body_becomes_not_implemented():
    source = (
        "def invert(image):\n    '''Doc.'''\n    if True:\n"
        "        # BEGIN SOLUTION\n        return 255 - image\n        # END SOLUTION"
    )
    stripped = student.strip_solutions(source)
    assert "255 - image" not in stripped
    assert stripped.endswith(f"        {student.YOUR_CODE}\n        {student.NOT_IMPLEMENTED}")
    namespace: dict = {}
    exec(stripped, namespace)  # the cell still runs: the function exists, calling it says "not done"
    with pytest.raises(NotImplementedError):
        namespace["invert"](1)


def test_an_indented_block_outside_a_function_is_refused():
    with pytest.raises(student.SolutionMarkerError, match="inside a function body"):
        student.strip_solutions("for i in range(3):\n    # BEGIN SOLUTION\n    x = i\n    # END SOLUTION")


def test_a_later_block_does_not_count_as_a_reader_of_an_earlier_one():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("# BEGIN SOLUTION\nmodel = 1\nunused = 2\n# END SOLUTION"),
        nbformat.v4.new_code_cell("# BEGIN SOLUTION\nhistory = model + unused\n# END SOLUTION"),
        nbformat.v4.new_code_cell("check(model, bool, 'Ex')\ncheck(history, bool, 'Ex')"),
    ]
    copy = student.student_notebook(notebook)
    assert copy.cells[0].source == "# YOUR CODE HERE\nmodel = ..."
    assert copy.cells[1].source == "# YOUR CODE HERE\nhistory = ..."


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("# BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n# END SOLUTION", "without a"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "inside another"),
        ("# BEGIN SOLUTION\nx = (\n# END SOLUTION", "not valid Python"),
    ],
)
def test_broken_blocks_are_errors(source, problem):
    with pytest.raises(student.SolutionMarkerError, match=problem):
        student.strip_solutions(source)


def test_markdown_answers_are_replaced():
    text = "Why?\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->\nNext."
    assert student.strip_markdown_solutions(text) == f"Why?\n{student.MARKDOWN_STUB}\nNext."


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
        nbformat.v4.new_code_cell("check_equal(answer, 42, 'Ex')"),
    ]
    return notebook


def test_student_copy_of_a_tiny_notebook(tmp_path):
    path = tmp_path / "99_test.ipynb"
    nbformat.write(_tiny_notebook(), path)
    [written] = student.write_student_copies([path], tmp_path / "out")
    copy = nbformat.read(written, as_version=4)
    nbformat.validate(copy)
    code, markdown = copy.cells[1], copy.cells[2]
    assert code.source == "# YOUR CODE HERE\nanswer = ..."
    assert code.outputs == [] and code.execution_count is None
    assert "Because." not in markdown.source and student.MARKDOWN_STUB in markdown.source
    assert not student.leaks_solution(copy)
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
        copy = nbformat.read(out / original.name, as_version=4)
        nbformat.validate(copy)
        assert len(copy.cells) == len(teacher.cells)
        assert not student.leaks_solution(copy), original.name
        for teacher_cell, student_cell in zip(teacher.cells, copy.cells, strict=True):
            if not student.has_solution(teacher_cell):
                continue
            kept = set(student_cell.source.split("\n"))
            solution_lines = {
                line
                for line in teacher_cell.source.split("\n")
                if line.strip() and "SOLUTION" not in line and line not in kept
            }
            assert solution_lines, f"{original.name}: an empty solution block"
            if teacher_cell.cell_type == "code":
                assert student.YOUR_CODE in student_cell.source, original.name


def test_student_command_reports_a_missing_notebook(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mnistlab", "student", str(tmp_path / "nope.ipynb")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and "no such notebook" in result.stderr


def _stream(text):
    return [{"output_type": "stream", "name": "stdout", "text": text}]


@pytest.mark.parametrize(
    ("source", "text", "is_student", "problem"),
    [
        ("check_equal(a, 1, 'Ex')", "✅ Ex: correct!\n", False, None),
        ("check_equal(a, 1, 'Ex')", "❌ Ex: got 2\n", False, "failed on the instructor's solution"),
        ("check_equal(a, 1, 'Ex')", "", False, "printed no ✅"),
        ("check_equal(a, 1, 'Ex')", "❌ Ex: not done yet\n", True, None),
        ("model_checks.check_model(m, 'Ex')", "✅ Ex: correct!\n", True, "passed in the student copy"),
        ("check_equal(a, 1, 'Ex')", "", True, "printed no ❌"),
        ("check_equal(a, 1, 'Ex')", "❌ Ex: your answer could not be checked\n", True, "another reason"),
        ("check(a, 'A'); check(b, 'B')", "❌ A: not done yet\n❌ B: got 2\n", True, "another reason"),
        ("print('no check here')  # check(x)", "", True, None),
        ("x = 1", "❌ whatever", False, None),
    ],
)
def test_grading_of_check_cells(source, text, is_student, problem):
    found = grading.check_cell_problem(source, _stream(text), student=is_student)
    assert (found is None) if problem is None else (problem in found)


def test_output_text_reads_streams_displays_and_errors():
    outputs = [
        {"output_type": "stream", "text": ["a", "b"]},
        {"output_type": "execute_result", "data": {"text/plain": "42"}},
        {"output_type": "error", "ename": "NameError", "evalue": "x"},
    ]
    assert grading.output_text(outputs) == "ab\n42\nNameError: x"


def test_a_copy_is_marked_as_one_and_the_course_notebook_is_not():
    original = _tiny_notebook()
    assert not student.is_student_copy(original)
    assert student.is_student_copy(student.student_notebook(original))


def test_one_nbval_run_grades_each_notebook_by_what_it_is(tmp_path):
    """The plugin expects ✅ in a course notebook and ❌ in its copy, side by side in one run."""
    course, copies = tmp_path / "course", tmp_path / "copies"
    course.mkdir()
    notebook = _tiny_notebook()
    notebook.cells[3].source = "from mnistlab.exercises import check_equal\n" + notebook.cells[3].source
    nbformat.write(notebook, course / "99_test.ipynb")
    student.write_student_copies([course / "99_test.ipynb"], copies)
    broken = copy.deepcopy(notebook)
    broken.cells[1].source = "# BEGIN SOLUTION\nanswer = 41\n# END SOLUTION"
    nbformat.write(broken, course / "98_wrong.ipynb")

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env", "-q",
         "-p", "mnistlab.exercises.pytest_plugin", str(course), str(copies)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    report = result.stdout
    assert result.returncode == 1, report
    assert "1 failed" in report and "98_wrong.ipynb::Cell 1" in report, report  # nbval counts code cells
    assert "a self-check failed on the instructor's solution" in report, report
    assert "99_test.ipynb" not in report.split("short test summary")[-1], report  # course ✅ and copy ❌ both pass


def test_learner_lines_count_code_inside_solutions_only():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "setup = 1\n# BEGIN SOLUTION\n# a comment\nx = 1\n\ny = x + 1\n# END SOLUTION\nz = 3"
        ),
        nbformat.v4.new_code_cell("def f(a):\n    # BEGIN SOLUTION\n    return a * 2\n    # END SOLUTION"),
        nbformat.v4.new_markdown_cell("<!-- BEGIN SOLUTION -->\nprose is not code\n<!-- END SOLUTION -->"),
    ]
    assert student.count_solution_lines(notebook) == 3
