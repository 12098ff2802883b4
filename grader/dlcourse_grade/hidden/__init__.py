"""Hidden tests: the inputs that only the grader has, and the call a hidden test cell makes.

An exercise's source notebook (``exercises/source``) has, in each test cell::

    checks.check("sigmoid_matches_reference", sigmoid)
    ### BEGIN HIDDEN TESTS
    import dlcourse_grade.hidden
    dlcourse_grade.hidden.check("sigmoid_matches_reference", sigmoid)
    ### END HIDDEN TESTS

``nbgrader generate_assignment`` removes the hidden block, so a released notebook
names nothing of this package; the autograding kernel has it (``dlcourse-grade``
binds it read-only into the sandbox). :func:`check` scores the visible and the hidden
cases together and never raises (a traceback would show the hidden line).

``dlcourse-grade``'s verification draws the same sets with a grading-time seed:
:func:`cases` gives the visible and the hidden cases of a part for a seed.

Adding a part's hidden inputs: one ``Hidden(fixed, draw, n_draws)`` entry in the
``HIDDEN`` table of the assignment's module here (a test fails for a part without one).
"""

from __future__ import annotations

import importlib

from dlcourse import checks
from dlcourse.checks import assignments
from dlcourse.checks.spec import Case, Part

from .base import Hidden

__all__ = ["Hidden", "hidden_for", "hidden_cases", "cases", "check"]


def _table(assignment: str) -> dict[str, Hidden]:
    return importlib.import_module(f"{__name__}.{assignment}").HIDDEN


def hidden_for(part: Part) -> Hidden:
    """The :class:`Hidden` entry of ``part``; a clear KeyError names a part that has none."""
    table = _table(part.assignment)
    if part.grade_id not in table:
        raise KeyError(f"part {part.grade_id!r} of {part.assignment} has no hidden cases in "
                       f"dlcourse_grade/hidden/{part.assignment}.py")
    return table[part.grade_id]


def hidden_cases(part: Part, seed: int | None = None) -> list[Case]:
    """The hidden cases of ``part`` for ``seed``."""
    return hidden_for(part).cases(part, seed)


def cases(part: Part, seed: int | None = None) -> list[Case]:
    """Every case the grader runs for ``part``: the visible ones, then the hidden ones."""
    return part.cases(seed) + hidden_cases(part, seed)


def check(grade_id: str, fn, *, seed: int | None = None) -> checks.Score:
    """The hidden test of a part: visible and hidden cases scored together; prints, never raises."""
    part = assignments.get_part(grade_id)
    return checks.check(grade_id, fn, seed=seed, hidden_cases=hidden_cases(part, seed))
