"""``python -m mnistlab calibrate [MODEL]``: fit a saved model's ok / unsure / not-a-digit rule, stored beside it."""

from __future__ import annotations

import argparse
from pathlib import Path

from mnistlab.commands.arguments import positive_int


def fraction(text: str) -> float:
    """argparse type for a share: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number such as 0.995, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {value}")
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "calibrate",
        help="fit a saved model's calibration and its ok / unsure / not-a-digit threshold on validation digits",
        description="Fit the decision rule of a saved .keras model or .tflite export on the validation digits "
        "that training held out (never the test digits): a temperature that makes its confidence honest, and "
        "the threshold below which an answer is refused. The rule is saved next to the model file as "
        "MODEL.decision.json; predict, serve, evaluate and the notebooks' loaders use it. `train` does this "
        "by itself; run calibrate for a model saved before, or after replacing the file.",
    )
    parser.add_argument("model", nargs="?", type=Path, default=None, metavar="MODEL",
                        help="a .keras model or .tflite export (default: the course's default model)")
    parser.add_argument("--train-size", type=positive_int, default=None,
                        help="the --train-size the model was trained with, so the same validation digits are "
                        "used (default: the budget's; full or fast read from the file name, else the current mode)")
    parser.add_argument("--accept", type=fraction, default=None, metavar="FRACTION",
                        help="share of the validation digits the threshold accepts (default: 0.995)")
    parser.set_defaults(run=run)


def plan_for(path: Path):
    """The budget a model file was trained with: full or fast as its name says (``...-fast-30k-3ep...``), else the
    current mode's. Its training size decides which digits were held out for validation."""
    from mnistlab import config

    for plan in (config.FULL, config.FAST):
        if f"-{plan.name}-" in path.name:
            return plan
    return config.budget()


def run(args) -> int:
    from mnistlab import config, data, decision, deploy, inference, store
    from mnistlab.errors import MnistlabError, UsageError

    path = deploy.model_file(args.model)
    if path.suffix not in (store.KERAS_SUFFIX, deploy.TFLITE_SUFFIX):
        raise UsageError(f"{path} must be a .keras model or a .tflite export")
    # Not load_predictor: it reads the old decision file, which may be the stale one this command replaces.
    if path.suffix == deploy.TFLITE_SUFFIX:
        predictor = deploy.LiteRTPredictor(path)
    else:
        predictor = inference.Predictor(store.load_model(path))
    plan = plan_for(path)
    train_size = args.train_size or plan.train_size
    # The split train() makes with the same size and seed: the validation digits this model never trained on.
    split = data.split_mnist(train_size, seed=config.SEED)
    count = len(split.y_val)
    print(f"Calibrating {path} on the validation split of {train_size or 60_000:,} training digits "
          f"({plan.name} budget, seed {config.SEED}): {count:,} digits the model never trained on.", flush=True)
    probabilities = deploy.predict_probabilities(predictor, split.x_val)
    if probabilities.shape[1:] != (data.NUM_CLASSES,):
        raise MnistlabError(f"{path} outputs shape {probabilities.shape[1:]}, not 10 digit probabilities.")
    accept = args.accept if args.accept is not None else decision.ACCEPTED_FRACTION
    try:
        rule = decision.fit_rule(probabilities, split.y_val, accept,
                                 fitted_on=f"MNIST validation split ({plan.name} budget), {count:,} digits")
    except ValueError as error:
        raise MnistlabError(f"{path} cannot be calibrated: {error}") from error
    saved = decision.save_rule(rule, path)
    accepted = decision.accepts(probabilities, rule)
    kind = "under-confident: sharpened" if rule.temperature < 1 else "over-confident: softened"
    print(f"temperature T = {rule.temperature:.3f} (the model was {kind})")
    print(f"expected calibration error on these digits: {rule.ece_before:.4f} -> {rule.ece_after:.4f}")
    print(f"threshold: {rule.score} >= {rule.threshold:.4f} is ok; it accepts {accepted.mean():.2%} of the "
          f"validation digits ({int(accepted.sum()):,} of {count:,}; target {accept:.1%})")
    if rule.digit_threshold is not None:
        print(f"refused answers: \"unsure\" down to {rule.score} {rule.digit_threshold:.4f} (where "
              f"{decision.DIGIT_LIKE_FRACTION:.1%} of the validation digits still are), \"not a digit\" below")
    print(f"saved: {saved}")
    return 0
