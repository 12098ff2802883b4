"""Record results in nbgrader's gradebook through nbgrader's own ``Gradebook`` API.

Only the parent process writes, one student at a time (workers never open the
database), so SQLite sees serialised writes; a write that still meets a lock (another
program using the gradebook) is retried with back-off, never given up silently.
PostgreSQL works the same way through ``--db-url``.
"""

from __future__ import annotations

import warnings

import tenacity

from nbformat.v4 import new_notebook
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import AssignLatePenalties
from sqlalchemy.exc import OperationalError

__all__ = ["record_student", "apply_late_penalties", "with_retries"]


def _locked(exc: BaseException) -> bool:
    """A database that is busy now and may not be in a moment (SQLite's lock, a busy server)."""
    text = str(exc).lower()
    return isinstance(exc, OperationalError) and ("locked" in text or "busy" in text)


def with_retries(fn, attempts: int = 12, first_wait: float = 0.1):
    """Call ``fn()``; on a locked or busy database wait (doubling, at most 5 s) and try again."""
    retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(attempts),
                                 wait=tenacity.wait_exponential(multiplier=first_wait, max=5.0),
                                 retry=tenacity.retry_if_exception(_locked), reraise=True)
    return retrying(fn)


def record_student(db_url: str, course_id: str, assignment: str, result) -> None:
    """Write one student's :class:`~dlcourse_grade.pipeline.StudentResult` (with retries)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's notes on nbgrader's own session use
        with_retries(lambda: _record(db_url, course_id, assignment, result))


def _record(db_url: str, course_id: str, assignment: str, result) -> None:
    with Gradebook(db_url, course_id) as gb:
        try:
            gb.update_or_create_student(result.student)
            if result.timestamp:
                gb.update_or_create_submission(assignment, result.student, timestamp=result.timestamp)
            else:
                gb.update_or_create_submission(assignment, result.student)
            for nbr in result.notebooks:
                failed = nbr.status.startswith("grader error")  # fail closed: 0 and flagged, never an older score
                for part in nbr.parts:
                    grade = gb.find_grade(part.grade_id, nbr.name, assignment, result.student)
                    grade.auto_score = 0.0 if failed and part.score is not None else part.score
                    grade.needs_manual_grade = failed or grade.manual_score is not None or part.score is None
                for gid, text in nbr.comments.items():
                    try:
                        gb.find_comment(gid, nbr.name, assignment, result.student).auto_comment = text
                    except MissingEntry:
                        continue
                sub = gb.find_submission_notebook(nbr.name, assignment, result.student)
                sub.flagged = bool(nbr.flag_for_instructor or failed)
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise


def apply_late_penalties(db_url: str, config, assignment: str, result) -> float:
    """Run nbgrader's own ``AssignLatePenalties`` (with the course's plugin) on each graded notebook;
    the total penalty it recorded (stored on ``result.late_penalty`` too, for the table)."""
    for nbr in result.notebooks:
        resources = {"nbgrader": {"db_url": db_url, "assignment": assignment, "notebook": nbr.name,
                                  "student": result.student}}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with_retries(lambda: AssignLatePenalties(config=config).preprocess(new_notebook(), resources))
    result.late_penalty = with_retries(lambda: _penalty(db_url, config, assignment, result))
    return result.late_penalty


def _penalty(db_url: str, config, assignment: str, result) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Gradebook(db_url) as gb:  # as AssignLatePenalties opens it
            total = 0.0
            for nbr in result.notebooks:
                try:
                    total += float(gb.find_submission_notebook(nbr.name, assignment, result.student)
                                   .late_submission_penalty or 0.0)
                except MissingEntry:
                    continue
            return total
