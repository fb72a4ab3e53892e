"""``python -m mnistlab predict IMAGE ...``: read the digit(s) in your own images, file by file."""

from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="predict the digit in one or more image files",
        description="Prepare each image like an MNIST digit and print the answer: the digit with its "
        "calibrated confidence and the top-3, \"not sure\" (two digits fit), or \"not a digit\" (a letter, "
        "a symbol, a drawing), with the reason. A file that cannot be read, or holds no marks at all, gets an "
        "error line and the others go on; the exit code is 1 if any file failed. Use --number for images "
        "holding several digits in a row (pieces that are not digits are skipped and listed).",
    )
    parser.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="image files (PNG, JPEG, ...)")
    parser.add_argument("--model", type=Path, default=None,
                        help="a .keras model or a .tflite export (default: the course's trained default model; "
                        "this command never trains one)")
    parser.add_argument("--steps", type=Path, default=None, metavar="OUT_DIR",
                        help="also save a figure of every pipeline step per image into OUT_DIR")
    parser.add_argument("--number", action="store_true", help="read several digits written in a row")
    parser.set_defaults(run=run)


def _save_steps(path: Path, out_dir: Path, steps=None) -> Path:
    """Save the pipeline figure for ``path``; ``steps`` are reused when the prediction already made them."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from mnistlab import images
    from mnistlab.plots.images import plot_pipeline_steps

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{path.stem}_steps.png"
    fig = plot_pipeline_steps(steps if steps is not None else images.prepare_steps(path))
    fig.savefig(target, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return target


def run(args) -> int:
    from mnistlab import decision, deploy, images

    predictor = deploy.load_predictor(args.model)  # never trains: a missing model names `train`
    if not predictor.rule.calibrated:
        print(decision.uncalibrated_note(deploy.model_file(args.model)), file=sys.stderr)
    failed = 0
    for path in args.images:
        steps = None
        try:
            if args.number:
                reading = predictor.read_number(path, name=str(path))
                details = "; ".join(
                    f"{p.digit if p.digit is not None else '?'} ({p.confidence:.1%})" for p in reading.kept
                )
                skipped = f"  ({reading.skipped_note()})" if reading.skipped else ""
                print(f"{path}: {reading.text or '(no digit)'}  digits {details or '-'}{skipped}")
            else:
                if args.steps is not None:
                    result, steps = predictor.predict_with_steps(path, name=str(path))
                else:
                    result = predictor.predict(path, name=str(path))
                if result.image is None:  # nothing found to read (a blank page): no answer at all
                    raise images.NoDigitError(result.message if str(path) in result.message
                                              else f"{path}: not a digit: {result.message}")
                print(result.summary())  # "not a digit" from the model's decision is an answer, with its reason
            if args.steps is not None:
                print(f"  steps saved to {_save_steps(path, args.steps, steps)}")
        except images.ImageError as error:
            failed += 1
            print(f"error: {error}", file=sys.stderr)
    if failed:
        print(f"{failed} of {len(args.images)} file(s) could not be read.", file=sys.stderr)
    return 1 if failed else 0
