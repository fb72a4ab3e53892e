"""Classical scikit-learn baselines on the same pixels: logistic regression, k-NN, random forest, RBF SVM."""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from mnistlab import config, data, evaluation

# name -> what the table calls it
BASELINES = {
    "logistic_regression": "Logistic regression",
    "knn": "k-nearest neighbours (k=3)",
    "random_forest": "Random forest (200 trees)",
    "rbf_svm": "RBF SVM (C=5, gamma=0.05)",
}
COLUMNS = ["model", "train_size", "test_size", "accuracy", "train_seconds", "predict_seconds", "size_bytes"]


def to_features(images: np.ndarray) -> np.ndarray:
    """Raw digits (N, 28, 28) to what the baselines take: float32 pixels in [0, 1], shape (N, 784)."""
    return data.flatten_images(data.scale_pixels(images))


def make_baseline(name: str, seed: int = config.SEED, n_jobs: int | None = None):
    """A fresh, unfitted scikit-learn classifier for ``name`` (one of :data:`BASELINES`).

    The settings are the usual ones for MNIST pixels scaled to [0, 1]: an L2 logistic
    regression, 3 nearest neighbours by Euclidean distance, 200 trees, and an RBF SVM
    with C=5, gamma=0.05 (a standard choice for these pixels; ``gamma="scale"`` is close).
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    builders = {
        "logistic_regression": lambda: LogisticRegression(C=0.1, max_iter=300, tol=1e-3),
        "knn": lambda: KNeighborsClassifier(n_neighbors=3, n_jobs=n_jobs),
        "random_forest": lambda: RandomForestClassifier(n_estimators=200, n_jobs=n_jobs, random_state=seed),
        "rbf_svm": lambda: SVC(kernel="rbf", C=5.0, gamma=0.05, random_state=seed),
    }
    if name not in builders:
        raise ValueError(f"Unknown baseline {name!r}: choose from {', '.join(BASELINES)}.")
    return builders[name]()


def model_size_bytes(model) -> int:
    """Size of the fitted model when pickled: what you would have to store or ship."""
    return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))


@dataclass(frozen=True)
class BaselineResult:
    """One row of the comparison table."""

    model: str
    train_size: int
    test_size: int
    accuracy: float
    train_seconds: float
    predict_seconds: float
    size_bytes: int


def fit_and_score(
    name: str, x_train, y_train, x_test, y_test, seed: int = config.SEED, n_jobs: int | None = None
) -> tuple[object, BaselineResult, np.ndarray]:
    """Fit baseline ``name`` on raw digits and score it on the test digits: ``(model, result, predicted)``.

    ``predicted`` holds the test labels it predicts (McNemar's test pairs them with another model's).
    Times are wall-clock seconds on this machine (they depend on its load); the size is
    the pickled fitted model.
    """
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError(
            f"images and labels differ in length (train {len(x_train)} vs {len(y_train)}, "
            f"test {len(x_test)} vs {len(y_test)}): pass matching arrays."
        )
    model = make_baseline(name, seed=seed, n_jobs=n_jobs)
    features_train, features_test = to_features(x_train), to_features(x_test)
    start = time.perf_counter()
    model.fit(features_train, np.asarray(y_train))
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(features_test)
    predict_seconds = time.perf_counter() - start
    result = BaselineResult(
        model=BASELINES[name],
        train_size=len(y_train),
        test_size=len(y_test),
        accuracy=evaluation.accuracy(y_test, predicted),
        train_seconds=train_seconds,
        predict_seconds=predict_seconds,
        size_bytes=model_size_bytes(model),
    )
    return model, result, np.asarray(predicted)


def train_sizes(budget: config.Budget | None = None) -> dict[str, int | None]:
    """How many training digits each baseline sees under ``budget`` (None: all 60,000).

    Every baseline uses ``budget.baseline_train_size``, except the RBF SVM, whose training
    time grows roughly with the square of the data; it is capped at ``budget.svm_train_size``.
    """
    budget = budget or config.budget()
    sizes: dict[str, int | None] = {name: budget.baseline_train_size for name in BASELINES}
    svm_cap = budget.svm_train_size
    if svm_cap is not None and (sizes["rbf_svm"] is None or svm_cap < sizes["rbf_svm"]):
        sizes["rbf_svm"] = svm_cap
    return sizes


def run_baselines(
    names: Iterable[str] | None = None,
    budget: config.Budget | None = None,
    arrays=None,
    test_size: int | None = None,
    seed: int = config.SEED,
    n_jobs: int | None = None,
    verbose: bool = False,
    predictions: dict | None = None,
) -> pd.DataFrame:
    """Train and score each baseline under ``budget``; the comparison table as a DataFrame.

    ``arrays`` is ``load_mnist()``'s result (loaded if omitted). Training subsets are
    class-balanced (:func:`mnistlab.data.stratified_subset`); ``test_size`` None uses all
    10,000 test digits, otherwise a balanced subset of that size (the same one
    ``data.stratified_subset(x_test, y_test, test_size, seed=seed)`` gives). Pass a dict as
    ``predictions`` to get each model's predicted test labels in it, keyed by the table's name.
    """
    names = list(names or BASELINES)
    unknown = [name for name in names if name not in BASELINES]
    if unknown:
        raise ValueError(f"Unknown baseline(s) {', '.join(unknown)}: choose from {', '.join(BASELINES)}.")
    (x_train, y_train), (x_test, y_test) = arrays if arrays is not None else data.load_mnist()
    x_test, y_test = data.stratified_subset(x_test, y_test, test_size, seed=seed)
    sizes = train_sizes(budget)
    rows = []
    for name in names:
        x, y = data.stratified_subset(x_train, y_train, sizes[name], seed=seed)
        _, result, predicted = fit_and_score(name, x, y, x_test, y_test, seed=seed, n_jobs=n_jobs)
        if predictions is not None:
            predictions[result.model] = predicted
        if verbose:
            print(f"{result.model}: accuracy {result.accuracy:.4f}, fit {result.train_seconds:.1f} s", flush=True)
        rows.append(asdict(result))
    return pd.DataFrame(rows, columns=COLUMNS)


def accuracy_ci_text(accuracy: float, test_size: int, confidence: float = 0.95) -> str:
    """The Wilson interval of an accuracy measured on ``test_size`` digits, in %, e.g. ``"97.07–97.40"``."""
    from mnistlab import statistics

    low, high = statistics.wilson_interval(round(accuracy * test_size), test_size, confidence)
    return f"{100 * low:.2f}–{100 * high:.2f}"


def format_table(table: pd.DataFrame) -> str:
    """The comparison table as aligned text: accuracy in % with its 95 % Wilson interval, times in s, size in MB."""
    shown = pd.DataFrame(
        {
            "model": table["model"],
            "train digits": table["train_size"].map("{:,}".format),
            "test digits": table["test_size"].map("{:,}".format),
            "accuracy %": (100 * table["accuracy"]).map("{:.2f}".format),
            "95 % CI": [accuracy_ci_text(a, int(n))
                        for a, n in zip(table["accuracy"], table["test_size"], strict=True)],
            "train s": table["train_seconds"].map("{:.1f}".format),
            "predict s": table["predict_seconds"].map("{:.2f}".format),
            "size MB": (table["size_bytes"] / 1e6).map("{:.2f}".format),
        }
    )
    return shown.to_string(index=False)
