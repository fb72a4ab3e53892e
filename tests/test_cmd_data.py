"""`python -m mnistlab data`: finds and verifies MNIST, or says where to put it."""

from __future__ import annotations

from mnistlab import cli, config, data


def test_reports_a_missing_file_with_where_to_put_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "course"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    assert cli.main(["data", "--offline"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: MNIST is not on this machine")
    assert "copy Keras' mnist.npz" in err and str(tmp_path / "keras" / "datasets" / "mnist.npz") in err


def test_finds_the_file_and_says_where(capsys):
    assert cli.main(["data", "--offline"]) == 0
    assert capsys.readouterr().out == f"MNIST ready: {data.find_local_file()}\n"


def test_unknown_option_is_a_usage_error(capsys):
    try:
        cli.main(["data", "--online"])
    except SystemExit as stop:
        assert stop.code == 2
    else:
        raise AssertionError("an unknown option must stop with exit code 2")
    assert "unrecognized arguments: --online" in capsys.readouterr().err
