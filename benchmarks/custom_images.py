"""Measure the user-image pipeline: raw resize vs ``prepare_image`` per kind of sample image,
MNIST test digits through the pipeline, MNIST's stroke widths, and single-image latency.

The last column of the sample table is the model on the original 28x28 MNIST test digits the
samples were made from: the ceiling the pipeline can reach on that kind.

Run (from the repository root, nice'd because it evaluates 10,000 digits)::

    nice -n 10 python benchmarks/custom_images.py [--model PATH] [--mnist N]

Without ``--model`` it uses the course's default model (``training.load_or_train_default``).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections import defaultdict

import numpy as np

from mnistlab import config, data, images, inference
from mnistlab.images.constants import THICK_LIMIT, THIN_LIMIT, THIN_TARGET


def sample_rows():
    with open(config.images_dir() / "samples" / "labels.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def source_digits_right(predictor: inference.Predictor, row: dict, x_test: np.ndarray) -> tuple[int, int]:
    """``(right, count)``: the model on the MNIST test digits a sample was made from, as they are.

    This is the ceiling for that sample: a miss here is a hard digit, not a pipeline failure.
    Drawn samples (no MNIST source) count as right.
    """
    if not row["source"].startswith("mnist-test:"):
        return 1, 1
    indices = [int(i) for i in row["source"].split(":", 1)[1].split("+")]
    guesses = predictor.probabilities(data.to_cnn_input(x_test[indices])).argmax(1)
    return int("".join(map(str, guesses)) == row["label"]), 1


def bench_samples(predictor: inference.Predictor) -> None:
    folder = config.images_dir() / "samples"
    _, (x_test, _) = data.load_mnist()
    per_kind = defaultdict(lambda: {"n": 0, "raw": 0, "pipe": 0, "accepted": 0, "accepted_right": 0, "source": 0})
    failures = []
    for row in sample_rows():
        path = folder / row["file"]
        stats = per_kind[row["kind"]]
        stats["n"] += 1
        source_right, _ = source_digits_right(predictor, row, x_test)
        stats["source"] += source_right
        note = "" if source_right else "; the model misreads the source MNIST digit too"
        if len(row["label"]) > 1:  # a number: read it whole
            reading = predictor.read_number(path)
            guess = "".join(str(p.top3[0][0]) for p in reading.digits)
            stats["pipe"] += guess == row["label"]
            stats["accepted"] += "?" not in reading.text
            stats["accepted_right"] += reading.text == row["label"]
            if guess != row["label"]:
                failures.append(f"{row['file']}: read {guess}, label {row['label']}{note}")
            continue
        label = int(row["label"])
        raw = images.raw_resize(path)
        stats["raw"] += int(np.argmax(predictor.probabilities(raw)[0])) == label
        result = predictor.predict(path)
        top = result.top3[0][0] if result.top3 else None
        stats["pipe"] += top == label
        stats["accepted"] += result.is_digit
        stats["accepted_right"] += result.is_digit and result.digit == label
        if top != label:
            failures.append(f"{row['file']}: top {top} ({result.status}), label {label}{note}")
    print("\n## Sample images (images/samples): top-1 accuracy\n")
    print("| kind | n | raw resize | pipeline | pipeline, accepted | accepted and right | source digit as MNIST |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    totals = defaultdict(int)
    for kind, s in per_kind.items():
        raw = "n/a" if kind == "multi-digit" else f"{s['raw'] / s['n']:.0%}"
        print(f"| {kind} | {s['n']} | {raw} | {s['pipe'] / s['n']:.0%} | {s['accepted']}/{s['n']} | "
              f"{s['accepted_right']}/{s['accepted']} | {s['source'] / s['n']:.0%} |")
        if kind != "multi-digit":
            for key in ("n", "raw", "pipe", "accepted", "accepted_right", "source"):
                totals[key] += s[key]
    print(f"| **all single digits** | {totals['n']} | {totals['raw'] / totals['n']:.1%} | "
          f"{totals['pipe'] / totals['n']:.1%} | {totals['accepted']}/{totals['n']} | "
          f"{totals['accepted_right']}/{totals['accepted']} | {totals['source'] / totals['n']:.1%} |")
    if failures:
        print("\nWrong top-1:\n" + "\n".join(f"- {f}" for f in failures))


def bench_mnist(predictor: inference.Predictor, count: int | None) -> None:
    _, (x_test, y_test) = data.load_mnist()
    if count:
        x_test, y_test = x_test[:count], y_test[:count]
    start = time.perf_counter()
    prepared, errors = [], 0
    for digit in x_test:
        try:
            prepared.append(images.prepare_image(digit))
        except images.ImageError:
            errors += 1
            prepared.append(np.zeros((28, 28, 1), np.float32))
    per_image = (time.perf_counter() - start) / len(x_test) * 1000
    direct = predictor.probabilities(data.to_cnn_input(x_test)).argmax(1)
    piped = predictor.probabilities(np.stack(prepared)).argmax(1)
    print(f"\n## MNIST test digits ({len(x_test):,}) as uploaded uint8 arrays\n")
    print(f"- model on the digits as they are: {np.mean(direct == y_test):.2%}")
    print(f"- model after prepare_image:       {np.mean(piped == y_test):.2%} "
          f"({errors} refused as blank; {per_image:.1f} ms per image to prepare)")
    bench_mnist_strokes(x_test, direct == y_test)


def bench_mnist_strokes(x_test: np.ndarray, right: np.ndarray) -> None:
    """MNIST's stroke widths as the pipeline measures them, and the model's errors on thin ones: the
    evidence for THIN_LIMIT and THICK_LIMIT in images/constants.py."""
    strokes = np.array([images.measure_digit_strokes(digit) for digit in x_test])
    relative, pixels = strokes[:, 0], strokes[:, 1]
    p1, p5, p50, p99 = np.percentile(relative, [1, 5, 50, 99])
    print(f"\n## MNIST's stroke widths ({len(x_test):,} test digits, images.measure_digit_strokes)\n")
    print(f"- relative to the digit's longest side: 1st percentile {p1:.3f}, 5th {p5:.3f}, median {p50:.3f} "
          f"(about 1/{1 / p50:.0f}), 99th {p99:.3f}; limits: thickened below {THIN_LIMIT}, thinned above "
          f"{THICK_LIMIT}")
    print(f"- in pixels of the 28x28 picture: median {np.median(pixels):.1f}, "
          f"5th-95th percentile {np.percentile(pixels, 5):.1f}-{np.percentile(pixels, 95):.1f}")
    bands = [(f"thin (< {THIN_LIMIT})", relative < THIN_LIMIT),
             (f"typical ({THIN_TARGET}-0.20)", (relative >= THIN_TARGET) & (relative <= 0.20)),
             ("all", np.ones_like(right))]
    for band, chosen in bands:
        print(f"- model wrong on the digits as they are, {band}: {1 - right[chosen].mean():.1%} "
              f"of {int(chosen.sum()):,}")


def bench_latency(predictor: inference.Predictor) -> None:
    folder = config.images_dir() / "samples"
    one = images.prepare_image(folder / sample_rows()[0]["file"])[np.newaxis]
    for _ in range(20):
        predictor.probabilities(one)
    model_call = []
    for _ in range(500):
        start = time.perf_counter()
        predictor.probabilities(one)
        model_call.append(time.perf_counter() - start)
    keras_predict = []
    for _ in range(10):
        start = time.perf_counter()
        predictor.model.predict(one, verbose=0)
        keras_predict.append(time.perf_counter() - start)
    prepare = []
    for row in sample_rows()[:60]:
        if len(row["label"]) > 1:
            continue
        start = time.perf_counter()
        images.prepare_image(folder / row["file"])
        prepare.append(time.perf_counter() - start)
    print("\n## Single-image latency (median)\n")
    print(f"- Predictor (compiled tf.function) on one prepared image: {statistics.median(model_call) * 1000:.2f} ms")
    print(f"- keras model.predict on one image, for comparison:       {statistics.median(keras_predict) * 1000:.1f} ms")
    print(f"- prepare_image on a sample file (read + pipeline):       {statistics.median(prepare) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a saved Keras model (default: the course's default model)")
    parser.add_argument("--mnist", type=int, default=None, help="only the first N MNIST test digits")
    args = parser.parse_args()
    model = inference.load_model(args.model) if args.model else inference.load_default_model()
    predictor = inference.Predictor(model)
    bench_samples(predictor)
    bench_mnist(predictor, args.mnist)
    bench_latency(predictor)


if __name__ == "__main__":
    main()
