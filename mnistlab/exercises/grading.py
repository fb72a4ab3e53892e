"""Grading executed notebooks: what each self-check cell must show in the instructor and the student copy."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Mapping

from mnistlab.exercises.checks import FAIL_MARK, PASS_MARK

NOT_DONE_WORDS = "not done yet"

# A self-check cell is one that calls a check: check(...), check_equal(...), model_checks.check_model(...)...
CHECK_CALL = re.compile(r"(?<![\w])check\w*\s*\(")


def _without_comments(source: str) -> str:
    try:
        tokens = tokenize.generate_tokens(io.StringIO(source).readline)
        return " ".join(token.string for token in tokens if token.type != tokenize.COMMENT)
    except (tokenize.TokenError, SyntaxError):  # IPython magics and the like: drop whole comment lines only
        return "\n".join(line for line in source.split("\n") if not line.lstrip().startswith("#"))


def is_check_cell(source: str) -> bool:
    """Whether a code cell calls a self-check (a mention in a comment does not count)."""
    return CHECK_CALL.search(_without_comments(source)) is not None


def output_text(outputs: Iterable[Mapping]) -> str:
    """Everything a person reads in a cell's outputs: printed text, displayed text and errors."""
    parts = []
    for output in outputs:
        if "text" in output:
            parts.append(output["text"] if isinstance(output["text"], str) else "".join(output["text"]))
        data = output.get("data") or {}
        if "text/plain" in data:
            parts.append(str(data["text/plain"]))
        if output.get("ename"):
            parts.append(f"{output['ename']}: {output.get('evalue', '')}")
    return "\n".join(parts)


def check_cell_problem(source: str, outputs: Iterable[Mapping], student: bool) -> str | None:
    """Why a check cell shows the wrong thing, or None when it is right (and for non-check cells).

    Instructor copy: every check passes (✅, never ❌). Student copy, run before any answer is written:
    every check shows ❌ "not done yet" and none passes, because an exercise that passes untouched
    teaches nothing.
    """
    if not is_check_cell(source):
        return None
    text = output_text(outputs)
    passes, fails = text.count(PASS_MARK), text.count(FAIL_MARK)
    if student:
        if passes:
            return f"a self-check passed in the student copy before any answer was written:\n{text}"
        if not fails:
            return f"a self-check cell printed no ❌ in the student copy:\n{text or '(no output)'}"
        if text.count(f"{FAIL_MARK} ") > text.count(NOT_DONE_WORDS):
            # An untouched copy can only be "not done": any other ❌ means the check tripped over the
            # placeholder (or over given code), which would send a learner hunting for a mistake they never made.
            return f"a self-check in the student copy failed for another reason than 'not done yet':\n{text}"
        return None
    if fails:
        return f"a self-check failed on the instructor's solution:\n{text}"
    if not passes:
        return f"a self-check cell printed no ✅ on the instructor's solution:\n{text or '(no output)'}"
    return None
