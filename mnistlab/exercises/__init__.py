"""Exercises: self-checks that tell learners right or wrong and why, and the student-copy generator."""

from mnistlab.exercises.checks import (
    check,
    check_array,
    check_between,
    check_choice,
    check_equal,
    check_function,
    check_shape,
)
from mnistlab.exercises.student import (
    SolutionMarkerError,
    count_exercises,
    count_solution_lines,
    has_solution,
    leaks_solution,
    student_notebook,
    write_student_copies,
)

__all__ = [
    "SolutionMarkerError",
    "check",
    "check_array",
    "check_between",
    "check_choice",
    "check_equal",
    "check_function",
    "check_shape",
    "count_exercises",
    "count_solution_lines",
    "has_solution",
    "leaks_solution",
    "student_notebook",
    "write_student_copies",
]
