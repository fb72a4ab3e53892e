"""The labelled real-picture folders the benchmarks read (mnistlab.picture_sets)."""

from __future__ import annotations

import argparse

from mnistlab import picture_sets


def _folder(tmp_path, name: str):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "labels.csv").write_text("file,label,kind\na.png,A,letter\nb.png,+,symbol\n")
    return folder


def test_labels_are_read_as_rows(tmp_path):
    rows = picture_sets.read_labels(_folder(tmp_path, "set"))
    assert rows == [{"file": "a.png", "label": "A", "kind": "letter"},
                    {"file": "b.png", "label": "+", "kind": "symbol"}]


def test_folders_given_on_the_command_line_are_used(tmp_path):
    parser = argparse.ArgumentParser()
    picture_sets.add_real_set_options(parser)
    digits, others = _folder(tmp_path, "d"), _folder(tmp_path, "n")
    args = parser.parse_args(["--digits", str(digits), "--non-digits", str(others)])
    assert picture_sets.chosen_real_sets(args) == {"digits": digits, "non-digits": others}


def test_a_missing_folder_is_said_and_skipped(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    picture_sets.add_real_set_options(parser)
    args = parser.parse_args(["--digits", str(_folder(tmp_path, "d")), "--non-digits", str(tmp_path / "nowhere")])
    assert picture_sets.chosen_real_sets(args) is None
    assert "No real non-digits at" in capsys.readouterr().out
    assert picture_sets.shared_folder("real_digits").parts[-2:] == ("shared", "real_digits")
