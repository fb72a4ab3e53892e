"""The model store: where trained models and their histories live, saving, loading and the lock around training."""

# Separate from :mod:`mnistlab.training` (which only compiles and fits): every command, notebook and
# benchmark finds, saves and loads models through here, and every failure to find or read one is a
# :class:`ModelFileError` whose message names the command that makes the file.

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from mnistlab import architectures, config
from mnistlab.errors import MnistlabError

KERAS_SUFFIX = ".keras"
TFLITE_SUFFIX = ".tflite"


class ModelFileError(MnistlabError, RuntimeError):
    """A saved model is missing or cannot be read; the message says which command makes it."""


# --------------------------------------------------------------------------- naming


def train_command(plan: config.Budget | None = None) -> str:
    """The command that trains the default model of ``plan`` (default: the current mode's budget)."""
    plan = plan or config.budget()
    return f"python -m mnistlab{' --fast' if plan.name == config.FAST.name else ''} train"


def model_path(arch: architectures.Architecture, plan: config.Budget | None = None) -> Path:
    """Where ``arch`` trained with ``plan``'s budget is saved, e.g. ``models/default_cnn-v4-full-60k-12ep.keras``.

    The name holds the architecture's version, the mode and the budget that trains it, so a change
    to any of them never loads a model trained for another configuration. ``plan`` defaults to the
    current mode's budget.
    """
    plan = plan or config.budget()
    size = f"{(plan.train_size or 60_000) // 1000}k"
    return config.models_dir() / f"{arch.keras_name}-{arch.version}-{plan.name}-{size}-{plan.epochs}ep{KERAS_SUFFIX}"


def default_model_path(plan: config.Budget | None = None) -> Path:
    """Where the course's default model (:func:`mnistlab.architectures.default`) of a budget is saved."""
    return model_path(architectures.default(), plan)


def training_state_paths(model_path: str | os.PathLike) -> tuple[Path, Path]:
    """``(checkpoint file, backup folder)`` of the run that trains the model saved at ``model_path``.

    Named after the model file, so an interrupted run resumes only the training of that
    same file (``python -m mnistlab train`` and ``training.load_or_train_default`` share them).
    """
    stem = Path(model_path).name.removesuffix(KERAS_SUFFIX)
    work = config.models_dir() / "checkpoints"
    return work / f"{stem}.weights.h5", work / f"{stem}-backup"


def history_path(model_path: str | os.PathLike) -> Path:
    """The per-epoch history (CSV) that ``training.train`` writes next to a model it saves."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name.removesuffix(KERAS_SUFFIX) + "-history.csv")


# --------------------------------------------------------------------------- saving and loading


def save_deployable(model, path: str | os.PathLike) -> Path:
    """Save ``model`` as a ``.keras`` file without optimizer state (what a deployed model needs).

    Keras' ``.keras`` format always stores the optimizer of a compiled model (Adam keeps two
    extra numbers per weight, tripling the file). The deployable copy is a fresh,
    uncompiled model built from the same configuration, holding the same weights.
    """
    path = Path(path)
    if path.suffix != KERAS_SUFFIX:
        raise ValueError(f"save path {path} must end in .keras (the Keras 3 format)")
    path.parent.mkdir(parents=True, exist_ok=True)
    clone = model.__class__.from_config(model.get_config())  # from_config never compiles
    clone.set_weights(model.get_weights())
    if getattr(clone, "optimizer", None) is not None:
        raise RuntimeError("internal error: the deployable copy of the model still has an optimizer")
    tmp = path.with_name(f"{path.name}.{os.getpid()}.part.keras")  # per process: two writers never share it
    clone.save(tmp)
    tmp.replace(path)  # never leave a half-written file under the real name
    return path


def missing_model_message(path: Path) -> str:
    """What to say when no model file is at ``path``: the default model's names the command that trains it."""
    for plan in (config.budget(), config.FULL, config.FAST):
        if path == default_model_path(plan):
            return (f"No trained default model at {path}. Train it first: run `{train_command(plan)}` "
                    f"(or notebook 04), or pass the path of another model.")
    if path.suffix == TFLITE_SUFFIX:
        return (f"No TFLite model at {path}. Create it with `python -m mnistlab export --int8` (or without "
                f"--int8 for float32), or check the path.")
    return f"No saved model at {path}. Train one first with `python -m mnistlab train`, or check the path."


def load_model(path: str | os.PathLike):
    """Load a saved ``.keras`` model, with a clear message when the file is missing or damaged. Never trains."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelFileError(missing_model_message(path))
    if path.suffix != KERAS_SUFFIX or not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path} is not a Keras 3 model file (.keras zip archive); it may be truncated or "
            f"another format. Delete it and train again."
        )
    import keras

    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for damaged archives
        raise ModelFileError(
            f"Could not load the model in {path} ({type(error).__name__}: {error}). "
            f"The file is damaged or was saved by an incompatible version; delete it and train again."
        ) from error


def load_model_history(model_path: str | os.PathLike) -> pd.DataFrame | None:
    """The per-epoch history saved next to the model at ``model_path``, or None if there is none."""
    path = history_path(model_path)
    if not path.is_file():
        return None
    return pd.read_csv(path, index_col="epoch")


def load_default_history(plan: config.Budget | None = None) -> pd.DataFrame | None:
    """The training history of the saved default model, or None if it was not trained here."""
    return load_model_history(default_model_path(plan))


def file_size_mb(path: str | os.PathLike) -> float:
    """Size of a file in megabytes (10^6 bytes)."""
    return Path(path).stat().st_size / 1e6


@contextlib.contextmanager
def model_lock(path: str | os.PathLike, print_to=print) -> Iterator[None]:
    """Hold the lock of the model file ``path`` while training it; waits (saying so) while another process does.

    Two notebooks open at once (or two test workers) must not both train into the same files:
    the first trains, the others wait for it and then load what it saved.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path.with_name(path.name + ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print_to(f"Another Python process is training the model {path} right now; waiting for it.")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
