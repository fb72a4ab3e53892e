"""The package's import structure, as the import-linter contracts in pyproject.toml state it: layers and no cycles."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def _lint(folder: Path) -> tuple[int, str]:
    """Run import-linter on the pyproject.toml in ``folder`` (in a subprocess, writing no cache file).

    ``(exit code, report without colours)``.
    """
    command = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    env = {**os.environ, "PYTHONPATH": str(folder), "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-c", command, "--no-cache"], cwd=folder, env=env,
                            capture_output=True, text=True, check=False)
    return result.returncode, re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)


def test_the_package_keeps_its_layers_and_has_no_import_cycle():
    code, report = _lint(PROJECT)
    assert code == 0, "see [tool.importlinter] in pyproject.toml for the intended structure:\n" + report


# --------------------------------------------------------------------------- what the contracts catch


def _package(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


CONTRACTS = """
[tool.importlinter]
root_package = "layerdemo"
exclude_type_checking_imports = true

[[tool.importlinter.contracts]]
name = "Layers"
type = "layers"
containers = ["layerdemo"]
exhaustive = true
layers = ["cli", "commands", "data"]

[[tool.importlinter.contracts]]
name = "No cycles"
type = "acyclic_siblings"
ancestors = ["layerdemo"]
"""


def test_a_lazy_import_upwards_breaks_both_contracts_and_a_type_checking_one_does_not(tmp_path):
    # The old cli <-> commands cycle: cli loads a command inside a function, and the command imports cli.
    # A function-level import only postpones the cycle to the first call, so it counts.
    _package(tmp_path, {
        "pyproject.toml": CONTRACTS,
        "layerdemo/__init__.py": "",
        "layerdemo/cli.py": "def build():\n    from layerdemo.commands import evaluate\n",
        "layerdemo/commands/__init__.py": "",
        "layerdemo/commands/evaluate.py": "from layerdemo.cli import positive_int\n",
        "layerdemo/data.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from layerdemo import cli\n",
    })
    code, report = _lint(tmp_path)
    assert code == 1
    assert "layerdemo.commands is not allowed to import layerdemo.cli" in report
    assert "No cycles are allowed in layerdemo" in report
    assert "layerdemo.data" not in report  # annotations only: never imported when the program runs

    (tmp_path / "layerdemo/commands/evaluate.py").write_text("")
    code, report = _lint(tmp_path)
    assert code == 0, report


def test_a_module_left_out_of_the_layers_is_reported(tmp_path):
    _package(tmp_path, {
        "pyproject.toml": CONTRACTS,
        "layerdemo/__init__.py": "",
        "layerdemo/cli.py": "",
        "layerdemo/commands.py": "",
        "layerdemo/data.py": "",
        "layerdemo/newcomer.py": "",
    })
    code, report = _lint(tmp_path)
    assert code == 1 and "layerdemo.newcomer" in report
