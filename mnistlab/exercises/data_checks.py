"""Self-checks for notebook 01's exercises (the data): the reference answers and the cases the learner never saw."""

from __future__ import annotations

import numpy as np

from mnistlab.exercises.checks import (
    check_array,
    check_between,
    check_equal,
    check_function,
    check_shape,
    describe_error,
    failed,
    is_missing,
    not_done,
    not_written,
    passed,
)


def check_brightest_digit(answer: object, images: np.ndarray, labels: np.ndarray, what: str = "Exercise 1") -> bool:
    """Exercise 1: the digit whose training images have the largest mean pixel value."""
    means = [np.asarray(images)[np.asarray(labels) == digit].mean() for digit in range(10)]
    return check_equal(
        answer, int(np.argmax(means)), what,
        hint="a boolean mask of the labels selects one digit's images; compare the ten digits' mean pixel values",
    )


def check_dense_input(answer: object, raw_images: np.ndarray, what: str = "Exercise 2") -> bool:
    """Exercise 2: ``raw_images`` (uint8) as a dense network's input: float32 in [0, 1], one row of 784 per image."""
    count = len(raw_images)
    ok = check_shape(answer, (count, 784), f"{what} (shape)", hint="flatten with data.flatten_images")
    ok &= check_array(answer, np.asarray(raw_images).reshape(count, 784) / 255.0, f"{what} (values)",
                      hint="scale with data.scale_pixels (divide by 255) before or after flattening")
    if is_missing(answer):
        return not_done(f"{what} (dtype)") and ok
    dtype = np.asarray(answer).dtype
    if dtype == np.float32:
        return passed(f"{what} (dtype)") and ok
    return failed(f"{what} (dtype)", f"dtype is {dtype}, not float32",
                  "TensorFlow works in float32: data.scale_pixels returns float32")


def nearest_mean_predictions(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """Exercise 3's reference: the label of the nearest mean image, found by scikit-learn (pixels scaled to [0, 1])."""
    from sklearn.metrics import pairwise_distances_argmin

    x_train, y_train = np.asarray(x_train) / 255.0, np.asarray(y_train)
    centroids = np.stack([x_train[y_train == digit].mean(axis=0) for digit in range(10)]).reshape(10, -1)
    return pairwise_distances_argmin(np.asarray(x_test).reshape(len(x_test), -1) / 255.0, centroids)


def check_nearest_mean(
    predictions: object,
    accuracy: object,
    errors_ratio: object,
    expected_predictions: np.ndarray,
    y_true: np.ndarray,
    what: str = "Exercise 3",
) -> bool:
    """Exercise 3: the nearest-mean predictions, their accuracy, and errors per error of a 99 % CNN."""
    expected_accuracy = float(np.mean(np.asarray(expected_predictions) == np.asarray(y_true)))
    ok = check_array(predictions, expected_predictions, f"{what} (predictions)",
                     hint="distances has shape (2000, 10); argmin over axis 1 gives the predicted digit")
    ok &= check_between(accuracy, expected_accuracy - 5e-4, expected_accuracy + 5e-4, f"{what} (accuracy)",
                        hint="compare the predictions with y_test[:2000] and take the mean of the matches")
    ratio = (1 - expected_accuracy) / 0.01
    ok &= check_between(errors_ratio, 0.99 * ratio, 1.01 * ratio, f"{what} (how far)",
                        hint="errors are 1 − accuracy; a 99 % CNN makes 1 % errors; divide the two")
    return ok


def check_worst_digit(answer: object, y_true: np.ndarray, predictions: np.ndarray, what: str = "Exercise 4") -> bool:
    """Exercise 4: the digit with the lowest recall under ``predictions`` (scikit-learn computes the reference)."""
    from sklearn.metrics import recall_score

    worst = int(np.argmin(recall_score(y_true, predictions, average=None, labels=list(range(10)), zero_division=0)))
    return check_equal(answer, worst, what,
                       hint="for each digit d: of the test images with y_test == d, what share was predicted as d? "
                            "take argmin")


ONE_HOT_HINT = (
    "one float32 row of num_classes zeros per label, with a single 1 in the label's column "
    "(NumPy's fancy indexing sets one entry per row at once)"
)


def one_hot_cases(rng: np.random.Generator | None = None) -> list[tuple]:
    """Exercise 5's cases: labels the learner has not seen, with the float32 one-hot rows they must give."""
    rng = rng or np.random.default_rng()  # new labels every run

    def expected(labels, classes=10):
        return np.eye(classes, dtype="float32")[labels]

    unseen = rng.integers(0, 10, size=25)
    three_classes = np.array([2, 0, 1, 2])
    single = rng.integers(0, 10, size=1)
    return [
        ((unseen,), expected(unseen), "25 random digits"),
        ((three_classes, 3), expected(three_classes, 3), "4 labels of 3 classes"),
        ((single,), expected(single), "a single label"),
    ]


def check_one_hot(function: object, what: str = "Exercise 5", rng: np.random.Generator | None = None) -> bool:
    """Exercise 5: ``function(labels, num_classes=10)`` returns float32 one-hot rows (the dtype is part of the task)."""
    return check_function(function, one_hot_cases(rng), what, hint=ONE_HOT_HINT, check_dtype=True)


STRATIFIED_HINT = (
    "work one digit at a time: find that digit's positions, draw the same fraction of them without replacement, "
    "and join the draws of all digits"
)
SEED_HINT = "make one random generator from the seed and draw every digit's positions from it, without replacement"


def stratified_pick_problem(picked: object, labels: np.ndarray, fraction: float) -> str | None:
    """What is wrong with ``picked`` as a stratified pick of ``fraction`` of each class of ``labels`` (None if right).

    Right means distinct, valid integer positions with round(fraction × count) of each class (±1 for rounding).
    """
    picked = np.asarray(picked)
    if picked.ndim != 1:
        return f"an array of shape {picked.shape}; expected a 1-D array of positions"
    if picked.size and not np.issubdtype(picked.dtype, np.integer):
        return f"positions of dtype {picked.dtype}; expected integers (positions index the labels)"
    if len(np.unique(picked)) != len(picked):
        return f"{len(picked) - len(np.unique(picked))} positions picked twice (use replace=False)"
    if picked.size and (picked.min() < 0 or picked.max() >= len(labels)):
        return f"positions from {picked.min()} to {picked.max()}; there are only {len(labels)} labels"
    counts = np.bincount(labels[picked.astype(int)], minlength=labels.max() + 1)
    for label, total in enumerate(np.bincount(labels)):
        wanted = fraction * total
        if total and abs(counts[label] - wanted) >= 1:
            return (f"{counts[label]} positions of class {label}, expected {round(wanted)} ({fraction:g} of its "
                    f"{total}): pick that share of every class separately")
    return None


def _first_positions(labels: np.ndarray, fraction: float) -> np.ndarray:
    return np.sort(np.concatenate([
        np.flatnonzero(labels == label)[: round(fraction * np.sum(labels == label))] for label in np.unique(labels)
    ]))


def seed_problem(function, labels: np.ndarray, fraction: float = 0.2) -> str | None:
    """What is wrong with how ``function(labels, fraction, seed)`` uses its seed, in words (None when nothing is)."""
    picks = {seed: [np.sort(np.asarray(function(labels, fraction, seed))) for _ in range(2)] for seed in (0, 1, 2)}
    if not all(np.array_equal(first, again) for first, again in picks.values()):
        return ("two calls with the same seed gave different positions: the pick must be repeatable, so make the "
                "random generator from the seed argument (np.random.default_rng(seed)), not from the clock or a "
                "global generator")
    if all(np.array_equal(picks[0][0], picks[seed][0]) for seed in (1, 2)):
        if np.array_equal(picks[0][0], _first_positions(labels, fraction)):
            return ("seeds 0, 1 and 2 all gave the first positions of each class: that is not a random sample "
                    "(a validation set of the first-written digits is not like the rest)")
        return ("seeds 0, 1 and 2 all gave the same positions: the pick does not change with the seed, so the "
                "seed argument is not used (is the generator made with a fixed number?)")
    return None


def check_stratified_split(
    function: object, mnist_labels: np.ndarray, what: str = "Exercise 6", rng: np.random.Generator | None = None
) -> bool:
    """Exercise 6: a stratified pick (per class, on made-up unbalanced and on MNIST labels), random and seeded."""
    rng = rng or np.random.default_rng()  # new labels every run
    unbalanced = rng.permutation(np.repeat([0, 1, 2], [70, 20, 10]))
    mnist_labels = np.asarray(mnist_labels)[:1000]
    cases = [
        (unbalanced, 0.2, "100 labels of 3 classes (70/20/10), fraction 0.2"),
        (mnist_labels, 0.1, f"{len(mnist_labels):,} MNIST labels, fraction 0.1"),
    ]
    seeded = f"{what} (random, seeded)"
    if is_missing(function):
        not_done(what, STRATIFIED_HINT)
        return not_done(seeded, SEED_HINT)
    if not callable(function):
        return failed(what, f"expected a function, got a {type(function).__name__}", STRATIFIED_HINT)
    ok = True
    for labels, fraction, label in cases:
        try:
            problem = stratified_pick_problem(function(labels.copy(), fraction), labels, fraction)
        except NotImplementedError:
            not_written(what, STRATIFIED_HINT)
            return not_written(seeded, SEED_HINT)
        except Exception as error:
            problem = f"your function raised {describe_error(error)}"
        if problem:
            ok = failed(what, f"on {label}: {problem}", STRATIFIED_HINT)
            break
    else:
        passed(what, f"(all {len(cases)} test cases)")
    try:
        problem = seed_problem(function, unbalanced)
    except Exception as error:
        problem = f"calling your function with a seed raised {describe_error(error)}"
    if problem:
        return failed(seeded, problem, SEED_HINT)
    return passed(seeded) and ok
