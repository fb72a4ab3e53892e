"""Project-level promises: environment.yml matches pyproject, every module says what it is for, CLI basics."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib

import yaml

from mnistlab import config

ROOT = config.repo_root()


def _name(requirement: str) -> str:
    name = re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")
    return "tensorflow" if name == "tensorflow-cpu" else name  # the same library, two wheels


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "python=3.11" in conda and "-e ." in pip
    listed = {_name(d) for d in conda if not d.startswith(("python=", "pip"))} | {
        _name(d) for d in pip if d != "-e ."
    }
    assert listed == wanted


def test_pyproject_gives_lower_bounds_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert ">=" in requirement and not re.search(r"==|<(?!=)|<=|~=", requirement.split(";")[0]), requirement


def test_every_module_starts_with_a_one_line_docstring():
    for path in sorted((ROOT / "mnistlab").rglob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert docstring, f"{path.relative_to(ROOT)} has no module docstring"
        assert "\n" not in docstring.strip(), f"{path.relative_to(ROOT)}: docstring is not one line"


def test_no_grab_bag_modules():
    assert not list((ROOT / "mnistlab").rglob("utils.py")) and not list((ROOT / "mnistlab").rglob("helpers.py"))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "mnistlab", *args], capture_output=True, text=True, check=False)


def test_cli_help_lists_commands():
    result = _cli("--help")
    assert result.returncode == 0
    assert "student" in result.stdout


def test_cli_unknown_command_is_a_clear_error():
    result = _cli("fly")
    assert result.returncode == 2
    assert "invalid choice: 'fly'" in result.stderr and "--help" in result.stderr


def test_cli_without_command_shows_help():
    result = _cli()
    assert result.returncode == 2 and "COMMAND" in result.stderr


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "exec make test" in ci
    assert "make test" in readme and "make lab" in readme
