"""``python -m mnistlab evaluate [PATH]``: score a saved model on the test set and write an evaluation report."""

from __future__ import annotations

from pathlib import Path

from mnistlab.commands.arguments import positive_int

REPORT_FOLDER = "evaluation"  # under config.figures_dir() unless --out says otherwise


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a saved model on the 10,000 test digits and write a report",
        description="Load a saved Keras model (default: the course's default model), predict the "
        "10,000 MNIST test digits, write the report (metrics table, confusion matrix, mistakes "
        "gallery, per-digit accuracy) to a folder and print test accuracy, test loss, parameter "
        "count and saved-file size.",
    )
    parser.add_argument(
        "path", nargs="?", type=Path, default=None,
        help="saved .keras model or .tflite export to evaluate (default: the default model's saved path)",
    )
    parser.add_argument(
        "--out", type=Path, default=None,
        help=f"folder for the report (default: images/figures/{REPORT_FOLDER})",
    )
    parser.add_argument(
        "--mistakes", type=positive_int, default=32, metavar="N",
        help="how many of the most confident mistakes the gallery shows (default: 32)",
    )
    parser.set_defaults(run=run)


def prepare_for(model, images):
    """Raw uint8 test digits in the layout ``model`` takes: (N, 784), (N, 28, 28) or (N, 28, 28, 1).

    A LiteRT predictor (a ``.tflite`` file) takes (N, 28, 28, 1), like the course's CNNs.
    """
    from mnistlab import baselines, data

    rank = len(getattr(model, "input_shape", (None, *data.INPUT_SHAPE)))
    if rank == 2:
        return baselines.to_features(images)
    if rank == 3:
        return data.scale_pixels(images)
    return data.to_cnn_input(images)


def write_report(model, x_test, y_test, out: Path, mistakes: int = 32) -> tuple[object, dict[str, Path]]:
    """Predict once and write the report files into ``out``: ``(Evaluation, {what: path})``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mnistlab import evaluation, plots

    # A LiteRT predictor scores through its probabilities(); a Keras model through predict().
    scorer = model.probabilities if hasattr(model, "probabilities") else model
    result = evaluation.evaluate(scorer, prepare_for(model, x_test), y_test)
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "metrics table": out / "metrics.csv",
        "tidy report": out / "report.csv",
        "confused pairs": out / "confused_pairs.csv",
        "mistakes list": out / "mistakes.csv",
        "confusion matrix": out / "confusion_matrix.png",
        "mistakes gallery": out / "mistakes.png",
        "per-digit accuracy": out / "per_digit_accuracy.png",
    }
    result.metrics().to_csv(written["metrics table"], float_format="%.6f")
    tidy = result.report(name=getattr(model, "name", "model"))
    tidy.to_csv(written["tidy report"], index=False, float_format="%.6f")
    result.most_confused_pairs(top=20).to_csv(written["confused pairs"], index=False, float_format="%.6f")
    result.mistakes().to_csv(written["mistakes list"], index=False, float_format="%.6f")
    for name, fig in (
        ("confusion matrix", plots.plot_confusion_matrix(result.y_true, result.y_pred)),
        ("mistakes gallery", plots.plot_mistakes(x_test, result.y_true, result.probabilities, n=mistakes)),
        ("per-digit accuracy", plots.plot_per_digit_accuracy(result.y_true, result.y_pred)),
    ):
        plots.save_figure(fig, written[name])
        plt.close(fig)
    return result, written


def decision_line(path: Path, probabilities, y_true) -> str:
    """What the model's decision rule (its .decision.json) does on these digits: calibrated ECE and share accepted."""
    import numpy as np

    from mnistlab import calibration, decision

    rule = decision.load_rule(path)
    if not rule.calibrated:
        return f"decision rule: none stored with {path.name} (run `python -m mnistlab calibrate {path}`)"
    kept = decision.accepts(probabilities, rule)
    right = np.asarray(probabilities).argmax(axis=1) == np.asarray(y_true)
    ece = calibration.expected_calibration_error(y_true, decision.calibrated_probabilities(probabilities, rule))
    return (f"decision rule (T = {rule.temperature:.3f}): calibrated ECE {ece:.4f}; accepts {kept.mean():.2%} "
            f"of the test digits, {right[kept].mean():.2%} of those right")


def run(args) -> int:
    from mnistlab import config, data, deploy, store
    from mnistlab.errors import MnistlabError

    path = deploy.model_file(args.path)
    if path.suffix == deploy.TFLITE_SUFFIX:
        model = deploy.load_predictor(path)  # the LiteRT runtime, no TensorFlow
    else:
        model = store.load_model(path)  # a missing, misnamed or damaged file: says what to do, never trains
        output_shape = tuple(model.output_shape)
        if output_shape[-1] != data.NUM_CLASSES:
            raise MnistlabError(f"{path} outputs shape {output_shape}, not 10 digit probabilities.")
    _, (x_test, y_test) = data.load_mnist()
    out = args.out if args.out is not None else config.figures_dir() / REPORT_FOLDER
    try:
        result, written = write_report(model, x_test, y_test, Path(out).expanduser(), mistakes=args.mistakes)
    except ValueError as error:
        raise MnistlabError(f"{path} cannot score the test digits: {error}") from error
    print(f"Report for {path} ({len(y_test):,} test digits) written to {Path(out).expanduser()}:")
    for what, file in written.items():
        print(f"  {what:<20} {file.name}")
    summary = result.confidence()
    pairs = result.most_confused_pairs(top=3)
    print("most confused (true→predicted): "
          + ", ".join(f"{r.true}→{r.predicted} ({r.count})" for r in pairs.itertuples()))
    print(f"mistakes: {int((result.y_pred != result.y_true).sum())}, "
          f"mean confidence when wrong {summary.mean_confidence_wrong:.3f}, "
          f"ECE {summary.expected_calibration_error:.4f}")
    print(decision_line(path, result.probabilities, result.y_true))
    size = path.stat().st_size
    print(f"test accuracy: {result.accuracy:.4f}")
    print(f"test loss: {result.loss:.4f}")
    if hasattr(model, "count_params"):  # a .tflite file keeps its weights in its own format
        print(f"parameters: {model.count_params():,}")
    print(f"saved file size: {size / 1e6:.2f} MB ({size:,} bytes)")
    return 0
