"""Compile and fit with the course callbacks, following an architecture's recipe; train the default model."""

# What to train and how comes from :mod:`mnistlab.architectures` (the recipe), how much from
# :mod:`mnistlab.config` (the budget), where models are saved and loaded from :mod:`mnistlab.store`.

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from mnistlab import architectures, augmentation, config, data, decision, evaluation, models, store
from mnistlab.architectures import Recipe

# The recipes' numbers, for notebooks that quote them (the recipes themselves are in mnistlab.architectures).
PEAK_LEARNING_RATE = architectures.DEFAULT_RECIPE.learning_rate  # AdamW warms up to this rate, then cosine decay
WEIGHT_DECAY = architectures.DEFAULT_RECIPE.weight_decay
LABEL_SMOOTHING = architectures.DEFAULT_RECIPE.label_smoothing
BASELINE_LEARNING_RATE = architectures.TUTORIAL.learning_rate  # the tutorial architectures: plain Adam
VALIDATION_BATCH_SIZE = 1000  # prediction only: large batches cost less per digit, and batch norm uses its averages

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


def make_optimizer(recipe: Recipe, total_steps: int | None = None) -> keras.optimizers.Optimizer:
    """The optimizer ``recipe`` names: Adam at a constant rate, or AdamW on :func:`warmup_cosine_schedule`."""
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(recipe.learning_rate)
    if total_steps is None:
        raise ValueError("an AdamW recipe needs total_steps to lay out its learning-rate schedule")
    schedule = warmup_cosine_schedule(total_steps, peak=recipe.learning_rate)
    return keras.optimizers.AdamW(schedule, weight_decay=recipe.weight_decay)


def make_loss(recipe: Recipe) -> keras.losses.Loss:
    """Cross-entropy on the recipe's label format: sparse on integers, or on one-hot rows with label smoothing."""
    if recipe.one_hot:
        return keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy()


def compile_model(
    model: keras.Model, total_steps: int | None = None, recipe: Recipe = architectures.TUTORIAL
) -> keras.Model:
    """Compile ``model`` with the optimizer and loss of ``recipe`` (see :mod:`mnistlab.architectures`).

    * the default model's recipe (``architectures.DEFAULT_RECIPE``): AdamW (Adam + decoupled
      weight decay) following :func:`warmup_cosine_schedule` over ``total_steps``, and categorical
      cross-entropy with label smoothing 0.1 (targets of 0.91 / 0.01 instead of 1 / 0, which
      keeps the network from becoming over-confident); its labels must be one-hot (see
      :func:`prepare_labels`);
    * the tutorial recipe (``architectures.TUTORIAL``, the default): Adam at 1e-3 and sparse
      categorical cross-entropy on integer labels, as in the tutorials the small models come from.
    """
    metrics = [DigitAccuracy()] if recipe.outliers else ["accuracy"]
    model.compile(optimizer=make_optimizer(recipe, total_steps), loss=make_loss(recipe), metrics=metrics)
    return model


class DigitAccuracy(keras.metrics.Metric):
    """Accuracy on the digits of a batch only, logged as ``accuracy``: outlier exposure's non-digits (uniform
    target rows) have no right answer, so counting them would make the training curve meaningless."""

    def __init__(self, name: str = "accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.right = self.add_variable(shape=(), initializer="zeros", name="right")
        self.digits = self.add_variable(shape=(), initializer="zeros", name="digits")

    def update_state(self, y_true, y_pred, sample_weight=None):
        ops = keras.ops
        is_digit = ops.cast(ops.max(y_true, axis=-1) > 0.5, "float32")  # a one-hot row, not a uniform one
        right = ops.cast(ops.argmax(y_true, axis=-1) == ops.argmax(y_pred, axis=-1), "float32") * is_digit
        self.right.assign_add(ops.sum(right))
        self.digits.assign_add(ops.sum(is_digit))

    def result(self):
        return keras.ops.divide_no_nan(self.right, self.digits)

    def reset_state(self):
        self.right.assign(0.0)
        self.digits.assign(0.0)


def prepare_labels(labels: np.ndarray, recipe: Recipe = architectures.TUTORIAL) -> np.ndarray:
    """Integer labels as ``recipe``'s loss wants them: one-hot, or unchanged."""
    return data.one_hot(labels) if recipe.one_hot else np.asarray(labels)


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
            mode="max",  # Keras cannot tell the direction of a custom metric (DigitAccuracy) by itself
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


def twin(model: keras.Model) -> keras.Model:
    """A second, independent model with the same architecture and the same current weights."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


# --------------------------------------------------------------------------- data and fitting


@dataclass
class TrainingResult:
    """What a training run produced: the trained model, its history and timings."""

    model: keras.Model
    history: pd.DataFrame
    train_seconds: float
    checkpoint_path: Path | None  # None: the run used a scratch checkpoint, already removed
    test_accuracy: float | None = None
    test_loss: float | None = None
    rule: decision.DecisionRule | None = None  # fitted on the validation digits and saved with the model (train)

    @property
    def epochs(self) -> int:
        return len(self.history)


def scratch_checkpoint_path(model: keras.Model) -> Path:
    """A checkpoint file of its own for a fit that names none, in a fresh temporary folder.

    Unique per run: two notebooks (or test workers) fitting models of the same name at the same
    time would otherwise share one HDF5 file, and HDF5 refuses a file another process has open.
    """
    return Path(tempfile.mkdtemp(prefix="mnistlab-fit-")) / f"{model.name}.weights.h5"


def augmentation_for(recipe: Recipe, augment: augmentation.Settings | None | str = "recipe"):
    """The augmentation a run uses: ``"recipe"`` means ``recipe``'s (the course default or none)."""
    if augment == "recipe":
        return augmentation.DEFAULT if recipe.augment else None
    if augment is not None and not isinstance(augment, augmentation.Settings):
        raise ValueError(f"augment must be 'recipe', None or augmentation.Settings, got {augment!r}")
    return augment


def training_examples(
    split: data.Split, recipe: Recipe, seed: int = config.SEED, pool: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The images and targets ``fit`` trains on: the training digits with ``recipe``'s labels, plus, for outlier
    exposure (``recipe.outliers``), generated non-digits (:func:`mnistlab.outliers.generate`) whose target is
    the uniform distribution over the ten digits. At most ``pool`` (default: the budget's ``outlier_pool``)
    distinct non-digits are generated and repeated as needed. The validation and test splits stay digits only."""
    labels = prepare_labels(split.y_train, recipe)
    count = round(recipe.outliers * len(split.x_train))
    if count == 0:
        return split.x_train, labels
    from mnistlab import outliers  # imports the image pipeline: only when a recipe asks for it

    pool = config.budget().outlier_pool if pool is None else pool
    distinct = outliers.generate(min(count, max(pool, 1)), seed, digits=split.x_train)
    others = np.resize(distinct, (count, *distinct.shape[1:]))  # repeats the distinct ones in order
    uniform = np.full((count, data.NUM_CLASSES), 1 / data.NUM_CLASSES, dtype=labels.dtype)
    return np.concatenate([split.x_train, others]), np.concatenate([labels, uniform])


def fit(
    model: keras.Model,
    split: data.Split,
    epochs: int,
    batch_size: int,
    checkpoint_path: Path | None = None,
    backup_dir: Path | None = None,
    verbose: int | str = "auto",
    extra_callbacks: list | None = None,
    augment: augmentation.Settings | None | str = "recipe",
    seed: int = config.SEED,
    recipe: Recipe = architectures.TUTORIAL,
) -> TrainingResult:
    """Compile ``model`` with ``recipe`` (see :func:`compile_model`) and fit it with the course callbacks.

    The training digits come from :func:`mnistlab.augmentation.training_batches`: shuffled
    every epoch and, when the recipe augments (``augment="recipe"``) or ``augment`` gives
    :class:`~mnistlab.augmentation.Settings`, augmented on the fly outside the model, from
    ``seed``. The validation set drives checkpointing and early stopping. The returned model
    holds the weights the recipe keeps: the best validation epoch, or the last one for a
    recipe whose learning-rate schedule makes the last epoch the intended result (the
    checkpoint of the best epoch is still written, so a crash loses nothing). With ``backup_dir``, a run that was
    interrupted resumes after its last finished epoch, and its history covers the whole run.
    ``extra_callbacks`` (e.g. :class:`EpochPrinter`) run after the course callbacks.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be at least 1, got epochs={epochs}, batch_size={batch_size}")
    scratch = checkpoint_path is None  # a checkpoint of its own, removed once the kept weights are in the model
    checkpoint_path = scratch_checkpoint_path(model) if scratch else Path(checkpoint_path)
    x_train, y_train = training_examples(split, recipe, seed)
    steps = augmentation.steps_per_epoch(len(x_train), batch_size)
    compile_model(model, total_steps=max(steps * epochs, 2), recipe=recipe)
    resumed = backed_up_epochs(backup_dir)
    log = EpochLog(backup_history_path(backup_dir) if backup_dir is not None else None, resumed)
    best_so_far = None
    if resumed and checkpoint_path.is_file() and log.rows:
        best_so_far = max(row.get("val_accuracy", float("-inf")) for row in log.rows)
    callbacks = make_callbacks(checkpoint_path, backup_dir, best_so_far=best_so_far) + [log]
    batches = augmentation.training_batches(
        x_train,
        y_train,
        batch_size,
        seed,
        augmentation_for(recipe, augment),
        first_epoch=resumed,  # BackupAndRestore resumes the epoch count at the same place
    )
    try:
        start = time.perf_counter()
        model.fit(
            batches,
            steps_per_epoch=steps,
            epochs=epochs,
            validation_data=(split.x_val, prepare_labels(split.y_val, recipe)),
            validation_batch_size=VALIDATION_BATCH_SIZE,
            callbacks=callbacks + list(extra_callbacks or []),
            verbose=verbose,
            shuffle=False,  # training_batches shuffles every epoch itself
        )
        seconds = time.perf_counter() - start
        # Tutorial models (constant learning rate) go back to their best validation epoch. The default
        # recipe's cosine schedule ends with tiny steps, so its last epoch is the intended result, and
        # choosing among the final epochs by 6,000 validation digits mostly picks noise.
        if checkpoint_path.is_file() and recipe.keep == "best":
            model.load_weights(str(checkpoint_path))
    finally:
        if scratch:  # also after an error or Ctrl-C: nothing else will ever read this checkpoint
            shutil.rmtree(checkpoint_path.parent, ignore_errors=True)
    return TrainingResult(model, log.frame(), seconds, None if scratch else checkpoint_path)


def accuracy_and_loss(
    model: keras.Model, images: np.ndarray, labels: np.ndarray, batch_size: int = 1000
) -> tuple[float, float]:
    """``(accuracy, loss)`` on integer-labelled digits; the loss is plain cross-entropy for every model.

    Computed by :func:`mnistlab.evaluation.evaluate` (which returns a whole ``Evaluation``),
    so they are the numbers notebook 05 reports.
    """
    scores = evaluation.evaluate(model, images, labels, batch_size=batch_size)
    return scores.accuracy, scores.loss


def fit_briefly(
    model: keras.Model, images, labels, epochs: int, batch_size: int, recipe: Recipe = architectures.TUTORIAL
) -> float:
    """Compile ``model`` with ``recipe`` and fit it on arrays, nothing else; returns the training seconds.

    For the quick comparisons of the course (k-fold, priors) that score their models once at the end:
    no validation set, no callbacks, no checkpoint. Seed before building ``model`` for repeatable runs.
    """
    steps = augmentation.steps_per_epoch(len(images), batch_size) * epochs
    compile_model(model, total_steps=max(steps, 2), recipe=recipe)
    start = time.perf_counter()
    model.fit(images, prepare_labels(labels, recipe), epochs=epochs, batch_size=batch_size, verbose=0)
    return time.perf_counter() - start



def train(
    name: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    train_size: int | None | str = "budget",
    seed: int = config.SEED,
    verbose: int | str = "auto",
    split: data.Split | None = None,
    checkpoint_path: Path | None = None,
    backup_dir: Path | None = None,
    save_to: Path | None = None,
    extra_callbacks: list | None = None,
    plan: config.Budget | None = None,
) -> TrainingResult:
    """Build, train with its recipe and test-evaluate the registered architecture ``name`` (default: the default model).

    With ``save_to``, the deployable model is saved as soon as training ends, before the
    test evaluation, so nothing that happens afterwards can lose the trained model; its
    per-epoch history goes next to it (see :func:`mnistlab.store.history_path`), and so does its
    decision rule, calibrated on the validation digits (:func:`mnistlab.decision.fit_rule`, ``result.rule``).

    Everything not given comes from the budget ``plan`` (default: ``config.budget()``, the
    one place where fast mode changes how much is trained). A ready ``split`` (see
    :func:`mnistlab.data.split_mnist`) overrides ``train_size``.
    """
    arch = architectures.get(name) if name is not None else architectures.default()
    plan = plan or config.budget()
    epochs = plan.epochs if epochs is None else epochs
    batch_size = plan.batch_size if batch_size is None else batch_size
    if train_size == "budget":
        train_size = plan.train_size
    config.set_seed(seed)
    if split is None:
        split = data.split_mnist(train_size, seed=seed)
    model = models.build(arch)
    result = fit(
        model, split, epochs, batch_size, checkpoint_path, backup_dir, verbose, extra_callbacks, seed=seed,
        recipe=arch.recipe,
    )
    if save_to is not None:
        store.save_deployable(result.model, save_to)
        # Here rather than in each caller, so a model saved by any route keeps the history notebook 04 plots.
        result.history.to_csv(store.history_path(save_to))
        if len(split.y_val):  # fitted on digits the model never trained on, after the model is safe on disk
            probabilities = result.model.predict(split.x_val, batch_size=VALIDATION_BATCH_SIZE, verbose=0)
            result.rule = decision.fit_rule(probabilities, split.y_val)
            decision.save_rule(result.rule, save_to)
    result.test_accuracy, result.test_loss = accuracy_and_loss(result.model, split.x_test, split.y_test)
    return result


# Recorded, not measured here: the full budget's median training time (benchmarks/RESULTS.md, "Training
# budget"). Only used to tell a learner roughly how long the first training of the default model will take.
RECORDED_DIGITS_PER_SECOND = 54_000 * 12 / 113


def training_digits(plan: config.Budget) -> int:
    """How many digits the default model trains on under ``plan`` (the budget's subset minus validation)."""
    return round((plan.train_size or 60_000) * (1 - data.VALIDATION_FRACTION))


def estimated_training_seconds(plan: config.Budget | None = None) -> float:
    """Rough wall time of training the default model with ``plan`` (default: the current budget) on 2 CPU cores."""
    plan = plan or config.budget()
    return training_digits(plan) * plan.epochs / RECORDED_DIGITS_PER_SECOND


def _rough_duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def load_or_train_default(
    verbose: int | str = 0, print_to=print, plan: config.Budget | None = None
) -> keras.Model:
    """The trained default model of ``plan`` (default: the current mode's budget): loaded if saved, else trained now.

    Later notebooks call this so that each runs on its own in a fresh kernel: the first
    call trains (minutes in full mode, seconds in fast mode), every later call loads
    the file. When it trains, it says so first (why, roughly how long, where the model
    goes) and prints one line per epoch, so a notebook never sits silent for minutes.
    Training keeps a checkpoint of the best weights and a backup of its state, so an
    interrupted run resumes where it stopped. Commands never call this: only ``train`` trains.
    """
    plan = plan or config.budget()
    path = store.default_model_path(plan)
    if path.is_file():
        return store.load_model(path)
    with store.model_lock(path, print_to):
        if not path.is_file():  # else another process has just finished it
            _train_default(path, plan, verbose, print_to)
    return store.load_model(path)


def _train_default(path: Path, plan: config.Budget, verbose: int | str, print_to) -> None:
    checkpoint_path, backup_dir = store.training_state_paths(path)
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
        verbose=verbose,
        checkpoint_path=checkpoint_path,
        backup_dir=backup_dir,
        save_to=path,
        extra_callbacks=[EpochPrinter(plan.epochs, print_to)],
        plan=plan,
    )
    print_to(f"Saved the default model to {path}.")


def resume_message(done: int, epochs: int, backup_dir: Path) -> str:
    """What a run that resumes from a backup says first."""
    return (
        f"Resuming an interrupted run from its backup ({backup_dir}): {done} of {epochs} epochs were finished, "
        f"training goes on with epoch {min(done + 1, epochs)}."
    )
