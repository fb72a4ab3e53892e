"""``python -m mnistlab predict``: one line per file, errors per file (exit code 1); "not a digit" is an answer."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnistlab import cli, decision

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A saved model that always answers 3 with 80 % (so the output is known exactly)."""
    probabilities = np.full(10, 0.2 / 9, np.float32)
    probabilities[3] = 0.8
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10),
                              keras.layers.Softmax()])
    model.layers[1].set_weights([np.zeros((784, 10), np.float32), np.log(probabilities)])
    path = tmp_path_factory.mktemp("model") / "three.keras"
    model.save(path)
    return path


@pytest.fixture
def good_image(tmp_path):
    image = Image.new("L", (200, 200), 245)
    ImageDraw.Draw(image).line([(60, 40), (140, 40), (140, 100), (70, 100), (140, 100), (140, 160), (60, 160)],
                               fill=20, width=16)
    path = tmp_path / "three.png"
    image.save(path)
    return path


def test_one_good_file(model_path, good_image, capsys):
    code = cli.main(["predict", str(good_image), "--model", str(model_path)])
    captured = capsys.readouterr()
    assert code == 0
    assert f"{good_image}: 3 (80.0%)  top-3 3 80.0%" in captured.out
    assert captured.err == (f"note: {model_path} has no calibration file; answers use the uncalibrated 60% rule. "
                            f"Run `python -m mnistlab calibrate {model_path}`.\n")


def test_not_a_digit_by_the_models_rule_is_an_answer(model_path, good_image, tmp_path, capsys):
    strict = tmp_path / "strict.keras"
    strict.write_bytes(model_path.read_bytes())
    # calibrated, and 80 % for the 3 is not enough: nothing else fits either, so the answer is "not a digit"
    decision.save_rule(decision.DecisionRule(temperature=1.0, threshold=0.9, calibrated=True), strict)
    code = cli.main(["predict", str(good_image), "--model", str(strict)])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == ""  # an answer, not a failure; and no calibration note
    assert captured.out.startswith(f"{good_image}: not a digit: this looks like a letter, a symbol or a drawing")
    assert "best guess 3 at 80%" in captured.out


def test_number_mode_lists_the_pieces_it_skipped(tmp_path, monkeypatch, capsys):
    from deploy_models import rows_predictor

    from mnistlab import deploy

    strip = Image.new("L", (680, 200), 245)
    draw = ImageDraw.Draw(strip)
    for left in (30, 250, 470):
        draw.line([(left + 40, 40), (left + 130, 40), (left + 80, 170)], fill=20, width=16)
    path = tmp_path / "three_marks.png"
    strip.save(path)
    one, spread = np.eye(10)[1] * 0.98 + 0.002, np.full(10, 0.1)
    rule = decision.DecisionRule(temperature=1.0, threshold=0.9, calibrated=True)
    monkeypatch.setattr(deploy, "load_predictor", lambda model: rows_predictor([one, spread, one], rule))
    assert cli.main(["predict", "--number", str(path)]) == 0
    assert capsys.readouterr().out.startswith(
        f"{path}: 11  digits 1 (98.2%); 1 (98.2%)  (skipped 1 piece that is not a digit: piece 2 (this looks like")


def test_bad_files_are_reported_and_the_rest_go_on(model_path, good_image, tmp_path, capsys):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.png"  # nothing at all to read: still an error, unlike an answer "not a digit"
    Image.new("L", (300, 300), 250).save(blank)
    missing = tmp_path / "missing.png"
    code = cli.main(["predict", str(corrupt), str(good_image), str(empty), str(blank), str(missing),
                     "--model", str(model_path)])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{good_image}: 3 (80.0%)" in captured.out
    corrupt_line = next(line for line in captured.err.splitlines() if str(corrupt) in line)
    assert "damaged" in corrupt_line or "not an image" in corrupt_line
    assert f"{empty}: the file is empty" in captured.err
    assert f"{blank}: looks blank" in captured.err
    assert f"{missing}: no such file" in captured.err
    assert "4 of 5 file(s) could not be read." in captured.err


def test_steps_are_saved(model_path, good_image, tmp_path, capsys):
    out_dir = tmp_path / "steps"
    code = cli.main(["predict", str(good_image), "--model", str(model_path), "--steps", str(out_dir)])
    assert code == 0
    saved = out_dir / "three_steps.png"
    assert saved.is_file() and saved.stat().st_size > 1000
    assert str(saved) in capsys.readouterr().out


def test_number_mode(model_path, tmp_path, capsys):
    strip = Image.new("L", (460, 200), 245)
    draw = ImageDraw.Draw(strip)
    for left in (30, 250):
        draw.line([(left + 40, 40), (left + 130, 40), (left + 80, 170)], fill=20, width=16)
    path = tmp_path / "two_sevens.png"
    strip.save(path)
    code = cli.main(["predict", "--number", str(path), "--model", str(model_path)])
    assert code == 0
    assert f"{path}: 33  digits 3 (80.0%); 3 (80.0%)" in capsys.readouterr().out


def test_missing_model_is_a_clear_error(good_image, tmp_path, capsys):
    code = cli.main(["predict", str(good_image), "--model", str(tmp_path / "nope.keras")])
    assert code == 1
    assert "No saved model at" in capsys.readouterr().err


def test_no_image_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["predict"])
    assert exit_info.value.code == 2
    assert "IMAGE" in capsys.readouterr().err


def test_predict_never_trains_a_missing_default_model(good_image, monkeypatch, tmp_path, capsys):
    from mnistlab import config, training

    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    monkeypatch.setenv(config.FAST_ENV, "1")

    def no_training(*args, **kwargs):
        raise AssertionError("predict must not train")

    monkeypatch.setattr(training, "train", no_training)
    monkeypatch.setattr(training, "load_or_train_default", no_training)
    assert cli.main(["predict", str(good_image)]) == 1
    err = capsys.readouterr().err
    assert "No trained default model" in err and "run `python -m mnistlab --fast train`" in err


def test_predict_reads_a_tflite_export(model_path, good_image, tmp_path, capsys):
    from mnistlab import deploy

    exported = deploy.export_tflite(keras.models.load_model(model_path), tmp_path / "three.tflite")
    assert cli.main(["predict", str(good_image), "--model", str(exported)]) == 0
    assert "3" in capsys.readouterr().out
