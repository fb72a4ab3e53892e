"""Installing the course into another environment: `pip install -e .` (the README's route) and `pip install .`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv

import pytest

from mnistlab import config, data


def _run(*command, env=None, **kwargs):
    # Without PYTHONPATH: a developer's path to a working copy would make the package importable anyway.
    env = {key: value for key, value in (env or os.environ).items() if key != "PYTHONPATH"}
    return subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False, env=env, **kwargs
    )


def _environment_borrowing_this_ones_packages(env_dir):
    """A new virtual environment that sees this one's installed packages (TensorFlow & co.) through a .pth line,
    so a test downloads nothing big; the course package itself is not visible there until it is installed."""
    venv.EnvBuilder(with_pip=False).create(env_dir)
    [site_packages] = (env_dir / "lib").glob("python3*/site-packages")
    (site_packages / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir / "bin" / "python", site_packages


@pytest.mark.slow  # makes a venv and runs pip and jupyter in subprocesses
def test_pip_install_into_another_environment_then_register_its_kernel(tmp_path):
    env_dir = tmp_path / "env"
    python, _ = _environment_borrowing_this_ones_packages(env_dir)
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


def _tiny_model(path):
    """A small untrained softmax model on MNIST-shaped input, saved to ``path``: enough for a whole report."""
    import keras

    keras.utils.set_random_seed(0)
    layers = [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    model = keras.Sequential(layers)
    model.save(path)
    return path


def _files_under(folder):
    return {path.relative_to(folder) for path in folder.rglob("*") if "__pycache__" not in path.parts}


@pytest.mark.slow  # builds a wheel, makes a venv and runs pip and the evaluate command in subprocesses
def test_pip_install_not_editable_then_evaluate_elsewhere_writes_nothing_next_to_the_package(tmp_path):
    # Build from a copy of the sources, so the build's own files (build/, *.egg-info) stay out of the checkout.
    source = tmp_path / "source"
    shutil.copytree(config.repo_root() / "mnistlab", source / "mnistlab", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(config.repo_root() / name, source / name)
    python, site_packages = _environment_borrowing_this_ones_packages(tmp_path / "env")
    install = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", source)
    assert install.returncode == 0, install.stderr[-2000:]
    assert (site_packages / "mnistlab" / "config.py").is_file()
    shipped = _files_under(site_packages)

    # A new user: a folder of their own (no checkout), no MNISTLAB_HOME; MNIST sits where the messages say.
    user_data = tmp_path / "user-data"
    (user_data / "mnistlab" / "data").mkdir(parents=True)
    os.symlink(data.find_local_file(), user_data / "mnistlab" / "data" / "mnist.npz")
    work = tmp_path / "work"
    work.mkdir()
    model = _tiny_model(work / "tiny.keras")
    env = {key: value for key, value in os.environ.items()
           if key not in (config.HOME_ENV, data.DATA_ENV, config.FAST_ENV)}
    env |= {"XDG_DATA_HOME": str(user_data), "KERAS_HOME": str(tmp_path / "keras"), "MPLBACKEND": "Agg"}
    where = _run(python, "-c", "from mnistlab import config; print(config.course_folder())", cwd=work, env=env)
    assert where.returncode == 0 and "user data folder" in where.stdout, where.stderr[-2000:]
    result = _run(python, "-m", "mnistlab", "evaluate", model, cwd=work, env=env)
    assert result.returncode == 0, result.stderr[-3000:]

    report = user_data / "mnistlab" / "images" / "figures" / "evaluation"
    assert f"written to {report}" in result.stdout, result.stdout
    assert any(report.iterdir())
    assert _files_under(site_packages) == shipped, "the installed package must not write next to itself"
    assert sorted(path.name for path in work.iterdir()) == ["tiny.keras"]
