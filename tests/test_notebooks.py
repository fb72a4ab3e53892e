"""The course notebooks are committed clean and follow the course template."""

from __future__ import annotations

import re

import nbformat
import pytest

from mnistlab import config, exercises

NOTEBOOKS = sorted(config.notebooks_dir().glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean_and_follows_the_template(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "name notebooks NN_topic.ipynb"
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "clear outputs before committing"
    markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    title = markdown[0]
    assert title.startswith(f"# {path.name[:2]} · "), "first cell: '# NN · Title'"
    assert "Learning objectives" in title and re.search(r"[Rr]un time.*full.*fast", title, re.S)
    assert "show_environment()" in code[0].source, "the first code cell is the Setup cell"
    headings = [line for text in markdown for line in text.split("\n") if line.startswith("## ")]
    numbered = [h for h in headings if re.match(r"## \d+\. ", h)]
    assert len(numbered) >= 3, "numbered sections '## 1. ...'"
    assert headings[-2:] == ["## Summary", "## Exercises"], "a Summary, then the Exercises last"
    assert exercises.count_exercises(notebook) >= 5, "at least five exercises with marked solutions"
    exercise_headings = [line for text in markdown for line in text.split("\n") if line.startswith("### Exercise ")]
    assert len(exercise_headings) >= 5, "at least five '### Exercise N — title' headings"
    sources = "\n".join(c.source for c in code)
    assert "sys.path" not in sources, "notebooks import mnistlab; they never patch sys.path"
    assert "mnistlab.exercises" in sources or "from mnistlab import" in sources
    assert re.search(r"\bcheck(_\w+)?\(", sources), "exercises come with self-checks"
    assert len(re.findall(r"\bcheck_choice\(", sources)) <= 1, "at most one multiple-choice question per notebook"


# Learners learn by writing code: the course as a whole asks for at least this many lines of it.
MINIMUM_LEARNER_LINES = 300


def test_learners_write_enough_code_across_the_course():
    lines = {path.name: exercises.count_solution_lines(nbformat.read(path, as_version=4)) for path in NOTEBOOKS}
    assert sum(lines.values()) >= MINIMUM_LEARNER_LINES, f"learner-written solution lines per notebook: {lines}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_says_what_to_run_when_the_course_is_not_installed(path, tmp_path):
    import subprocess
    import sys

    setup = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code").source
    guard = setup.split("\n\n")[0]
    assert guard.startswith("try:\n    import mnistlab"), "the Setup cell starts with the guarded import"
    # -I: an isolated interpreter without this environment's packages, like a kernel the course is not installed in
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", guard], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().split("\n")[-1]
    assert last_line.startswith("ModuleNotFoundError: This kernel cannot import the course package 'mnistlab'")
    assert "make lab" in last_line and "pip install -e" in last_line
