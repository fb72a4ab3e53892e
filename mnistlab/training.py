"""Compile and fit with the callbacks learners should know; save, reload and get the trained default model."""

from __future__ import annotations

import json
import os
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
from filelock import FileLock, Timeout

from mnistlab import augmentation, config, data, evaluation, models

PEAK_LEARNING_RATE = 3e-3  # default model: AdamW, warm-up to this rate, then cosine decay
WEIGHT_DECAY = 1e-4
LABEL_SMOOTHING = 0.1
BASELINE_LEARNING_RATE = 1e-3  # the tutorial architectures: plain Adam at its default rate
VALIDATION_FRACTION = 0.1
VALIDATION_BATCH_SIZE = 1000  # prediction only: large batches cost less per digit, and batch norm uses its averages


class ModelFileError(RuntimeError):
    """A saved model is missing or cannot be read; the message says what to do."""


# --------------------------------------------------------------------------- schedule, compile


def warmup_cosine_schedule(
    total_steps: int, peak: float = PEAK_LEARNING_RATE, warmup_fraction: float = 0.1
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Learning rate that climbs linearly from ``peak/10`` to ``peak``, then follows a cosine down to ``peak/100``.

    The warm-up keeps the first, random-weight steps from being too large; the cosine
    tail lets the last epochs settle into a minimum with tiny steps (a "one-cycle" shape).
    """
    if total_steps < 2:
        raise ValueError(f"total_steps must be at least 2, got {total_steps}")
    warmup = max(1, int(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 10,
        decay_steps=total_steps - warmup,
        alpha=0.01,
        warmup_target=peak,
        warmup_steps=warmup,
    )


def uses_recipe(model: keras.Model) -> bool:
    """Whether ``model`` is trained with the default model's recipe (AdamW, schedule, label smoothing)."""
    return model.name == "default_cnn"


def compile_model(model: keras.Model, total_steps: int | None = None) -> keras.Model:
    """Compile ``model`` with the optimizer and loss it is trained with in this course.

    * the default model: AdamW (Adam + decoupled weight decay) following
      :func:`warmup_cosine_schedule`, and categorical cross-entropy with label smoothing
      0.1 (targets of 0.91 / 0.01 instead of 1 / 0, which keeps the network from
      becoming over-confident); its labels must be one-hot (see :func:`prepare_labels`);
    * every other model: Adam at 1e-3 and sparse categorical cross-entropy on integer
      labels, as in the tutorials they come from.
    """
    if uses_recipe(model):
        if total_steps is None:
            raise ValueError("compile_model(default model) needs total_steps to lay out the learning-rate schedule")
        optimizer = keras.optimizers.AdamW(warmup_cosine_schedule(total_steps), weight_decay=WEIGHT_DECAY)
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING)
    else:
        optimizer = keras.optimizers.Adam(BASELINE_LEARNING_RATE)
        loss = keras.losses.SparseCategoricalCrossentropy()
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


def prepare_labels(model: keras.Model, labels: np.ndarray) -> np.ndarray:
    """Integer labels as the model's loss wants them: one-hot for the default recipe, else unchanged."""
    return data.one_hot(labels) if uses_recipe(model) else np.asarray(labels)


# --------------------------------------------------------------------------- callbacks


class EpochLog(keras.callbacks.Callback):
    """Records every finished epoch: Keras' logs plus wall time, CPU time and learning rate (Keras' History has none).

    CPU time (``cpu_seconds``, all threads of this process) is what an epoch costs even when
    other programs share the cores and stretch its wall time (``seconds``).

    Epochs are numbered as the run counts them, also across an interruption: with ``path``
    each finished epoch is written to that CSV file at once, and a run that resumes from a
    backup of ``resumed_epochs`` epochs starts with those rows, so its history is the whole run.
    """

    def __init__(self, path: Path | None = None, resumed_epochs: int = 0):
        super().__init__()
        self.path = Path(path) if path is not None else None
        self.rows: list[dict] = []
        if self.path is not None and resumed_epochs > 0 and self.path.is_file():
            earlier = pd.read_csv(self.path)
            self.rows = earlier[earlier["epoch"] <= resumed_epochs].to_dict("records")
        self._start = self._cpu_start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._cpu_start = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        seconds, cpu_seconds = time.perf_counter() - self._start, time.process_time() - self._cpu_start
        rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row = {"epoch": epoch + 1, **(logs or {}), "seconds": seconds, "cpu_seconds": cpu_seconds}
        self.rows.append({**row, "learning_rate": rate})
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.part")
            self.frame().to_csv(tmp)
            tmp.replace(self.path)  # a kill while writing never leaves half a history

    def on_train_end(self, logs=None):
        if self.path is not None:
            self.path.unlink(missing_ok=True)  # the run is complete: its history is returned, not resumed

    def frame(self) -> pd.DataFrame:
        """The history so far as a DataFrame indexed by epoch (1, 2, …)."""
        frame = pd.DataFrame(self.rows)
        if frame.empty:
            return pd.DataFrame(index=pd.RangeIndex(1, 1, name="epoch"))
        return frame.set_index("epoch").astype(float)


class EpochPrinter(keras.callbacks.Callback):
    """Prints one short line per finished epoch (time, accuracy, validation accuracy) to ``print_to``."""

    def __init__(self, epochs: int, print_to=print):
        super().__init__()
        self.epochs = epochs
        self.print_to = print_to
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        scores = " · ".join(
            f"{label} {logs[key]:.4f}"
            for key, label in (("accuracy", "accuracy"), ("val_accuracy", "validation accuracy"))
            if key in logs
        )
        self.print_to(f"  epoch {epoch + 1}/{self.epochs} · {time.perf_counter() - self._start:.0f} s · {scores}")


def make_callbacks(
    checkpoint_path: Path, backup_dir: Path | None = None, patience: int = 4, best_so_far: float | None = None
) -> list:
    """The callbacks every training run in the course uses.

    * ``ModelCheckpoint``: after each epoch whose validation accuracy is the best so far,
      write the weights to ``checkpoint_path``, so a crash never loses the best result
      (``best_so_far``: the best validation accuracy of the epochs a resumed run already has);
    * ``BackupAndRestore`` (when ``backup_dir`` is given): saves the whole training
      state (weights, optimizer state and epoch) after every epoch; running the same training
      again after an interruption resumes from the last finished epoch instead of starting
      over. It keeps the previous backup too, so a kill while the backup is being written
      falls back to the epoch before;
    * ``EarlyStopping``: stop when the validation loss has not improved for ``patience``
      epochs. It does not restore weights itself: Keras would restore its best epoch at the
      end of every run, even one that never stopped early, and silently override
      :func:`fit`, which alone decides which epoch's weights a run returns.
    """
    checkpoint_path = Path(checkpoint_path)
    checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
    callbacks = [
        keras.callbacks.ModelCheckpoint(
            str(checkpoint_path),
            monitor="val_accuracy",
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=best_so_far,
        ),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience),
    ]
    if backup_dir is not None:
        callbacks.append(keras.callbacks.BackupAndRestore(str(backup_dir), double_checkpoint=True))
    return callbacks


def backed_up_epochs(backup_dir: Path | None) -> int:
    """How many finished epochs the backup in ``backup_dir`` holds (0: none, the run starts from scratch).

    Read from the ``training_metadata.json`` that Keras' ``BackupAndRestore`` writes with its
    weights; it is the epoch a rerun of the same training resumes from.
    """
    if backup_dir is None:
        return 0
    for name in ("training_metadata.json", "training_metadata.json.bkp"):
        try:
            return int(json.loads((Path(backup_dir) / name).read_text())["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return 0


def backup_history_path(backup_dir: Path) -> Path:
    """The per-epoch history of a run that may be interrupted, kept next to its backup folder."""
    backup_dir = Path(backup_dir)
    return backup_dir.with_name(backup_dir.name + "-history.csv")


# --------------------------------------------------------------------------- one step by hand


def loss_and_gradients(model: keras.Model, loss_fn, images, labels) -> tuple[float, list]:
    """The loss of ``model`` on one batch and its gradient for every trainable weight (``tf.GradientTape``).

    The tape records the forward pass; ``tape.gradient`` then runs it backwards
    (backpropagation) to get ∂loss/∂w for each weight ``w``, in the order of
    ``model.trainable_variables``.
    """
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    return float(loss), tape.gradient(loss, model.trainable_variables)


def manual_sgd_step(model: keras.Model, loss_fn, images, labels, learning_rate: float) -> float:
    """One step of plain gradient descent written out: every weight ``w ← w − learning_rate · ∂loss/∂w``.

    Changes ``model``'s weights in place and returns the loss on the batch *before* the
    step. It is exactly what ``keras.optimizers.SGD(learning_rate)`` does in
    :func:`optimizer_step` (notebook 03 checks that on a real batch).
    """
    loss, gradients = loss_and_gradients(model, loss_fn, images, labels)
    for weight, gradient in zip(model.trainable_variables, gradients, strict=True):
        weight.assign(weight - learning_rate * gradient)
    return loss


def optimizer_step(model: keras.Model, loss_fn, images, labels, optimizer: keras.optimizers.Optimizer) -> float:
    """The same step taken by a Keras optimizer (``apply_gradients``); returns the loss before the step."""
    loss, gradients = loss_and_gradients(model, loss_fn, images, labels)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
    return loss


def twin(model: keras.Model) -> keras.Model:
    """A second, independent model with the same architecture and the same current weights."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


# --------------------------------------------------------------------------- fair races, each at its best rate


@dataclass(frozen=True)
class RaceBudget:
    """What every run of a learning-rate sweep gets (see :func:`rate_sweep`), and the rates each contestant tries.

    ``rates`` maps a contestant's name to its grid of learning rates. Every run trains on the
    same ``train_size`` digits for the same ``epochs`` at the same ``batch_size``; it is scored
    on ``val_size`` validation digits (None: all of them).
    """

    train_size: int
    epochs: int
    batch_size: int
    val_size: int | None
    rates: dict[str, tuple[float, ...]]

    @property
    def runs(self) -> int:
        """How many models the sweep trains."""
        return sum(len(grid) for grid in self.rates.values())


@dataclass(frozen=True)
class Contestant:
    """One way to train in a race: an optimizer made for a learning rate, and a loss.

    ``one_hot``: the loss wants one-hot labels (``categorical_crossentropy``, MSE) rather than integers.
    """

    optimizer: Callable[[float], keras.optimizers.Optimizer]
    loss: str | keras.losses.Loss = "sparse_categorical_crossentropy"
    one_hot: bool = False


def rate_sweep(
    split: Split,
    contestants: dict[str, Contestant],
    budget: RaceBudget,
    build: Callable[[], keras.Model] = models.build_dense,
    seed: int = config.SEED,
) -> pd.DataFrame:
    """Train one model per contestant and learning rate of ``budget.rates``; validation accuracy after every epoch.

    Fair by construction: every run starts from the same weights (one model built by ``build``
    after seeding, copied with :func:`twin`), trains on the same class-balanced digits of
    ``split``, in the same shuffled order (same seed), for the same epochs and batch size, and
    is scored on the same validation digits. Only the contestant and its rate differ.
    Returns one row per run and epoch: ``contestant``, ``learning_rate``, ``epoch``, ``val_accuracy``
    (long format; see :func:`sweep_table`, :func:`best_rates` and :func:`race_curves`).
    """
    x, y = data.stratified_subset(split.x_train, split.y_train, budget.train_size, seed=seed)
    x_val, y_val = split.x_val[: budget.val_size], split.y_val[: budget.val_size]
    config.set_seed(seed)
    start = build()
    rows = []
    for name, contestant in contestants.items():
        labels, val_labels = (data.one_hot(y), data.one_hot(y_val)) if contestant.one_hot else (y, y_val)
        metric = keras.metrics.CategoricalAccuracy(name="accuracy") if contestant.one_hot else "accuracy"
        for rate in budget.rates[name]:
            config.set_seed(seed)  # the same shuffling for every run
            model = twin(start)
            # jit_compile off: compiling with XLA takes longer than these few hundred steps save.
            model.compile(
                optimizer=contestant.optimizer(rate), loss=contestant.loss, metrics=[metric], jit_compile=False
            )
            history = model.fit(
                x, labels, batch_size=budget.batch_size, epochs=budget.epochs,
                validation_data=(x_val, val_labels), verbose=0,
            )
            for epoch, accuracy in enumerate(history.history["val_accuracy"], start=1):
                rows.append({"contestant": name, "learning_rate": rate, "epoch": epoch, "val_accuracy": accuracy})
    return pd.DataFrame(rows)


def _final_epoch(sweep: pd.DataFrame) -> pd.DataFrame:
    return sweep[sweep["epoch"] == sweep["epoch"].max()]


def best_rates(sweep: pd.DataFrame) -> pd.Series:
    """Each contestant's learning rate with the highest final validation accuracy (ties: the smaller rate)."""
    final = _final_epoch(sweep).sort_values(["contestant", "learning_rate"])
    best = final.loc[final.groupby("contestant", sort=False)["val_accuracy"].idxmax()]
    return best.set_index("contestant")["learning_rate"].reindex(sweep["contestant"].unique())


def sweep_table(sweep: pd.DataFrame) -> pd.DataFrame:
    """Final validation accuracy of every run, one row per (contestant, learning rate), the best of each marked.

    ``edge`` says the best rate is the smallest or largest of its grid: the true best may lie outside it.
    """
    final = _final_epoch(sweep).set_index(["contestant", "learning_rate"])[["val_accuracy"]].copy()
    best = best_rates(sweep)
    final["best"] = [best[name] == rate for name, rate in final.index]
    grids = sweep.groupby("contestant")["learning_rate"].agg(["min", "max"])
    final["edge"] = [
        bool(is_best) and rate in (grids.loc[name, "min"], grids.loc[name, "max"])
        for (name, rate), is_best in zip(final.index, final["best"], strict=True)
    ]
    return final


def race_curves(sweep: pd.DataFrame) -> pd.DataFrame:
    """Validation accuracy per epoch of every contestant at its best rate; columns named ``"name (rate)"``."""
    curves = {}
    for name, rate in best_rates(sweep).items():
        run = sweep[(sweep["contestant"] == name) & (sweep["learning_rate"] == rate)]
        curves[f"{name} ({rate:g})"] = run.set_index("epoch")["val_accuracy"]
    frame = pd.DataFrame(curves)
    frame.index.name = "epoch"
    return frame


# --------------------------------------------------------------------------- data and fitting


@dataclass
class Split:
    """Images already as CNN input (float32, (N, 28, 28, 1)) and integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def prepare_data(train_size: int | None = None, seed: int = config.SEED, arrays=None) -> Split:
    """MNIST as train / validation / test.

    ``train_size`` training digits (all 60,000 when None) are drawn class-balanced, then
    10 % of them are held out for validation; the 10,000 test digits are never used
    while training. ``arrays`` (the output of ``load_mnist()``) may be given to avoid
    reading the file again.
    """
    (x_train, y_train), (x_test, y_test) = arrays if arrays is not None else data.load_mnist()
    x_train, y_train = data.stratified_subset(x_train, y_train, train_size, seed=seed)
    x_tr, x_val, y_tr, y_val = data.train_validation_split(x_train, y_train, VALIDATION_FRACTION, seed=seed)
    return Split(
        data.to_cnn_input(x_tr),
        np.asarray(y_tr),
        data.to_cnn_input(x_val),
        np.asarray(y_val),
        data.to_cnn_input(x_test),
        np.asarray(y_test),
    )


@dataclass
class TrainingResult:
    """What a training run produced: the trained model, its history and timings."""

    model: keras.Model
    history: pd.DataFrame
    train_seconds: float
    checkpoint_path: Path
    test_accuracy: float | None = None
    test_loss: float | None = None

    @property
    def epochs(self) -> int:
        return len(self.history)


def scratch_checkpoint_path(model: keras.Model) -> Path:
    """A checkpoint file of its own for a fit that names none, in a fresh temporary folder.

    Unique per run: two notebooks (or test workers) fitting models of the same name at the same
    time would otherwise share one HDF5 file, and HDF5 refuses a file another process has open.
    """
    return Path(tempfile.mkdtemp(prefix="mnistlab-fit-")) / f"{model.name}.weights.h5"


def augmentation_for(model: keras.Model, augment: augmentation.Settings | None | str = "recipe"):
    """The augmentation ``model`` trains with: ``"recipe"`` means the default model's, none for the others."""
    if augment == "recipe":
        return augmentation.DEFAULT if uses_recipe(model) else None
    if augment is not None and not isinstance(augment, augmentation.Settings):
        raise ValueError(f"augment must be 'recipe', None or augmentation.Settings, got {augment!r}")
    return augment


def fit(
    model: keras.Model,
    split: Split,
    epochs: int,
    batch_size: int,
    checkpoint_path: Path | None = None,
    backup_dir: Path | None = None,
    verbose: int | str = "auto",
    extra_callbacks: list | None = None,
    augment: augmentation.Settings | None | str = "recipe",
    seed: int = config.SEED,
) -> TrainingResult:
    """Compile ``model`` (see :func:`compile_model`) and fit it with the course callbacks.

    The training digits come from :func:`mnistlab.augmentation.training_batches`: shuffled
    every epoch and, for the default recipe (``augment="recipe"``, or given
    :class:`~mnistlab.augmentation.Settings`), augmented on the fly outside the model, from
    ``seed``. The validation set drives checkpointing and early stopping. The returned model
    holds the weights of the best validation epoch, except for the default recipe, whose
    learning-rate schedule makes the last epoch the one to keep (the checkpoint of the best
    epoch is still written, so a crash loses nothing). With ``backup_dir``, a run that was
    interrupted resumes after its last finished epoch, and its history covers the whole run.
    ``extra_callbacks`` (e.g. :class:`EpochPrinter`) run after the course callbacks.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be at least 1, got epochs={epochs}, batch_size={batch_size}")
    checkpoint_path = Path(checkpoint_path) if checkpoint_path is not None else scratch_checkpoint_path(model)
    steps = augmentation.steps_per_epoch(len(split.x_train), batch_size)
    compile_model(model, total_steps=max(steps * epochs, 2))
    resumed = backed_up_epochs(backup_dir)
    log = EpochLog(backup_history_path(backup_dir) if backup_dir is not None else None, resumed)
    best_so_far = None
    if resumed and checkpoint_path.is_file() and log.rows:
        best_so_far = max(row.get("val_accuracy", float("-inf")) for row in log.rows)
    callbacks = make_callbacks(checkpoint_path, backup_dir, best_so_far=best_so_far) + [log]
    batches = augmentation.training_batches(
        split.x_train,
        prepare_labels(model, split.y_train),
        batch_size,
        seed,
        augmentation_for(model, augment),
        first_epoch=resumed,  # BackupAndRestore resumes the epoch count at the same place
    )
    start = time.perf_counter()
    model.fit(
        batches,
        steps_per_epoch=steps,
        epochs=epochs,
        validation_data=(split.x_val, prepare_labels(model, split.y_val)),
        validation_batch_size=VALIDATION_BATCH_SIZE,
        callbacks=callbacks + list(extra_callbacks or []),
        verbose=verbose,
        shuffle=False,  # training_batches shuffles every epoch itself
    )
    seconds = time.perf_counter() - start
    # Tutorial models (constant learning rate) go back to their best validation epoch. The default
    # recipe's cosine schedule ends with tiny steps, so its last epoch is the intended result, and
    # choosing among the final epochs by 6,000 validation digits mostly picks noise.
    if checkpoint_path.is_file() and not uses_recipe(model):
        model.load_weights(str(checkpoint_path))
    return TrainingResult(model, log.frame(), seconds, checkpoint_path)


def accuracy_and_loss(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, batch_size: int = 1000
) -> tuple[float, float]:
    """``(accuracy, loss)`` on integer-labelled digits; the loss is plain cross-entropy for every model.

    Computed by :func:`mnistlab.evaluation.evaluate` (which returns a whole ``Evaluation``),
    so they are the numbers notebook 05 reports.
    """
    scores = evaluation.evaluate(model, images, labels, batch_size=batch_size)
    return scores.accuracy, scores.loss


def train(
    name: str = "default",
    epochs: int | None = None,
    batch_size: int | None = None,
    train_size: int | None | str = "budget",
    seed: int = config.SEED,
    verbose: int | str = "auto",
    split: Split | None = None,
    checkpoint_path: Path | None = None,
    backup_dir: Path | None = None,
    save_to: Path | None = None,
    extra_callbacks: list | None = None,
    plan: config.Budget | None = None,
) -> TrainingResult:
    """Build, train and test-evaluate one architecture of :data:`mnistlab.models.MODELS`.

    With ``save_to``, the deployable model is saved as soon as training ends, before the
    test evaluation, so nothing that happens afterwards can lose the trained model; its
    per-epoch history goes next to it (see :func:`history_path`).

    Everything not given comes from the budget ``plan`` (default: ``config.budget()``, the
    one place where fast mode changes how much is trained). A ready ``split`` (see
    :func:`prepare_data`) overrides ``train_size``.
    """
    plan = plan or config.budget()
    epochs = plan.epochs if epochs is None else epochs
    batch_size = plan.batch_size if batch_size is None else batch_size
    if train_size == "budget":
        train_size = plan.train_size
    config.set_seed(seed)
    if split is None:
        split = prepare_data(train_size, seed=seed)
    model = models.build_model(name)
    result = fit(model, split, epochs, batch_size, checkpoint_path, backup_dir, verbose, extra_callbacks, seed=seed)
    if save_to is not None:
        save_deployable(result.model, save_to)
        # Here rather than in each caller, so a model saved by any route keeps the history notebook 04 plots.
        result.history.to_csv(history_path(save_to))
    result.test_accuracy, result.test_loss = accuracy_and_loss(result.model, split.x_test, split.y_test)
    return result


# --------------------------------------------------------------------------- saving and loading


def save_deployable(model: keras.Model, path: str | os.PathLike) -> Path:
    """Save ``model`` as a ``.keras`` file without optimizer state (what a deployed model needs).

    Keras' ``.keras`` format always stores the optimizer of a compiled model (Adam keeps two
    extra numbers per weight, tripling the file). The deployable copy is a fresh,
    uncompiled model built from the same configuration, holding the same weights.
    """
    path = Path(path)
    if path.suffix != ".keras":
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


def load_model(path: str | os.PathLike) -> keras.Model:
    """Load a saved ``.keras`` model, with a clear message when the file is missing or damaged."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(
            f"No saved model at {path}. Train one first (python -m mnistlab train, or "
            f"mnistlab.training.load_or_train_default()), or check the path."
        )
    if path.suffix != ".keras" or not zipfile.is_zipfile(path):
        raise ModelFileError(
            f"{path} is not a Keras 3 model file (.keras zip archive); it may be truncated or "
            f"another format. Delete it and train again."
        )
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for damaged archives
        raise ModelFileError(
            f"Could not load the model in {path} ({type(error).__name__}: {error}). "
            f"The file is damaged or was saved by an incompatible version; delete it and train again."
        ) from error


def default_model_path(plan: config.Budget | None = None) -> Path:
    """Where the default model of a budget is saved, e.g. ``models/default_cnn-v4-full-60k-12ep.keras``.

    The name holds the mode, the architecture version and the budget that trains it, so
    a change to any of them never loads a model trained for another configuration.
    ``plan`` defaults to the current mode's budget.
    """
    plan = plan or config.budget()
    size = f"{(plan.train_size or 60_000) // 1000}k"
    name = f"default_cnn-{models.DEFAULT_ARCHITECTURE_VERSION}-{plan.name}-{size}-{plan.epochs}ep"
    return config.models_dir() / f"{name}.keras"


# Recorded, not measured here: the full budget (54,000 digits x 12 epochs) took a median 113 s on a quiet
# 2-core CPU (python benchmarks/train_models.py, benchmarks/results/train_models.csv; see config.FULL). Only
# used to tell a learner roughly how long the first training of the default model will take.
RECORDED_DIGITS_PER_SECOND = 54_000 * 12 / 113


def training_digits(plan: config.Budget) -> int:
    """How many digits the default model trains on under ``plan`` (the budget's subset minus validation)."""
    return round((plan.train_size or 60_000) * (1 - VALIDATION_FRACTION))


def estimated_training_seconds(plan: config.Budget | None = None) -> float:
    """Rough wall time of training the default model with ``plan`` (default: the current budget) on 2 CPU cores."""
    plan = plan or config.budget()
    return training_digits(plan) * plan.epochs / RECORDED_DIGITS_PER_SECOND


def _rough_duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def load_or_train_default(verbose: int | str = 0, print_to=print) -> keras.Model:
    """The trained default model for the current mode: loaded if saved, else trained now and saved.

    Later notebooks call this so that each runs on its own in a fresh kernel: the first
    call trains (minutes in full mode, seconds in fast mode), every later call loads
    the file. When it trains, it says so first (why, roughly how long, where the model
    goes) and prints one line per epoch, so a notebook never sits silent for minutes.
    Training keeps a checkpoint of the best weights and a backup of its state, so an
    interrupted run resumes where it stopped.
    """
    path = default_model_path()
    if path.is_file():
        return load_model(path)
    # Two notebooks open at once (or two test workers) must not both train it into the same files:
    # the first trains, the others wait for it and then load what it saved.
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path.with_name(path.name + ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print_to(f"Another Python process is training the default model into {path} right now; waiting for it.")
        lock.acquire()
    try:
        if path.is_file():  # the other process has finished it
            return load_model(path)
        return _train_default(path, verbose, print_to)
    finally:
        lock.release()


def _train_default(path: Path, verbose: int | str, print_to) -> keras.Model:
    plan = config.budget()
    checkpoint_path, backup_dir = training_state_paths(path)
    print_to(
        f"No trained default model for {plan.name} mode yet, so it is trained now, once: "
        f"{training_digits(plan):,} digits × "
        f"{plan.epochs} epochs, roughly {_rough_duration(estimated_training_seconds(plan))} on a 2-core CPU "
        f"(longer on a busy one). It will be saved to {path}; later calls load that file."
    )
    done = backed_up_epochs(backup_dir)
    if done:
        print_to(resume_message(done, plan.epochs, backup_dir))
    train(
        "default",
        verbose=verbose,
        checkpoint_path=checkpoint_path,
        backup_dir=backup_dir,
        save_to=path,
        extra_callbacks=[EpochPrinter(plan.epochs, print_to)],
    )
    print_to(f"Saved the default model to {path}.")
    return load_model(path)


def resume_message(done: int, epochs: int, backup_dir: Path) -> str:
    """What a run that resumes from a backup says first."""
    return (
        f"Resuming an interrupted run from its backup ({backup_dir}): {done} of {epochs} epochs were finished, "
        f"training goes on with epoch {min(done + 1, epochs)}."
    )


def training_state_paths(model_path: str | os.PathLike) -> tuple[Path, Path]:
    """``(checkpoint file, backup folder)`` of the run that trains the model saved at ``model_path``.

    Named after the model file, so an interrupted run resumes only the training of that
    same file (``python -m mnistlab train`` and :func:`load_or_train_default` share them).
    """
    stem = Path(model_path).name.removesuffix(".keras")
    work = config.models_dir() / "checkpoints"
    return work / f"{stem}.weights.h5", work / f"{stem}-backup"


def history_path(model_path: str | os.PathLike) -> Path:
    """The per-epoch history (CSV) that :func:`train` writes next to a model it saves."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name.removesuffix(".keras") + "-history.csv")


def default_history_path() -> Path:
    """The per-epoch history (CSV) written next to the default model when it was trained."""
    return history_path(default_model_path())


def load_model_history(model_path: str | os.PathLike) -> pd.DataFrame | None:
    """The per-epoch history saved next to the model at ``model_path``, or None if there is none."""
    path = history_path(model_path)
    if not path.is_file():
        return None
    return pd.read_csv(path, index_col="epoch")


def load_default_history() -> pd.DataFrame | None:
    """The training history of the saved default model, or None if it was not trained here."""
    return load_model_history(default_model_path())


def file_size_mb(path: str | os.PathLike) -> float:
    """Size of a file in megabytes (10^6 bytes)."""
    return Path(path).stat().st_size / 1e6
