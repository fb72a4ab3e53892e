"""Grading with nbgrader: the grading switch, the course folder, and an end-to-end autograde of two tiny notebooks."""

from __future__ import annotations

import copy
import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mnistlab import config
from mnistlab.exercises import checks, grading, nbgrader_course, student

pytest.importorskip("nbgrader")

from mnistlab.exercises import nbgrader_preprocessors  # noqa: E402 (needs nbgrader)

# --------------------------------------------------------------------------- the grading switch


def test_learner_mode_prints_the_cross_and_returns_false(monkeypatch, capsys):
    monkeypatch.delenv(config.GRADING_ENV, raising=False)
    assert checks.check_equal(41, 42, "Exercise 1", hint="six times seven") is False
    assert checks.check_equal(..., 42, "Exercise 2") is False
    out = capsys.readouterr().out
    assert "❌ Exercise 1: got 41, which is not the expected value\n💡 Hint: six times seven" in out
    assert f"❌ Exercise 2: {checks.NOT_DONE}" in out


def test_grading_mode_raises_assertion_error_with_the_same_message(monkeypatch, capsys):
    monkeypatch.setenv(config.GRADING_ENV, "1")
    with pytest.raises(AssertionError) as raised:
        checks.check_equal(41, 42, "Exercise 1", hint="six times seven")
    assert str(raised.value) == "❌ Exercise 1: got 41, which is not the expected value\n💡 Hint: six times seven"
    with pytest.raises(AssertionError, match="not done yet"):
        checks.check_equal(..., 42, "Exercise 2")

    def unwritten(x):
        raise NotImplementedError

    with pytest.raises(AssertionError, match="not done yet: write your function"):
        checks.check_function(unwritten, [((1,), 2)], "Exercise 3")
    assert checks.check_equal(42, 42, "Exercise 4") is True  # a pass still prints ✅ and returns True
    assert capsys.readouterr().out == "✅ Exercise 4: correct!\n"


def test_grading_mode_keeps_the_message_of_a_check_inside_a_guarded_check(monkeypatch):
    # A topic check that wraps its work in `except Exception` must not turn an inner ❌ into
    # "could not be checked (CheckFailed: ...)".
    monkeypatch.setenv(config.GRADING_ENV, "yes")
    with pytest.raises(AssertionError) as raised:
        checks.check(3, lambda answer: checks.check_equal(answer, 4, "inner part"), "Exercise 5")
    assert str(raised.value) == "❌ inner part: got 3, which is not the expected value"


def test_grading_mode_refuses_a_value_it_does_not_understand(monkeypatch):
    monkeypatch.setenv(config.GRADING_ENV, "maybe")
    with pytest.raises(ValueError, match="MNISTLAB_GRADING"):
        config.grading_mode()
    monkeypatch.setenv(config.GRADING_ENV, "off")
    assert config.grading_mode() is False


# --------------------------------------------------------------------------- the real course notebooks (no execution)


def _course_notebooks():
    paths = sorted(config.notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    assert paths, "no course notebooks found"
    return paths


@pytest.mark.parametrize("path", _course_notebooks(), ids=lambda path: path.stem)
def test_course_notebooks_become_nbgrader_sources(path):
    notebook = nbformat.read(path, as_version=4)
    source = nbgrader_course.source_notebook(notebook)
    nbformat.validate(source)
    kinds = [cell.metadata["nbgrader"] for cell in source.cells]
    assert len({kind["grade_id"] for kind in kinds}) == len(kinds), "grade ids must be unique"

    # Solution cells exactly where the markers are; one graded test cell per self-check cell after them.
    solutions = [index for index, kind in enumerate(kinds) if kind["solution"]]
    assert solutions == [index for index, cell in enumerate(notebook.cells) if student.has_solution(cell)]
    first = solutions[0]
    self_checks = [
        index
        for index, cell in enumerate(notebook.cells)
        if index > first and cell.cell_type == "code" and grading.is_check_cell(cell.source)
    ]
    tests = [index for index, kind in enumerate(kinds) if kind["grade"] and not kind["solution"]]
    assert tests == self_checks and len(tests) >= len(solutions)
    assert all(kinds[index]["locked"] and kinds[index]["points"] > 0 for index in tests)
    # Every other cell is read-only: autograding restores it, so no given code can be edited either.
    assert all(kind["locked"] for index, kind in enumerate(kinds) if index not in solutions)
    assert [cell.source for cell in source.cells] == [cell.source for cell in notebook.cells]


@pytest.mark.parametrize("path", _course_notebooks(), ids=lambda path: path.stem)
def test_nbgraders_student_version_has_the_placeholders_of_mnistlab_student(path):
    notebook = nbformat.read(path, as_version=4)
    released, _ = nbgrader_preprocessors.ClearCourseSolutions().preprocess(
        nbgrader_course.source_notebook(notebook), {}
    )
    stubbed = student.student_notebook(notebook)
    assert [cell.source for cell in released.cells] == [cell.source for cell in stubbed.cells]
    assert student.is_student_copy(released) and not student.leaks_solution(released)


def test_a_written_answer_is_a_manually_graded_solution_cell():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_markdown_cell("<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->"),
    ]
    given, answer = (cell.metadata["nbgrader"] for cell in nbgrader_course.source_notebook(notebook).cells)
    assert given["locked"] and not given["solution"] and not given["grade"]
    assert answer["solution"] and answer["grade"] and answer["points"] == 1 and answer["grade_id"] == "exercise-1"
    assert "nbgrader" not in notebook.cells[0].metadata  # the course notebook itself is left alone


def test_points_come_from_the_cell_metadata():
    cell = nbformat.v4.new_code_cell("check_equal(x, 1, 'Ex')")
    assert nbgrader_course.cell_points(cell) == 1
    cell.metadata[student.METADATA_KEY] = {"points": 3}
    assert nbgrader_course.cell_points(cell) == 3
    cell.metadata[student.METADATA_KEY] = {"points": 0}
    with pytest.raises(ValueError, match="positive"):
        nbgrader_course.cell_points(cell)


def test_the_command_writes_the_course_folder_and_keeps_an_edited_config(tmp_path):
    notebooks = _tiny_notebooks(tmp_path / "notebooks")
    out = tmp_path / "course"
    result = _mnistlab("nbgrader", "--out", str(out), *map(str, notebooks))
    assert result.returncode == 0, result.stderr
    assert "source/01_alpha: 3 graded self-check cells, 3 points" in result.stdout
    assert "source/02_beta: 2 graded self-check cells, 4 points" in result.stdout
    assert (out / "source" / "02_beta" / "02_beta.ipynb").is_file()
    (out / nbgrader_course.CONFIG_NAME).write_text("# mine\n")
    assert _mnistlab("nbgrader", "--out", str(out), str(notebooks[0])).returncode == 0
    assert (out / nbgrader_course.CONFIG_NAME).read_text() == "# mine\n"
    missing = _mnistlab("nbgrader", "--out", str(out), str(tmp_path / "nope.ipynb"))
    assert missing.returncode == 1 and "no such notebook" in missing.stderr


def _mnistlab(*args):
    return subprocess.run([sys.executable, "-m", "mnistlab", *args], capture_output=True, text=True, check=False)


# --------------------------------------------------------------------------- end to end with nbgrader

SETUP = "from mnistlab.exercises import check_equal, check_function"


def _tiny_notebooks(folder: Path) -> list[Path]:
    """Two short notebooks in the course's exercise style, using the real self-checks (7 points in all)."""
    new_code, new_markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    alpha = nbformat.v4.new_notebook()
    alpha.cells = [
        new_markdown("# 01 · Alpha"),
        new_code(SETUP),
        new_markdown("### Exercise 1"),
        new_code("# BEGIN SOLUTION\nanswer = 6 * 7\n# END SOLUTION"),
        new_code('check_equal(answer, 42, "Exercise 1", hint="six times seven")'),
        new_markdown("### Exercise 2"),
        new_code("def double(x):\n    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION"),
        new_code('check_function(double, [((1,), 2), ((5,), 10)], "Exercise 2", hint="twice x")'),
        new_markdown("### Exercise 3"),
        new_code('# BEGIN SOLUTION\nwords = ["a", "b"]\n# END SOLUTION'),
        # nbgrader's hidden tests: not in the student version, run when grading.
        new_code(
            'check_equal(words, ["a", "b"], "Exercise 3")\n'
            "# BEGIN HIDDEN TESTS\n"
            'check_equal(len(words), 2, "Exercise 3 (hidden)")\n'
            "# END HIDDEN TESTS"
        ),
    ]
    beta = nbformat.v4.new_notebook()
    beta.cells = [
        new_markdown("# 02 · Beta"),
        new_code(SETUP),
        new_code("# BEGIN SOLUTION\nsquares = [n * n for n in range(4)]\n# END SOLUTION"),
        new_code('check_equal(squares, [0, 1, 4, 9], "Exercise 1")'),
        new_code("def mean(values):\n    # BEGIN SOLUTION\n    return sum(values) / len(values)\n    # END SOLUTION"),
        new_code('check_function(mean, [(([1, 2, 3],), 2.0), (([4.0],), 4.0)], "Exercise 2 (capstone)")'),
    ]
    beta.cells[-1].metadata[student.METADATA_KEY] = {"points": 3}  # a capstone is worth more
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, notebook in (("01_alpha", alpha), ("02_beta", beta)):
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.validate(notebook)
        paths.append(folder / f"{name}.ipynb")
        nbformat.write(notebook, paths[-1])
    return paths


def _replace_source(notebook, old: str, new: str) -> None:
    matches = [cell for cell in notebook.cells if old in cell.source]
    assert len(matches) == 1, old
    matches[0].source = matches[0].source.replace(old, new)


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in (config.GRADING_ENV, config.FAST_ENV)}
    # nbgrader runs `alembic` (its database migrations) from PATH: the environment's scripts must be on it.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error loading config" not in result.stderr.lower(), result.stderr  # nbgrader would go on without it
    return result


@pytest.mark.slow
def test_nbgrader_grades_three_submissions_exactly(tmp_path):
    course = tmp_path / "course"
    notebooks = _tiny_notebooks(tmp_path / "notebooks")
    nbgrader_course.write_course(notebooks, course)
    assignments = [path.stem for path in notebooks]
    for assignment in assignments:
        _nbgrader(course, "generate_assignment", assignment)

    released = {a: nbformat.read(course / "release" / a / f"{a}.ipynb", as_version=4) for a in assignments}
    sources = {a: nbformat.read(course / "source" / a / f"{a}.ipynb", as_version=4) for a in assignments}
    for assignment in assignments:  # the student version is what `mnistlab student` writes, hidden tests removed
        stubbed = student.student_notebook(sources[assignment])
        assert not student.leaks_solution(released[assignment])
        assert "HIDDEN" not in nbformat.writes(released[assignment])
        expected = [cell.source for cell in stubbed.cells]
        expected = [source.split("\n# BEGIN HIDDEN TESTS")[0] for source in expected]
        assert [cell.source for cell in released[assignment].cells] == expected

    # ... and runs like one: no cell raises, every self-check prints ❌ "not done yet" (the course's nbval plugin
    # knows a student version by its mark), in learner mode.
    nbval = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env", "-q",
             "-p", "mnistlab.exercises.pytest_plugin"]
    run = subprocess.run([*nbval, str(course / "release")], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert run.returncode == 0 and "12 passed" in run.stdout, run.stdout  # nbval: one item per code cell

    submissions = {
        name: {a: copy.deepcopy(released[a]) for a in assignments} for name in ("instructor", "untouched", "mixed")
    }
    for assignment in assignments:  # the instructor's answers, in the student version
        for cell, source_cell in zip(
            submissions["instructor"][assignment].cells, sources[assignment].cells, strict=True
        ):
            if student.has_solution(source_cell):
                cell.source = source_cell.source
    mixed_alpha, mixed_beta = submissions["mixed"]["01_alpha"], submissions["mixed"]["02_beta"]
    _replace_source(mixed_alpha, "answer = ...", "answer = 42")  # right
    _replace_source(mixed_alpha, 'raise NotImplementedError("Exercise', "return x + 1  #")  # wrong
    _replace_source(mixed_alpha, "words = ...", 'words = ["b", "a"]')  # wrong, and its check edited to pass:
    _replace_source(mixed_alpha, 'check_equal(words, ["a", "b"], "Exercise 3")', 'print("✅ Exercise 3: correct!")')
    _replace_source(mixed_beta, "squares = ...", "raise RuntimeError('my cell breaks')\nsquares = [0, 1, 4, 9]")
    _replace_source(mixed_beta, 'raise NotImplementedError("Exercise', "return sum(values) / len(values)  #")
    for name, notebooks_of in submissions.items():
        for assignment, notebook in notebooks_of.items():
            target = course / "submitted" / name / assignment / f"{assignment}.ipynb"
            target.parent.mkdir(parents=True)
            nbformat.write(notebook, target)

    autograde = _nbgrader(course, "autograde", "*")  # every assignment; one at a time works the same
    assert "partial credit" not in autograde.stderr  # a passing check's `True` is not read as a score
    _nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    scores = {(row["student_id"], row["assignment"]): (float(row["score"]), float(row["max_score"])) for row in rows}
    assert scores == {
        ("instructor", "01_alpha"): (3.0, 3.0),
        ("instructor", "02_beta"): (4.0, 4.0),
        ("untouched", "01_alpha"): (0.0, 3.0),
        ("untouched", "02_beta"): (0.0, 4.0),
        # exercise 1 right; exercise 2 wrong; exercise 3 wrong, its edited check restored and failing
        ("mixed", "01_alpha"): (1.0, 3.0),
        # exercise 1's cell raises before its answer is set; the capstone (3 points) is right
        ("mixed", "02_beta"): (3.0, 4.0),
    }

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        per_cell = {
            grade_id: gradebook.find_grade(grade_id, "01_alpha", "01_alpha", "mixed").score
            for grade_id in ("exercise-1-check", "exercise-2-check", "exercise-3-check")
        }
    assert per_cell == {"exercise-1-check": 1.0, "exercise-2-check": 0.0, "exercise-3-check": 0.0}
    instructor = nbformat.read(course / "autograded" / "instructor" / "01_alpha" / "01_alpha.ipynb", as_version=4)
    assert "✅ Exercise 3 (hidden): correct!" in grading.output_text(instructor.cells[-1].outputs)  # hidden test ran

    graded = nbformat.read(course / "autograded" / "mixed" / "01_alpha" / "01_alpha.ipynb", as_version=4)
    restored = next(cell for cell in graded.cells if cell.metadata["nbgrader"]["grade_id"] == "exercise-3-check")
    assert restored.source.startswith('check_equal(words, ["a", "b"], "Exercise 3")')  # not the learner's edit
    assert "CheckFailed: ❌ Exercise 3: got" in grading.output_text(restored.outputs)  # an AssertionError

    _nbgrader(course, "generate_feedback", "*")
    feedback = (course / "feedback" / "mixed" / "01_alpha" / "01_alpha.html").read_text()
    assert "❌ Exercise 2: on test case 2 of 2 your function returned 6, expected 10" in feedback
    assert "❌ Exercise 3: got" in feedback and "which is not the expected value" in feedback
    untouched = (course / "feedback" / "untouched" / "02_beta" / "02_beta.html").read_text()
    assert "❌ Exercise 1: not done yet" in untouched
    assert "❌ Exercise 2 (capstone): not done yet: write your function" in untouched


def test_grading_kernels_get_the_grading_environment_and_a_notebook_time_limit(monkeypatch):
    monkeypatch.delenv(config.GRADING_ENV, raising=False)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        nbformat.v4.new_code_cell("import os\nprint(os.environ['MNISTLAB_GRADING'], os.environ['MNISTLAB_FAST'])"),
        nbformat.v4.new_code_cell("import time\ntime.sleep(60)"),
        nbformat.v4.new_code_cell("print('after')"),
    ]
    # An instructor's environment setting cannot switch grading off.
    executor = nbgrader_preprocessors.GradingExecute(timeout=60, notebook_timeout=4, environment={"MNISTLAB_FAST": "0"})
    executed, _ = executor.preprocess(notebook, {"metadata": {"path": "."}})
    assert grading.output_text(executed.cells[0].outputs).strip() == "1 0"
    assert executed.cells[1].outputs[-1]["ename"] == "CellTimeoutError"
    assert "MNISTLAB_GRADING" not in os.environ  # only the grading kernel had it
