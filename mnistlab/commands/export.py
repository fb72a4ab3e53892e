"""``python -m mnistlab export [--int8]``: convert a trained model to a TFLite file for phones and small servers."""

from __future__ import annotations

from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="convert a trained .keras model to TensorFlow Lite (float32, or full int8 with --int8)",
        description="Convert a trained Keras model to a .tflite file that the LiteRT runtime runs "
        "(pip install ai-edge-litert; no TensorFlow needed to run it). --int8 quantises weights and "
        "activations to 8-bit integers, calibrated on training digits: about 4x smaller, with "
        "uint8 pixels in and uint8 probabilities out. The test accuracy of both is printed.",
    )
    parser.add_argument("--int8", action="store_true", help="full integer quantisation (uint8 input and output)")
    parser.add_argument("--model", type=Path, default=None,
                        help="the .keras model to convert (default: the course's trained default model)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the .tflite file to write (default: next to the model, named ...-int8.tflite "
                        "or ...-float32.tflite)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from mnistlab.errors import UsageError

    if args.out is not None and args.out.suffix != ".tflite":
        raise UsageError(f"--out {args.out} must end in .tflite")
    if args.model is not None and args.model.suffix != ".keras":
        raise UsageError(f"--model {args.model} must be a .keras file (train one with python -m mnistlab train)")
    from mnistlab import data, decision, deploy, evaluation, statistics

    model_path = deploy.model_file(args.model)
    predictor = deploy.load_predictor(model_path)  # with the model's own decision rule, if it has one
    out = args.out or deploy.tflite_path(model_path, args.int8)
    kind = "full int8 (uint8 in/out)" if args.int8 else "float32"
    print(f"Converting {model_path} to TFLite {kind}...", flush=True)
    deploy.export_tflite(predictor.model, out, int8=args.int8, rule=predictor.rule)
    exported = deploy.load_predictor(out)
    (_, _), (x_test, y_test) = data.load_mnist()
    images = data.to_cnn_input(x_test)
    keras_rows = deploy.predict_probabilities(predictor, images)
    lite_rows = deploy.predict_probabilities(exported, images)
    keras_labels, lite_labels = keras_rows.argmax(axis=1), lite_rows.argmax(axis=1)
    print(f"saved: {out} ({out.stat().st_size / 1000:.0f} KB; the .keras file is "
          f"{Path(model_path).stat().st_size / 1000:.0f} KB)")
    lite_accuracy, keras_accuracy = evaluation.accuracy(y_test, lite_labels), evaluation.accuracy(y_test, keras_labels)
    changed = int((lite_labels != keras_labels).sum())
    print(f"test accuracy on {len(y_test):,} MNIST test digits: TFLite {lite_accuracy:.2%}, Keras {keras_accuracy:.2%} "
          f"({100 * (lite_accuracy - keras_accuracy):+.2f} points); a different answer on {changed:,} of them")
    print(f"  TFLite {statistics.accuracy_interval(y_test, lite_labels)}\n"
          f"  Keras  {statistics.accuracy_interval(y_test, keras_labels)}\n"
          f"  (TFLite = A, Keras = B) {statistics.mcnemar_test(y_test, lite_labels, keras_labels)}")
    same = decision.accepts(lite_rows, exported.rule) == decision.accepts(keras_rows, predictor.rule)
    if predictor.rule.calibrated:
        print(f"decision rule copied to {decision.rule_path(out)}: the same ok / refused decision on "
              f"{same.mean():.2%} of the test digits")
    else:
        print(f"{decision.uncalibrated_note(model_path)} Then export again.")
    print(f"serve it: python -m mnistlab serve --model {out}")  # serve, predict and evaluate all take it
    return 0
