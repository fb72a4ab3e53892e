"""The no-make route of the README: `pip install -e .` into another environment, then register a kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv

import pytest

from mnistlab import config


def _run(*command, **kwargs):
    # Without PYTHONPATH: a developer's path to a working copy would make the package importable anyway.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False, env=env, **kwargs
    )


@pytest.mark.slow  # makes a venv and runs pip and jupyter in subprocesses
def test_pip_install_into_another_environment_then_register_its_kernel(tmp_path):
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # The new environment borrows this one's installed packages (TensorFlow & co.) through a .pth line, so the
    # test downloads nothing big; the course package itself is not visible there until it is installed.
    [site_packages] = (env_dir / "lib").glob("python3*/site-packages")
    (site_packages / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    before = _run(python, "-c", "import mnistlab", cwd=tmp_path)
    assert before.returncode != 0 and "No module named 'mnistlab'" in before.stderr

    install = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-e", config.repo_root())
    assert install.returncode == 0, install.stderr[-2000:]
    after = _run(
        python, "-c", "import mnistlab.exercises.pytest_plugin, mnistlab; print(mnistlab.__file__)", cwd=tmp_path
    )
    assert after.returncode == 0, after.stderr[-2000:]
    assert after.stdout.strip().startswith(str(config.repo_root()))

    kernel = _run(
        python,
        "-m",
        "ipykernel",
        "install",
        "--prefix",
        env_dir,
        "--name",
        "mnistlab",
        "--display-name",
        "Python (mnistlab)",
    )
    assert kernel.returncode == 0, kernel.stderr[-2000:]
    spec = json.loads((env_dir / "share" / "jupyter" / "kernels" / "mnistlab" / "kernel.json").read_text())
    assert spec["display_name"] == "Python (mnistlab)"
    assert spec["argv"][0] == str(python) or spec["argv"][0].startswith(str(env_dir))
