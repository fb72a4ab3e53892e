"""Measure open-set scores ("is it a digit?") on real digits and real non-digits (issue 23 groundwork).

Every picture goes through the library's preparation pipeline exactly as the command line does
(``Predictor.predict_with_steps``, without a decision file: the uncalibrated 60 % rule, the decision
before issue 23; ``benchmarks/decision.py`` measures the stored rule).
The prepared inputs are then scored by each candidate of :mod:`mnistlab.open_set` with the saved
default model. Each score's threshold is chosen on MNIST validation digits only (it accepts
``open_set.ACCEPT_FRACTION`` of them); the non-digits are only measured, never trained or tuned on.
A picture the pipeline refuses (no digit-like marks) has no score and counts as refused.

The pictures are third-party files (``real_digits`` and ``real_non_digits``, each with a
``labels.csv`` of file, label, kind, source_repo): read where they are, never copied into the
project. Where a folder is missing the benchmark says so and exits cleanly.

Run (from the repository root; nice'd because others share the machine)::

    nice -n 10 python benchmarks/open_set.py [--digits DIR] [--non-digits DIR] [--fast]

The folders default to ``../shared/real_digits`` and ``../shared/real_non_digits`` next to the
repository. ``--fast`` uses the fast-mode default model and split (the model must already be saved:
``python -m mnistlab --fast train``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from mnistlab import calibration, config, data, inference, open_set, picture_sets, statistics, store


def prepare(predictor: inference.Predictor, folder: Path, rows: list[dict]) -> tuple[list[dict], np.ndarray]:
    """Today's decision per picture, and the prepared inputs (N, 28, 28, 1) of those the pipeline accepted."""
    results, prepared = [], []
    for row in rows:
        prediction, steps = predictor.predict_with_steps(folder / row["file"], name=row["file"])
        results.append({**row, "status": prediction.status, "top": prediction.top3[0][0] if prediction.top3 else None,
                        "scored": steps is not None})
        if steps is not None:
            prepared.append(steps.result)
    return results, np.stack(prepared)


def scores_of(model, images, temperature, gaussians) -> dict[str, np.ndarray]:
    return open_set.all_scores(open_set.logits(model, images), open_set.penultimate_features(model, images),
                               temperature, gaussians)


def spread(scores: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """Scores back onto every picture, -inf for those the pipeline refused (so any threshold refuses them)."""
    full = np.full(len(scored), -np.inf)
    full[scored] = scores
    return full


def pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def pct_interval(part: int, whole: int) -> str:
    """``46.6 % (35–58)``: the share and its 95 % Wilson interval (73 non-digits leave about ±11 points)."""
    low, high = statistics.wilson_interval(part, whole)
    return f"{part / whole:.1%} ({low:.0%}–{high:.0%})"


def print_table(val, test, test_right, test_ink_ok, digits, digit_scores, others, other_scores, accept: float) -> None:
    """Per score: AUROC, and at the threshold that accepts ``accept`` of the validation digits what it does."""
    digit_scored = np.array([r["scored"] for r in digits])
    other_scored = np.array([r["scored"] for r in others])
    digit_right = np.array([r["right"] for r in digits])
    inked_out = np.array([r["status"] == "not-a-digit" for r in others])  # the pipeline or today's ink check
    print("| score (threshold) | AUROC real digits vs non-digits | real digits accepted | accepted digits right | "
          "real non-digits refused (95 % CI) | + today's ink check | MNIST test accepted | accepted MNIST right |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in val:
        threshold = open_set.threshold_accepting(val[name], accept)
        ok_digits = open_set.accepted(digit_scores[name], threshold)
        ok_others = open_set.accepted(other_scores[name], threshold)
        ok_test = open_set.accepted(test[name], threshold)
        area = open_set.auroc(digit_scores[name][digit_scored], other_scores[name][other_scored])
        print(f"| {name} (≥ {threshold:.4g}) | {area:.3f} | {pct(ok_digits.sum(), len(digits))} | "
              f"{pct((ok_digits & digit_right).sum(), ok_digits.sum())} | "
              f"{pct_interval((~ok_others).sum(), len(others))} | "
              f"{pct((~ok_others | inked_out).sum(), len(others))} | {pct(ok_test.sum(), len(ok_test))} | "
              f"{pct((ok_test & test_right).sum(), ok_test.sum())} |")
    ok = np.array([r["status"] == "ok" for r in digits])
    others_ok = sum(r["status"] == "ok" for r in others)
    today_test = (test["max-softmax"] >= inference.MIN_CONFIDENCE) & test_ink_ok  # Predictor.judge's two rules
    print(f"| uncalibrated rule (Predictor without a decision file: confidence ≥ {inference.MIN_CONFIDENCE}, "
          f"ink check) | – | "
          f"{pct(ok.sum(), len(digits))} | {pct((ok & digit_right).sum(), ok.sum())} | "
          f"{pct_interval(len(others) - others_ok, len(others))} | – | {pct(today_test.sum(), len(today_test))} | "
          f"{pct((today_test & test_right).sum(), today_test.sum())} |")


def print_hindsight(test, digit_scores, other_scores, others) -> None:
    """Each score's ceiling on this set: its threshold chosen on the real digits themselves (accepting 99 %)."""
    print("\nIn hindsight (NOT a result: the threshold is chosen on the real digits, to accept 99 % of them):\n")
    print("| score | threshold | real non-digits refused | MNIST test accepted |")
    print("| --- | ---: | ---: | ---: |")
    for name, scores in digit_scores.items():
        threshold = open_set.threshold_accepting(scores, 0.99)
        refused = (~open_set.accepted(other_scores[name], threshold)).sum()
        print(f"| {name} | {threshold:.4g} | {pct(refused, len(others))} | "
              f"{pct(open_set.accepted(test[name], threshold).sum(), len(test[name]))} |")


def print_by_kind(val, other_scores, others, accept: float) -> None:
    print("\nReal non-digits refused, by kind, at each score's validation threshold:\n")
    kinds = sorted({r["kind"] for r in others})
    of_kind = {k: np.array([r["kind"] == k for r in others]) for k in kinds}
    print("| score | " + " | ".join(f"{k} (n={of_kind[k].sum()})" for k in kinds) + " |")
    print("| --- |" + " ---: |" * len(kinds))
    for name in val:
        refused = ~open_set.accepted(other_scores[name], open_set.threshold_accepting(val[name], accept))
        cells = [pct((refused & of_kind[k]).sum(), of_kind[k].sum()) for k in kinds]
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    picture_sets.add_real_set_options(parser)
    parser.add_argument("--fast", action="store_true", help="the fast-mode default model and split")
    parser.add_argument("--accept", type=float, default=open_set.ACCEPT_FRACTION,
                        help="share of MNIST validation digits each threshold accepts (default %(default)s)")
    args = parser.parse_args()
    folders = picture_sets.chosen_real_sets(args)
    if folders is None:
        return 0

    plan = config.budget(fast=args.fast)
    path = store.default_model_path(plan)
    start = time.perf_counter()
    model = store.load_model(path)
    predictor = inference.Predictor(model)
    split = data.split_mnist(plan.train_size)  # the split the saved model was trained on (same seed)

    val_logits = open_set.logits(model, split.x_val)
    temperature = calibration.fit_temperature(val_logits, split.y_val)
    gaussians = open_set.fit_class_gaussians(open_set.penultimate_features(model, split.x_train), split.y_train)
    val = open_set.all_scores(val_logits, open_set.penultimate_features(model, split.x_val), temperature, gaussians)
    test = scores_of(model, split.x_test, temperature, gaussians)
    test_right = open_set.logits(model, split.x_test).argmax(axis=1) == split.y_test
    ink = (split.x_test > 0.5).mean(axis=(1, 2, 3))
    test_ink_ok = (inference.INK_RANGE[0] <= ink) & (ink <= inference.INK_RANGE[1])

    real = {}
    for what, folder in folders.items():
        results, prepared = prepare(predictor, folder, picture_sets.read_labels(folder))
        scored = np.array([r["scored"] for r in results])
        real[what] = (results, {name: spread(s, scored)
                                for name, s in scores_of(model, prepared, temperature, gaussians).items()})
    (digits, digit_scores), (others, other_scores) = real["digits"], real["non-digits"]
    for r in digits:
        r["right"] = r["top"] is not None and r["top"] == int(r["label"])

    print(f"# Open-set scores: {path.name}, T = {temperature:.3f} (fitted on {len(split.y_val):,} validation "
          f"digits), thresholds accept {args.accept:.1%} of them")
    print(f"\n{len(digits)} real digits ({folders['digits']}), {len(others)} real non-digits "
          f"({folders['non-digits']}); the pipeline refused {sum(not r['scored'] for r in digits)} digits and "
          f"{sum(not r['scored'] for r in others)} non-digits before any score (counted as refused). MNIST test: "
          f"{len(split.y_test):,} digits, top-1 {test_right.mean():.2%}; real digits top-1 "
          f"{np.mean([r['right'] for r in digits]):.1%}.\n")
    print_table(val, test, test_right, test_ink_ok, digits, digit_scores, others, other_scores, args.accept)
    print(f"\nToday's statuses: real digits {dict(Counter(r['status'] for r in digits))}; "
          f"real non-digits {dict(Counter(r['status'] for r in others))}. AUROC is over the pictures that "
          f"reached the model; the other columns count every picture.")
    print_hindsight(test, digit_scores, other_scores, others)
    print_by_kind(val, other_scores, others, args.accept)
    print(f"\n({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
