"""The capstone's protocol tools: test digits behind a guard that records each look, a training budget, a report."""

# Notebook 09 asks the learner to design, train and report a CNN the way a study should: choose on the
# validation digits, train within a time budget, look at the test digits once. These helpers make each of
# those steps *recorded*, so a self-check can verify the protocol and recompute the reported numbers from
# what was measured (mnistlab.exercises.capstone_checks).

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import numpy as np

from mnistlab import config, data, statistics

# A fit stopped by the budget still finishes the batch it is on and the validation pass of that epoch,
# so "kept" allows this much on top of the budget: a few seconds, or a tenth of a long budget.
GRACE_SECONDS = 5.0
GRACE_FRACTION = 0.1


# --------------------------------------------------------------------------- the digits


@dataclass(frozen=True)
class Development:
    """The digits a learner may use as often as they like while designing: training and validation."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


@dataclass(frozen=True)
class Look:
    """One look at the test digits: which model looked, and its predicted label for every test digit."""

    model_name: str
    predictions: np.ndarray


class TestSet:
    """The test digits behind a guard: every prediction made on them is recorded in :attr:`looks`.

    The images are kept inside; :meth:`predict` and :meth:`evaluate` run a model on them and write
    down the answers. A study that looks once, at the end, has ``touches == 1``; each extra look is a
    chance to tune on the test digits, which makes the reported accuracy optimistic. The labels are
    public (they are needed to score a look) and read-only.
    """

    __test__ = False  # a class named Test* is not a pytest test class

    def __init__(self, images, labels):
        images, labels = np.asarray(images), np.asarray(labels).copy()
        if len(images) != len(labels):
            raise ValueError(f"a test set needs one label per image, got {len(images)} images and {len(labels)} labels")
        labels.setflags(write=False)
        self._images = images
        self.labels = labels
        self.looks: list[Look] = []

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return f"TestSet({len(self):,} digits, looked at {self.touches} time{'s' if self.touches != 1 else ''})"

    @property
    def touches(self) -> int:
        """How many times a model has been run on the test digits."""
        return len(self.looks)

    def predict(self, model, batch_size: int = 1000) -> np.ndarray:
        """The predicted label of every test digit (``argmax`` of ``model.predict``); the look is recorded."""
        probabilities = np.asarray(model.predict(self._images, batch_size=batch_size, verbose=0))
        predictions = probabilities.argmax(axis=-1)
        predictions.setflags(write=False)
        self.looks.append(Look(str(getattr(model, "name", type(model).__name__)), predictions))
        return predictions.copy()

    def evaluate(self, model, batch_size: int = 1000) -> statistics.Accuracy:
        """The test accuracy of ``model`` with its 95 % Wilson interval; the look is recorded."""
        return statistics.accuracy_interval(self.labels, self.predict(model, batch_size))


def predict_labels(model, images, batch_size: int = 1000) -> np.ndarray:
    """The predicted label (``argmax``) of every image, calling ``model`` directly on batches of ``batch_size``.

    A study predicts with many freshly trained models; ``model.predict`` builds a new TensorFlow graph
    for each, and after a few TensorFlow warns about "retracing". Calling the model batch by batch
    (with ``training=False``, so batch normalisation uses its running averages) builds none.
    """
    images = np.asarray(images)
    labels = [keras.ops.convert_to_numpy(model(images[start : start + batch_size], training=False)).argmax(axis=-1)
              for start in range(0, len(images), batch_size)]
    return np.concatenate(labels) if labels else np.zeros(0, dtype=int)


def load(train_size: int | None = None, seed: int = config.SEED, arrays=None) -> tuple[Development, TestSet]:
    """MNIST as the capstone uses it: ``Development`` digits (training + 10 % validation) and a guarded ``TestSet``.

    ``train_size`` class-balanced training digits (None: all 60,000) are split as
    :func:`mnistlab.data.split_mnist` does; the test set is all 10,000 test digits.
    """
    split = data.split_mnist(train_size, seed, arrays)
    return Development(split.x_train, split.y_train, split.x_val, split.y_val), TestSet(split.x_test, split.y_test)


# --------------------------------------------------------------------------- the budget


class BudgetTimer(keras.callbacks.Callback):
    """Stops training once ``seconds`` of it are spent, and records the time, steps and epochs it watched.

    The clock starts when a fit's first batch is done: during that batch Keras builds the model's
    graph, which takes a few seconds that depend on the machine, not on the design (:attr:`wall_seconds`
    includes them). It is read after every batch, so a fit ends at most one batch after the budget runs
    out (plus the validation pass, if any, Keras runs at the end of that epoch: :attr:`kept` allows for
    both). One timer may watch several fits: they share its budget, and :attr:`seconds` is their total.
    :attr:`steps_per_second` is the measured training speed: use it to plan how many epochs fit a budget.
    """

    def __init__(self, seconds: float):
        super().__init__()
        if not seconds > 0:
            raise ValueError(f"a budget must be a positive number of seconds, got {seconds!r}")
        self.budget = float(seconds)
        self.seconds = 0.0  # training time counted against the budget, over every fit watched
        self.wall_seconds = 0.0  # whole fits, graph building included
        self.fits = 0
        self.steps = 0
        self.epochs = 0  # epochs ended, the one the budget cut short included
        self.stopped = False  # True once the budget ended a fit
        self._batch_seconds = 0.0
        self._timed_steps = 0
        self._fit_start: float | None = None
        self._clock_start: float | None = None  # end of the fit's first batch
        self._batch_start = 0.0

    def _spent(self, now: float) -> float:
        running = now - self._clock_start if self._clock_start is not None else 0.0
        return self.seconds + running

    def on_train_begin(self, logs=None):
        self._fit_start, self._clock_start = time.perf_counter(), None
        self.fits += 1

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.steps += 1
        if self._clock_start is None:
            self._clock_start = now
        else:
            self._batch_seconds += now - self._batch_start
            self._timed_steps += 1
        if self._spent(now) >= self.budget:
            self.model.stop_training = True
            self.stopped = True

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1

    def on_train_end(self, logs=None):
        now = time.perf_counter()
        self.seconds = self._spent(now)
        if self._fit_start is not None:
            self.wall_seconds += now - self._fit_start
        self._fit_start = self._clock_start = None

    @property
    def grace(self) -> float:
        """Seconds allowed past the budget: the batch running when it ran out and a validation pass after it."""
        return max(GRACE_SECONDS, GRACE_FRACTION * self.budget)

    @property
    def kept(self) -> bool:
        """Whether the fits it watched stayed within the budget (plus :attr:`grace`)."""
        return self.seconds <= self.budget + self.grace

    @property
    def steps_per_second(self) -> float:
        """Training steps per second, measured on every batch but each fit's first (NaN before two steps)."""
        return self._timed_steps / self._batch_seconds if self._batch_seconds > 0 else float("nan")

    def __str__(self) -> str:
        ending = ", stopped by the budget" if self.stopped else ""
        return (
            f"{self.seconds:.1f} s of a {self.budget:g} s budget ({self.wall_seconds:.1f} s with graph building): "
            f"{self.steps:,} steps, {self.epochs} epoch(s) in {self.fits} fit(s){ending}"
        )


# --------------------------------------------------------------------------- the ablation and the report


@dataclass
class Ablation:
    """One ablation: a design trained with and without one ingredient from each seed, scored on validation digits.

    ``with_ingredient[i]`` and ``without_ingredient[i]`` are the predicted validation labels of the
    two models trained from ``seeds[i]``.
    """

    removed: str
    seeds: list[int] = field(default_factory=list)
    with_ingredient: list[np.ndarray] = field(default_factory=list)
    without_ingredient: list[np.ndarray] = field(default_factory=list)

    def add(self, seed: int, with_predictions, without_predictions) -> None:
        """Record one seed's pair of runs."""
        self.seeds.append(int(seed))
        self.with_ingredient.append(np.asarray(with_predictions))
        self.without_ingredient.append(np.asarray(without_predictions))


VERDICTS = ("helps", "hurts", "no evidence")


@dataclass
class Report:
    """The capstone's result, filled in from measured values (the self-check recomputes every number).

    Accuracies are fractions (0.9931, not 99.31); ``accuracy_with``/``accuracy_without`` are means over
    the ablation's seeds, on validation digits; ``p_value`` is McNemar's test on the ablation's paired
    answers; ``verdict`` is one of :data:`VERDICTS`.
    """

    model: str
    test_accuracy: float
    low: float
    high: float
    test_digits: int
    train_seconds: float
    removed: str
    seeds: list[int]
    accuracy_with: float
    accuracy_without: float
    p_value: float
    verdict: str
    conclusion: str = ""

    def __str__(self) -> str:
        return "\n".join(
            [
                f"model: {self.model}, trained for {self.train_seconds:.0f} s",
                f"test accuracy: {100 * self.test_accuracy:.2f} % "
                f"(95 % CI {100 * self.low:.2f}–{100 * self.high:.2f} %, {self.test_digits:,} test digits)",
                f"ablation, without {self.removed} (seeds {', '.join(map(str, self.seeds))}, validation digits): "
                f"{100 * self.accuracy_with:.2f} % with, {100 * self.accuracy_without:.2f} % without, "
                f"McNemar p = {self.p_value:.3g}; verdict on {self.removed}: {self.verdict}",
                self.conclusion,
            ]
        ).rstrip()
