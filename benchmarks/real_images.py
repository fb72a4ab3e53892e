"""Measure the user-image pipeline on real pictures people made: accuracy, accepted share, latency.

The pictures are a development set of real user images (``real_digits``: drawings, phone photos,
scans and pre-processed crops from public repositories, with a ``labels.csv`` of file, label,
kind and source_repo). They are third-party files: they are read where they are, never copied
into the project. Where the folder is missing the benchmark says so and exits cleanly.

Run (from the repository root; nice'd because others share the machine)::

    nice -n 10 python benchmarks/real_images.py [FOLDER] [--model PATH] [--misses]

FOLDER defaults to ``$MNISTLAB_REAL_DIGITS``, else ``../shared/real_digits`` next to the repository.
Without ``--model`` it uses the course's default model (``training.load_or_train_default``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from PIL import Image

from mnistlab import images as pipeline
from mnistlab import inference, picture_sets


def default_folder() -> Path:
    """``$MNISTLAB_REAL_DIGITS``, else ``../shared/real_digits`` relative to the repository."""
    return Path(os.environ.get("MNISTLAB_REAL_DIGITS") or picture_sets.shared_folder("real_digits"))


def run(predictor: inference.Predictor, folder: Path, rows: list[dict]) -> list[dict]:
    """One result per picture: the label, the top-1 guess, whether it was accepted, prepare times.

    Each picture is also decoded by Pillow alone right before it is prepared: a reference measured
    under the same load and independent of the pipeline's code, so the ratio of the two survives a
    busy machine (and compares versions) better than either time does.
    """
    results = []
    for row in rows:
        path = folder / row["file"]
        start = time.perf_counter()
        with Image.open(path) as image:
            image.load()
        reference = time.perf_counter() - start
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            prepared = pipeline.prepare_image(path)
        except pipeline.NoDigitError as error:
            prepared, status = None, f"not-a-digit: {error}"
        except pipeline.ImageError as error:
            prepared, status = None, f"error: {error}"
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        if prepared is not None:
            prediction = predictor.predict_prepared(prepared, row["file"])
            top = prediction.top3[0][0]
            accepted = prediction.is_digit
            status = prediction.status if not accepted else f"{prediction.confidence:.0%}"
        else:
            top, accepted = None, False
        results.append({**row, "top": top, "right": top == int(row["label"]), "accepted": accepted,
                        "status": status, "seconds": seconds, "cpu_seconds": cpu_seconds, "reference": reference})
    return results


def table(results: list[dict], key: str, title: str) -> None:
    groups: dict[str, list[dict]] = defaultdict(list)
    for result in results:
        groups[result[key]].append(result)
    print(f"\n## By {title}\n")
    print(f"| {title} | n | top-1 | accepted | accepted and right |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in sorted(groups, key=lambda g: (-len(groups[g]), g)):
        print(row_text(name, groups[name]))
    print(row_text("**all**", results))


def row_text(name: str, group: list[dict]) -> str:
    right = sum(r["right"] for r in group)
    accepted = [r for r in group if r["accepted"]]
    accepted_right = sum(r["right"] for r in accepted)
    share = f"{accepted_right / len(accepted):.1%}" if accepted else "n/a"
    return (f"| {name} | {len(group)} | {right / len(group):.1%} | {len(accepted) / len(group):.1%} | "
            f"{share} ({accepted_right}/{len(accepted)}) |")


def percentiles(values: list[float]) -> str:
    return " / ".join(f"{statistics.quantiles(values, n=100)[q - 1] * 1000:.1f}" for q in (50, 95)) + " ms"


def print_latency(results: list[dict], load_before: tuple[float, float, float]) -> None:
    """prepare_image's wall and CPU time per picture (p50 / p95), and its median ratio to the reference."""
    wall = [r["seconds"] for r in results]
    cpu = [r["cpu_seconds"] for r in results]
    ratio = statistics.median(r["seconds"] / max(r["reference"], 1e-6) for r in results)
    loads = ", ".join(f"{a:.1f} -> {b:.1f}" for a, b in zip(load_before, os.getloadavg(), strict=True))
    print("\n## prepare_image per picture (read + pipeline)\n")
    print(f"- wall time p50 / p95: {percentiles(wall)}")
    print(f"- CPU time p50 / p95:  {percentiles(cpu)}")
    print(f"- median ratio to decoding the same file with Pillow, timed just before it: {ratio:.1f}x")
    print(f"- load average (1, 5, 15 min) before -> after: {loads} (2 cores, shared: quote medians and ratios)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=None,
                        help="folder with labels.csv and the pictures (default: $MNISTLAB_REAL_DIGITS "
                             "or ../shared/real_digits)")
    parser.add_argument("--model", help="a saved Keras model (default: the course's default model)")
    parser.add_argument("--misses", action="store_true", help="list every picture read wrong or refused")
    args = parser.parse_args()
    folder = (args.folder or default_folder()).expanduser()
    if not (folder / "labels.csv").is_file():
        print(f"No real-picture set at {folder} (no labels.csv): skipped. Pass the folder or set "
              f"MNISTLAB_REAL_DIGITS.")
        return 0
    model = inference.load_model(args.model) if args.model else inference.load_default_model()
    predictor = inference.Predictor(model)
    rows = picture_sets.read_labels(folder)
    load_before = os.getloadavg()
    results = run(predictor, folder, rows)
    print(f"# Real pictures: {folder} ({len(results)} pictures)")
    table(results, "kind", "kind")
    table(results, "source_repo", "repository")
    print_latency(results, load_before)
    wrong = [r for r in results if not r["right"] or not r["accepted"]]
    if args.misses and wrong:
        print("\n## Wrong or not accepted\n")
        for r in wrong:
            print(f"- {r['file']} ({r['kind']}): label {r['label']}, top-1 {r['top']}, {r['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
