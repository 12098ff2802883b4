"""dlcourse-grade's structure: the notebook pipeline as an ordered list of steps, detectors as a registry.

These run without a sandbox or a kernel: the sanitising steps on notebooks built here,
and verification's judging with the sandbox's answers replaced by the reference's own
outputs (the oracle), so what is checked is how steps and detectors are put together.
"""

from __future__ import annotations

import copy

import nbformat
import pytest
from nbformat.v4 import new_notebook

pytest.importorskip("nbgrader", reason="the grader needs nbgrader (pip install ./grader)")

from nbgrader import utils as nbutils  # noqa: E402
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells  # noqa: E402

from dlcourse.checks import assignments  # noqa: E402
from dlcourse.checks.verdict import Outcome  # noqa: E402
from dlcourse_grade import detectors, steps, verify  # noqa: E402
from dlcourse_grade.course import CellSpec, NotebookSpec  # noqa: E402
from dlcourse_grade.repair import Ungradable  # noqa: E402
from dlcourse_grade.results import Flag, FlagKind, NotebookResult, PartResult  # noqa: E402
from nbgrader_cells import nbgrader_cell  # noqa: E402


_cell = nbgrader_cell


def _spec(nb) -> NotebookSpec:
    cells = []
    for c in nb.cells:
        m = c.metadata["nbgrader"]
        cells.append(CellSpec(m["grade_id"], c.cell_type, m["locked"], c.source, m["checksum"], grade=m["grade"],
                              solution=m["solution"], points=m.get("points")))
    return NotebookSpec("ex01_perceptron", tuple(cells))


@pytest.fixture
def source_nb():
    return new_notebook(cells=[
        _cell("code", "def step(z):\n    raise NotImplementedError()", "step_solution", solution=True),
        _cell("code", 'checks.check("step_matches_reference", step)', "step_matches_reference",
              grade=True, locked=True, points=1.0),
    ])


class _Task:
    assignment = "ex01_perceptron"
    verify = True
    seed = 5


def test_sanitize_is_nbgraders_preprocessors_with_ours_between():
    """Are nbgrader's own sanitising preprocessors steps of the pipeline, in nbgrader's order?"""
    used = [s.preprocessor for s in steps.SANITIZE if isinstance(s, steps.NbgraderStep)]
    assert [DeduplicateIds, steps.OverwriteCellsFromRecord, ClearOutput, CheckCellMetadata] == used
    assert issubclass(steps.OverwriteCellsFromRecord, OverwriteCells)
    assert steps.SANITIZE[0] is steps.parse_and_rebuild and steps.verify in steps.GRADE


def test_sanitize_restores_a_damaged_notebook(source_nb):
    """A duplicated test cell, an edited locked cell, foreign outputs and changed points: is each undone and flagged?"""
    spec = _spec(source_nb)
    sub = copy.deepcopy(source_nb)
    sub.cells[0].source = "def step(z):\n    return (z > 0) * 1.0"
    sub.cells[1].source = "pass  # nothing to see"
    sub.cells[1].metadata["nbgrader"]["points"] = 100.0
    sub.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="PASSED")]
    sub.cells.append(copy.deepcopy(sub.cells[1]))
    job = steps.NotebookJob(_Task(), spec, nbformat.writes(sub).encode())
    steps.run_steps(job, steps.SANITIZE)
    graded = [c for c in job.nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "step_matches_reference"]
    assert len(graded) == 1 and graded[0].source == source_nb.cells[1].source
    assert graded[0].metadata["nbgrader"]["points"] == 1.0 and graded[0].outputs == []
    assert nbutils.compute_checksum(graded[0]) == spec.by_id()["step_matches_reference"].checksum
    texts = [f.text for f in job.flags]
    assert any("appears 2 times" in t for t in texts) and any("was edited: restored" in t for t in texts), texts
    assert all(isinstance(f, Flag) and f.kind == FlagKind.REPAIR for f in job.flags)


def test_sanitize_raises_ungradable_for_a_file_that_is_not_a_notebook(source_nb):
    job = steps.NotebookJob(_Task(), _spec(source_nb), b'{"no": "cells"}')
    with pytest.raises(Ungradable, match="not a notebook"):
        steps.run_steps(job, steps.SANITIZE)


def _verify_with(monkeypatch, source: str, in_kernel: float, extra=()):
    """verify_notebook on a notebook whose step cell is ``source``; the sandbox answers with the reference."""
    part = assignments.get_part("step_matches_reference")

    def fake_run_parts(task, cells, parts, seed):
        from dlcourse_grade import hidden

        cases = [hidden.cases(p, seed) for p in parts]
        ns: dict = {}
        exec("import numpy as np\n" + "\n".join(cells), ns)
        got = [[Outcome(value=ns[p.function](*c.materialize()[0])) for c in cs] for p, cs in zip(parts, cases)]
        return got, cases, []

    monkeypatch.setattr(verify, "run_parts", fake_run_parts)
    monkeypatch.setattr(detectors, "DETECTORS", detectors.DETECTORS + tuple(extra))
    monkeypatch.setattr(verify, "DETECTORS", detectors.DETECTORS)
    nb = new_notebook(cells=[_cell("code", source, "step_solution", solution=True),
                             _cell("code", "checks.check(...)", part.grade_id, grade=True, locked=True, points=1.0)])
    result = NotebookResult("ex01_perceptron", "graded",
                            [PartResult(part.grade_id, 1.0, in_kernel, in_kernel)])
    verify.verify_notebook(_Task(), _spec(nb), nb, result)
    return result


def test_tampering_detector_flags_a_score_the_verification_does_not_confirm(monkeypatch):
    """A wrong step that scored 1 in the kernel: verified 0, one TAMPERING flag for the instructor."""
    result = _verify_with(monkeypatch, "def step(z):\n    return z * 0.0", in_kernel=1.0)
    assert result.parts[0].score == 0.0
    kinds = [f.kind for f in result.flags]
    assert kinds == [FlagKind.TAMPERING] and result.flag_for_instructor


def test_honest_work_raises_no_flag(monkeypatch):
    result = _verify_with(monkeypatch, "def step(z):\n    return (np.asarray(z) > 0).astype(float)", in_kernel=1.0)
    assert result.parts[0].score == 1.0 and result.flags == [] and not result.flag_for_instructor


def test_a_new_detector_is_one_class_and_one_entry(monkeypatch):
    """Does a detector added to the registry run on every part and raise its typed flag?"""
    class Loops(detectors.Detector):
        kind = FlagKind.NEAR_COPY

        def __call__(self, ev):
            import ast
            if ev.fn is not None and any(isinstance(n, ast.For) for n in ast.walk(ev.fn)):
                return self.flag(ev, f"`{ev.part.function}` loops")
            return None

    src = "def step(z):\n    out = np.zeros(np.shape(z))\n    for i in np.ndindex(np.shape(z)):\n" \
          "        out[i] = float(np.asarray(z)[i] > 0)\n    return out"
    result = _verify_with(monkeypatch, src, in_kernel=1.0, extra=(Loops(),))
    assert [(f.kind, f.text, f.part) for f in result.flags] == [
        (FlagKind.NEAR_COPY, "`step` loops", "step_matches_reference")]


def test_code_detectors_void_the_part(monkeypatch):
    """Does the delegation detector (stage "code") make a part that calls dlcourse earn nothing, with a flag?"""
    src = "from dlcourse.activations import step as _s\ndef step(z):\n    return _s(z)"
    result = _verify_with(monkeypatch, src, in_kernel=0.0)
    assert result.parts[0].score == 0.0
    assert [f.kind for f in result.flags] == [FlagKind.DELEGATION]


def test_every_registered_detector_has_its_own_module_and_a_flag_kind():
    mods = [type(d).__module__ for d in detectors.DETECTORS]
    assert len(set(mods)) == len(mods) and all(m.startswith("dlcourse_grade.detectors.") for m in mods)
    assert all(isinstance(d.kind, FlagKind) and d.stage in ("code", "result") for d in detectors.DETECTORS)


def test_a_verification_that_fails_is_zero_and_flagged_not_a_grader_error(monkeypatch):
    """Whatever breaks the verification run, the part scores 0 with a flag naming why; nothing is raised."""
    def broken_run_parts(task, cells, parts, seed):
        raise verify.VerificationUnavailable("the sandbox ended before any learner code ran")

    monkeypatch.setattr(verify, "run_parts", broken_run_parts)
    part = assignments.get_part("step_matches_reference")
    nb = new_notebook(cells=[_cell("code", "def step(z):\n    return z", "step_solution", solution=True),
                             _cell("code", "checks.check(...)", part.grade_id, grade=True, locked=True, points=1.0)])
    result = NotebookResult("ex01_perceptron", "graded", [PartResult(part.grade_id, 1.0, 1.0, 1.0)])
    verify.verify_notebook(_Task(), _spec(nb), nb, result)
    assert (result.parts[0].score, result.parts[0].verified) == (0.0, 0.0)
    assert [f.kind for f in result.flags] == [FlagKind.VERIFICATION] and result.flag_for_instructor
    assert "sandbox ended" in result.parts[0].reason


class _StartsLate(verify.PartsRun):
    """A PartsRun whose runner fails to report its first cell ``fails`` times, then answers every part."""

    def __init__(self, fails: int):
        from types import SimpleNamespace

        limits = SimpleNamespace(cell_timeout=5.0, call_timeout=5.0, notebook_timeout=60.0)
        self.task, self.parts, self.fails, self.launches = SimpleNamespace(limits=limits), [{}, {}], fails, 0
        self.results, self.setup_errors, self.blocked, self.budget, self.budget_spent = {}, [], [], None, False
        self.messages, self.allowances = None, []

    def _launch(self, first, skip):
        self.launches += 1
        self.progress = None
        return None

    def _wait_for(self, proc, kind, seconds, restart_on_progress=False, startup=0.0):
        if kind == "setup":
            self.allowances.append(max(seconds, startup))
            if self.launches <= self.fails:
                return "the verification run took longer than 60 s", None
            self.progress = 0
            return None, {"setup": {"errors": []}}
        k = len(self.results)
        return None, {"part": k, "outcomes": []}


def test_a_runner_that_starts_slowly_is_started_again_not_scored(monkeypatch):
    """A runner that never reached the learner's code (the grader's own start-up, on a busy machine) gets
    a start-up allowance above the cell limit and more tries; only after STARTUP_TRIES is it unavailable."""
    monkeypatch.setattr(verify, "_kill", lambda proc: None)
    run = _StartsLate(fails=verify.STARTUP_TRIES - 1)
    got = run.run()
    assert run.launches == verify.STARTUP_TRIES and set(got) == {0, 1}
    assert all(isinstance(v, dict) for v in got.values()) and not run.setup_errors
    assert min(run.allowances) == verify.STARTUP_SECONDS > 5.0
    with pytest.raises(verify.VerificationUnavailable, match="before any learner code ran"):
        _StartsLate(fails=verify.STARTUP_TRIES).run()
