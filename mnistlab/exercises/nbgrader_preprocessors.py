"""nbgrader preprocessors of the course (used by its nbgrader_config.py): student placeholders, grading kernels."""

from __future__ import annotations

import math
import os
import time

from jupyter_core.utils import run_sync
from nbgrader.converters import Autograde, GenerateAssignment
from nbgrader.preprocessors import ClearSolutions, Execute, NbGraderPreprocessor
from traitlets import Dict, Integer

from mnistlab import config
from mnistlab.exercises import student


class ClearCourseSolutions(ClearSolutions):
    """nbgrader's ClearSolutions with the placeholders of ``python -m mnistlab student``.

    nbgrader puts one fixed stub in place of every solution; the course needs the stub to fit its place
    (``name = ...`` at the top level, ``raise NotImplementedError`` in a function body) so that "Run All"
    on the student version finishes with every self-check saying "not done yet".
    """

    def preprocess(self, nb, resources):
        stubbed = student.student_notebook(nb)
        for index, (cell, stub) in enumerate(zip(nb.cells, stubbed.cells, strict=True)):
            if not student.has_solution(cell):
                continue
            if self.enforce_metadata and not cell.metadata.get("nbgrader", {}).get("solution"):
                raise RuntimeError(f"cell {index} holds a solution but is not an nbgrader solution cell")
            cell.source = stub.source
        nb.metadata.pop("celltoolbar", None)
        # The mark `mnistlab student` writes: the course's nbval plugin then expects ❌ from every check.
        nb.metadata[student.METADATA_KEY] = stubbed.metadata[student.METADATA_KEY]
        return nb, resources


class GradingExecute(Execute):
    """nbgrader's Execute with grading kernels: ``MNISTLAB_GRADING=1`` in their environment, a limit per notebook.

    Only the kernels that grade get these variables: the process running nbgrader (a Jupyter server with
    the formgrader, say) and the instructor's own kernels keep their environment.
    """

    environment = Dict(
        {config.FAST_ENV: "1"},
        help="More environment variables for each grading kernel (MNISTLAB_GRADING=1 is always set)",
    ).tag(config=True)
    notebook_timeout = Integer(
        1200,
        allow_none=True,
        help="Seconds one notebook may run; cells still running after that time out (None: no limit)",
    ).tag(config=True)

    async def async_start_new_kernel(self, **kwargs):
        kwargs["env"] = {**kwargs.get("env", os.environ), **self.environment, config.GRADING_ENV: "1"}
        await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)

    def preprocess(self, nb, resources=None, km=None):
        if self.notebook_timeout:
            deadline = time.monotonic() + self.notebook_timeout
            per_cell = self.timeout or math.inf

            # nbclient asks for each cell's timeout before running it: the time left, capped per cell.
            def cell_timeout(cell) -> int:
                return max(1, math.ceil(min(per_cell, deadline - time.monotonic())))

            self.timeout_func = cell_timeout
        return super().preprocess(nb, resources, km=km)


class ClearCheckResults(NbGraderPreprocessor):
    """Drop the ``True`` a passing self-check returns from a graded cell's displayed result.

    nbgrader reads a test cell's displayed result as partial credit when it is a number, and anything else
    as full credit with a warning that future versions may treat it as an error. A course test cell scores by
    raising or not; its printed ✅ line stays.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.outputs = [
                output
                for output in cell.outputs
                if not (output.output_type == "execute_result" and output.get("data", {}).get("text/plain") == "True")
            ]
        return cell, resources


def _replace(preprocessors: list, old: type, new: type) -> list:
    if old not in preprocessors:
        raise RuntimeError(f"this nbgrader has no {old.__name__} step to replace; is it nbgrader 0.9?")
    return [new if step is old else step for step in preprocessors]


def generate_assignment_preprocessors() -> list:
    """nbgrader's ``generate_assignment`` steps, with :class:`ClearCourseSolutions` for ``ClearSolutions``."""
    return _replace(
        list(GenerateAssignment.class_traits()["preprocessors"].default()), ClearSolutions, ClearCourseSolutions
    )


def autograde_preprocessors() -> list:
    """nbgrader's ``autograde`` steps, with :class:`GradingExecute` for ``Execute`` and :class:`ClearCheckResults`."""
    steps = _replace(list(Autograde.class_traits()["autograde_preprocessors"].default()), Execute, GradingExecute)
    steps.insert(steps.index(GradingExecute) + 1, ClearCheckResults)
    return steps
