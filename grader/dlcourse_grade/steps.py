"""Grading one notebook as an ordered list of steps, the way nbgrader's converters are a list of preprocessors.

:data:`SANITIZE` turns the submitted bytes into a notebook nbgrader can grade, and
:data:`GRADE` runs and scores it. Where nbgrader has the step, it is nbgrader's own
preprocessor (``DeduplicateIds``, ``OverwriteCells``, ``ClearOutput``,
``CheckCellMetadata``); ours come between them:

====================  =======  ===========================================================
step                  whose    job
====================  =======  ===========================================================
ParseAndRebuild       ours     bytes -> nbformat 4; every cell rebuilt from type, source and
                               metadata (a damaged schema cannot stop grading); ungradable
                               files get their reason
DropUnknownIds        ours     grade ids the gradebook does not know are dropped; duplicates
                               are named (nbgrader's next step removes them)
DeduplicateIds        nbgrader the last copy of a duplicated grade id is the graded one
RestoreCells          ours     cells reset to the gradebook's record; stripped metadata
                               re-tagged by content; deleted cells put back in place
DefuseMarkdown        ours     the learner's markdown made inert (no script, handler, frame or
                               ``javascript:`` link reaches formgrader or the feedback)
OverwriteCells        nbgrader points, cell types, locked sources and checksums from the
                               record (read from the assignment's record, not the database:
                               workers open no database)
SetKernelspec         ours     the sandbox's kernel (nbgrader's ``OverwriteKernelspec`` reads
                               the gradebook, which a worker does not open)
ClearOutput           nbgrader no output of the learner's survives into grading
CheckCellMetadata     nbgrader nbgrader's metadata validator; a failure is ungradable
ExecuteInSandbox      ours     run cell by cell in the sandboxed kernel (see :mod:`.kernel`)
ScoreInKernel         ours     nbgrader's ``determine_grade`` on each grade cell
Verify                ours     every described part again outside the kernel, then the
                               detectors (see :mod:`.verify`, :mod:`.detectors`)
====================  =======  ===========================================================

A step is a callable taking the :class:`NotebookJob`; it changes the job in place and
raises :class:`~dlcourse_grade.repair.Ungradable` when the notebook cannot be graded.
Warnings nbgrader's preprocessors log (a changed checksum, a duplicated id) become flags.
"""

from __future__ import annotations

import copy
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbgrader.api import MissingEntry
from nbgrader.nbgraderformat import ValidationError
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells

from nbgrader import utils as nbutils

from . import repair as _repair
from .course import NotebookSpec
from .html import SAFE_IMAGE_TYPES, clean_markdown
from .kernel import RunResult, run_notebook
from .results import Flag, FlagKind, NotebookResult, PartResult, summarize
from .sandbox import Workspace, slot_user
from .submission import copy_submission
from .verify import verify_notebook

__all__ = ["NotebookJob", "SANITIZE", "GRADE", "run_steps", "RecordGradebook", "in_kernel_scores"]


@dataclass
class NotebookJob:
    """What the steps pass along for one notebook of one student."""

    task: object  # the StudentTask
    spec: NotebookSpec
    raw: bytes
    nb: nbformat.NotebookNode | None = None
    flags: list[Flag] = field(default_factory=list)
    run: RunResult | None = None
    result: NotebookResult | None = None
    t0: float = field(default_factory=time.monotonic)

    def flag(self, kind: FlagKind, text: str, part: str | None = None) -> None:
        self.flags.append(Flag(kind, text, part))

    @property
    def resources(self) -> ResourcesDict:
        return ResourcesDict(nbgrader={"notebook": self.spec.name, "assignment": self.task.assignment,
                                       "gradebook": RecordGradebook(self.spec)})


class RecordGradebook:
    """The part of nbgrader's ``Gradebook`` that ``OverwriteCells`` reads, answered from the assignment's record."""

    def __init__(self, spec: NotebookSpec):
        self._cells = spec.by_id()

    def __enter__(self) -> "RecordGradebook":
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def _cell(self, name: str):
        if name not in self._cells:
            raise MissingEntry()
        return self._cells[name]

    def find_source_cell(self, name: str, notebook: str, assignment: str):
        c = self._cell(name)
        return SimpleNamespace(name=c.grade_id, cell_type=c.cell_type, locked=c.locked, source=c.source,
                               checksum=c.checksum)

    def find_graded_cell(self, name: str, notebook: str, assignment: str):
        c = self._cell(name)
        return SimpleNamespace(name=c.grade_id, max_score=float(c.points or 0.0))


class _FlagLog(logging.Handler):
    """Collects what an nbgrader preprocessor logs at WARNING or above as flags of the job."""

    def __init__(self, job: NotebookJob):
        super().__init__(logging.WARNING)
        self.job = job

    def emit(self, record: logging.LogRecord) -> None:
        self.job.flag(FlagKind.REPAIR, f"nbgrader: {record.getMessage()}"[:300])


def _logger(job: NotebookJob) -> logging.Logger:
    log = logging.getLogger(f"dlcourse_grade.steps.{id(job)}")
    log.propagate = False
    log.handlers[:] = [_FlagLog(job)]
    return log


class NbgraderStep:
    """One of nbgrader's own preprocessors as a step (its log warnings become flags)."""

    def __init__(self, preprocessor: type, flag_warnings: bool = True):
        self.preprocessor = preprocessor
        self.name = preprocessor.__name__
        self.flag_warnings = flag_warnings

    def make(self, job: NotebookJob):
        if self.flag_warnings:
            return self.preprocessor(log=_logger(job))
        quiet = logging.getLogger("dlcourse_grade.steps.quiet")
        quiet.propagate, quiet.handlers[:] = False, [logging.NullHandler()]
        return self.preprocessor(log=quiet)

    def __call__(self, job: NotebookJob) -> None:
        job.nb, _ = self.make(job).preprocess(job.nb, job.resources)


class OverwriteCellsFromRecord(OverwriteCells):
    """nbgrader's ``OverwriteCells``, reading the record passed in the resources instead of opening the database."""

    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.gradebook = resources["nbgrader"]["gradebook"]
        for index, cell in enumerate(nb.cells):  # nbgrader's per-cell checks, unchanged
            nb.cells[index], resources = self.preprocess_cell(cell, resources, index)
        return nb, resources


class CheckMetadata(NbgraderStep):
    """nbgrader's ``CheckCellMetadata``; a notebook it rejects is ungradable (with the reason)."""

    def __init__(self):
        super().__init__(CheckCellMetadata)

    def __call__(self, job: NotebookJob) -> None:
        try:
            super().__call__(job)
        except ValidationError as exc:
            raise _repair.Ungradable(f"ungradable: nbgrader metadata still invalid after repair ({exc})") from None


def parse_and_rebuild(job: NotebookJob) -> None:
    try:
        data, flags = _repair.parse(job.raw)
        job.nb, more = _repair.rebuild_cells(data)
    except RecursionError:  # JSON nested deeper than Python's parser (or nbformat) recurses
        raise _repair.Ungradable("ungradable: the notebook's JSON is nested too deeply to read") from None
    for text in flags + more:
        job.flag(FlagKind.REPAIR, text)
    if job.nb.cells and not any(_repair.grade_id(c) for c in job.nb.cells):
        job.flag(FlagKind.REPAIR, "no nbgrader cells left in the notebook: every graded cell restored from the release")


def drop_unknown_ids(job: NotebookJob) -> None:
    for text in _repair.fix_ids(job.nb, job.spec):
        job.flag(FlagKind.REPAIR, text)


def restore_cells(job: NotebookJob) -> None:
    for text in _repair.restore_cells(job.nb, job.spec):
        job.flag(FlagKind.REPAIR, text)


def _loose(text: str) -> str:
    return re.sub(r"\s*/?>", ">", text.replace('"', "").replace("'", ""))


def defuse_markdown(job: NotebookJob) -> None:
    """The learner's markdown (written answers, added cells) made inert for formgrader and feedback.

    Raw HTML goes through :func:`.html.clean_markdown`'s allow-list, ``javascript:``/``data:``
    links are neutralised, attachments keep only raster images. Locked cells are the
    instructor's (restored from the record) and stay as they are.
    """
    record = job.spec.by_id()
    changed = 0
    for cell in job.nb.cells:
        if cell.cell_type != "markdown":
            continue
        spec = record.get(_repair.grade_id(cell) or "")
        if spec is not None and spec.locked:
            continue
        clean = clean_markdown(cell.source)
        attachments = cell.get("attachments")
        if isinstance(attachments, dict):
            kept = {name: {m: v for m, v in (bundle or {}).items() if m in SAFE_IMAGE_TYPES}
                    for name, bundle in attachments.items() if isinstance(bundle, dict)}
            kept = {k: v for k, v in kept.items() if v}
            if kept != attachments:
                cell["attachments"] = kept
                changed += 1
        if clean != cell.source:
            if _loose(clean) != _loose(cell.source):  # more than bleach's spelling of a harmless tag
                changed += 1
            cell.source = clean
    if changed:
        job.flag(FlagKind.REPAIR, f"active HTML or links removed from {changed} markdown cell(s)")


def set_kernelspec(job: NotebookJob) -> None:
    job.nb.metadata["kernelspec"] = dict(_repair.KERNELSPEC)


def execute_in_sandbox(job: NotebookJob) -> None:
    task = job.task
    owner = slot_user(task.slot) if task.iso.level != "none" else None
    ws = Workspace(Path(task.base), f"{task.slot}-{job.spec.name}", owner)
    try:
        for text in copy_submission(Path(task.submitted), ws.work, task.spec.source_dir, task.protected):
            job.flag(FlagKind.SUBMISSION, text)
        ws.give_to_owner()
        job.run = run_notebook(job.nb, ws, task.iso, task.limits, list(task.extra_ro), task.extra_path,
                               env={"NBGRADER_EXECUTION": "autograde"}, cgroups=getattr(task, "cgroups", None),
                               budget=getattr(task, "budget", None))
    finally:
        ws.remove()
    if job.run.infra_error:
        raise RuntimeError(job.run.infra_error)
    for e in job.run.events:
        job.flag(FlagKind.LIMIT, f"cell {e.index + 1}: {e.reason}")
    if job.run.truncated:
        job.flag(FlagKind.LIMIT, f"output truncated to {task.limits.output_bytes} bytes")
    if job.run.malformed:
        job.flag(FlagKind.LIMIT, f"{job.run.malformed} malformed kernel message(s) ignored")
    for text in job.run.notes:
        job.flag(FlagKind.LIMIT, text)


def _first_line(out) -> str:
    """Why an error output cost the points: its name and the gist of its message."""
    gist = summarize(out.get("evalue", ""))
    return f"{out.get('ename', 'Error')}: {gist}".strip(": ")[:300]


def _without_stderr(cell):
    """The cell without its stderr stream outputs.

    nbgrader's ``determine_grade`` counts any stderr output as a failed test. Our test
    cells report failure by raising (``checks.check``) or by the score they return (the
    hidden checks), never on stderr; what does reach a test cell's stderr is the learner's
    function writing there at the file-descriptor level (``os.write(2, ...)``, a C library),
    which the checks cannot capture and the verification run discards. Counting it would
    zero the in-kernel score of an honest part and flag "possible tampering" against the
    verified one; dropping it only ever raises an in-kernel score, so no cheat gains by it
    (verification's score is the one recorded).
    """
    outputs = cell.get("outputs", [])
    if not any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in outputs):
        return cell
    out = copy.copy(cell)
    out["outputs"] = [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    return out


def in_kernel_scores(nb, spec: NotebookSpec) -> list[PartResult]:
    """nbgrader's own ``determine_grade`` on each grade cell (its stderr output aside: see
    :func:`_without_stderr`), with the first error as the reason."""
    by_id, parts = spec.by_id(), []
    for cell in nb.cells:
        gid = (cell.metadata.get("nbgrader") or {}).get("grade_id")
        if gid not in by_id or not by_id[gid].grade:
            continue
        try:
            score, max_score = nbutils.determine_grade(_without_stderr(cell))
        except (ValueError, KeyError, TypeError) as exc:
            score, max_score = 0.0, float(by_id[gid].points or 0)
            reason = f"the cell's result is not a valid score ({exc})"
        else:
            errs = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            reason = _first_line(errs[0]) if errs and score == 0 else ""
        manual = score is None
        parts.append(PartResult(gid, float(max_score), score, score, reason=reason, manual=manual))
    return parts


def score_in_kernel(job: NotebookJob) -> None:
    job.result = NotebookResult(job.spec.name, "graded", in_kernel_scores(job.run.nb, job.spec), job.flags,
                                seconds=time.monotonic() - job.t0, cpu_seconds=job.run.cpu_seconds)


def verify(job: NotebookJob) -> None:
    if job.task.verify:
        verify_notebook(job.task, job.spec, job.run.nb, job.result)


SANITIZE = (
    parse_and_rebuild,
    drop_unknown_ids,
    NbgraderStep(DeduplicateIds, flag_warnings=False),  # drop_unknown_ids has named the duplicates
    restore_cells,
    defuse_markdown,
    NbgraderStep(OverwriteCellsFromRecord),
    set_kernelspec,
    NbgraderStep(ClearOutput),
    CheckMetadata(),
)

GRADE = (
    execute_in_sandbox,
    score_in_kernel,
    verify,
)


def run_steps(job: NotebookJob, steps) -> None:
    """Run ``steps`` in order on ``job`` (each may raise ``Ungradable``)."""
    for step in steps:
        step(job)
