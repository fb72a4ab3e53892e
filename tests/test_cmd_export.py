"""``python -m mnistlab export``: writes a .tflite file, reports its accuracy, and explains bad options."""

from __future__ import annotations

import numpy as np
import pytest
from deploy_models import tiny_cnn

from mnistlab import cli, deploy, store

pytest.importorskip("keras")


@pytest.fixture(scope="module")
def model_path(tiny_split, tmp_path_factory):
    return store.save_deployable(tiny_cnn(tiny_split), tmp_path_factory.mktemp("model") / "tiny.keras")


def test_int8_export_next_to_the_model(model_path, capsys):
    code = cli.main(["export", "--int8", "--model", str(model_path)])
    out = capsys.readouterr().out
    written = model_path.with_name("tiny-int8.tflite")
    assert code == 0 and written.is_file()
    assert f"saved: {written}" in out and "test accuracy on 10,000 MNIST test digits" in out
    assert " points); a different answer on " in out
    assert "% CI " in out and "exact McNemar p = " in out  # the interval and the paired test beside the numbers
    assert f"python -m mnistlab serve --model {written}" in out
    assert deploy.LiteRTPredictor(written).input_dtype == np.uint8


def test_float_export_to_a_chosen_file(model_path, tmp_path, capsys):
    out_file = tmp_path / "exports" / "digits.tflite"
    assert cli.main(["export", "--model", str(model_path), "--out", str(out_file)]) == 0
    assert deploy.LiteRTPredictor(out_file).input_dtype == np.float32
    assert "TFLite float32" in capsys.readouterr().out


def test_bad_options_and_missing_models_are_explained(model_path, tmp_path, capsys, course_home):
    assert cli.main(["export", "--model", str(model_path), "--out", str(tmp_path / "x.keras")]) == 2
    assert "must end in .tflite" in capsys.readouterr().err
    assert cli.main(["export", "--model", str(tmp_path / "model.h5")]) == 2
    assert "must be a .keras file" in capsys.readouterr().err
    assert cli.main(["export", "--model", str(tmp_path / "missing.keras")]) == 1
    assert "No saved model" in capsys.readouterr().err
    assert cli.main(["export"]) == 1  # empty course folder: no default model yet
    assert "python -m mnistlab --fast train" in capsys.readouterr().err
