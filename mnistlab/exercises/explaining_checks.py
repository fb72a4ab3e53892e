"""Self-checks for notebook 06: an input gradient, stratified folds, fold spread, a paired comparison (unseen cases)."""

from __future__ import annotations

import numpy as np

from mnistlab.exercises.checks import (
    NO_RESULT,
    call_learner,
    check_choice,
    describe_error,
    failed,
    is_missing,
    not_done,
    not_written,
    passed,
)

# --------------------------------------------------------------------------- the input gradient (saliency)


def _tiny_scorer(seed: int = 6):
    """A random conv net returning 10 class scores for (N, 10, 10, 1) images (no softmax), and its images."""
    import keras

    keras.utils.set_random_seed(seed)
    network = keras.Sequential([keras.Input((10, 10, 1)), keras.layers.Conv2D(3, 3, activation="tanh"),
                                keras.layers.Flatten(), keras.layers.Dense(10)])
    images = np.random.default_rng(seed).random((4, 10, 10, 1)).astype("float32")
    return network, images


def _reference_gradient(scorer, images, digits) -> np.ndarray:
    import tensorflow as tf

    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.gather(scorer(x), digits, axis=1, batch_dims=1)
    return np.abs(tape.gradient(score, x).numpy())[..., 0]


def check_input_gradient(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(scorer, images, digits)`` must return ``|d scorer(images)[i, digits[i]] / d images[i]|``.

    Shape (N, height, width) (a trailing channel axis of 1 is accepted). Run on a small random
    network and images made here; forgetting ``abs``, or differentiating the sum of every digit's
    score, or one digit for every image, is named.
    """
    import tensorflow as tf

    if is_missing(function):
        return not_done(what, hint)
    if not callable(function):
        return failed(what, f"expected a function, got a {type(function).__name__}", hint)
    scorer, images = _tiny_scorer()
    digits = np.array([3, 0, 7, 3])
    want = _reference_gradient(scorer, images, digits)
    result = call_learner(function, (scorer, images.copy(), digits.copy()), what, hint)
    if result is NO_RESULT:
        return False
    try:
        got = np.asarray(result, dtype=float)
    except Exception:
        return failed(what, f"expected an array, got a {type(result).__name__}", hint)
    if got.shape == want.shape + (1,):
        got = got[..., 0]
    if got.shape != want.shape:
        return failed(what, f"for images of shape {images.shape} the maps have shape {got.shape}, "
                            f"expected {want.shape} (one map per image)", hint)
    if np.allclose(got, want, rtol=1e-4, atol=1e-6):
        return passed(what, "(checked on a network and images you had not seen)")
    if np.allclose(np.abs(got), want, rtol=1e-4, atol=1e-6):
        return failed(what, "your map has negative values: saliency is the absolute value of the gradient", hint)
    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(scorer(x))
    summed = np.abs(tape.gradient(total, x).numpy())[..., 0]
    if np.allclose(np.abs(got), summed, rtol=1e-4, atol=1e-6):
        return failed(what, "you differentiated the sum of all ten scores; take each image's own digit "
                            "(tf.gather(scores, digits, axis=1, batch_dims=1))", hint)
    if np.allclose(np.abs(got), _reference_gradient(scorer, images, np.full(4, digits[0])), rtol=1e-4, atol=1e-6):
        return failed(what, "every image explains the same digit; use digits[i] for image i", hint)
    scale = got.reshape(len(got), -1).max(axis=1).reshape(-1, 1, 1)
    if np.allclose(got, want / want.reshape(len(want), -1).max(axis=1).reshape(-1, 1, 1), atol=1e-5) and (
            scale > 0).all():
        return failed(what, "your maps are scaled to [0, 1]; return the raw absolute gradient", hint)
    return failed(what, "the values differ from |d score[digit] / d pixel|", hint)


# --------------------------------------------------------------------------- stratified folds


def _fold_labels() -> np.ndarray:
    """Unbalanced labels sorted by digit, as a data set stored class by class would be."""
    counts = [30, 12, 21, 9, 15, 27, 18, 6, 24, 33]
    return np.repeat(np.arange(10), counts)


def check_stratified_folds(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(labels, k, seed)`` must return ``k`` arrays of held-out indices, stratified.

    Every index held out exactly once, and in every fold each digit's count within 1 of its share
    (count / k). The labels are sorted and unbalanced, so unshuffled contiguous folds fail.
    """
    if is_missing(function):
        return not_done(what, hint)
    if not callable(function):
        return failed(what, f"expected a function, got a {type(function).__name__}", hint)
    labels = _fold_labels()
    for k in (3, 5):
        try:
            result = list(function(labels.copy(), k, 7))
        except NotImplementedError:
            return not_written(what, hint)
        except Exception as error:
            return failed(what, f"with k={k} your function raised {describe_error(error)}", hint)
        if result and all(isinstance(fold, tuple) and len(fold) == 2 for fold in result):
            return failed(what, "you returned (train, held_out) pairs; return only the held-out indices of each fold",
                          hint)
        try:
            folds = [np.asarray(fold).ravel() for fold in result]
        except Exception:
            return failed(what, "return a list of k arrays of integer indices", hint)
        if len(folds) != k:
            return failed(what, f"with k={k} you returned {len(folds)} folds", hint)
        if any(not np.issubdtype(fold.dtype, np.integer) for fold in folds):
            return failed(what, "each fold must be an array of integer indices into labels", hint)
        held_out = np.concatenate(folds)
        if len(held_out) != len(labels) or not np.array_equal(np.sort(held_out), np.arange(len(labels))):
            return failed(what, f"with k={k} the folds hold {len(held_out)} indices for {len(labels)} labels: "
                                f"every index must be held out exactly once", hint)
        expected = np.bincount(labels, minlength=10) / k
        for number, fold in enumerate(folds, start=1):
            per_digit = np.bincount(labels[fold], minlength=10)
            off = np.flatnonzero(np.abs(per_digit - expected) >= 1)
            if off.size:
                digit = int(off[0])
                return failed(what, f"with k={k}, fold {number} holds {per_digit[digit]} of digit {digit}, whose "
                                    f"share is {expected[digit]:.1f}: the folds are not stratified (split each "
                                    f"digit's indices into k parts)", hint)
    return passed(what, "(checked on sorted, unbalanced labels you had not seen)")


# --------------------------------------------------------------------------- a paired comparison over folds


def check_paired_difference(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(acc_a, acc_b)`` must return ``(mean of a - b, its standard error)`` over paired folds.

    The standard error is the sample std (ddof=1) of the per-fold differences over sqrt(k). The
    unpaired version (ignoring that the folds are shared) and ddof=0 are named.
    """
    if is_missing(function):
        return not_done(what, hint)
    if not callable(function):
        return failed(what, f"expected a function, got a {type(function).__name__}", hint)
    cases = [
        (np.array([0.962, 0.955, 0.971, 0.948, 0.966]), np.array([0.957, 0.951, 0.964, 0.945, 0.960])),
        (np.array([0.91, 0.93, 0.90, 0.94]), np.array([0.92, 0.92, 0.91, 0.93])),
    ]
    for a, b in cases:
        try:
            result = function(a.copy(), b.copy())
            mean, se = (float(np.asarray(v).item()) for v in result)
        except NotImplementedError:
            return not_written(what, hint)
        except Exception as error:
            return failed(what, f"on {len(a)} folds your function raised or returned something that is not two "
                                f"numbers ({describe_error(error)})", hint)
        d, k = a - b, len(a)
        want_mean, want_se = d.mean(), d.std(ddof=1) / np.sqrt(k)
        if not np.isclose(mean, want_mean, atol=1e-12):
            sign = " (you computed b - a)" if np.isclose(mean, -want_mean, atol=1e-12) else ""
            return failed(what, f"the mean difference is {want_mean:.4f} on these {k} folds, you gave {mean:.4f}"
                                f"{sign}", hint)
        if np.isclose(se, want_se, rtol=1e-6):
            continue
        unpaired = np.sqrt(a.var(ddof=1) / k + b.var(ddof=1) / k)
        if np.isclose(se, unpaired, rtol=1e-6) or np.isclose(se, a.std(ddof=1) / np.sqrt(k), rtol=1e-6):
            return failed(what, f"{se:.4f} is an unpaired standard error: it ignores that both models were "
                                f"scored on the same folds; subtract per fold first, then take the spread of "
                                f"the differences ({want_se:.4f})", hint)
        if np.isclose(se, d.std(ddof=0) / np.sqrt(k), rtol=1e-6):
            return failed(what, "use the sample standard deviation of the differences (ddof=1)", hint)
        if np.isclose(se, d.std(ddof=1), rtol=1e-6):
            return failed(what, "that is the spread of the differences; the standard error of their mean "
                                "divides it by sqrt(k)", hint)
        return failed(what, f"the standard error is {se:.4f}; expected {want_se:.4f} on these {k} folds", hint)
    return passed(what, "(checked on fold accuracies you had not seen)")


# --------------------------------------------------------------------------- what the fold spread tells

FOLD_SPREAD_OPTIONS = {
    "a": "not significant: the difference is below the fold standard deviation",
    "b": "look at the per-fold differences (or McNemar on a common test set)",
    "c": "B is better: its mean is higher",
    "d": "the fold standard deviation is the standard error of the mean",
}
FOLD_SPREAD_WHY = {
    "a": "Each model's fold spread mixes how hard each fold's digits are and how each short training went; "
         "both models see the same folds, so most of that spread is shared and cancels in the per-fold "
         "differences. It is not the uncertainty of the difference.",
    "b": "The folds are shared, so the comparison is paired: the differences fold by fold (their mean and "
         "standard error) measure it, or McNemar's test on one common test set.",
    "c": "A higher mean on a few small folds can be noise; you need the uncertainty of the difference.",
    "d": "The std is the spread of one fold's accuracy; and the folds share training digits, so even "
         "std / sqrt(k) is optimistic.",
}


def check_fold_spread(answer, what: str = "Exercise", hint: str | None = None) -> bool:
    """The multiple-choice question on what k-fold's spread does and does not say about a comparison."""
    return check_choice(answer, "b", FOLD_SPREAD_OPTIONS, what, why=FOLD_SPREAD_WHY, hint=hint)
