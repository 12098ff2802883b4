"""A corpus of learner submissions for the in-notebook checks (issue 19), one module per assignment.

Each module's ``ENTRIES`` lists :class:`Entry` s: a function's source as a learner would
write it, whether it is right (``ok=True``: must pass the visible and the hidden cases)
or a mistake (must fail the visible checks), the hint the feedback must give (a text of
the "Likely cause" line, or ``None`` when no hint may be printed) and, optionally, a text
the problem line must contain. Read by ``tests/test_feedback_corpus.py``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    grade_id: str
    what: str
    code: str
    ok: bool = False
    hint: str | None = None
    problem: str | None = None


def mistake(grade_id, what, code, hint=None, problem=None):
    return Entry(grade_id, what, code, False, hint, problem)


def correct(grade_id, what, code):
    return Entry(grade_id, what, code, True)
