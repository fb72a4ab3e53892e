"""``python -m mnistlab``: a global --fast that means MNISTLAB_FAST=1 for every command, one error handler in main."""

from __future__ import annotations

import argparse
import os

import pytest

from mnistlab import cli, config, errors


@pytest.fixture
def spy(monkeypatch):
    """Stands in for the ``data`` command: records the mode it runs in, or raises ``spy["raise"]``."""
    seen: dict = {}

    def run(args):
        if "raise" in seen:
            raise seen["raise"]
        seen["fast"], seen["plan"] = config.fast_mode(), config.budget().name
        return 0

    def register(subparsers):
        subparsers.add_parser("data").set_defaults(run=run)

    import mnistlab.commands.data as command

    monkeypatch.setattr(command, "register", register)
    return seen


@pytest.mark.parametrize("argv", [["--fast", "data"], ["data", "--fast"]])
def test_fast_is_global_and_means_the_environment_variable(monkeypatch, spy, argv):
    monkeypatch.setenv(config.FAST_ENV, "0")
    assert cli.main(argv) == 0
    assert spy["fast"] is True and spy["plan"] == config.FAST.name
    assert os.environ[config.FAST_ENV] == "0", "the process's setting is restored afterwards"


def test_without_fast_the_environment_decides(monkeypatch, spy):
    monkeypatch.setenv(config.FAST_ENV, "1")
    assert cli.main(["data"]) == 0
    assert spy["plan"] == config.FAST.name
    monkeypatch.delenv(config.FAST_ENV)
    assert cli.main(["data"]) == 0
    assert spy["plan"] == config.FULL.name


def test_every_command_accepts_fast():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in subparsers.choices.items():
        assert "--fast" in command.format_usage(), name


@pytest.mark.parametrize(("error", "code"), [(errors.MnistlabError("no model here: run train"), 1),
                                             (errors.UsageError("--out must end in .keras"), 2)])
def test_main_reports_a_mnistlab_error_once(spy, capsys, error, code):
    spy["raise"] = error
    assert cli.main(["data"]) == code
    err = capsys.readouterr().err
    assert err == f"error: {error}\n" and "Traceback" not in err


def test_a_bad_fast_setting_is_a_usage_error(monkeypatch, spy, capsys):
    monkeypatch.setenv(config.FAST_ENV, "maybe")
    assert cli.main(["data"]) == 2
    assert "MNISTLAB_FAST='maybe' is not understood" in capsys.readouterr().err


def test_every_expected_failure_shares_the_base():
    from mnistlab import data, deploy, store

    for kind in (store.ModelFileError, data.MnistDataError, deploy.ExportError, errors.SettingError):
        assert issubclass(kind, errors.MnistlabError), kind
