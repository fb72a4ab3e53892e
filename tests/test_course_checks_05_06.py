"""Every exercise of notebooks 05 and 06: two correct styles pass, a plausible wrong answer fails saying why."""

from __future__ import annotations

import numpy as np

from mnistlab import statistics
from mnistlab.exercises import evaluation_checks as ev
from mnistlab.exercises import explaining_checks as ex


def marks(capsys) -> list[str]:
    return [line[0] for line in capsys.readouterr().out.splitlines() if line[:1] in ("✅", "❌")]


# --------------------------------------------------------------------------- notebook 05


def right_metrics_vectorised(counts):
    counts = np.asarray(counts, dtype=float)
    right, predicted, actual = np.diag(counts), counts.sum(axis=0), counts.sum(axis=1)
    precision = np.divide(right, predicted, out=np.zeros(10), where=predicted > 0)
    recall = np.divide(right, actual, out=np.zeros(10), where=actual > 0)
    both = precision + recall
    return precision, recall, np.divide(2 * precision * recall, both, out=np.zeros(10), where=both > 0)


def right_metrics_loops(counts):
    precision, recall, f1 = [], [], []
    for d in range(10):
        column, row = sum(counts[t][d] for t in range(10)), sum(counts[d])
        p = counts[d][d] / column if column else 0.0
        r = counts[d][d] / row if row else 0.0
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
    return precision, recall, f1


def test_05_ex1_metrics_from_confusion(capsys):
    assert ev.check_metrics_from_confusion(right_metrics_vectorised, "Ex")
    assert ev.check_metrics_from_confusion(right_metrics_loops, "Ex")
    swapped = lambda c: right_metrics_vectorised(c.T)  # noqa: E731  rows and columns swapped
    assert not ev.check_metrics_from_confusion(swapped, "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "❌" in out and "your precision of digit" in out and "scikit-learn says" in out


def mcnemar_binomtest(y_true, pred_a, pred_b):
    from scipy.stats import binomtest

    a_right, b_right = pred_a == y_true, pred_b == y_true
    only_a, only_b = int((a_right & ~b_right).sum()), int((~a_right & b_right).sum())
    p = binomtest(only_a, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return only_a, only_b, p


def mcnemar_binom_cdf(y_true, pred_a, pred_b):
    from scipy.stats import binom

    only_a = sum(1 for t, a, b in zip(y_true, pred_a, pred_b, strict=True) if a == t and b != t)
    only_b = sum(1 for t, a, b in zip(y_true, pred_a, pred_b, strict=True) if b == t and a != t)
    n = only_a + only_b
    return only_a, only_b, min(1.0, 2 * binom.cdf(min(only_a, only_b), n, 0.5))


def mcnemar_counts_prediction_changes(y_true, pred_a, pred_b):
    differ = pred_a != pred_b
    only_a, only_b = int((differ & (pred_a == y_true)).sum()), int((differ & (pred_a != y_true)).sum())
    return only_a, only_b, mcnemar_binomtest(y_true, pred_a, pred_b)[2]


def test_05_ex3_mcnemar(capsys):
    assert ev.check_mcnemar(mcnemar_binomtest, "Ex")
    assert ev.check_mcnemar(mcnemar_binom_cdf, "Ex")
    assert not ev.check_mcnemar(mcnemar_counts_prediction_changes, "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "where the two predictions differ" in out and "one model is right" in out


def test_05_ex3_mcnemar_names_an_approximate_p_value_and_never_raises(capsys):
    from scipy.stats import chi2

    def chi_square(y_true, pred_a, pred_b):
        only_a, only_b, _ = mcnemar_binomtest(y_true, pred_a, pred_b)
        n = only_a + only_b
        return only_a, only_b, 1.0 if n == 0 else chi2.sf((abs(only_a - only_b) - 1) ** 2 / n, 1)

    def stub(*args):
        raise NotImplementedError

    assert not ev.check_mcnemar(chi_square, "Ex")
    assert not ev.check_mcnemar(lambda y, a, b: mcnemar_binomtest(y, b, a), "Ex")
    assert not ev.check_mcnemar(stub, "Ex") and not ev.check_mcnemar(..., "Ex")
    assert not ev.check_mcnemar(lambda y, a, b: 1 / 0, "Ex") and not ev.check_mcnemar(lambda y, a, b: 3, "Ex")
    out = capsys.readouterr().out
    assert "exact two-sided test" in out and "swapped" in out and out.count("not done yet") == 2
    assert "ZeroDivisionError" in out and "three numbers" in out
    assert statistics.mcnemar_test([1, 2], [1, 2], [1, 2]).p_value == 1.0


def wilson_formula(k, n):
    from scipy.stats import norm

    z = norm.ppf(0.975)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


def wilson_quadratic(k, n):
    # the interval's ends are the roots of (p - x)^2 = z^2 x (1 - x) / n, with z = 1.96
    z2, p = 1.96**2, k / n
    a, b, c = 1 + z2 / n, -(2 * p + z2 / n), p**2
    root = np.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def wilson_wald(k, n):
    p = k / n
    half = 1.96 * np.sqrt(p * (1 - p) / n)
    return max(0.0, p - half), min(1.0, p + half)


def test_05_ex2_wilson_interval(capsys):
    from mnistlab.exercises.statistics_checks import check_wilson_interval

    assert check_wilson_interval(wilson_formula, "Ex")
    assert check_wilson_interval(wilson_quadratic, "Ex")
    assert not check_wilson_interval(wilson_wald, "Ex")  # the normal approximation
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "normal approximation" in out and "1 + z²/n" in out


def test_05_ex2_wilson_names_a_90_percent_interval_swapped_bounds_and_never_raises(capsys):
    from mnistlab.exercises.statistics_checks import check_wilson_interval

    assert not check_wilson_interval(lambda k, n: statistics.wilson_interval(k, n, 0.90), "Ex")
    assert not check_wilson_interval(lambda k, n: wilson_formula(k, n)[::-1], "Ex")
    assert not check_wilson_interval(lambda k, n: k / n, "Ex")
    assert not check_wilson_interval(lambda k, n: (k / 0, 1), "Ex") and not check_wilson_interval(..., "Ex")
    out = capsys.readouterr().out
    assert "90 % interval" in out and "swapped" in out and "two numbers" in out
    assert "ZeroDivisionError" in out and "not done yet" in out


def ece_loop(y_true, probabilities, bins=10):
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for b in range(bins):
        low, high = edges[b], edges[b + 1]
        in_bin = (confidence > low) & (confidence <= high) if b else confidence <= high
        if in_bin.any():
            ece += in_bin.mean() * abs(confidence[in_bin].mean() - correct[in_bin].mean())
    return ece


def ece_pandas(y_true, probabilities, bins=10):
    import pandas as pd

    frame = pd.DataFrame({"confidence": probabilities.max(axis=1), "right": probabilities.argmax(axis=1) == y_true})
    frame["bin"] = pd.cut(frame["confidence"], np.linspace(0, 1, bins + 1), include_lowest=True)
    per_bin = frame.groupby("bin", observed=True).agg(n=("right", "size"), conf=("confidence", "mean"),
                                                       acc=("right", "mean"))
    return float((per_bin["n"] * (per_bin["conf"] - per_bin["acc"]).abs()).sum() / len(frame))


def ece_unweighted(y_true, probabilities, bins=10):
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(np.mean([abs(confidence[which == b].mean() - correct[which == b].mean())
                          for b in range(bins) if (which == b).any()]))


def test_05_ex4_expected_calibration_error(capsys):
    assert ev.check_expected_calibration_error(ece_loop, "Ex")
    assert ev.check_expected_calibration_error(ece_pandas, "Ex")
    assert not ev.check_expected_calibration_error(ece_unweighted, "Ex")  # every bin counted the same
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "averaged the bins' gaps equally" in out and "n_b / N" in out


def test_05_ex4_ece_names_one_overall_gap_and_ignored_bins(capsys):
    def one_gap(y, p, bins=10):
        return abs(p.max(axis=1).mean() - (p.argmax(axis=1) == y).mean())

    assert not ev.check_expected_calibration_error(one_gap, "Ex")
    assert not ev.check_expected_calibration_error(lambda y, p, bins=10: ece_loop(y, p, 10), "Ex")
    assert not ev.check_expected_calibration_error(lambda y, p, bins=10: [0.1, 0.2], "Ex")  # one per bin?
    out = capsys.readouterr().out
    assert "over- and under-confident predictions cancel" in out and "use the bins argument" in out
    assert "expected one number" in out


def softmax_t_scipy(logits, temperature):
    from scipy.special import softmax

    return softmax(logits / temperature, axis=1)


def softmax_t_numpy(logits, temperature):
    z = logits / temperature
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def fit_t_minimize(logits, labels):
    from scipy.optimize import minimize_scalar

    def nll(t):
        p = softmax_t_scipy(logits, t)
        return -np.log(p[np.arange(len(labels)), labels]).mean()

    return minimize_scalar(nll, bounds=(0.05, 10), method="bounded").x


def fit_t_grid(logits, labels):
    from scipy.special import log_softmax

    grid = np.linspace(0.05, 5, 496)
    losses = [-log_softmax(logits / t, axis=1)[np.arange(len(labels)), labels].mean() for t in grid]
    return grid[int(np.argmin(losses))]


def fit_t_multiplied(logits, labels):
    from scipy.optimize import minimize_scalar

    def nll(t):
        p = softmax_t_scipy(logits * t, 1.0)  # T applied as a multiplication
        return -np.log(p[np.arange(len(labels)), labels]).mean()

    return minimize_scalar(nll, bounds=(0.05, 10), method="bounded").x


def test_05_ex5_softmax_with_temperature(capsys):
    assert ev.check_softmax_with_temperature(softmax_t_scipy, "Ex")
    assert ev.check_softmax_with_temperature(softmax_t_numpy, "Ex")
    assert not ev.check_softmax_with_temperature(lambda z, t: softmax_t_scipy(z * t, 1.0), "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "you multiplied the scores by T" in out and "divides" in out


def test_05_ex5_softmax_names_overflow_and_rows_that_do_not_sum_to_one(capsys):
    def naive(z, t):
        e = np.exp(z / t)
        return e / e.sum(axis=1, keepdims=True)

    assert not ev.check_softmax_with_temperature(naive, "Ex")
    assert not ev.check_softmax_with_temperature(lambda z, t: np.exp(z / t), "Ex")
    out = capsys.readouterr().out
    assert "exp overflows" in out and "subtract each row's maximum" in out and "do not sum to 1" in out


def test_05_ex5_fit_temperature(capsys):
    assert ev.check_fit_temperature(fit_t_minimize, "Ex")
    assert ev.check_fit_temperature(fit_t_grid, "Ex")
    assert not ev.check_fit_temperature(fit_t_multiplied, "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "that is 1 / T" in out and "softmax(logits / T)" in out


def test_05_ex5_fit_temperature_names_a_search_that_misses_below_one(capsys):
    def grid_from_one(logits, labels):  # never tries a temperature below 1
        grid = np.linspace(1, 5, 81)
        return min(grid, key=lambda t: -np.log(softmax_t_scipy(logits, t)[np.arange(len(labels)), labels]).mean())

    assert not ev.check_fit_temperature(grid_from_one, "Ex")
    assert not ev.check_fit_temperature(lambda z, y: -1.0, "Ex") and not ev.check_fit_temperature(..., "Ex")
    out = capsys.readouterr().out
    assert "T stayed at 1" in out and "one positive temperature" in out and "not done yet" in out


def coverage_broadcast(y_true, probabilities, thresholds):
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == y_true
    kept = confidence[None, :] >= np.asarray(thresholds)[:, None]
    return kept.mean(axis=1), (kept & right).sum(axis=1) / kept.sum(axis=1)


def coverage_loop(y_true, probabilities, thresholds):
    coverage, accuracy = [], []
    for t in thresholds:
        kept = probabilities.max(axis=1) >= t
        coverage.append(kept.mean())
        accuracy.append((probabilities[kept].argmax(axis=1) == y_true[kept]).mean())
    return coverage, accuracy


def test_05_ex6_coverage_accuracy(capsys):
    assert ev.check_coverage_accuracy(coverage_broadcast, "Ex")
    assert ev.check_coverage_accuracy(coverage_loop, "Ex")

    def over_all(y, p, thresholds):  # right and kept / all answers
        coverage, accuracy = coverage_broadcast(y, p, thresholds)
        return coverage, np.asarray(accuracy) * coverage

    assert not ev.check_coverage_accuracy(over_all, "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "divides the right answers kept by ALL answers" in out


def test_05_ex6_coverage_names_a_reversed_comparison_and_a_swapped_pair(capsys):
    def reversed_(y, p, thresholds):
        kept = p.max(axis=1)[None, :] < np.asarray(thresholds)[:, None]
        right = p.argmax(axis=1) == y
        with np.errstate(invalid="ignore"):
            return kept.mean(axis=1), (kept & right).sum(axis=1) / kept.sum(axis=1)

    assert not ev.check_coverage_accuracy(reversed_, "Ex")
    assert not ev.check_coverage_accuracy(lambda y, p, t: coverage_broadcast(y, p, t)[::-1], "Ex")
    assert not ev.check_coverage_accuracy(lambda y, p, t: 0.5, "Ex")
    out = capsys.readouterr().out
    assert "comparison is reversed" in out and "swapped" in out and "two arrays" in out


# --------------------------------------------------------------------------- notebook 06


def gradient_by_gather(scorer, images, digits):
    import tensorflow as tf

    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.gather(scorer(x), digits, axis=1, batch_dims=1)
    return np.abs(tape.gradient(score, x).numpy())[..., 0]


def gradient_by_one_hot(scorer, images, digits):
    import tensorflow as tf

    x = tf.Variable(images)
    with tf.GradientTape() as tape:
        score = tf.reduce_sum(scorer(x) * tf.one_hot(digits, 10), axis=1)
    return tf.abs(tape.gradient(score, x))  # (N, h, w, 1): the channel axis is accepted


def test_06_ex1_input_gradient(capsys):
    assert ex.check_input_gradient(gradient_by_gather, "Ex")
    assert ex.check_input_gradient(gradient_by_one_hot, "Ex")

    def every_score(scorer, images, digits):
        import tensorflow as tf

        x = tf.convert_to_tensor(images)
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(scorer(x))
        return np.abs(tape.gradient(total, x).numpy())[..., 0]

    def no_abs(scorer, images, digits):
        return gradient_by_gather(scorer, images, digits) * np.sign(np.random.default_rng(0).normal(size=(4, 10, 10)))

    assert not ex.check_input_gradient(every_score, "Ex")
    assert not ex.check_input_gradient(no_abs, "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "sum of all ten scores" in out and "absolute value" in out


def test_06_ex3_paired_difference(capsys):
    from scipy import stats

    def by_numpy(acc_a, acc_b):
        d = np.asarray(acc_a) - np.asarray(acc_b)
        return d.mean(), d.std(ddof=1) / np.sqrt(len(d))

    def by_scipy(acc_a, acc_b):
        d = [a - b for a, b in zip(acc_a, acc_b, strict=True)]
        return float(np.mean(d)), float(stats.sem(d))

    def unpaired(acc_a, acc_b):
        k = len(acc_a)
        return np.mean(acc_a) - np.mean(acc_b), np.sqrt(np.var(acc_a, ddof=1) / k + np.var(acc_b, ddof=1) / k)

    assert ex.check_paired_difference(by_numpy, "Ex")
    assert ex.check_paired_difference(by_scipy, "Ex")
    assert not ex.check_paired_difference(unpaired, "Ex")
    assert not ex.check_paired_difference(lambda a, b: by_numpy(b, a), "Ex")
    assert not ex.check_paired_difference(lambda a, b: (np.mean(a - b), np.std(a - b) / np.sqrt(len(a))), "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "unpaired standard error" in out and "subtract per fold" in out
    assert "you computed b - a" in out and "ddof=1" in out


def test_06_ex2_grad_cam_step(capsys):
    def vectorised(feature_maps, gradients):
        return np.maximum((gradients.mean(axis=(1, 2), keepdims=True) * feature_maps).sum(axis=-1), 0)

    def einsum(feature_maps, gradients):
        weights = gradients.mean(axis=(1, 2))
        return np.clip(np.einsum("nhwk,nk->nhw", feature_maps, weights), 0, None)

    assert ev.check_grad_cam_step(vectorised, "Ex")
    assert ev.check_grad_cam_step(einsum, "Ex")
    assert not ev.check_grad_cam_step(lambda a, g: (g.mean(axis=(1, 2), keepdims=True) * a).sum(axis=-1), "Ex")
    out = capsys.readouterr().out
    assert out.count("✅") == 2 and "ReLU" in out


def test_not_done_answers_never_raise(capsys):
    for check in (ev.check_mcnemar, ex.check_input_gradient, ex.check_paired_difference):
        assert check(..., "Ex") is False

        def stub(*args):
            raise NotImplementedError

        assert check(stub, "Ex") is False
    assert not ev.check_coverage_accuracy(..., "Ex")
    out = capsys.readouterr().out
    assert "Traceback" not in out and out.count("❌") == 7


# --------------------------------------------------------------------------- notebook 06 §5: modern building blocks


def gap_sequential(input_shape, classes):
    import keras

    return keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(classes, activation="softmax")])


def gap_functional(input_shape, classes):
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape)
    x = inputs
    for filters in (16, 32):
        x = layers.MaxPooling2D()(layers.Conv2D(filters, (3, 3), padding="same", activation="relu")(x))
    x = layers.Lambda(lambda t: keras.ops.mean(t, axis=(1, 2)))(x)  # the average by hand
    return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))


def test_06_ex4_gap_cnn(capsys):
    import keras

    from mnistlab import blocks

    def with_max(input_shape, classes):
        model = gap_sequential(input_shape, classes)
        return keras.Sequential([keras.Input(shape=input_shape), *model.layers[:4], keras.layers.GlobalMaxPooling2D(),
                                 model.layers[-1]])

    assert ex.check_gap_cnn(gap_sequential, "Ex")
    assert ex.check_gap_cnn(gap_functional, "Ex")
    assert capsys.readouterr().out.count("✅") == 2
    assert not ex.check_gap_cnn(with_max, "Ex")
    assert "global max pooling" in capsys.readouterr().out
    assert not ex.check_gap_cnn(blocks.flatten_cnn, "Ex")
    assert "Flatten" in capsys.readouterr().out
    assert not ex.check_gap_cnn(lambda shape, classes: blocks.gap_cnn(shape, 10), "Ex")
    assert "expected (7,)" in capsys.readouterr().out


def residual_keras(x, filters):
    from keras import layers

    y = layers.Conv2D(filters, 3, padding="same")(x)
    y = layers.Activation("relu")(layers.BatchNormalization()(y))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(y))
    if x.shape[-1] != filters:
        x = layers.Conv2D(filters, 1)(x)
    return layers.Activation("relu")(layers.add([y, x]))


def residual_no_bias(x, filters):
    from keras import layers

    shortcut = x if x.shape[-1] == filters else layers.Conv2D(filters, 1, use_bias=False)(x)
    y = x
    for last in (False, True):
        y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(y))
        if not last:
            y = layers.ReLU()(y)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def test_06_ex5_residual_block(capsys):
    from keras import layers

    def no_projection(x, filters):
        y = layers.Conv2D(filters, 3, padding="same")(x)
        y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(layers.ReLU()(
            layers.BatchNormalization()(y))))
        return layers.ReLU()(layers.Add()([y, x]))

    def no_skip(x, filters):
        y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(x)))
        y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(y))
        if x.shape[-1] != filters:
            x = layers.Conv2D(filters, 1)(x)
        return layers.ReLU()(layers.Add()([y, layers.Lambda(lambda t: t * 0)(x)]))  # the skip multiplied away

    def always_projected(x, filters):
        y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(x)))
        y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(y))
        return layers.ReLU()(layers.Add()([y, layers.Conv2D(filters, 1)(x)]))

    assert ex.check_residual_block(residual_keras, "Ex")
    assert ex.check_residual_block(residual_no_bias, "Ex")
    assert capsys.readouterr().out.count("✅") == 2
    assert not ex.check_residual_block(no_projection, "Ex")
    assert "needs a 1×1 convolution (a projection)" in capsys.readouterr().out
    assert not ex.check_residual_block(no_skip, "Ex")
    assert "the skip path is not added" in capsys.readouterr().out
    assert not ex.check_residual_block(always_projected, "Ex")
    assert "use x itself as the skip path" in capsys.readouterr().out


def test_06_ex6_activation_stds(capsys):
    def layer_by_layer(model, x):
        stds = []
        for layer in model.layers:
            x = layer(x)
            stds.append(float(np.std(x)))
        return stds

    def by_sub_models(model, x):
        import keras

        return np.array([np.asarray(keras.Model(model.inputs[0], layer.output)(x)).std() for layer in model.layers])

    assert ex.check_activation_stds(layer_by_layer, "Ex")
    assert ex.check_activation_stds(by_sub_models, "Ex")
    assert capsys.readouterr().out.count("✅") == 2
    assert not ex.check_activation_stds(lambda model, x: [float(np.std(layer.kernel)) for layer in model.layers], "Ex")
    assert "spreads of the layers' weights" in capsys.readouterr().out
    assert not ex.check_activation_stds(lambda model, x: [float(np.std(model(x)))], "Ex")
    assert "one standard deviation per layer" in capsys.readouterr().out


def test_06_block_checks_not_done_never_raise(capsys):
    def stub(*args):
        raise NotImplementedError

    for check in (ex.check_gap_cnn, ex.check_residual_block, ex.check_activation_stds):
        assert not check(..., "Ex") and not check(stub, "Ex")
    out = capsys.readouterr().out
    assert "Traceback" not in out and out.count("not done yet") == 6


def conv1x1_matmul(images, kernel, bias):
    return images @ kernel[0, 0] + bias


def conv1x1_einsum(images, kernel, bias):
    return np.einsum("nhwc,cf->nhwf", images, kernel.reshape(kernel.shape[2:])) + bias


def test_06_ex7_conv1x1(capsys):
    assert ex.check_conv1x1(conv1x1_matmul, lambda c, f: c * f + f, "Ex")
    assert ex.check_conv1x1(conv1x1_einsum, lambda channels, filters: (channels + 1) * filters, "Ex")
    assert capsys.readouterr().out.count("✅") == 2
    assert not ex.check_conv1x1(lambda images, kernel, bias: images @ kernel[0, 0], lambda c, f: c * f + f, "Ex")
    assert "miss the bias" in capsys.readouterr().out
    assert not ex.check_conv1x1(conv1x1_matmul, lambda c, f: c * f, "Ex")
    assert "the biases count too" in capsys.readouterr().out
    assert not ex.check_conv1x1(lambda images, kernel, bias: images.mean(axis=-1), lambda c, f: c * f + f, "Ex")
    assert "shape" in capsys.readouterr().out
    assert not ex.check_conv1x1(..., lambda c, f: 0, "Ex")
    assert "not done yet" in capsys.readouterr().out
