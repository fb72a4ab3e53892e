"""pytest plugin (registered in pyproject.toml): nbval check cells must show ✅, or ❌ with --student-copies."""

from __future__ import annotations

import pytest

from mnistlab.exercises import grading


def pytest_addoption(parser):
    parser.addoption(
        "--student-copies",
        action="store_true",
        help="the notebooks are student copies: every self-check cell must show ❌ (and none ✅)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    # nbval's cell items keep the executed outputs in `test_outputs`; other tests are left alone.
    outputs = getattr(item, "test_outputs", None)
    cell = getattr(item, "cell", None)
    if outputs is not None and cell is not None and cell.get("cell_type") == "code":
        problem = grading.check_cell_problem(cell.source, outputs, item.config.getoption("--student-copies"))
        if problem:
            pytest.fail(problem, pytrace=False)
    return result
