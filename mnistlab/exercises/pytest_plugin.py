"""pytest plugin (pytest -p mnistlab.exercises.pytest_plugin): nbval check cells show ✅, or ❌ in a student copy."""

from __future__ import annotations

import pytest

from mnistlab.exercises import grading, student


def _is_student_copy(item) -> bool:
    # Decided per notebook, from the mark `mnistlab student` writes into each copy, so one run can
    # check the course notebooks and their student copies side by side (and spread them over workers).
    notebook = getattr(item.parent, "nb", None)
    return notebook is not None and student.is_student_copy(notebook)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    # nbval's cell items keep the executed outputs in `test_outputs`; other tests are left alone.
    outputs = getattr(item, "test_outputs", None)
    cell = getattr(item, "cell", None)
    if outputs is not None and cell is not None and cell.get("cell_type") == "code":
        problem = grading.check_cell_problem(cell.source, outputs, _is_student_copy(item))
        if problem:
            pytest.fail(problem, pytrace=False)
    return result
