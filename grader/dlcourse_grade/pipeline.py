"""Grade one student: locate, repair, execute in the sandbox, score in-kernel, verify out of kernel.

``grade_student`` runs in a worker process and touches no database: it returns a
:class:`StudentResult` (plain data plus the autograded notebooks as JSON) that the
parent writes to the gradebook. Anything that goes wrong inside it is caught and
becomes that student's outcome, never the class run's.
"""

from __future__ import annotations

import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader import utils as nbutils

from .course import AssignmentSpec, NotebookSpec
from .kernel import run_notebook
from .repair import Ungradable, repair
from .results import NotebookResult, PartResult, StudentResult, summarize
from .sandbox import Isolation, Limits, Workspace, slot_user
from .submission import copy_submission, locate
from .verify import verify_notebook

__all__ = ["PartResult", "NotebookResult", "StudentResult", "StudentTask", "grade_student"]


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


def _zero_parts(spec: NotebookSpec, reason: str) -> list[PartResult]:
    return [PartResult(c.grade_id, float(c.points or 0), 0.0, 0.0, reason=reason) for c in spec.cells if c.grade]


def _first_line(out) -> str:
    """Why an error output cost the points: its name and the gist of its message."""
    gist = summarize(out.get("evalue", ""))
    return f"{out.get('ename', 'Error')}: {gist}".strip(": ")[:300]


def in_kernel_scores(nb, spec: NotebookSpec) -> list[PartResult]:
    """nbgrader's own ``determine_grade`` on each grade cell, with the first error as the reason."""
    by_id, parts = spec.by_id(), []
    for cell in nb.cells:
        gid = (cell.metadata.get("nbgrader") or {}).get("grade_id")
        if gid not in by_id or not by_id[gid].grade:
            continue
        try:
            score, max_score = nbutils.determine_grade(cell)
        except (ValueError, KeyError, TypeError) as exc:
            score, max_score = 0.0, float(by_id[gid].points or 0)
            reason = f"the cell's result is not a valid score ({exc})"
        else:
            errs = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            reason = _first_line(errs[0]) if errs and score == 0 else ""
            if not reason and score == 0 and any(o.get("name") == "stderr" for o in cell.get("outputs", [])):
                reason = "the cell wrote to stderr"
        manual = score is None
        parts.append(PartResult(gid, float(max_score), score, score, reason=reason, manual=manual))
    return parts


def _grade_notebook(task: StudentTask, spec: NotebookSpec, path: Path | None, note: str) -> NotebookResult:
    t0 = time.monotonic()
    if path is None:
        return NotebookResult(spec.name, "missing: no notebook submitted",
                              _zero_parts(spec, "no notebook submitted"), ["notebook missing"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat's notes on the repaired notebook's ids
            fixed = repair(path.read_bytes(), spec)
    except Ungradable as exc:
        return NotebookResult(spec.name, str(exc), _zero_parts(spec, str(exc)), [str(exc)] + ([note] if note else []))
    flags = ([note] if note else []) + fixed.flags
    owner = slot_user(task.slot) if task.iso.level != "none" else None
    ws = Workspace(Path(task.base), f"{task.slot}-{spec.name}", owner)
    try:
        flags += copy_submission(Path(task.submitted), ws.work, task.spec.source_dir)
        ws.give_to_owner()
        run = run_notebook(fixed.nb, ws, task.iso, task.limits, list(task.extra_ro), task.extra_path,
                           env={"NBGRADER_EXECUTION": "autograde"})
    finally:
        ws.remove()
    if run.infra_error:
        raise RuntimeError(run.infra_error)
    flags += [f"cell {e.index + 1}: {e.reason}" for e in run.events]
    if run.truncated:
        flags.append(f"output truncated to {task.limits.output_bytes} bytes")
    parts = in_kernel_scores(run.nb, spec)
    result = NotebookResult(spec.name, "graded", parts, flags, seconds=time.monotonic() - t0)
    if task.verify:
        verify_notebook(task, spec, run.nb, result)
    result.nb_json = nbformat.writes(run.nb)
    result.seconds = time.monotonic() - t0
    return result


def grade_student(task: StudentTask) -> StudentResult:
    """Grade every notebook of one student; any failure becomes this student's outcome."""
    result = StudentResult(task.student, task.timestamp)
    try:
        paths, notes = locate(Path(task.submitted), task.spec)
        for spec in task.spec.notebooks:
            try:
                result.notebooks.append(_grade_notebook(task, spec, paths[spec.name], notes.get(spec.name, "")))
            except Exception as exc:  # noqa: BLE001 - a grader bug on one notebook costs only that notebook
                reason = f"grader error: {type(exc).__name__}: {exc}"
                result.notebooks.append(NotebookResult(spec.name, reason, _zero_parts(spec, reason), [reason]))
                result.error = reason + "\n" + traceback.format_exc()
    except Exception as exc:  # noqa: BLE001
        result.error = f"grader error: {type(exc).__name__}: {exc}\n" + traceback.format_exc()
    return result
