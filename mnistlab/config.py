"""Course settings: fast mode and the budgets it scales, seeds, and project paths."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnistlab.errors import SettingError

FAST_ENV = "MNISTLAB_FAST"
HOME_ENV = "MNISTLAB_HOME"
SEED = 42
_TRUE_WORDS = {"1", "true", "yes", "on"}
_FALSE_WORDS = {"", "0", "false", "no", "off"}


def fast_mode() -> bool:
    """True when ``MNISTLAB_FAST`` asks for the quick, CI-sized run.

    This is the only place the variable is read; everything else asks here, at call time,
    so a notebook or a test can switch modes without restarting Python.
    """
    return _switch(FAST_ENV, "for fast mode", "for the full course")


@contextlib.contextmanager
def fast_mode_forced() -> Iterator[None]:
    """Fast mode inside the block, exactly as ``MNISTLAB_FAST=1`` (the command line's ``--fast``); restored after."""
    previous = os.environ.get(FAST_ENV)
    os.environ[FAST_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(FAST_ENV, None)
        else:
            os.environ[FAST_ENV] = previous


def _switch(name: str, when_on: str, when_off: str) -> bool:
    """An on/off environment variable: unset or 0/false/no/off is off, 1/true/yes/on is on, anything else an error."""
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE_WORDS:
        return True
    if value in _FALSE_WORDS:
        return False
    raise SettingError(
        f"{name}={os.environ[name]!r} is not understood: "
        f"use 1/true/yes/on {when_on} or 0/false/no/off (or unset it) {when_off}."
    )


@dataclass(frozen=True)
class Run:
    """The size of one small training run of a comparison: digits, epochs, batch size, digits scored (None: all)."""

    train_size: int
    epochs: int
    batch_size: int = 64
    val_size: int | None = None


@dataclass(frozen=True)
class Budget:
    """How much work each part of the course does; one instance per mode."""

    name: str
    train_size: int | None  # None means all 60,000 training images
    epochs: int
    batch_size: int
    tuning_trials: int
    tuning_epochs: int
    tuning_train_size: int
    baseline_train_size: int | None
    eval_size: int | None  # test images used by slow analyses (None: all 10,000)
    # RBF SVM training digits: its fit time grows ~quadratically, so it is capped (None: no cap)
    svm_train_size: int | None = None
    # Notebook 06: stratified k-fold of the small CNN (digits, folds, epochs, batch) and transfer learning to
    # load_digits (labels per digit tried, epochs).
    kfold_size: int = 900
    kfold_splits: int = 3
    kfold_epochs: int = 2
    kfold_batch_size: int = 32
    transfer_per_class: tuple[int, ...] = (10,)
    transfer_epochs: int = 10
    # Notebook 09 (capstone): the learner's digits (None: all 60,000, 10 % kept for validation), the wall-clock
    # training budgets in seconds (the final model, each candidate design, each ablation run) and the test accuracy
    # the final model must clear in this mode.
    capstone_train_size: int | None = None
    capstone_seconds: float = 180.0
    capstone_candidate_seconds: float = 30.0
    capstone_ablation_seconds: float = 20.0
    capstone_floor: float = 0.99
    # Notebook 03: the learning-rate range test (mnistlab.rate_finder): mini-batches swept (one rate each, growing
    # exponentially from the first rate to the last), then the short run that tries the rate it picks (training
    # digits, epochs).
    rate_finder_steps: int = 100
    rate_finder_rates: tuple[float, float] = (1e-5, 1.0)
    rate_finder_train_size: int = 10_000
    rate_finder_epochs: int = 2
    # Notebook 04: the tuner's best hyperparameters trained again, without augmentation, to compare with the default
    # model (epochs; training digits, None: the whole training split): a few minutes in full mode, seconds fast.
    tuning_best_epochs: int = 3
    tuning_best_train_size: int | None = None
    # Notebook 06 §5 and its exercises: the small CNN with a Flatten + Dense head and its global-average-pooling
    # twin, each trained once on the same digits (count, epochs) with the same seed.
    blocks_train_size: int = 20_000
    blocks_epochs: int = 5
    # Outlier exposure (architectures.Recipe.outliers): at most this many distinct generated non-digits are made
    # (about 7 ms each); a recipe asking for more repeats them, and augmentation varies every repeat.
    outlier_pool: int = 6_000

    # Library comparisons, each run as config.Run (digits, epochs, batch, digits scored): notebook 02's CNN priors
    # (mnistlab.priors; scored on that many test digits), notebook 03's optimizer race
    # (mnistlab.optimizers; the optimizers try the middle optimizer_race_rates rates of their grids) and
    # notebook 04's regularisation variants (mnistlab.regularisation).
    priors_run: Run = Run(train_size=12_000, epochs=3, batch_size=32, val_size=10_000)
    optimizer_race_run: Run = Run(train_size=10_000, epochs=3)
    optimizer_race_rates: int = 4
    comparison_run: Run = Run(train_size=6_000, epochs=6)
    # Notebook 07 §7 (open-set recognition): the small CNN trained WITHOUT outlier exposure to set beside the
    # default model (training digits, epochs, batch size); both score val_size held-out generated non-digits
    # (mnistlab.outliers, 10-20 ms each to make) against the test digits of eval_size.
    open_set_run: Run = Run(train_size=20_000, epochs=3, batch_size=64, val_size=1_000)

FULL = Budget(
    name="full",
    train_size=None,
    # 12 epochs of batch 128: 10 and 15 epochs and batch 256 were no better beyond seed noise
    # (benchmarks/RESULTS.md, "Training budget").
    epochs=12,
    batch_size=128,
    tuning_trials=10,
    tuning_epochs=3,
    tuning_train_size=20_000,
    baseline_train_size=None,
    eval_size=None,
    svm_train_size=20_000,  # the SVM's fit time grows about quadratically (benchmarks/RESULTS.md, "Baselines")
    kfold_size=6_000,
    kfold_splits=5,
    kfold_epochs=3,
    kfold_batch_size=64,
    transfer_per_class=(5, 10, 25, 50),
    transfer_epochs=30,
)

FAST = Budget(
    name="fast",
    outlier_pool=1_500,
    train_size=30_000,  # default model: about 99 % in well under a minute (benchmarks/RESULTS.md)
    epochs=3,
    batch_size=128,
    tuning_trials=3,
    tuning_epochs=1,
    tuning_train_size=2_000,
    baseline_train_size=3_000,
    eval_size=2_000,
    kfold_size=900,
    kfold_splits=3,
    kfold_epochs=2,
    kfold_batch_size=32,
    transfer_per_class=(10,),
    transfer_epochs=10,
    # a second or three per run on 6,000 digits: the protocol, not the accuracy (the floor only catches a model
    # that did not train; benchmarks/RESULTS.md, "Fast-mode budgets of the course")
    capstone_train_size=6_000,
    capstone_seconds=3.0,
    capstone_candidate_seconds=1.0,
    capstone_ablation_seconds=1.0,
    capstone_floor=0.50,
    # the sweep and each short run cost a second or two here
    rate_finder_steps=30,
    rate_finder_rates=(1e-4, 1.0),
    rate_finder_train_size=2_000,
    rate_finder_epochs=1,
    tuning_best_epochs=1,
    tuning_best_train_size=2_000,
    # two small CNNs trained for a few seconds each (benchmarks/RESULTS.md, "Fast-mode budgets of the course")
    blocks_train_size=5_000,
    blocks_epochs=3,
    # a few seconds each: four priors trainings, eight loss-race runs, eight optimizer-race runs, seven variants
    priors_run=Run(train_size=1_500, epochs=2, batch_size=32, val_size=1_000),
    optimizer_race_run=Run(train_size=1_000, epochs=1, batch_size=32, val_size=1_000),
    optimizer_race_rates=2,
    comparison_run=Run(train_size=1_500, epochs=4, val_size=1_000),
    # a few seconds: the no-outlier-exposure CNN on 4,000 digits and 150 held-out non-digits
    open_set_run=Run(train_size=4_000, epochs=3, batch_size=32, val_size=150),
)


def budget(fast: bool = False) -> Budget:
    """The budget of the current mode (see :func:`fast_mode`): the one place that decides which mode runs.

    ``fast=True`` (a script's ``--fast``) chooses fast mode exactly as ``MNISTLAB_FAST=1`` would.
    """
    return FAST if fast or fast_mode() else FULL


def set_seed(seed: int = SEED) -> None:
    """Seed Python, NumPy and (if it is already imported) Keras/TensorFlow."""
    random.seed(seed)
    np.random.seed(seed)
    import sys

    if "keras" in sys.modules:  # importing Keras costs seconds; seed it only when in use
        sys.modules["keras"].utils.set_random_seed(seed)


def course_folder() -> tuple[Path, str]:
    """``(folder, why)``: where the course reads and writes data, models and figures, and which rule chose it.

    In order: ``$MNISTLAB_HOME`` if set; the mnistlab checkout the working directory is in (or below); the
    checkout this package is imported from (an editable or source install); else the user's data folder
    (platformdirs, e.g. ``~/.local/share/mnistlab`` on Linux). So a package installed with ``pip install .``
    never writes models, data or figures into site-packages.
    """
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser().resolve(), f"${HOME_ENV}"
    with contextlib.suppress(OSError):  # the working directory may have been deleted
        here = Path.cwd().resolve()
        for folder in (here, *here.parents):
            if _is_checkout(folder):
                return folder, "the course checkout of the working directory"
    source = Path(__file__).resolve().parent.parent
    if _is_checkout(source):
        return source, "the course checkout this package runs from"
    import platformdirs

    return Path(platformdirs.user_data_dir("mnistlab", appauthor=False)), (
        f"the user data folder: no course checkout here; set ${HOME_ENV} to choose another"
    )


def _is_checkout(folder: Path) -> bool:
    """A mnistlab project folder: a pyproject.toml naming the mnistlab project, with the package beside it."""
    import tomllib

    pyproject = folder / "pyproject.toml"
    if not (folder / "mnistlab" / "__init__.py").is_file() or not pyproject.is_file():
        return False
    try:
        return tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name") == "mnistlab"
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def repo_root() -> Path:
    """The course folder (see :func:`course_folder`): ``data/``, ``models/`` and ``images/figures/`` live in it."""
    return course_folder()[0]


def data_dir() -> Path:
    """Where the course keeps (or downloads) ``mnist.npz``."""
    return repo_root() / "data"


def images_dir() -> Path:
    """Sample digit images and saved figures live under here."""
    return repo_root() / "images"


def figures_dir() -> Path:
    """Where plot helpers save figures when asked to."""
    return images_dir() / "figures"


def models_dir() -> Path:
    """Where trained models are saved (ignored by git)."""
    return repo_root() / "models"


def notebooks_dir() -> Path:
    """The ordered course notebooks."""
    return repo_root() / "notebooks"


GRADING_ENV = "MNISTLAB_GRADING"


def grading_mode() -> bool:
    """True when ``MNISTLAB_GRADING`` asks for grading: a failed self-check then raises ``AssertionError``.

    The kernels that autograde with the course's nbgrader config set it (``python -m mnistlab nbgrader``,
    ``exercises.nbgrader_preprocessors.GradingExecute``); learners never do, so their checks print ❌ and go
    on. This is the only place the variable is read.
    """
    return _switch(GRADING_ENV, "to grade (a failed self-check raises)", "to learn")
