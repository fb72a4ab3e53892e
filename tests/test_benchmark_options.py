"""Every benchmark script answers --help and refuses a bad option with argparse's message."""
import runpy
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parent.parent / "benchmarks").glob("*.py"))
CASES = {
    "help": (["--help"], 0, "out", "usage:"),
    "unknown-option": (["--no-such-option"], 2, "err", "unrecognized arguments: --no-such-option"),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_options_are_parsed_before_any_work(script, case, monkeypatch, capsys):
    arguments, exit_code, stream, expected = CASES[case]
    monkeypatch.setattr(sys, "argv", [str(script), *arguments])
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(script), run_name="__main__")
    assert stop.value.code == exit_code
    assert expected in getattr(capsys.readouterr(), stream)
