"""``python -m mnistlab calibrate``: fits a saved model's decision rule on the validation digits, stored beside it."""

from __future__ import annotations

from pathlib import Path

import pytest
from deploy_models import tiny_cnn

from mnistlab import cli, config, decision, store
from mnistlab.commands.calibrate import plan_for

pytest.importorskip("keras")


@pytest.fixture(scope="module")
def model_path(tiny_split, tmp_path_factory):
    return store.save_deployable(tiny_cnn(tiny_split), tmp_path_factory.mktemp("model") / "tiny.keras")


def test_calibrate_fits_saves_and_reports_the_rule(model_path, capsys):
    decision.rule_path(model_path).write_text("{ a stale, damaged file: calibrate replaces it")
    assert cli.main(["calibrate", str(model_path), "--train-size", "1000"]) == 0
    out = capsys.readouterr().out
    assert "validation split of 1,000 training digits" in out and "100 digits the model never trained on" in out
    assert "temperature T = " in out and "expected calibration error on these digits: " in out
    assert "of the validation digits (" in out and "target 99.5%" in out
    assert f"saved: {decision.rule_path(model_path)}" in out
    rule = decision.load_rule(model_path)
    assert rule.calibrated and rule.accepted_fraction == decision.ACCEPTED_FRACTION
    assert rule.fitted_on.endswith("budget), 100 digits")


def test_the_export_carries_the_rule_and_a_tflite_file_is_calibrated_on_its_own(model_path, tmp_path, capsys):
    assert cli.main(["calibrate", str(model_path), "--train-size", "1000", "--accept", "0.9"]) == 0
    rule = decision.load_rule(model_path)
    exported = tmp_path / "tiny.tflite"
    assert cli.main(["export", "--model", str(model_path), "--out", str(exported)]) == 0
    out = capsys.readouterr().out
    assert f"decision rule copied to {decision.rule_path(exported)}: the same ok / refused decision on" in out
    assert decision.load_rule(exported) == rule
    assert cli.main(["calibrate", str(exported), "--train-size", "1000"]) == 0
    assert decision.load_rule(exported).accepted_fraction == decision.ACCEPTED_FRACTION
    assert decision.load_rule(model_path) == rule  # the source keeps its own


def test_bad_models_and_options_are_explained(tmp_path, capsys, course_home):
    assert cli.main(["calibrate", str(tmp_path / "missing.keras")]) == 1
    assert "No saved model at" in capsys.readouterr().err
    assert cli.main(["calibrate", str(tmp_path / "model.h5")]) == 2
    assert "must be a .keras model or a .tflite export" in capsys.readouterr().err
    assert cli.main(["calibrate"]) == 1  # empty course folder: no default model to calibrate
    assert "python -m mnistlab --fast train" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["calibrate", "--accept", "2"])
    assert "must be above 0 and at most 1" in capsys.readouterr().err


def test_the_budget_comes_from_the_file_name(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV, "1")
    assert plan_for(Path("default_cnn-v5-full-60k-12ep.keras")) is config.FULL
    assert plan_for(Path("default_cnn-v5-full-60k-12ep-int8.tflite")) is config.FULL
    assert plan_for(Path("lenet-fast-3ep.keras")) is config.FAST
    assert plan_for(Path("mine.keras")) == config.budget()  # unknown: the current mode's
