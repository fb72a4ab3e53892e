"""Where the course reads and writes: $MNISTLAB_HOME, the working directory's checkout, this one, the user's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnistlab import config, data

SOURCE = Path(config.__file__).resolve().parents[1]  # the checkout these tests run from


def make_checkout(folder: Path, name: str = "mnistlab") -> Path:
    """A minimal course checkout: a pyproject.toml naming the project and the package beside it."""
    (folder / "mnistlab").mkdir(parents=True)
    (folder / "mnistlab" / "__init__.py").write_text("")
    (folder / "pyproject.toml").write_text(f'[project]\nname = "{name}"\n')
    return folder


@pytest.fixture(autouse=True)
def _no_home(monkeypatch):
    monkeypatch.delenv(config.HOME_ENV, raising=False)


def test_the_checkout_of_the_working_directory_comes_first_even_from_a_subfolder(tmp_path, monkeypatch):
    course = make_checkout(tmp_path / "my-course")
    (course / "notebooks" / "scratch").mkdir(parents=True)
    monkeypatch.chdir(course / "notebooks" / "scratch")
    folder, why = config.course_folder()
    assert folder == course.resolve() and "working directory" in why
    assert config.data_dir() == course.resolve() / "data"
    assert data.candidate_paths()[-2] == course.resolve() / "data" / "mnist.npz"  # before the Keras cache
    assert config.figures_dir() == course.resolve() / "images" / "figures"
    assert config.models_dir() == course.resolve() / "models"


def test_elsewhere_it_is_the_checkout_this_package_runs_from(tmp_path, monkeypatch):
    make_checkout(tmp_path / "other", name="someone-elses-project")  # not a mnistlab checkout
    (tmp_path / "other" / "mnistlab" / "__init__.py").unlink()
    monkeypatch.chdir(tmp_path / "other")
    folder, why = config.course_folder()
    assert folder == SOURCE and "this package runs from" in why


def test_an_installed_package_outside_a_checkout_uses_the_user_data_folder(tmp_path, monkeypatch):
    # As after `pip install .`: the package sits in site-packages, which is not a checkout.
    installed = tmp_path / "site-packages" / "mnistlab"
    installed.mkdir(parents=True)
    monkeypatch.setattr(config, "__file__", str(installed / "config.py"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))
    monkeypatch.chdir(tmp_path)
    folder, why = config.course_folder()
    assert folder == tmp_path / "user-data" / "mnistlab"
    assert "user data folder" in why and config.HOME_ENV in why
    assert config.figures_dir() == folder / "images" / "figures"


def test_mnistlab_home_overrides_every_other_rule(tmp_path, monkeypatch):
    make_checkout(tmp_path / "course")
    monkeypatch.chdir(tmp_path / "course")
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "elsewhere"))
    assert config.course_folder() == ((tmp_path / "elsewhere").resolve(), "$MNISTLAB_HOME")


def test_a_broken_pyproject_is_not_a_checkout(tmp_path):
    course = make_checkout(tmp_path / "broken")
    (course / "pyproject.toml").write_text("[project\nname = ")
    assert not config._is_checkout(course)
    assert config._is_checkout(SOURCE)


def test_the_environment_summary_says_which_folder_and_why(tmp_path, monkeypatch):
    from mnistlab import display

    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    assert display.environment_summary()["course folder"] == f"{tmp_path.resolve()} ($MNISTLAB_HOME)"
