"""Grade one student: locate the notebooks, then the steps of :mod:`.steps` on each (sanitise, execute, score, verify).

``grade_student`` runs in a worker process and touches no database: it returns a
:class:`StudentResult` (plain data plus the autograded notebooks as JSON) that the
parent writes to the gradebook. Anything that goes wrong inside it is caught and
becomes that student's outcome, never the class run's.

The student's time budget (``Limits.student_timeout``, a :class:`~.sandbox.TimeBudget`)
starts here and covers every notebook, its kernel execution and its verification runs;
what is left when it is spent scores 0 with a flag naming the budget (see :mod:`.kernel`
and :mod:`.verify`). Each sandbox runs in its own cgroup under ``task.cgroups``.
"""

from __future__ import annotations

import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .course import AssignmentSpec, NotebookSpec
from .repair import Ungradable
from .results import Flag, FlagKind, NotebookResult, PartResult, StudentResult
from .sandbox import Cgroups, Isolation, Limits, TimeBudget
from .steps import GRADE, SANITIZE, NotebookJob, run_steps
from .submission import locate

__all__ = ["PartResult", "NotebookResult", "StudentResult", "StudentTask", "grade_student", "zero_parts"]


@dataclass
class StudentTask:
    """Everything a worker needs to grade one student (picklable)."""

    student: str
    assignment: str
    spec: AssignmentSpec
    submitted: str
    iso: Isolation
    limits: Limits
    slot: int = 0
    base: str = ""
    extra_ro: tuple = ()
    extra_path: str = ""
    seed: int | None = None
    verify: bool = True
    timestamp: object = None
    notes: tuple = ()          # flags found before grading (an unreadable timestamp.txt)
    submitted_root: str = ""   # the course's submitted/ folder (links above the submission are refused)
    protected: frozenset = frozenset()  # (st_dev, st_ino) of the course's own files: never read through a link
    cgroups: Cgroups | None = None  # the class run's parent cgroups (each sandbox gets its own cgroup in them)
    budget: TimeBudget | None = None  # the student's time budget, started by grade_student


def _through_link(folder: Path, root: Path | None) -> bool:
    """Is ``folder``, or a folder between it and ``root`` (``submitted/``), a symbolic link?"""
    here = folder
    while True:
        if here.is_symlink():
            return True
        if root is None or here == root or here.parent == here:
            return False
        here = here.parent


def zero_parts(spec: NotebookSpec, reason: str) -> list[PartResult]:
    """Every grade cell of ``spec`` at 0 points with ``reason``."""
    return [PartResult(c.grade_id, float(c.points or 0), 0.0, 0.0, reason=reason) for c in spec.cells if c.grade]


def _grade_notebook(task: StudentTask, spec: NotebookSpec, path: Path | None, note: str) -> NotebookResult:
    """The steps of :mod:`.steps` on one notebook: sanitise, then execute, score and verify."""
    if path is None:
        return NotebookResult(spec.name, "missing: no notebook submitted",
                              zero_parts(spec, "no notebook submitted"),
                              [Flag(FlagKind.SUBMISSION, "notebook missing")]
                              + ([Flag(FlagKind.SUBMISSION, note)] if note else []))
    size = path.stat().st_size
    if size > task.limits.notebook_bytes:
        why = (f"ungradable: the notebook file is {size / 1024 ** 2:.0f} MB, more than the "
               f"{task.limits.notebook_bytes / 1024 ** 2:.0f} MB read (clear its outputs and submit again)")
        return NotebookResult(spec.name, why, zero_parts(spec, why), [Flag(FlagKind.SUBMISSION, why)])
    job = NotebookJob(task, spec, path.read_bytes())
    cpu_before = task.budget.cpu_seconds if task.budget is not None else 0.0
    if note:
        job.flag(FlagKind.SUBMISSION, note)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat's notes on the repaired notebook's ids
            run_steps(job, SANITIZE)
    except Ungradable as exc:
        return NotebookResult(spec.name, str(exc), zero_parts(spec, str(exc)),
                              [Flag(FlagKind.REPAIR, str(exc))] + [f for f in job.flags if f.kind == FlagKind.SUBMISSION])
    run_steps(job, GRADE)
    result = job.result
    result.nb_json = nbformat.writes(job.run.nb)
    result.seconds = time.monotonic() - job.t0
    result.cpu_seconds = (task.budget.cpu_seconds - cpu_before) if task.budget is not None else 0.0
    return result


def grade_student(task: StudentTask) -> StudentResult:
    """Grade every notebook of one student; any failure becomes this student's outcome."""
    result = StudentResult(task.student, task.timestamp, extra_flags=list(task.notes))
    t0 = time.monotonic()
    task.budget = TimeBudget(task.limits.student_timeout, t0)
    try:
        _grade_all(task, result)
    finally:
        result.seconds = time.monotonic() - t0
        result.cpu_seconds = task.budget.cpu_seconds
    return result


def _grade_all(task: StudentTask, result: StudentResult) -> None:
    try:
        if _through_link(Path(task.submitted), Path(task.submitted_root) if task.submitted_root else None):
            why = "ungradable: the submission folder is a symbolic link (not the student's own files)"
            result.notebooks = [NotebookResult(nb.name, why, zero_parts(nb, why), [Flag(FlagKind.SUBMISSION, why)])
                                for nb in task.spec.notebooks]
            return
        paths, notes = locate(Path(task.submitted), task.spec, task.protected)
        for spec in task.spec.notebooks:
            try:
                result.notebooks.append(_grade_notebook(task, spec, paths[spec.name], notes.get(spec.name, "")))
            except Exception as exc:  # noqa: BLE001 - a grader bug on one notebook costs only that notebook
                reason = f"grader error: {type(exc).__name__}: {exc}"
                result.notebooks.append(NotebookResult(spec.name, reason, zero_parts(spec, reason),
                                                       [Flag(FlagKind.VERIFICATION, reason)]))
                result.error = reason + "\n" + traceback.format_exc()
    except Exception as exc:  # noqa: BLE001
        result.error = f"grader error: {type(exc).__name__}: {exc}\n" + traceback.format_exc()
