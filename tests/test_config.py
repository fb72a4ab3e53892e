"""Fast mode, budgets, seeds and paths."""

import numpy as np
import pytest

from mnistlab import config


@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_fast_mode_on(monkeypatch, value):
    monkeypatch.setenv(config.FAST_ENV, value)
    assert config.fast_mode() is True
    assert config.budget() is config.FAST


@pytest.mark.parametrize("value", ["", "0", "false", "No", "off"])
def test_fast_mode_off(monkeypatch, value):
    monkeypatch.setenv(config.FAST_ENV, value)
    assert config.fast_mode() is False
    assert config.budget() is config.FULL


def test_fast_mode_unset_means_full(monkeypatch):
    monkeypatch.delenv(config.FAST_ENV, raising=False)
    assert config.budget().name == "full"


def test_fast_mode_rejects_unclear_values(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV, "maybe")
    with pytest.raises(ValueError, match="MNISTLAB_FAST='maybe' is not understood"):
        config.fast_mode()


def test_fast_budget_is_smaller_everywhere():
    fast, full = config.FAST, config.FULL
    assert fast.epochs < full.epochs
    assert fast.train_size is not None and (full.train_size is None or fast.train_size < full.train_size)
    assert fast.tuning_trials < full.tuning_trials
    assert fast.baseline_train_size is not None


def test_set_seed_makes_numpy_repeatable():
    config.set_seed(7)
    first = np.random.rand(3)
    config.set_seed(7)
    assert np.array_equal(first, np.random.rand(3))


def test_paths_follow_the_repository_not_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    root = config.repo_root()
    assert (root / "mnistlab" / "config.py").is_file()
    assert config.data_dir() == root / "data"
    assert config.models_dir() == root / "models"
    assert config.figures_dir() == root / "images" / "figures"
    assert config.notebooks_dir() == root / "notebooks"


def test_home_override(monkeypatch, tmp_path):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    assert config.repo_root() == tmp_path.resolve()
    assert config.data_dir() == tmp_path.resolve() / "data"


def test_every_comparison_takes_its_size_from_the_plan_not_a_table_of_modes():
    # A plan no module knows by name: a table keyed by mode ("fast"/"full") would fail here.
    import dataclasses

    from mnistlab import optimizers, priors, regularisation

    tiny = dataclasses.replace(
        config.FAST, name="tiny", comparison_run=config.Run(100, 1),
        optimizer_race_run=config.Run(300, 1, 16), optimizer_race_rates=1, priors_run=config.Run(400, 1, 8, 50),
    )
    assert regularisation.comparison_budget(tiny) == config.Run(100, 1)
    race = optimizers.race_budget(tiny)
    assert (race.train_size, race.batch_size) == (300, 16) and all(len(g) == 1 for g in race.rates.values())
    assert priors.priors_budget(tiny).train_size == 400 and priors.priors_budget(tiny).test_size == 50


def test_fast_mode_forced_means_the_environment_variable_and_is_restored(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV, "0")
    with config.fast_mode_forced():
        assert config.budget() is config.FAST
    assert config.budget() is config.FULL


def test_a_scripts_fast_flag_is_decided_by_budget(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV, "0")
    assert config.budget(fast=True) is config.FAST and config.budget() is config.FULL
