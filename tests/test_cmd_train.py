"""``python -m mnistlab train``: clear option errors, the five result lines, and a killed run that resumes."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from mnistlab import architectures, cli, config, data, store, training


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


def test_out_must_be_a_keras_file_and_train_size_fit_mnist(capsys, tmp_path):
    assert cli.main(["train", "--out", str(tmp_path / "model.h5")]) == 2
    assert "must end in .keras" in capsys.readouterr().err
    assert cli.main(["train", "--train-size", "70000"]) == 2
    assert "--train-size 70000 must be between 100 and 60000" in capsys.readouterr().err


def test_a_bad_model_name_fails_without_importing_tensorflow():
    code = (
        "import sys\n"
        "from mnistlab import cli\n"
        "try:\n"
        "    cli.main(['train', '--model', 'resnet'])\n"
        "except SystemExit as stop:\n"
        "    print('exit', stop.code, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "exit 2 False False", done.stderr


def _tiny_train(mnist_arrays, seen):
    real_train = training.train

    def tiny_train(name, epochs=None, **kwargs):
        seen.update(name=name, epochs=epochs, plan=kwargs["plan"], environment=os.environ.get(config.FAST_ENV))
        split = data.split_mnist(300, arrays=mnist_arrays)
        return real_train(
            name, epochs=1, batch_size=64, split=split, verbose=0,
            checkpoint_path=kwargs["checkpoint_path"], save_to=kwargs["save_to"],
        )

    return tiny_train


def test_train_prints_results_and_saves(monkeypatch, tmp_path, capsys, mnist_arrays):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    monkeypatch.setenv(config.FAST_ENV, "0")
    seen = {}
    monkeypatch.setattr(training, "train", _tiny_train(mnist_arrays, seen))
    out = tmp_path / "small.keras"
    assert cli.main(["train", "--fast", "--model", "small_cnn", "--epochs", "2", "--out", str(out)]) == 0
    # --fast means exactly MNISTLAB_FAST=1 while the command runs; the process's setting is restored afterwards
    assert seen == {"name": "small_cnn", "epochs": 2, "plan": config.FAST, "environment": "1"}
    assert os.environ[config.FAST_ENV] == "0"
    printed = capsys.readouterr().out
    for start in ("test accuracy: 0.", "test loss: ", "training wall time: ", "parameters: 93,322", "saved file: "):
        assert any(line.startswith(start) for line in printed.splitlines()), start
    assert out.is_file()
    assert store.load_model(out).count_params() == 93_322


@pytest.mark.slow  # trains a model: 10-16 s on 2 cores
def test_a_shorter_default_run_never_poses_as_the_notebooks_model(monkeypatch, tmp_path, mnist_arrays):
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))
    monkeypatch.setenv(config.FAST_ENV, "1")
    monkeypatch.setattr(training, "train", _tiny_train(mnist_arrays, {}))
    assert cli.main(["train", "--model", "default", "--epochs", "1"]) == 0
    assert (tmp_path / "models" / "default-fast-1ep.keras").is_file()
    assert cli.main(["train", "--model", "default", "--train-size", "1000"]) == 0
    assert (tmp_path / "models" / f"default-fast-1000-{config.FAST.epochs}ep.keras").is_file()
    assert not store.default_model_path().exists()


class _Lines:
    """The output of a child process, line by line, each with the time it arrived (a thread reads it)."""

    def __init__(self, process):
        self.queue: queue.Queue = queue.Queue()
        self.seen: list[tuple[float, str]] = []
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process):
        for line in process.stdout:
            self.queue.put((time.monotonic(), line.rstrip("\n")))
        self.queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 600) -> float:
        deadline = time.monotonic() + timeout
        while True:
            item = self.queue.get(timeout=max(deadline - time.monotonic(), 0.1))
            if item is None:
                raise AssertionError(f"the process ended before printing {pattern!r}:\n" + self.text())
            self.seen.append(item)
            if re.search(pattern, item[1]):
                return item[0]

    def drain(self):
        while (item := self.queue.get(timeout=60)) is not None:
            self.seen.append(item)

    def text(self) -> str:
        return "\n".join(line for _, line in self.seen)


def _epoch_lines(text: str) -> list[tuple[int, float]]:
    """``(epoch, validation accuracy)`` of every epoch line EpochPrinter printed."""
    return [(int(m[1]), float(m[2])) for m in re.finditer(r"epoch (\d+)/\d+ .*validation accuracy ([0-9.]+)", text)]


@pytest.mark.slow
def test_a_run_killed_mid_epoch_resumes_from_its_backup_when_run_again(tmp_path, monkeypatch):
    """Two real processes: the first is killed (SIGKILL, no clean-up) in the middle of epoch 3, the same
    command then resumes from the backup, trains epochs 3 and 4 only and saves the deployable model."""
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path))  # where this process looks for the backup, too
    env = {**os.environ, config.FAST_ENV: "0", "PYTHONUNBUFFERED": "1"}
    out = tmp_path / "models" / "resumed.keras"
    epochs, train_size = 4, 4_000
    command = [sys.executable, "-m", "mnistlab", "--fast", "train", "--train-size", str(train_size),
               "--epochs", str(epochs), "--out", str(out)]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = _Lines(first)
        first_epoch = lines.wait_for(r"epoch 1/4")
        second_epoch = lines.wait_for(r"epoch 2/4")
        # Epoch 2's backup is on disk (BackupAndRestore runs before the printer). Wait half an epoch,
        # so the kill lands while epoch 3 is training, then kill without warning.
        time.sleep(0.5 * (second_epoch - first_epoch))
        assert first.poll() is None, "the first run must still be training when it is killed"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
        lines.drain()
    finally:
        first.kill()
    killed_output = lines.text()
    assert [epoch for epoch, _ in _epoch_lines(killed_output)] == [1, 2], "killed during epoch 3:\n" + killed_output
    _, backup = store.training_state_paths(out)
    assert training.backed_up_epochs(backup) == 2 and not out.exists()

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Resuming an interrupted run" in second.stdout and "2 of 4 epochs were finished" in second.stdout
    assert [epoch for epoch, _ in _epoch_lines(second.stdout)] == [3, 4], "no restart from scratch:\n" + second.stdout
    model = store.load_model(out)  # the deployable model was saved
    assert getattr(model, "optimizer", None) is None
    history = store.load_model_history(out)
    assert list(history.index) == [1, 2, 3, 4]
    # epochs 1-2 of the history are the killed run's own (as it printed them), not a new run's
    for epoch, val_accuracy in _epoch_lines(killed_output):
        assert history.loc[epoch, "val_accuracy"] == pytest.approx(val_accuracy, abs=5e-5)
    # the optimizer's step counter came back from the backup too: epoch 3 ended at step 3 x steps per epoch
    import math

    digits = round(train_size * (1 - data.VALIDATION_FRACTION))
    examples = digits + round(architectures.default().recipe.outliers * digits)  # outlier exposure adds non-digits
    steps = math.ceil(examples / config.FAST.batch_size)
    schedule = training.warmup_cosine_schedule(epochs * steps)
    assert history.loc[3, "learning_rate"] == pytest.approx(float(schedule(3 * steps)), rel=1e-5)
    assert not backup.exists(), "the finished run deletes its backup"
