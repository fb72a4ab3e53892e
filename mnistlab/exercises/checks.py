"""Self-checks for learners: print ✅ or ❌ with why and a hint and return True/False; raise only when grading."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from mnistlab import config

PASS_MARK = "✅"
FAIL_MARK = "❌"
NOT_DONE = "not done yet: replace the `...` with your answer and run the cell above again"
# A student copy leaves a function exercise as a `def` whose body raises NotImplementedError: the check
# calls it and says so in these words (there is no `...` to replace in that cell).
NOT_WRITTEN = (
    "not done yet: write your function's body in place of `raise NotImplementedError(...)`, "
    "run that cell, then this one"
)


# --------------------------------------------------------------------------- reporting
# Every check ends in exactly one of these, so a learner always sees one line saying what happened.
# Checks never raise: "Run All" on a student copy must reach the last cell and show one ❌ per exercise.
# Under grading (config.grading_mode(), set by the course's nbgrader config) a failed check raises
# CheckFailed instead, so nbgrader gives the test cell 0 points and shows the same message in the feedback.


class CheckFailed(AssertionError):
    """A self-check failed while grading; the message is the ❌ line a learner would have seen."""


def passed(what: str, note: str | None = None) -> bool:
    """Print the ✅ line (with an optional explanation) and return True."""
    print(f"{PASS_MARK} {what}: correct!" + (f" {note}" if note else ""))
    return True


def failed(what: str, problem: str, hint: str | None = None) -> bool:
    """Print the ❌ line with the problem (and a hint) and return False; raise ``CheckFailed`` when grading."""
    message = f"{FAIL_MARK} {what}: {problem}"
    if hint:
        message += f"\n💡 Hint: {hint}"
    if config.grading_mode():
        handling = sys.exc_info()[1]
        if isinstance(handling, CheckFailed):
            # A check that guards its work with `except Exception` caught an inner check's failure:
            # report that one, not "could not be checked (CheckFailed: ...)".
            raise handling
        raise CheckFailed(message)
    print(message)
    return False


def not_done(what: str, hint: str | None = None) -> bool:
    """The answer is still the student copy's placeholder."""
    return failed(what, NOT_DONE, hint)


def not_written(what: str, hint: str | None = None) -> bool:
    """The learner's function still raises the student copy's ``NotImplementedError``."""
    return failed(what, NOT_WRITTEN, hint)


def report(
    ok: bool, what: str, problem: str = "not right yet", hint: str | None = None, note: str | None = None
) -> bool:
    """``passed`` when ``ok``, else ``failed`` with ``problem`` and ``hint``."""
    return passed(what, note) if ok else failed(what, problem, hint)


def is_missing(answer: object) -> bool:
    """True for the placeholders a student copy leaves: ``...`` (and ``None``, a common first try)."""
    return answer is None or answer is Ellipsis


def describe_error(error: BaseException) -> str:
    """A one-line account of an exception raised by the learner's code."""
    text = str(error).strip().split("\n")[0]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --------------------------------------------------------------------------- generic checks


def check(
    answer: object,
    predicate: Callable[[Any], bool] | bool,
    what: str,
    problem: str | Callable[[Any], str] | None = None,
    hint: str | None = None,
) -> bool:
    """Pass when ``predicate(answer)`` is true; ``problem`` (text, or a function of the answer) says why not."""
    if is_missing(answer):
        return not_done(what, hint)
    try:
        ok = bool(predicate(answer) if callable(predicate) else predicate)
    except NotImplementedError:  # the predicate called a learner's function that is not written yet
        return not_written(what, hint)
    except Exception as error:  # a wrong type of answer makes the test itself fail: say so, don't crash
        return failed(what, f"your answer could not be checked ({describe_error(error)})", hint)
    if ok:
        return passed(what)
    if callable(problem):
        try:
            problem = problem(answer)
        except Exception:
            problem = None
    return failed(what, problem or "not right yet", hint)


def _type_name(value: object) -> str:
    return type(value).__name__


def check_equal(answer: object, expected: object, what: str, hint: str | None = None) -> bool:
    """Pass when ``answer == expected`` (numbers, strings, tuples; arrays compare element by element)."""
    if is_missing(answer):
        return not_done(what, hint)
    try:
        if isinstance(answer, np.ndarray) or isinstance(expected, np.ndarray):
            same = np.shape(answer) == np.shape(expected) and bool(np.all(np.asarray(answer) == expected))
        else:
            same = bool(answer == expected)
    except Exception as error:
        return failed(what, f"your answer could not be compared ({describe_error(error)})", hint)
    if same:
        return passed(what)
    numbers = (int, float, np.integer, np.floating)
    if isinstance(answer, str) != isinstance(expected, str) or (
        isinstance(expected, numbers) and not isinstance(answer, numbers)
    ):
        return failed(what, f"got {answer!r}, a {_type_name(answer)}; expected a {_type_name(expected)}", hint)
    return failed(what, f"got {answer!r}, which is not the expected value", hint)


def check_shape(answer: object, expected_shape: Iterable[int | None], what: str, hint: str | None = None) -> bool:
    """Pass when ``answer`` has ``expected_shape`` (``None`` in the shape matches any size)."""
    if is_missing(answer):
        return not_done(what, hint)
    expected_shape = tuple(expected_shape)
    try:
        shape = tuple(np.shape(answer))
    except Exception as error:
        return failed(what, f"your answer has no shape ({describe_error(error)})", hint)
    matches = len(shape) == len(expected_shape) and all(
        want is None or want == got for want, got in zip(expected_shape, shape, strict=True)
    )
    wanted = "(" + ", ".join("any" if size is None else str(size) for size in expected_shape) + ")"
    return report(matches, what, f"shape is {shape}, expected {wanted}", hint)


def check_array(
    answer: object,
    expected: object,
    what: str,
    hint: str | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> bool:
    """Pass when ``answer`` has the shape and (within tolerance) the values of ``expected``."""
    if is_missing(answer):
        return not_done(what, hint)
    expected = np.asarray(expected, dtype=float)
    try:
        actual = np.asarray(answer, dtype=float)
    except (TypeError, ValueError) as error:
        return failed(what, f"expected an array of numbers, got a {_type_name(answer)} ({describe_error(error)})", hint)
    if actual.shape != expected.shape:
        return failed(what, f"shape is {actual.shape}, expected {expected.shape}", hint)
    close = np.isclose(actual, expected, rtol=rtol, atol=atol)
    if close.all():
        return passed(what)
    first = tuple(int(i) for i in np.argwhere(~close)[0])
    location = f"index {first}" if first else "the value"
    return failed(
        what,
        f"{int((~close).sum())} of {expected.size} values differ from the expected ones "
        f"(the first at {location}: you have {actual[first]:.6g})",
        hint,
    )


def check_between(answer: object, low: float, high: float, what: str, hint: str | None = None) -> bool:
    """Pass when ``answer`` is a number with ``low <= answer <= high``."""
    if is_missing(answer):
        return not_done(what, hint)
    if isinstance(answer, bool | str):
        return failed(what, f"expected a number, got a {_type_name(answer)} ({answer!r})", hint)
    try:
        value = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return failed(what, f"expected a number, got a {_type_name(answer)}", hint)
    return report(low <= value <= high, what, f"{value:g} is not the value this exercise asks for", hint)


def require_function(answer: object, what: str, hint: str | None = None) -> bool:
    """True when the learner's ``answer`` is a function; else print the ❌ and return False.

    The placeholder (``...``) is "not done yet"; anything else that cannot be called is named by its type.
    A check on a learner's function starts with ``if not require_function(function, what, hint): return False``.
    """
    if is_missing(answer):
        return not_done(what, hint)
    if not callable(answer):
        return failed(what, f"expected a function, got a {_type_name(answer)}", hint)
    return True


NO_RESULT = object()  # what call_learner returns once it has reported that the learner's function failed


def _where(on: str | None) -> str:
    return f"on {on} " if on else ""


def run_learner(calls: Callable[[], Any], what: str, hint: str | None = None, on: str | None = None) -> Any:
    """What ``calls()`` returns, or ``NO_RESULT`` after reporting (❌) that the learner's code in it raised.

    ``calls`` is code that calls the learner's function, perhaps several times (e.g. with two seeds). ``on``
    names the case in the message ("on 40 new digits your function raised ..."). A student copy's
    ``NotImplementedError`` is "not done yet".
    """
    try:
        return calls()
    except NotImplementedError:
        not_written(what, hint)
        return NO_RESULT
    except Exception as error:
        failed(what, f"{_where(on)}your function raised {describe_error(error)}", hint)
        return NO_RESULT


def call_learner(function: Callable, args: tuple, what: str, hint: str | None = None, on: str | None = None) -> Any:
    """The learner's ``function(*args)``, or ``NO_RESULT`` after reporting (❌) that it raised or returned None.

    Pass copies in ``args`` when the function may change its input. ``on`` names the case in the message
    ("on test case 2 of 3 your function raised ..."). A student copy's ``NotImplementedError`` is "not done yet".
    """
    result = run_learner(lambda: function(*args), what, hint, on)
    if result is None:
        failed(what, f"{_where(on)}your function returned None: did you forget `return`?", hint)
        return NO_RESULT
    return result


def learner_array(function: Callable, args: tuple, what: str, hint: str | None = None, on: str | None = None) -> Any:
    """The learner's ``function(*args)`` as a float array, or ``NO_RESULT`` after reporting (❌) why not.

    As :func:`call_learner`, and a result NumPy cannot read as numbers is "expected an array, got a ...".
    """
    result = call_learner(function, args, what, hint, on)
    if result is NO_RESULT:
        return NO_RESULT
    try:
        return np.asarray(result, dtype=float)
    except Exception:
        failed(what, f"expected an array, got a {_type_name(result)}", hint)
        return NO_RESULT


def learner_number(function: Callable, args: tuple, what: str, hint: str | None = None, on: str | None = None) -> Any:
    """The learner's ``function(*args)`` as one float, or ``NO_RESULT`` after reporting (❌) why not.

    As :func:`call_learner`, and a result that is not a single number is "returned a ...; return one number".
    """
    result = call_learner(function, args, what, hint, on)
    if result is NO_RESULT:
        return NO_RESULT
    try:
        return float(np.asarray(result).item())
    except (TypeError, ValueError):
        where = f"on {on} " if on else ""
        failed(what, f"{where}{getattr(function, '__name__', 'your function')} returned a {_type_name(result)}; "
                     f"return one number", hint)
        return NO_RESULT


def _normalise_choice(answer: object) -> str:
    return str(answer).strip().strip("()").strip(".").strip().lower()


def check_choice(
    answer: object,
    correct: str,
    options: Mapping[str, str],
    what: str,
    why: Mapping[str, str] | None = None,
    hint: str | None = None,
) -> bool:
    """Multiple choice: pass when ``answer`` names ``correct``; a wrong pick is told why it is wrong.

    ``options`` maps each letter to its text, ``why`` maps letters to explanations (the correct one's
    explanation is printed with the ✅, a wrong one's with the ❌).
    """
    why = why or {}
    letters = ", ".join(f"'{letter}'" for letter in options)
    if is_missing(answer):
        return not_done(what, hint or f"store one of {letters} as a string")
    choice = _normalise_choice(answer)
    if choice not in options:
        return failed(what, f"{answer!r} is not one of the options {letters}", hint)
    if choice == correct:
        return passed(what, why.get(correct))
    return failed(what, f"'{choice}' ({options[choice]}) is not right. {why.get(choice, '')}".strip(), hint)


def _same_result(result: object, expected: object) -> bool:
    if isinstance(expected, np.ndarray | list | tuple) and not isinstance(expected, str):
        result_array, expected_array = np.asarray(result), np.asarray(expected)
        if result_array.shape != expected_array.shape:
            return False
        if np.issubdtype(expected_array.dtype, np.number) and np.issubdtype(result_array.dtype, np.number):
            return bool(np.allclose(result_array, expected_array, rtol=1e-5, atol=1e-6))
        return bool(np.all(result_array == expected_array))
    if isinstance(expected, float | np.floating):
        return isinstance(result, int | float | np.number) and bool(np.isclose(result, expected, rtol=1e-5, atol=1e-6))
    return bool(result == expected)


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe_difference(result: object, expected: object) -> str:
    """What is wrong with ``result``: its shape, else its first differing value (never just "it is wrong")."""
    if not isinstance(expected, np.ndarray | list | tuple) or isinstance(expected, str):
        return f"{_short_repr(result)}, expected {_short_repr(expected)}"
    try:
        result_array, expected_array = np.asarray(result), np.asarray(expected)
    except ValueError:  # ragged or mixed values (e.g. a tuple of arrays of different lengths) make no array
        return f"{_short_repr(result)}, expected {_short_repr(expected)}"
    if result_array.shape != expected_array.shape:
        return f"an array of shape {result_array.shape}, expected shape {expected_array.shape}"
    if np.issubdtype(expected_array.dtype, np.number) and np.issubdtype(result_array.dtype, np.number):
        different = ~np.isclose(result_array, expected_array, rtol=1e-5, atol=1e-6)
    else:
        different = result_array != expected_array
    if not different.any():  # values agree, so the dtype is what differs
        return f"the right values with dtype {result_array.dtype}, expected dtype {expected_array.dtype}"
    first = tuple(int(i) for i in np.argwhere(different)[0])
    where = f"at index {first}" if first else "its value"
    return (
        f"{int(different.sum())} of {different.size} values wrong ({where}: "
        f"{_short_repr(result_array[first].item())}, expected {_short_repr(expected_array[first].item())})"
    )


def check_function(
    function: object,
    cases: Iterable[tuple],
    what: str,
    hint: str | None = None,
    compare: Callable[[Any, Any], bool] | None = None,
    check_dtype: bool = False,
) -> bool:
    """Call the learner's ``function`` on each case and compare with the expected result.

    A case is ``(args, expected)`` or ``(args, expected, description)``; ``args`` is a tuple. Inputs are
    copied first, so a function that changes its input in place cannot spoil the next case. With
    ``check_dtype`` an array result must also have the expected array's dtype (when the exercise asks for one).
    """
    if not require_function(function, what, hint):
        return False
    compare = compare or _same_result
    cases = list(cases)
    for number, case in enumerate(cases, start=1):
        args, expected = case[0], case[1]
        label = case[2] if len(case) > 2 else f"test case {number} of {len(cases)}"
        result = call_learner(function, copy.deepcopy(tuple(args)), what, hint, on=label)
        if result is NO_RESULT:
            return False
        try:
            same = compare(result, expected)
        except Exception as error:
            return failed(what, f"on {label} the result could not be compared ({describe_error(error)})", hint)
        if same and check_dtype and isinstance(expected, np.ndarray):
            same = np.asarray(result).dtype == expected.dtype
        if not same:
            return failed(what, f"on {label} your function returned {_describe_difference(result, expected)}", hint)
    return passed(what, f"(all {len(cases)} test cases)")
