"""One calibrated "ok / unsure / not a digit" decision for every predictor, stored beside the model file."""

# Every predictor (Keras, LiteRT float32 and int8), the CLI, the web page and the notebooks answer through
# :func:`decide`, with the :class:`DecisionRule` fitted for the model file they run (issue 23):
#
# 1. calibration: the model's probabilities are sharpened or softened by one temperature ``T`` fitted on the
#    validation digits (:func:`mnistlab.calibration.fit_temperature`), so "80 %" means right 8 times in 10;
# 2. an open-set score of the calibrated probabilities (higher = more like a training digit; one registry,
#    :data:`SCORES`), accepted when ``score >= threshold``; the threshold is placed so that a chosen share of
#    the validation digits is accepted, never tuned on non-digits;
# 3. below it, "unsure" while the score still reaches a lower threshold that 99.9 % of the validation digits
#    reach (it looks like a digit, just not clearly one: a 4 that could be a 9), else "not a digit": no digit
#    fits. An "ok" answer must also be at least 50 % likely.
#
# The rule is a small JSON file next to the model (``<model file name>.decision.json``) holding the model
# file's SHA-256, so a rule is never applied to a model it was not fitted for. NumPy/SciPy only: a LiteRT
# server imports this without TensorFlow.

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mnistlab import calibration
from mnistlab.errors import MnistlabError

MIN_CONFIDENCE = 0.6  # the uncalibrated rule: below this top probability the answer is "unsure"
AMBIGUITY_MASS = 0.9  # two digits holding this much of the calibrated probability: "unsure", not "not a digit"
# Share of the validation digits a fitted threshold accepts: issue 23 asks for >= 99.5 % of the MNIST test
# digits accepted. Placed on the validation digits, it accepted 99.6-99.7 % of the test digits
# (benchmarks/RESULTS.md, "Decision").
ACCEPTED_FRACTION = 0.995
# An "ok" answer is at least this likely to be right (calibrated): below it the model is more likely wrong.
MIN_OK_CONFIDENCE = 0.5
# Share of the validation digits at or above the lower "looks like a digit at all" threshold: a refused input above
# it is "unsure", below it "not a digit". A refused digit is then nearly always "unsure", and this split flipped
# between the float and int8 models less often than one on the top two digits' probability (benchmarks/RESULTS.md).
DIGIT_LIKE_FRACTION = 0.999
# int8 models output exact zeros (steps of 1/256); the logarithm needs a positive number. Far below any
# probability that can change a decision, so it only keeps log() finite.
PROBABILITY_FLOOR = 1e-7
MIN_VALIDATION_DIGITS = 20  # fewer cannot place a temperature, let alone a threshold
SIDECAR_SUFFIX = ".decision.json"
SIDECAR_FORMAT = 1

Status = Literal["ok", "unsure", "not-a-digit"]


class DecisionFileError(MnistlabError, ValueError):
    """A model's decision file is damaged or belongs to another version of the model; the message says what to run."""


# --------------------------------------------------------------------------- the open-set score


def _max_softmax(calibrated: np.ndarray) -> np.ndarray:
    return calibrated.max(axis=-1)


def _margin(calibrated: np.ndarray) -> np.ndarray:
    # log p_i = z_i / T - c for logits z, so this is (top logit - mean logit) / T: how far the best digit stands
    # above the average digit. Outlier exposure trained non-digits towards equal logits (margin 0), and unlike
    # the top probability its ranking does not depend on the temperature (benchmarks/RESULTS.md, "Decision").
    logs = np.log(np.clip(calibrated, PROBABILITY_FLOOR, None))
    return logs.max(axis=-1) - logs.mean(axis=-1)


# Every score of the calibrated probabilities (N, classes) -> (N,), higher = more digit-like. A new score is one
# entry here; the decision, the fit and the sidecar files all go through open_set_score. (An energy score needs
# logits: a model ending in a softmax keeps none, so scores here see calibrated probabilities only.)
SCORES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "max_softmax": _max_softmax,
    "margin": _margin,
}
OPEN_SET_SCORE = "margin"  # the score fit_rule uses, chosen by measurement (benchmarks/RESULTS.md, "Decision")


def _check_score(score: str) -> str:
    if score not in SCORES:
        raise ValueError(f"unknown open-set score {score!r}; known: {', '.join(sorted(SCORES))}")
    return score


def open_set_score(calibrated, score: str = "max_softmax") -> np.ndarray:
    """The open-set score named ``score`` (a key of :data:`SCORES`) of calibrated probabilities, per row.

    ``calibrated``: one row (classes,) or a batch (N, classes) from :func:`calibrated_probabilities`.
    Higher means more like the digits the model was trained on; the rule accepts ``score >= threshold``.
    """
    return SCORES[_check_score(score)](np.asarray(calibrated, dtype=float))


# --------------------------------------------------------------------------- the rule


@dataclass(frozen=True)
class DecisionRule:
    """How probabilities become "ok", "unsure" or "not a digit" for one model file, and where that came from."""

    temperature: float  # log-probabilities are divided by it (< 1 sharpens an under-confident model)
    threshold: float  # on the open-set score: below it the answer is refused (unsure or not a digit)
    score: str = "max_softmax"  # the name of the score in SCORES
    # Refused, and the top two digits hold at least this much: "unsure"; less: "not a digit".
    # 0 never says "not a digit" from the score (the uncalibrated rule: an uncalibrated spread means little).
    ambiguity_mass: float = AMBIGUITY_MASS
    fitted_on: str = ""  # e.g. "MNIST validation split, 6,000 digits"
    accepted_fraction: float | None = None  # share of those digits the threshold was placed to accept
    ece_before: float | None = None  # expected calibration error on them, before and after the temperature
    ece_after: float | None = None
    calibrated: bool = False  # True when fitted on validation digits (fit_rule)
    # Refused at or above this score: "unsure"; below: "not a digit". None (rules from before it existed, and the
    # uncalibrated rule): the split by ambiguity_mass.
    digit_threshold: float | None = None

    def __post_init__(self):
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError(f"temperature must be a positive number, got {self.temperature}")
        if not math.isfinite(self.threshold):
            raise ValueError(f"threshold must be a finite number, got {self.threshold}")
        if self.digit_threshold is not None and not (math.isfinite(self.digit_threshold)
                                                     and self.digit_threshold <= self.threshold):
            raise ValueError(f"digit_threshold must be a finite number at most the threshold {self.threshold}, "
                             f"got {self.digit_threshold}")
        _check_score(self.score)
        if not 0 <= self.ambiguity_mass <= 1:
            raise ValueError(f"ambiguity_mass must be between 0 and 1, got {self.ambiguity_mass}")
        if self.accepted_fraction is not None and not 0 < self.accepted_fraction <= 1:
            raise ValueError(f"accepted_fraction must be in (0, 1], got {self.accepted_fraction}")

    @classmethod
    def uncalibrated(cls) -> DecisionRule:
        """The rule for a model without a decision file: raw probabilities, "unsure" below 60 %, as before issue 23."""
        return cls(1.0, MIN_CONFIDENCE, ambiguity_mass=0.0,
                   fitted_on=f"not fitted: the uncalibrated {MIN_CONFIDENCE:.0%} rule")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DecisionRule:
        """The rule :meth:`to_dict` wrote; unknown keys (a newer version's) are ignored, bad values raise ValueError."""
        if not isinstance(values, dict):
            raise ValueError(f"expected a JSON object for the rule, got {type(values).__name__}")
        missing = [name for name in ("temperature", "threshold") if name not in values]
        if missing:
            raise ValueError(f"the rule has no {' or '.join(missing)}")
        known = {f.name for f in fields(cls)}
        kept = {name: value for name, value in values.items() if name in known}
        for name in ("temperature", "threshold", "ambiguity_mass", "accepted_fraction", "ece_before", "ece_after",
                     "digit_threshold"):
            if kept.get(name) is not None:
                if isinstance(kept[name], bool) or not isinstance(kept[name], (int, float)):
                    raise ValueError(f"{name} must be a number, got {kept[name]!r}")
                kept[name] = float(kept[name])
        if not isinstance(kept.get("calibrated", False), bool) or not isinstance(kept.get("score", ""), str):
            raise ValueError("calibrated must be true or false and score a name")
        return cls(**kept)

    def summary(self) -> str:
        """One line for people: temperature, threshold, and what it was fitted on."""
        if not self.calibrated:
            return f"uncalibrated: raw probabilities, \"unsure\" below {self.threshold:.0%}"
        ece = (f", ECE {self.ece_before:.4f} -> {self.ece_after:.4f}"
               if self.ece_before is not None and self.ece_after is not None else "")
        share = f" (accepts {self.accepted_fraction:.1%} of them)" if self.accepted_fraction is not None else ""
        floor = (f", below {self.digit_threshold:.4f} not a digit" if self.digit_threshold is not None else "")
        return (f"temperature {self.temperature:.3f}{ece}; {self.score} >= {self.threshold:.4f} is ok{share}"
                f"{floor}; fitted on {self.fitted_on}")


# --------------------------------------------------------------------------- calibrated probabilities


def _with_temperature(probabilities, temperature: float) -> np.ndarray:
    proba = np.asarray(probabilities, dtype=float)
    if proba.ndim not in (1, 2) or proba.shape[-1] < 2:
        raise ValueError(f"expected probabilities (classes,) or (N, classes), got shape {proba.shape}")
    if not np.all(np.isfinite(proba)) or np.any(proba < 0):
        raise ValueError("probabilities must be finite and non-negative (pass the model's softmax output)")
    return calibration.apply_temperature(np.log(np.clip(proba, PROBABILITY_FLOOR, None)), temperature)


def calibrated_probabilities(probabilities, rule: DecisionRule) -> np.ndarray:
    """``softmax(log(p) / T)`` per row, with ``T = rule.temperature``: the probabilities people are shown.

    ``probabilities``: a model's softmax output, one row (classes,) or a batch (N, classes); exact zeros
    (int8 models) are raised to :data:`PROBABILITY_FLOOR` first. ``log(p)`` equals the model's logits up to
    a constant per row, which the softmax ignores, so this is temperature scaling of the logits. It never
    changes which digit is on top.
    """
    return _with_temperature(probabilities, rule.temperature)


def accepts(probabilities, rule: DecisionRule) -> np.ndarray:
    """Which rows of raw ``probabilities`` (N, classes) the rule answers "ok" (``score >= threshold``)."""
    return open_set_score(calibrated_probabilities(probabilities, rule), rule.score) >= rule.threshold


# --------------------------------------------------------------------------- deciding


@dataclass
class Verdict:
    """The decision for one input: status, the digit when "ok", calibrated confidence and top-3, and why."""

    status: Status
    digit: int | None  # None unless "ok"
    confidence: float  # calibrated probability of the top digit
    top3: list[tuple[int, float]] = field(default_factory=list)  # calibrated
    message: str = ""  # empty when "ok"; else why, in plain words
    score: float = 0.0  # the open-set score the threshold was compared with


def _percent(probability: float) -> str:
    return f"{probability:.0%}"  # as Prediction.summary() writes them


def decide(probabilities_row, rule: DecisionRule) -> Verdict:
    """"ok", "unsure" or "not-a-digit" for one row of a model's softmax output, by ``rule``.

    ok: the open-set score of the calibrated row reaches ``rule.threshold`` (it looks like a digit) and the top
    digit is at least :data:`MIN_OK_CONFIDENCE` likely (calibrated rules only). Refused: "unsure" when the score
    still reaches ``rule.digit_threshold`` (it looks like a digit, just not clearly one digit), else "not-a-digit"
    (no digit fits: a letter, a symbol, a drawing). A rule without a ``digit_threshold`` splits by the top two
    digits' share of the calibrated probability (``rule.ambiguity_mass``) instead.
    """
    row = np.asarray(probabilities_row, dtype=float)
    if row.ndim != 1:
        raise ValueError(f"decide takes one row of class probabilities, got shape {row.shape}")
    calibrated = calibrated_probabilities(row, rule)
    order = np.argsort(calibrated)[::-1][:3]
    top3 = [(int(d), float(calibrated[d])) for d in order]
    score = float(open_set_score(calibrated, rule.score))
    (best, first), (second, runner_up) = top3[0], top3[1]
    digit_like = score >= rule.threshold
    if digit_like and (first >= MIN_OK_CONFIDENCE or not rule.calibrated):
        return Verdict("ok", best, first, top3, "", score)
    pair = first + runner_up
    if rule.digit_threshold is not None:
        looks_like_a_digit = score >= rule.digit_threshold
    else:
        looks_like_a_digit = digit_like or pair >= rule.ambiguity_mass
    if looks_like_a_digit:
        if pair >= AMBIGUITY_MASS:
            message = f"could be {best} or {second} ({best} at {_percent(first)}, {second} at {_percent(runner_up)})"
        else:
            message = f"best guess {best} at only {_percent(first)}"
        return Verdict("unsure", None, first, top3, message, score)
    return Verdict("not-a-digit", None, first, top3,
                   f"this looks like a letter, a symbol or a drawing, not a digit "
                   f"(no digit fits: best guess {best} at {_percent(first)})", score)


# --------------------------------------------------------------------------- fitting


def _validation_rows(probabilities_val, y_val) -> tuple[np.ndarray, np.ndarray]:
    proba = np.asarray(probabilities_val, dtype=float)
    labels = np.asarray(y_val).ravel()
    if proba.ndim != 2 or proba.shape[1] < 2:
        raise ValueError(f"expected validation probabilities of shape (N, classes), got {proba.shape}")
    if len(proba) != len(labels):
        raise ValueError(f"{len(labels)} labels but {len(proba)} probability rows: pass one row per digit")
    if len(proba) < MIN_VALIDATION_DIGITS:
        raise ValueError(f"only {len(proba)} validation digits: a rule needs at least {MIN_VALIDATION_DIGITS}")
    if not np.all(np.isfinite(proba)) or np.any(proba < 0) or np.any(np.abs(proba.sum(axis=1) - 1) > 0.1):
        raise ValueError("the rows must be probabilities (non-negative, each summing to 1): pass the model's "
                         "softmax output, not its logits")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= proba.shape[1]:
        raise ValueError(f"labels must be integers 0..{proba.shape[1] - 1}")
    return proba, labels


def fit_rule(probabilities_val, y_val, accepted_fraction: float = ACCEPTED_FRACTION, score: str = OPEN_SET_SCORE,
             fitted_on: str | None = None) -> DecisionRule:
    """The calibrated rule for a model, from its softmax output on validation digits and their labels.

    The temperature minimises the negative log-likelihood of the validation digits
    (:func:`mnistlab.calibration.fit_temperature` on ``log(p)``); the threshold is the highest that still
    accepts ``accepted_fraction`` of them (:func:`mnistlab.open_set.threshold_accepting`, right and wrong
    digits alike), and ``digit_threshold`` the one that accepts :data:`DIGIT_LIKE_FRACTION`. Use digits the
    model never trained on, never the test set or the non-digits to be refused.
    """
    from mnistlab import open_set  # imports scikit-learn (~0.7 s): only fitting needs it, not every predictor

    proba, labels = _validation_rows(probabilities_val, y_val)
    if not 0 < accepted_fraction <= 1:
        raise ValueError(f"accepted_fraction must be in (0, 1], got {accepted_fraction}")
    _check_score(score)
    temperature = calibration.fit_temperature(np.log(np.clip(proba, PROBABILITY_FLOOR, None)), labels)
    before, after = _with_temperature(proba, 1.0), _with_temperature(proba, temperature)
    scores = open_set_score(after, score)
    threshold = open_set.threshold_accepting(scores, accepted_fraction)
    digit_threshold = min(open_set.threshold_accepting(scores, max(DIGIT_LIKE_FRACTION, accepted_fraction)), threshold)
    return DecisionRule(
        temperature, threshold, score, AMBIGUITY_MASS,
        fitted_on or f"MNIST validation split, {len(labels):,} digits", accepted_fraction,
        calibration.expected_calibration_error(labels, before), calibration.expected_calibration_error(labels, after),
        calibrated=True, digit_threshold=digit_threshold,
    )


# --------------------------------------------------------------------------- stored with the model


def rule_path(model_path: str | os.PathLike) -> Path:
    """The decision file of a model file: its full name plus ``.decision.json`` (``x_int8.tflite.decision.json``)."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name + SIDECAR_SUFFIX)


def _fingerprint(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest(), path.stat().st_size


def _calibrate_command(model_path: Path) -> str:
    return f"python -m mnistlab calibrate {model_path}"


def uncalibrated_note(model_path: str | os.PathLike) -> str:
    """The one line the commands print for a model without a decision file of its own."""
    return (f"note: {model_path} has no calibration file; answers use the uncalibrated {MIN_CONFIDENCE:.0%} rule. "
            f"Run `{_calibrate_command(Path(model_path))}`.")


def save_rule(rule: DecisionRule, model_path: str | os.PathLike) -> Path:
    """Write ``rule`` next to the model file at ``model_path``, with that file's SHA-256 and size; returns its path.

    Written to a temporary file first and then renamed, so a reader never sees half a file.
    """
    model_path = Path(model_path).expanduser()
    if not model_path.is_file():
        raise FileNotFoundError(f"no model file at {model_path} to store a decision rule for")
    sha256, size = _fingerprint(model_path)
    content = {
        "format": SIDECAR_FORMAT,
        "about": "how mnistlab turns this model's probabilities into ok / unsure / not a digit (mnistlab.decision)",
        "model_file": model_path.name,
        "model_sha256": sha256,
        "model_bytes": size,
        "rule": rule.to_dict(),
    }
    target = rule_path(model_path)
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")  # per process: two writers never share it
    partial.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    partial.replace(target)
    return target


def load_rule(model_path: str | os.PathLike) -> DecisionRule:
    """The rule stored next to the model file at ``model_path``; :meth:`DecisionRule.uncalibrated` when there is none.

    A damaged file, or one written for another version of the model file (its SHA-256 differs), raises
    :class:`DecisionFileError` naming the command that fits it again.
    """
    model_path = Path(model_path).expanduser()
    sidecar = rule_path(model_path)
    if not sidecar.is_file():
        return DecisionRule.uncalibrated()
    refit = f"Fit it again: run `{_calibrate_command(model_path)}`."
    try:
        content = json.loads(sidecar.read_text(encoding="utf-8"))
        if not isinstance(content, dict):
            raise ValueError("not a JSON object")
        rule = DecisionRule.from_dict(content.get("rule"))
        expected = content.get("model_sha256")
    except (OSError, UnicodeDecodeError, ValueError, TypeError) as error:
        raise DecisionFileError(f"the decision file {sidecar} is damaged ({error}). {refit}") from None
    if not model_path.is_file():
        raise DecisionFileError(f"{sidecar} belongs to a model file that is not there ({model_path}).")
    if _fingerprint(model_path)[0] != expected:
        raise DecisionFileError(f"the decision file {sidecar} was fitted for another version of {model_path.name} "
                                f"(the model file changed since). {refit}")
    return rule
