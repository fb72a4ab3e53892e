"""Measure the "is it a digit?" decision against issue 23's targets, as a user meets it.

Every picture goes through the same path as the command line and the web page
(``deploy.load_predictor``: the saved default model with the decision rule stored beside it,
``Predictor.predict_many``: the image pipeline, then calibration and the open-set decision).
Printed, as Markdown for ``benchmarks/RESULTS.md``:

1. real digits: share answered "ok", and right among those; real non-digits: share refused
   (unsure or not a digit), by kind and by source repository (pictures of one repository share a writer);
2. MNIST test: top-1 accuracy, share answered "ok", accuracy of those, expected calibration error
   before and after the stored temperature;
3. AUROC real digits vs real non-digits (and MNIST test vs real non-digits) for the raw max-softmax
   and for the rule's score, side by side;
4. the int8 export with the same rule: share of the same decisions (status and digit);
5. ``prepare_image`` + decision per picture: median over the real digits, with the stored rule and
   with the uncalibrated 60 % rule (the decision before issue 23), alternated, and their ratio.

The pictures are third-party files (``real_digits`` and ``real_non_digits``, each with a ``labels.csv``):
read where they are, never copied, never trained or tuned on. Missing folders: the benchmark says so and exits.

Run (from the repository root; nice'd because others share the machine)::

    nice -n 10 python benchmarks/decision.py [--digits DIR] [--non-digits DIR] [--fast] [--rounds N]

``--fast`` uses the fast-mode default model (``python -m mnistlab --fast train`` first).
"""

from __future__ import annotations

import argparse
import statistics as stats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from mnistlab import calibration, config, data, decision, deploy, open_set, picture_sets, statistics, store


def pct(part: float, whole: float) -> str:
    return f"{part / whole:.2%}" if whole else "n/a"


def pct_interval(part: int, whole: int) -> str:
    low, high = statistics.wilson_interval(part, whole)
    return f"{part / whole:.2%} ({low:.1%}–{high:.1%}, {part:,} of {whole:,})"


def raw_scores(predictor, predictions) -> tuple[np.ndarray, np.ndarray]:
    """Raw max-softmax and the rule's score per picture; -inf where the pipeline found nothing to score."""
    raw, ruled = np.full(len(predictions), -np.inf), np.full(len(predictions), -np.inf)
    scored = [i for i, p in enumerate(predictions) if p.image is not None]
    if scored:
        rows = predictor.probabilities(np.stack([predictions[i].image for i in scored]))
        raw[scored] = rows.max(axis=1)
        ruled[scored] = decision.open_set_score(decision.calibrated_probabilities(rows, predictor.rule),
                                                predictor.rule.score)
    return raw, ruled


def decisions(predictor, prepared: np.ndarray) -> list[tuple[str, int | None]]:
    return [(p.status, p.digit) for p in deploy.judge_prepared(predictor, prepared)]


def refused_by(rows: list[dict], predictions, key: str) -> str:
    groups = defaultdict(lambda: [0, 0])
    for row, p in zip(rows, predictions, strict=True):
        groups[row[key]][0] += p.status != "ok"
        groups[row[key]][1] += 1
    return ", ".join(f"{name} {done}/{total}" for name, (done, total) in sorted(groups.items()))


def median_ms(predictor, files: list[Path], rounds: int, rules: dict) -> dict[str, float]:
    """Median wall time of ``predictor.predict`` (prepare + model + decision) per file, per rule, alternated."""
    times = {name: [] for name in rules}
    for _ in range(rounds):
        for name, rule in rules.items():
            predictor.rule = rule
            for file in files:
                start = time.perf_counter()
                predictor.predict(file)
                times[name].append(time.perf_counter() - start)
    return {name: 1000 * stats.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    picture_sets.add_real_set_options(parser)
    parser.add_argument("--fast", action="store_true", help="the fast-mode default model and split")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds over the real digits")
    args = parser.parse_args()
    folders = picture_sets.chosen_real_sets(args)
    if folders is None:
        return 0

    plan = config.budget(fast=args.fast)
    path = store.default_model_path(plan)
    predictor = deploy.load_predictor(path)
    rule = predictor.rule
    if not rule.calibrated:
        print(f"{path} has no decision file: run `python -m mnistlab calibrate {path}` first.")
        return 1
    split = data.split_mnist(plan.train_size)

    rows = {what: picture_sets.read_labels(folder) for what, folder in folders.items()}
    found = {what: predictor.predict_many([folders[what] / r["file"] for r in rows[what]]) for what in folders}
    digits, others = found["digits"], found["non-digits"]
    ok = np.array([p.status == "ok" for p in digits])
    right = np.array([p.digit == int(r["label"]) for p, r in zip(digits, rows["digits"], strict=True)])
    refused = np.array([p.status != "ok" for p in others])

    test_rows = deploy.predict_probabilities(predictor, split.x_test)
    test_calibrated = decision.calibrated_probabilities(test_rows, rule)
    test = [predictor.judge(x, row, "x") for x, row in zip(split.x_test, test_rows, strict=True)]  # rows reused
    test_ok = np.array([p.status == "ok" for p in test])
    test_right = test_rows.argmax(axis=1) == split.y_test

    print(f"# Decision: {path.name}, {rule.summary()}\n")
    print("| measure | result | target |")
    print("| --- | ---: | ---: |")
    print(f"| real digits answered ok | {pct_interval(ok.sum(), len(ok))} | ≥ 99 % |")
    print(f"| real digits: ok answers right | {pct_interval((ok & right).sum(), ok.sum())} | ≥ 99.7 % |")
    print(f"| real non-digits refused (unsure or not a digit) | {pct_interval(refused.sum(), len(refused))} | ≥ 95 % |")
    print(f"| MNIST test accuracy (top-1) | {pct_interval(test_right.sum(), len(test_right))} | ≥ 99.55 % |")
    print(f"| MNIST test answered ok | {pct_interval(test_ok.sum(), len(test_ok))} | ≥ 99.5 % |")
    print(f"| MNIST test: ok answers right | {pct((test_ok & test_right).sum(), test_ok.sum())} | – |")
    print(f"| MNIST test ECE, as trained → calibrated | "
          f"{calibration.expected_calibration_error(split.y_test, test_rows):.4f} → "
          f"{calibration.expected_calibration_error(split.y_test, test_calibrated):.4f} | ≤ 0.01 |")

    raw_d, rule_d = raw_scores(predictor, digits)
    raw_o, rule_o = raw_scores(predictor, others)
    raw_t = test_rows.max(axis=1)
    rule_t = decision.open_set_score(test_calibrated, rule.score)
    def auroc(inside, outside) -> str:  # over the pictures that reached the model, as benchmarks/open_set.py
        return f"{open_set.auroc(inside[np.isfinite(inside)], outside[np.isfinite(outside)]):.4f}"

    print("\n| AUROC (pictures the pipeline prepared) | raw max-softmax | the rule's score |")
    print("| --- | ---: | ---: |")
    print(f"| real digits vs real non-digits | {auroc(raw_d, raw_o)} | {auroc(rule_d, rule_o)} |")
    print(f"| MNIST test vs real non-digits | {auroc(raw_t, raw_o)} | {auroc(rule_t, rule_o)} |")

    print(f"\nStatuses: MNIST test {dict(sorted(_count(test).items()))}; "
          f"real digits {dict(sorted(_count(digits).items()))}; "
          f"real non-digits {dict(sorted(_count(others).items()))}.")
    print(f"Real non-digits refused by kind: {refused_by(rows['non-digits'], others, 'kind')}.")
    print(f"By source repository: {refused_by(rows['non-digits'], others, 'source_repo')}.")
    wrong = [f"{r['label']}→{p.digit}" for p, r in zip(others, rows["non-digits"], strict=True) if p.status == "ok"]
    print(f"Accepted non-digits (label→digit): {', '.join(wrong) or 'none'}.")
    missed = [f"{r['label']}:{p.status}" for p, r in zip(digits, rows["digits"], strict=True) if p.status != "ok"]
    print(f"Real digits not answered ok: {', '.join(missed) or 'none'}.")

    with tempfile.TemporaryDirectory() as tmp:
        model = store.load_model(path)
        int8 = deploy.LiteRTPredictor(deploy.export_tflite(model, Path(tmp) / "int8.tflite", int8=True), rule=rule)
        prepared = np.concatenate([split.x_test] + [np.stack([p.image for p in ps if p.image is not None])
                                                     for ps in (digits, others)])
        pairs = list(zip(decisions(predictor, prepared), decisions(int8, prepared), strict=True))
        same = np.array([a == b for a, b in pairs])
        answer = np.array([(a[0] == "ok") == (b[0] == "ok") and a[1] == b[1] for a, b in pairs])
        print(f"\nint8 export with the same rule, on {len(same):,} inputs (MNIST test + the real pictures the "
              f"pipeline prepared): same status and digit on {pct(same.sum(), len(same))} ({(~same).sum()} differ); "
              f"same answer (ok with the same digit, or refused) on {pct(answer.sum(), len(answer))} "
              f"({(~answer).sum()} differ); target ≥ 99.9 %.")

    files = [folders["digits"] / r["file"] for r in rows["digits"]]
    rules = {"stored rule": rule, "uncalibrated 60 % rule": decision.DecisionRule.uncalibrated()}
    times = median_ms(predictor, files, args.rounds, rules)
    print(f"\nprepare_image + decision, median per picture over {len(files)} real digits × {args.rounds} rounds: "
          f"stored rule {times['stored rule']:.2f} ms, uncalibrated 60 % rule {times['uncalibrated 60 % rule']:.2f} ms "
          f"(ratio {times['stored rule'] / times['uncalibrated 60 % rule']:.2f}).")
    return 0


def _count(predictions) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for p in predictions:
        counts[p.status] += 1
    return counts


if __name__ == "__main__":
    sys.exit(main())
