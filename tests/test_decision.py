"""mnistlab.decision: calibrated probabilities, ok / unsure / not a digit, fitting on validation digits, the sidecar."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import special

from mnistlab import calibration, decision
from mnistlab.decision import DecisionRule
from mnistlab.errors import MnistlabError

RULE = DecisionRule(temperature=1.0, threshold=0.8, calibrated=True)  # no temperature: rows read as they are


def row(**mass) -> np.ndarray:
    """A probability row with ``mass`` on the named digits (``d4=0.6``) and the rest spread evenly."""
    given = {int(name[1:]): value for name, value in mass.items()}
    rest = (1 - sum(given.values())) / (10 - len(given))
    return np.array([given.get(d, rest) for d in range(10)])


def test_confident_row_is_ok_with_its_digit():
    verdict = decision.decide(row(d7=0.95), RULE)
    assert (verdict.status, verdict.digit, verdict.message) == ("ok", 7, "")
    assert verdict.confidence == pytest.approx(0.95) and verdict.score == pytest.approx(0.95)
    assert [d for d, _ in verdict.top3][0] == 7 and len(verdict.top3) == 3


def test_two_digits_sharing_the_mass_are_unsure_and_named():
    verdict = decision.decide(row(d4=0.62, d9=0.35), RULE)
    assert verdict.status == "unsure" and verdict.digit is None
    assert verdict.message == "could be 4 or 9 (4 at 62%, 9 at 35%)"


def test_a_spread_row_is_not_a_digit_and_says_why():
    verdict = decision.decide(row(d4=0.31, d1=0.2), RULE)
    assert verdict.status == "not-a-digit" and verdict.digit is None
    assert "letter, a symbol or a drawing, not a digit" in verdict.message and "best guess 4 at 31%" in verdict.message


def test_temperature_sharpens_without_changing_the_digit():
    under_confident = row(d3=0.5, d8=0.2)
    assert decision.decide(under_confident, RULE).status == "not-a-digit"
    sharp = DecisionRule(temperature=0.3, threshold=0.8, calibrated=True)
    verdict = decision.decide(under_confident, sharp)
    assert (verdict.status, verdict.digit) == ("ok", 3) and verdict.confidence > 0.9
    calibrated = decision.calibrated_probabilities(np.stack([under_confident, row(d1=0.4)]), sharp)
    assert calibrated.shape == (2, 10) and np.allclose(calibrated.sum(axis=1), 1)
    assert list(calibrated.argmax(axis=1)) == [3, 1]


def test_rows_with_exact_zeros_stay_finite():
    int8_like = np.zeros(10)
    int8_like[[2, 5]] = [200 / 256, 56 / 256]  # an int8 model's output: most probabilities exactly 0
    for temperature in (0.4, 1.0, 3.0):
        calibrated = decision.calibrated_probabilities(int8_like, DecisionRule(temperature, 0.8))
        assert np.all(np.isfinite(calibrated)) and calibrated.sum() == pytest.approx(1) and calibrated.argmax() == 2
    assert decision.decide(int8_like, RULE).status == "unsure"  # 78 % and 22 %: two digits hold it all
    with pytest.raises(ValueError, match="non-negative"):
        decision.calibrated_probabilities(np.full(10, np.nan), RULE)


def test_the_uncalibrated_rule_is_the_old_60_percent_rule():
    rule = DecisionRule.uncalibrated()
    assert (rule.temperature, rule.threshold, rule.calibrated) == (1.0, decision.MIN_CONFIDENCE, False)
    assert decision.decide(row(d2=0.61), rule).status == "ok"
    spread = decision.decide(row(d0=0.3, d1=0.25), rule)
    assert spread.status == "unsure" and spread.message == "best guess 0 at only 30%"  # never "not a digit"
    assert "uncalibrated" in rule.summary()


def test_scores_are_one_registry():
    calibrated = np.stack([row(d1=0.9), row(d2=0.5)])
    np.testing.assert_allclose(decision.open_set_score(calibrated), [0.9, 0.5])
    assert decision.open_set_score(calibrated[0], "max_softmax") == pytest.approx(0.9)
    with pytest.raises(ValueError, match="unknown open-set score 'energy'; known: margin, max_softmax"):
        decision.open_set_score(calibrated, "energy")
    with pytest.raises(ValueError, match="unknown open-set score"):
        DecisionRule(1.0, 0.5, score="nope")


def under_confident_model(count: int = 4000, squash: float = 2.5, seed: int = 0):
    """Softmax outputs of a model whose true class scores were divided by ``squash`` (under-confident),
    with labels drawn from the un-squashed (calibrated) probabilities."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1, (count, 10))
    logits[np.arange(count), rng.integers(0, 10, count)] += rng.uniform(2, 9, count)
    truth = special.softmax(logits, axis=1)
    labels = np.array([rng.choice(10, p=p) for p in truth])
    return special.softmax(logits / squash, axis=1), labels


def test_fit_rule_calibrates_and_accepts_the_chosen_share():
    probabilities, labels = under_confident_model()
    rule = decision.fit_rule(probabilities, labels, accepted_fraction=0.99)
    assert rule.calibrated and rule.temperature == pytest.approx(1 / 2.5, rel=0.15)
    assert rule.ece_after < rule.ece_before / 3
    assert rule.ece_before == pytest.approx(calibration.expected_calibration_error(labels, probabilities), abs=1e-6)
    accepted = decision.accepts(probabilities, rule)
    assert 0.99 <= accepted.mean() < 0.99 + 2 / len(labels)  # the highest threshold that accepts 99 %
    assert rule.fitted_on == "MNIST validation split, 4,000 digits" and rule.accepted_fraction == 0.99


@pytest.mark.parametrize(("probabilities", "labels", "fraction", "problem"), [
    (np.zeros((0, 10)), np.zeros(0, int), 0.99, "at least 20"),
    (np.full((30, 10), 0.1), np.zeros(29, int), 0.99, "29 labels but 30"),
    (np.random.default_rng(0).normal(0, 3, (30, 10)), np.zeros(30, int), 0.99, "not its logits"),
    (np.full((30, 10), 0.1), np.full(30, 10), 0.99, "integers 0..9"),
    (np.full((30, 10), 0.1), np.zeros(30, int), 1.5, r"accepted_fraction must be in \(0, 1\]"),
    (np.full(10, 0.1), np.zeros(1, int), 0.99, r"shape \(N, classes\)"),
])
def test_fit_rule_refuses_nonsense(probabilities, labels, fraction, problem):
    with pytest.raises(ValueError, match=problem):
        decision.fit_rule(probabilities, labels, accepted_fraction=fraction)


def test_rule_round_trips_and_checks_its_values():
    probabilities, labels = under_confident_model(500)
    rule = decision.fit_rule(probabilities, labels)
    assert DecisionRule.from_dict(json.loads(json.dumps(rule.to_dict()))) == rule
    assert DecisionRule.from_dict({**rule.to_dict(), "added_later": 1}) == rule  # a newer file still loads
    for bad in ({"threshold": 0.5}, {"temperature": -1, "threshold": 0.5}, {"temperature": "1", "threshold": 0.5}):
        with pytest.raises(ValueError):
            DecisionRule.from_dict(bad)


def test_sidecar_round_trip_next_to_the_model_file(tmp_path):
    model = tmp_path / "x_int8.tflite"
    model.write_bytes(b"model bytes")
    assert decision.load_rule(model) == DecisionRule.uncalibrated()  # no sidecar: the old rule, no error
    rule = decision.fit_rule(*under_confident_model(500))
    saved = decision.save_rule(rule, model)
    assert saved == tmp_path / "x_int8.tflite.decision.json" == decision.rule_path(model)
    content = json.loads(saved.read_text())
    assert content["model_file"] == "x_int8.tflite" and content["model_bytes"] == len(b"model bytes")
    assert len(content["model_sha256"]) == 64
    assert decision.load_rule(model) == rule
    assert not list(tmp_path.glob("*.part"))  # written through a temporary file, then renamed


def test_a_stale_or_damaged_sidecar_says_what_to_run(tmp_path):
    model = tmp_path / "m.keras"
    model.write_bytes(b"version 1")
    decision.save_rule(decision.fit_rule(*under_confident_model(500)), model)
    model.write_bytes(b"version 2")  # retrained or replaced: the rule no longer belongs to it
    with pytest.raises(decision.DecisionFileError, match="another version of m.keras") as stale:
        decision.load_rule(model)
    assert f"python -m mnistlab calibrate {model}" in str(stale.value)
    assert isinstance(stale.value, MnistlabError) and isinstance(stale.value, ValueError)
    decision.rule_path(model).write_text("{ not json")
    with pytest.raises(decision.DecisionFileError, match="damaged.*python -m mnistlab calibrate"):
        decision.load_rule(model)
    with pytest.raises(FileNotFoundError, match="no model file"):
        decision.save_rule(DecisionRule.uncalibrated(), tmp_path / "missing.keras")


def test_decision_imports_without_tensorflow_or_scikit_learn():
    code = ("import sys, mnistlab.decision, mnistlab.inference; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_train_saves_a_calibrated_rule_beside_the_model(course_home, tiny_split):
    pytest.importorskip("keras")
    from mnistlab import training

    out = course_home / "dense.keras"
    result = training.train("dense", epochs=1, batch_size=64, split=tiny_split, verbose=0,
                            checkpoint_path=course_home / "dense.weights.h5", save_to=out)
    assert result.rule is not None and result.rule.calibrated
    assert decision.load_rule(out) == result.rule
    assert result.rule.fitted_on == f"MNIST validation split, {len(tiny_split.y_val)} digits"


def test_the_margin_is_the_top_logit_above_the_mean_and_ignores_the_temperature():
    logits = np.array([[4.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0],
                       [0.5, 0.4, 0.3, 0.2, 0.1, 0.0, 0.1, 0.2, 0.3, 0.4]])
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    margin = decision.open_set_score(probabilities, "margin")
    np.testing.assert_allclose(margin, logits.max(axis=1) - logits.mean(axis=1), rtol=1e-6)
    sharp = decision.calibrated_probabilities(probabilities, DecisionRule(0.4, 1.0, calibrated=True))
    np.testing.assert_allclose(decision.open_set_score(sharp, "margin"), margin / 0.4, rtol=1e-6)
    assert decision.fit_rule(*under_confident_model()).score == decision.OPEN_SET_SCORE == "margin"


def test_digit_like_but_torn_between_three_digits_is_unsure_not_a_non_digit():
    rule = DecisionRule(temperature=1.0, threshold=1.0, score="margin", calibrated=True)
    three_way = row(d3=0.45, d5=0.3, d8=0.2)
    verdict = decision.decide(three_way, rule)
    assert verdict.score >= rule.threshold
    assert verdict.status == "unsure" and verdict.message == "best guess 3 at only 45%"
    assert decision.decide(row(d3=0.95), rule).status == "ok"


def test_the_lower_threshold_tells_unsure_from_not_a_digit():
    rule = DecisionRule(temperature=1.0, threshold=2.0, score="margin", calibrated=True, digit_threshold=1.0)
    spread = row(d4=0.3)  # margin about 1.2: under the threshold, above the digit-like floor
    flat = row(d4=0.15)  # margin about 0.4: below the floor
    assert decision.open_set_score(spread, "margin") > 1.0 > decision.open_set_score(flat, "margin")
    verdict = decision.decide(spread, rule)
    assert verdict.status == "unsure" and verdict.message.startswith("best guess 4 at only 30%")
    assert decision.decide(flat, rule).status == "not-a-digit"
    assert decision.decide(row(d4=0.48, d9=0.47), rule).message.startswith("could be 4 or 9")
    with pytest.raises(ValueError, match="digit_threshold must be"):
        DecisionRule(1.0, 2.0, score="margin", digit_threshold=3.0)


def test_fit_rule_places_the_digit_like_floor_on_99_9_percent_of_validation_digits():
    probabilities, labels = under_confident_model()
    rule = decision.fit_rule(probabilities, labels)
    scores = decision.open_set_score(decision.calibrated_probabilities(probabilities, rule), rule.score)
    assert rule.digit_threshold <= rule.threshold
    assert (scores >= rule.digit_threshold).mean() >= decision.DIGIT_LIKE_FRACTION
    assert DecisionRule.from_dict(rule.to_dict()) == rule
    older = {k: v for k, v in rule.to_dict().items() if k != "digit_threshold"}  # a decision file from before
    assert DecisionRule.from_dict(older).digit_threshold is None
