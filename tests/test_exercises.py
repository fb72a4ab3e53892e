"""Self-checks: right, wrong and not-done answers each get the line a learner should see; checks never raise."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab import exercises
from mnistlab.exercises import checks


def _run(call, capsys):
    result = call()
    return result, capsys.readouterr().out


RIGHT = [
    lambda: exercises.check(4, lambda n: n % 2 == 0, "Ex"),
    lambda: exercises.check_equal((28, 28), (28, 28), "Ex"),
    lambda: exercises.check_equal(np.int64(3), 3, "Ex"),
    lambda: exercises.check_shape(np.zeros((4, 28, 28, 1)), (None, 28, 28, 1), "Ex"),
    lambda: exercises.check_array([0.5, 1.0], np.array([0.5, 1.0]), "Ex"),
    lambda: exercises.check_between(0.97, 0.9, 1.0, "Ex"),
    lambda: exercises.check_choice(" B) ", "b", {"a": "one", "b": "two"}, "Ex", why={"b": "Because two."}),
    lambda: exercises.check_function(lambda x: x * 2, [((np.arange(3),), np.arange(3) * 2), ((5,), 10)], "Ex"),
]


@pytest.mark.parametrize("call", RIGHT)
def test_a_right_answer_passes(call, capsys):
    ok, out = _run(call, capsys)
    assert ok is True and out.startswith("✅ Ex: correct!") and "❌" not in out


def test_a_passed_choice_explains_why(capsys):
    exercises.check_choice("b", "b", {"a": "one", "b": "two"}, "Ex", why={"b": "Because two."})
    assert "Because two." in capsys.readouterr().out


WRONG = [
    (lambda: exercises.check(3, lambda n: n % 2 == 0, "Ex", "3 is odd", hint="h"), "3 is odd"),
    (
        lambda: exercises.check(3, lambda n: n > 5, "Ex", problem=lambda n: f"{n} is too small", hint="h"),
        "3 is too small",
    ),
    (lambda: exercises.check("x", lambda n: n > 5, "Ex", hint="h"), "could not be checked (TypeError"),
    (lambda: exercises.check_equal(3, 4, "Ex", hint="h"), "got 3, which is not the expected value"),
    (lambda: exercises.check_equal("4", 4, "Ex", hint="h"), "a str; expected a int"),
    (lambda: exercises.check_equal(np.ones(3), np.zeros(3), "Ex", hint="h"), "not the expected value"),
    (
        lambda: exercises.check_shape(np.zeros((2, 28, 28)), (None, 28, 28, 1), "Ex", hint="h"),
        "expected (any, 28, 28, 1)",
    ),
    (lambda: exercises.check_array(np.ones(4), np.zeros(4), "Ex", hint="h"), "4 of 4 values differ"),
    (lambda: exercises.check_array(np.ones(3), np.zeros(4), "Ex", hint="h"), "shape is (3,)"),
    (lambda: exercises.check_array(["a", "b"], np.zeros(2), "Ex", hint="h"), "expected an array of numbers"),
    (lambda: exercises.check_between(1.5, 0, 1, "Ex", hint="h"), "1.5 is not the value"),
    (lambda: exercises.check_between("high", 0, 1, "Ex", hint="h"), "expected a number, got a str"),
    (lambda: exercises.check_between(True, 0, 1, "Ex", hint="h"), "expected a number, got a bool"),
    (
        lambda: exercises.check_choice(
            "a", "b", {"a": "one", "b": "two"}, "Ex", why={"a": "One is too few."}, hint="h"
        ),
        "'a' (one) is not right. One is too few.",
    ),
    (lambda: exercises.check_choice("z", "b", {"a": "one", "b": "two"}, "Ex", hint="h"), "not one of the options"),
    (
        lambda: exercises.check_function(lambda x: x + 1, [((1,), 2), ((2,), 4, "x = 2")], "Ex", hint="h"),
        "on x = 2 your function returned 3, expected 4",
    ),
    (
        lambda: exercises.check_function(
            lambda x: np.arange(4.0), [((0,), np.array([0.0, 1.0, 2.5, 3.0]))], "Ex", hint="h"
        ),
        "1 of 4 values wrong (at index (2,): 2.0, expected 2.5)",
    ),
    (
        lambda: exercises.check_function(
            lambda x: np.eye(2, dtype="int64"), [((0,), np.eye(2, dtype="float32"))], "Ex", hint="h", check_dtype=True
        ),
        "the right values with dtype int64, expected dtype float32",
    ),
    (
        lambda: exercises.check_function(
            lambda x: (np.arange(2), np.arange(3)),
            [((0,), (np.arange(3), np.arange(2)))],
            "Ex",
            hint="h",
            compare=lambda a, b: False,
        ),
        "expected (array([0, 1, 2]), array([0, 1]))",
    ),
    (lambda: exercises.check_function(lambda x: 1 / x, [((0,), 1)], "Ex", hint="h"), "raised ZeroDivisionError"),
    (lambda: exercises.check_function(lambda x: None, [((0,), 1)], "Ex", hint="h"), "returned None"),
    (lambda: exercises.check_function(42, [((0,), 1)], "Ex", hint="h"), "expected a function, got a int"),
    (
        lambda: exercises.check_function(lambda x: np.zeros(2), [((0,), np.zeros(3))], "Ex", hint="h"),
        "an array of shape (2,)",
    ),
]


@pytest.mark.parametrize(("call", "problem"), WRONG)
def test_a_wrong_answer_fails_with_why_and_a_hint(call, problem, capsys):
    ok, out = _run(call, capsys)
    assert ok is False and out.startswith("❌ Ex: ") and "✅" not in out
    assert problem in out and "💡 Hint: h" in out


NOT_DONE = [
    lambda: exercises.check(..., lambda n: n > 0, "Ex", hint="h"),
    lambda: exercises.check_equal(..., 4, "Ex", hint="h"),
    lambda: exercises.check_equal(None, 4, "Ex", hint="h"),
    lambda: exercises.check_shape(..., (1,), "Ex", hint="h"),
    lambda: exercises.check_array(..., np.zeros(2), "Ex", hint="h"),
    lambda: exercises.check_between(..., 0, 1, "Ex", hint="h"),
    lambda: exercises.check_choice(..., "a", {"a": "x"}, "Ex", hint="h"),
    lambda: exercises.check_function(..., [((1,), 1)], "Ex", hint="h"),
]


@pytest.mark.parametrize("call", NOT_DONE)
def test_a_placeholder_is_not_done_yet(call, capsys):
    ok, out = _run(call, capsys)
    assert ok is False and out.startswith(f"❌ Ex: {checks.NOT_DONE}") and "💡 Hint: h" in out


def test_a_function_still_raising_not_implemented_is_not_done(capsys):
    def learner(image):
        raise NotImplementedError("Exercise: write this part")

    ok, out = _run(lambda: exercises.check_function(learner, [((1,), 1)], "Ex", hint="h"), capsys)
    assert ok is False and out.startswith(f"❌ Ex: {checks.NOT_WRITTEN}") and "💡 Hint: h" in out


def test_a_predicate_calling_a_function_not_written_yet_is_not_done(capsys):
    def learner(labels):
        raise NotImplementedError("Exercise: write this part")

    ok, out = _run(lambda: exercises.check(learner, lambda f: f([1]) == 1, "Ex", hint="h"), capsys)
    assert ok is False and out.startswith(f"❌ Ex: {checks.NOT_WRITTEN}") and "could not be checked" not in out


def test_check_function_gives_each_case_a_fresh_copy_of_its_input(capsys):
    image = np.ones(3)

    def changes_its_input(array):
        array *= 0
        return array.sum()

    ok = exercises.check_function(changes_its_input, [((image,), 0.0), ((image,), 0.0)], "Ex")
    assert ok is True and image.sum() == 3  # the case input survived both calls

def test_require_function_passes_a_function_and_names_anything_else(capsys):
    assert checks.require_function(len, "Ex") is True
    assert checks.require_function(..., "Ex", hint="h") is False
    assert checks.require_function(42, "Ex") is False
    out = capsys.readouterr().out
    assert "✅" not in out and "not done yet" in out and "expected a function, got a int" in out


def test_run_learner_returns_what_the_calls_return_or_reports_the_error(capsys):
    def unwritten():
        raise NotImplementedError

    assert checks.run_learner(lambda: [1, 2], "Ex") == [1, 2]
    assert checks.run_learner(unwritten, "Ex") is checks.NO_RESULT
    assert checks.run_learner(lambda: 1 / 0, "Ex", on="40 new digits") is checks.NO_RESULT
    out = capsys.readouterr().out
    assert "not done yet" in out and "on 40 new digits your function raised ZeroDivisionError" in out


def test_learner_array_reads_the_result_as_floats_or_says_what_it_got(capsys):
    got = checks.learner_array(lambda a: a * 2, (np.arange(3),), "Ex")
    assert got.dtype == float and np.array_equal(got, [0, 2, 4])
    assert checks.learner_array(lambda a: {"not": "numbers"}, (1,), "Ex") is checks.NO_RESULT
    assert checks.learner_array(lambda a: None, (1,), "Ex", on="case 1") is checks.NO_RESULT
    out = capsys.readouterr().out
    assert "expected an array, got a dict" in out and "on case 1 your function returned None" in out


def test_learner_number_reads_one_number_or_says_what_it_got(capsys):
    assert checks.learner_number(lambda a: np.float32(a) / 2, (3,), "Ex") == pytest.approx(1.5)
    assert checks.learner_number(lambda a: np.array([a]), (2,), "Ex") == 2.0  # one number in an array is fine

    def choose(scores):
        return [scores, scores]

    assert checks.learner_number(choose, (1,), "Ex", on="scores you had not seen") is checks.NO_RESULT
    out = capsys.readouterr().out
    assert "❌" in out and "on scores you had not seen choose returned a list; return one number" in out
    assert checks.learner_number(lambda a: 1 / 0, (1,), "Ex") is checks.NO_RESULT
