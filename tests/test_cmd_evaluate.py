"""`python -m mnistlab evaluate`: the report folder, the four closing lines, and clear failures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab import cli, data


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory, mnist_small):
    """A tiny softmax model trained for a few epochs on the small slice, saved as .keras."""
    import keras

    keras.utils.set_random_seed(0)
    (x_train, y_train), _ = mnist_small
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")],
        name="tiny",
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(data.to_cnn_input(x_train), y_train, epochs=5, batch_size=32, verbose=0)
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    model.save(path)
    return path, model


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """A throwaway course folder; MNIST is still found through MNISTLAB_DATA."""
    monkeypatch.setenv("MNISTLAB_DATA", str(data.locate_mnist(download=False)))
    monkeypatch.setenv("MNISTLAB_HOME", str(tmp_path))
    return tmp_path


def test_evaluate_writes_the_report_and_ends_with_four_lines(tiny_model_file, mnist_arrays, isolated_home, capsys):
    path, model = tiny_model_file
    out = isolated_home / "report"
    code = cli.main(["evaluate", str(path), "--out", str(out), "--mistakes", "8"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    last = captured.out.strip().splitlines()[-4:]
    assert [line.split(":")[0] for line in last] == ["test accuracy", "test loss", "parameters", "saved file size"]

    _, (x_test, y_test) = mnist_arrays
    proba = model.predict(data.to_cnn_input(x_test), verbose=0)
    accuracy = np.mean(proba.argmax(axis=1) == y_test)
    loss = -np.mean(np.log(np.clip(proba[np.arange(len(y_test)), y_test], 1e-7, 1)))
    assert float(last[0].split(":")[1]) == pytest.approx(accuracy, abs=1e-4)
    assert float(last[1].split(":")[1]) == pytest.approx(loss, abs=1e-4)
    assert last[2] == f"parameters: {model.count_params():,}"
    assert f"({path.stat().st_size:,} bytes)" in last[3]

    for name in ["metrics.csv", "report.csv", "confused_pairs.csv", "mistakes.csv",
                 "confusion_matrix.png", "mistakes.png", "per_digit_accuracy.png"]:
        assert (out / name).stat().st_size > 0, name
    metrics = pd.read_csv(out / "metrics.csv", index_col=0)
    assert metrics.index.astype(str).tolist() == [str(d) for d in range(10)] + ["macro", "weighted"]
    assert metrics.loc["weighted", "recall"] == pytest.approx(accuracy, abs=1e-6)
    mistakes = pd.read_csv(out / "mistakes.csv")
    assert len(mistakes) == int(np.sum(proba.argmax(axis=1) != y_test))


def test_default_report_folder_is_under_figures(tiny_model_file, isolated_home, capsys):
    path, _ = tiny_model_file
    assert cli.main(["evaluate", str(path)]) == 0
    assert (isolated_home / "images" / "figures" / "evaluation" / "confusion_matrix.png").is_file()


def test_missing_default_model_says_how_to_train_it(isolated_home, capsys):
    assert cli.main(["evaluate"]) == 1
    err = capsys.readouterr().err
    assert str(isolated_home / "models") in err and "python -m mnistlab train" in err


def test_missing_file_is_named(isolated_home, capsys):
    missing = isolated_home / "nope.keras"
    assert cli.main(["evaluate", str(missing)]) == 1
    err = capsys.readouterr().err
    assert f"No saved model at {missing}" in err and "check the path" in err


def test_corrupt_file_gives_a_clear_message(isolated_home, capsys):
    broken = isolated_home / "broken.keras"
    broken.write_bytes(b"this is not a zip archive")
    assert cli.main(["evaluate", str(broken)]) == 1
    err = capsys.readouterr().err
    assert str(broken) in err and "Traceback" not in err
    assert "not a Keras 3 model file" in err


def test_a_zip_that_is_no_model_gives_a_clear_message(isolated_home, capsys):
    import zipfile

    fake = isolated_home / "fake.keras"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("notes.txt", "not a model")
    assert cli.main(["evaluate", str(fake)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: Could not load the model in {fake}") and "Traceback" not in err


@pytest.mark.parametrize("argv", [["evaluate", "--mistakes", "0"], ["evaluate", "--mistakes", "many"],
                                  ["evaluate", "--bogus"], ["evaluate", "a.keras", "b.keras"]])
def test_invalid_options_exit_with_code_2_and_a_message(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_evaluate_scores_a_tflite_export_too(tiny_model_file, isolated_home, capsys):
    from mnistlab import deploy

    path, model = tiny_model_file
    exported = deploy.export_tflite(model, isolated_home / "tiny.tflite")
    assert cli.main(["evaluate", str(exported), "--out", str(isolated_home / "lite")]) == 0
    keras_report = capsys.readouterr().out
    assert "test accuracy: 0." in keras_report and "parameters" not in keras_report
    assert (isolated_home / "lite" / "confusion_matrix.png").is_file()
