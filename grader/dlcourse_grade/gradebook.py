"""Record results in nbgrader's gradebook through nbgrader's own ``Gradebook`` API.

Only the parent process writes, one student at a time (workers never open the
database), so SQLite sees serialised writes; a write that still meets a lock (another
program using the gradebook) is retried with back-off, never given up silently.
PostgreSQL works the same way through ``--db-url``.
"""

from __future__ import annotations

import time

__all__ = ["record_student", "apply_late_penalties", "with_retries"]


def with_retries(fn, attempts: int = 12, first_wait: float = 0.1):
    """Call ``fn()``; on a locked or busy database wait (doubling) and try again."""
    from sqlalchemy.exc import OperationalError

    wait = first_wait
    for attempt in range(attempts):
        try:
            return fn()
        except OperationalError as exc:
            text = str(exc).lower()
            if attempt == attempts - 1 or not ("locked" in text or "busy" in text):
                raise
            time.sleep(wait)
            wait = min(wait * 2, 5.0)
    return None


def record_student(db_url: str, course_id: str, assignment: str, result) -> None:
    """Write one student's :class:`~dlcourse_grade.pipeline.StudentResult` (with retries)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's notes on nbgrader's own session use
        with_retries(lambda: _record(db_url, course_id, assignment, result))


def _record(db_url: str, course_id: str, assignment: str, result) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url, course_id) as gb:
        try:
            gb.update_or_create_student(result.student)
            if result.timestamp:
                gb.update_or_create_submission(assignment, result.student, timestamp=result.timestamp)
            else:
                gb.update_or_create_submission(assignment, result.student)
            for nbr in result.notebooks:
                if nbr.status.startswith("grader error"):
                    continue  # leave the gradebook as it was; the run reports the failure
                for part in nbr.parts:
                    grade = gb.find_grade(part.grade_id, nbr.name, assignment, result.student)
                    grade.auto_score = part.score
                    grade.needs_manual_grade = grade.manual_score is not None or part.score is None
                for gid, text in nbr.comments.items():
                    try:
                        gb.find_comment(gid, nbr.name, assignment, result.student).auto_comment = text
                    except MissingEntry:
                        continue
                sub = gb.find_submission_notebook(nbr.name, assignment, result.student)
                sub.flagged = bool(nbr.flag_for_instructor)
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise


def apply_late_penalties(db_url: str, config, assignment: str, result) -> None:
    """Run nbgrader's own ``AssignLatePenalties`` (with the course's plugin) on each graded notebook."""
    import warnings

    from nbformat.v4 import new_notebook
    from nbgrader.preprocessors import AssignLatePenalties

    for nbr in result.notebooks:
        resources = {"nbgrader": {"db_url": db_url, "assignment": assignment, "notebook": nbr.name,
                                  "student": result.student}}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with_retries(lambda: AssignLatePenalties(config=config).preprocess(new_notebook(), resources))
