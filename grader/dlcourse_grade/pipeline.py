"""Grade one student: locate, repair, execute in the sandbox, score in-kernel, verify out of kernel.

``grade_student`` runs in a worker process and touches no database: it returns a
:class:`StudentResult` (plain data plus the autograded notebooks as JSON) that the
parent writes to the gradebook. Anything that goes wrong inside it is caught and
becomes that student's outcome, never the class run's.
"""

from __future__ import annotations

import os
import shutil
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .course import AssignmentSpec, NotebookSpec
from .sandbox import Isolation, Limits

__all__ = ["PartResult", "NotebookResult", "StudentResult", "StudentTask", "grade_student"]

MAX_COPY_BYTES = 50 * 1024 ** 2


@dataclass
class PartResult:
    """One grade cell: in-kernel score, verified score (None if not verified), recorded score."""

    grade_id: str
    max_score: float
    in_kernel: float | None
    score: float | None
    verified: float | None = None
    reason: str = ""
    manual: bool = False


@dataclass
class NotebookResult:
    name: str
    status: str
    parts: list[PartResult] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    comments: dict = field(default_factory=dict)
    nb_json: str | None = None
    flag_for_instructor: bool = False
    seconds: float = 0.0


@dataclass
class StudentResult:
    student: str
    timestamp: object = None
    notebooks: list[NotebookResult] = field(default_factory=list)
    error: str | None = None

    @property
    def score(self) -> float:
        return sum(p.score or 0.0 for nb in self.notebooks for p in nb.parts)

    @property
    def max_score(self) -> float:
        return sum(p.max_score for nb in self.notebooks for p in nb.parts)

    @property
    def flags(self) -> list[str]:
        return [f for nb in self.notebooks for f in nb.flags]


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


def locate(folder: Path, spec: AssignmentSpec) -> tuple[dict[str, Path | None], dict[str, str]]:
    """Map each expected notebook to its file; a single unexpected notebook stands in for a missing one."""
    found = {nb.name: folder / f"{nb.name}.ipynb" for nb in spec.notebooks}
    found = {k: (p if p.is_file() and not p.is_symlink() else None) for k, p in found.items()}
    expected = {f"{nb.name}.ipynb" for nb in spec.notebooks}
    others = sorted(p for p in folder.glob("*.ipynb")
                    if p.name not in expected and p.is_file() and not p.is_symlink())
    missing = [k for k, p in found.items() if p is None]
    notes = {}
    if len(missing) == 1 and len(others) == 1:
        found[missing[0]] = others[0]
        notes[missing[0]] = f"notebook renamed: graded {others[0].name} as {missing[0]}.ipynb"
    return found, notes


def copy_submission(src: Path, dest: Path, source_dir: str | None) -> list[str]:
    """Copy regular files of the submission (no links, nothing huge), then the course's own data files."""
    flags = []
    for root, dirs, files in os.walk(src, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(root, d))]
        for f in files:
            p = Path(root, f)
            rel = p.relative_to(src)
            if p.is_symlink() or not p.is_file():
                flags.append(f"skipped {rel}: not a regular file")
            elif p.stat().st_size > MAX_COPY_BYTES:
                flags.append(f"skipped {rel}: larger than {MAX_COPY_BYTES // 1024 ** 2} MB")
            elif not f.endswith(".ipynb"):
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, dest / rel)
    if source_dir:
        for p in Path(source_dir).rglob("*"):
            rel = p.relative_to(source_dir)
            if p.is_file() and not p.is_symlink() and p.suffix != ".ipynb" and not any(
                    s.startswith(".") for s in rel.parts):
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, dest / rel)
    return flags


def summarize(text: str, limit: int = 300) -> str:
    """The problem and likely cause of a feedback text (``Problem: ...``), else its first line."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    key = [ln for ln in lines if ln.startswith(("Problem:", "Likely cause:", "Your "))]
    return " / ".join(key[:2] or lines[:1])[:limit]


def _first_line(out) -> str:
    """Why an error output cost the points: its name and the gist of its message."""
    gist = summarize(out.get("evalue", ""))
    return f"{out.get('ename', 'Error')}: {gist}".strip(": ")[:300]


def in_kernel_scores(nb, spec: NotebookSpec) -> list[PartResult]:
    """nbgrader's own ``determine_grade`` on each grade cell, with the first error as the reason."""
    from nbgrader import utils as nbutils

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
    import nbformat

    from .kernel import run_notebook
    from .repair import Ungradable, repair
    from .sandbox import Workspace, slot_user

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
        from .verify import verify_notebook

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
