"""``python -m mnistlab train``: option errors are clear and non-zero; a run prints the five result lines."""

from __future__ import annotations

import pytest

from mnistlab import cli, config, training


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--epochs", "0"], "at least 1"),
        (["train", "--epochs", "many"], "whole number"),
        (["train", "--model", "resnet"], "invalid choice: 'resnet'"),
        (["train", "--bogus"], "unrecognized arguments"),
    ],
)
def test_invalid_options_exit_non_zero_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code != 0
    assert message in capsys.readouterr().err


def test_out_must_be_a_keras_file(capsys, tmp_path):
    assert cli.main(["train", "--out", str(tmp_path / "model.h5")]) == 2
    assert "must end in .keras" in capsys.readouterr().err


def test_train_prints_results_and_saves(monkeypatch, tmp_path, capsys, mnist_arrays):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    monkeypatch.setenv(config.FAST_ENV, "0")  # restored after the test, although --fast changes it
    real_train = training.train
    seen = {}

    def tiny_train(name, epochs=None, **kwargs):
        seen.update(name=name, epochs=epochs, fast=config.fast_mode())
        split = training.prepare_data(300, arrays=mnist_arrays)
        return real_train(
            name,
            epochs=1,
            batch_size=64,
            split=split,
            verbose=0,
            checkpoint_path=kwargs["checkpoint_path"],
            save_to=kwargs["save_to"],
        )

    monkeypatch.setattr(training, "train", tiny_train)
    out = tmp_path / "small.keras"
    assert cli.main(["train", "--fast", "--model", "small_cnn", "--epochs", "2", "--out", str(out)]) == 0
    assert seen == {"name": "small_cnn", "epochs": 2, "fast": True}
    printed = capsys.readouterr().out
    for start in ("test accuracy: 0.", "test loss: ", "training wall time: ", "parameters: 93,322", "saved file: "):
        assert any(line.startswith(start) for line in printed.splitlines()), start
    assert out.is_file()
    assert training.load_model(out).count_params() == 93_322


def test_a_shorter_default_run_never_poses_as_the_notebooks_model(monkeypatch, tmp_path, mnist_arrays):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    monkeypatch.setenv(config.FAST_ENV, "1")
    real_train = training.train

    def tiny_train(name, epochs=None, **kwargs):
        split = training.prepare_data(300, arrays=mnist_arrays)
        kwargs.pop("verbose", None)
        return real_train(name, epochs=1, batch_size=64, split=split, verbose=0, **kwargs)

    monkeypatch.setattr(training, "train", tiny_train)
    assert cli.main(["train", "--model", "default", "--epochs", "1"]) == 0
    assert (tmp_path / "models" / "default-fast-1ep.keras").is_file()
    assert not training.default_model_path().exists()


def test_command_choices_match_the_model_builders():
    from mnistlab import models
    from mnistlab.commands import train

    assert tuple(train.MODEL_NAMES) == tuple(models.MODELS)
