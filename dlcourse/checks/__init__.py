"""The checks that the exercise notebooks' test cells call, in the learner's kernel.

A test cell of an exercise notebook reads::

    checks.check("sigmoid_matches_reference", sigmoid)
    ### BEGIN HIDDEN TESTS
    import dlcourse_grade.hidden
    dlcourse_grade.hidden.check("sigmoid_matches_reference", sigmoid)
    ### END HIDDEN TESTS

(the hidden block, removed from the notebook learners get, calls the instructor's
grader, which holds the hidden inputs and passes them here as ``hidden_cases``).

:func:`check` looks up the part's description in :mod:`dlcourse.checks.assignments`, runs the
learner's function on the part's cases (:func:`dlcourse.checks.run.run_case`:
warnings recorded, never printed; arguments checked for in-place changes; imports of
and calls into ``dlcourse`` detected), judges the outcomes against the reference
(:func:`dlcourse.checks.judge.grade_outcomes`: shape and dtype before values,
dtype-aware tolerances, NaN/inf named, known mistakes diagnosed) and prints feedback.

Scoring, as nbgrader reads a test cell:

* every case right: prints ``PASSED ...`` and returns the points (a :class:`Score`);
* partly right (parts with ``partial=True``): prints the feedback and returns the
  score, which nbgrader records as partial credit;
* nothing earned: raises :class:`GradingFailure` (an ``AssertionError``) whose message
  is the feedback. Hidden checks never raise (a traceback would show the hidden
  line); they print and return 0.

A hidden check scores the visible and the hidden cases together; its feedback shows
only the kind of a failing hidden input, never its expected value.

Every call of the learner's function runs under a time limit (``Part.time_limit``,
:data:`dlcourse.checks.spec.TIME_LIMIT` = 5 seconds by default), reported as a timeout;
what it prints is captured and shown, cut to 2,000 characters, before the verdict.

:func:`start` (first cell of every notebook) records the ``dlcourse`` version the
notebook was written for and reports a mismatch; :func:`check_all` runs every
visible check of an assignment at once.

Known limits: these checks run in the learner's own process, so a determined learner
can defeat them; ``dlcourse-grade`` re-runs the functions outside the kernel.
"""

from __future__ import annotations

from collections.abc import Sequence

import dlcourse

from . import assignments
from .delegation import static_delegation
from .errors import undefined_name_message
from .spec import Case
from .judge import Outcome, Report, grade_outcomes
from .run import run_case

__all__ = ["start", "check", "check_all", "evaluate", "Score", "GradingFailure", "Outcome", "Report",
           "grade_outcomes", "run_case"]

_STATE: dict = {"assignment": None, "written_for": None}


class GradingFailure(AssertionError):
    """A visible check earned no points; the message is the feedback."""


class Score(float):
    """A part's score; its repr is the bare number, which nbgrader reads as partial credit."""

    def __repr__(self) -> str:
        return repr(float(self))


def _explain_name_errors(assignment: str) -> None:
    """In an IPython kernel: a NameError for one of the assignment's functions (a test cell run
    before the function's cell, or after it failed) also prints what to do."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return
    functions = {p.function for p in assignments.parts(assignment)}

    def handler(self, etype, value, tb, tb_offset=None):
        self.showtraceback((etype, value, tb), tb_offset=tb_offset)
        name = getattr(value, "name", None) or str(value).split("'")[1:2]
        name = name[0] if isinstance(name, list) and name else name
        if name in functions:
            print(f"\n{undefined_name_message(name)}.")

    shell.set_custom_exc((NameError,), handler)


def start(assignment: str, written_for: str) -> str:
    """Record the assignment and the dlcourse version the notebook was written for; report a mismatch.

    In a Jupyter kernel it also makes a ``NameError`` for one of the assignment's functions
    say what to do (run the cell that defines it, and fix it if it failed). Returns the
    line it prints.
    """
    assignments.parts(assignment)  # raises a clear KeyError for an unknown assignment
    _STATE.update(assignment=assignment, written_for=written_for)
    _explain_name_errors(assignment)
    line = f"{assignment}: dlcourse {dlcourse.__version__} (this notebook was written for {written_for})"
    if written_for != dlcourse.__version__:
        line += ("\nVERSION MISMATCH: the checks may differ from those the notebook was written for; "
                 "install the matching dlcourse or tell your instructor.")
    print(line)
    return line


def _version_note() -> str:
    wf = _STATE["written_for"]
    if wf and wf != dlcourse.__version__:
        return f"\n  note: dlcourse {dlcourse.__version__} is installed; this notebook was written for {wf}."
    return ""


def evaluate(grade_id: str, fn, *, seed: int | None = None, hidden_cases: Sequence[Case] = (),
             time_limit: float | None = None) -> Report:
    """Run and judge ``fn`` on the part's visible cases and on ``hidden_cases``; no printing.

    Each call runs under the part's time limit (``Part.time_limit`` seconds, 5 by
    default); after one call runs past it, the part's remaining cases are not run
    (they fail with the same reason), so one endless loop costs one time limit.
    ``time_limit`` overrides the part's limit (seconds per call).
    """
    part = assignments.get_part(grade_id)
    cases = part.cases(seed) + list(hidden_cases)
    reason = static_delegation(fn)
    if reason:
        return grade_outcomes(part, cases, [Outcome(delegated=reason)] * len(cases), delegated=reason)
    outcomes: list[Outcome] = []
    for c in cases:
        if outcomes and outcomes[-1].timed_out:
            outcomes.append(Outcome(error=outcomes[-1].error, timed_out=True))
            continue
        outcomes.append(run_case(fn, c, part.params, timeout=time_limit or part.time_limit))
    return grade_outcomes(part, cases, outcomes)


def _dependency_notes(grade_id: str, fn) -> str:
    """Notes on the learner's earlier functions that this one calls and that fail their own checks."""
    part = assignments.get_part(grade_id)
    notes = []
    namespace = getattr(fn, "__globals__", {})
    for name in part.depends_on:
        dep = assignments.value_part(part.assignment, name)
        if name not in namespace:
            notes.append(f"  note: `{name}` (which `{part.function}` calls) is not defined; run its cell first.")
        elif dep is not None and not evaluate(dep.grade_id, namespace[name]).passed:
            notes.append(f"  note: `{part.function}` uses your `{name}`, which fails its own check "
                         f"({dep.grade_id}); fix that first.")
    return "\n".join([""] + notes) if notes else ""


def check(grade_id: str, fn, *, seed: int | None = None, hidden_cases: Sequence[Case] | None = None) -> Score:
    """Grade ``fn`` for the part ``grade_id``: print feedback, return the score or raise (see module doc).

    ``hidden_cases`` (given only by the grader's hidden tests) are scored with the
    visible ones, and then the check never raises.
    """
    hidden = hidden_cases is not None
    if not callable(fn):
        text = (f"{grade_id}: expected your function, got {type(fn).__name__}; "
                "run the cell that defines it first (and fix it if it shows an error)")
        if hidden:
            print(f"FAILED {text}")
            return Score(0.0)
        raise GradingFailure(text)
    report = evaluate(grade_id, fn, seed=seed, hidden_cases=hidden_cases or ())
    text = report.text + _version_note()
    if not report.passed and not report.delegated:
        text += _dependency_notes(grade_id, fn)
    if report.score > 0 or hidden:
        print(text)
        return Score(report.score)
    raise GradingFailure("\n" + text)


def check_all(namespace: dict, assignment: str | None = None) -> dict[str, float]:
    """Run every visible check of ``assignment`` on the functions in ``namespace`` (e.g. ``globals()``).

    Prints one feedback block per part and returns ``{grade_id: score}``; never raises.
    """
    assignment = assignment or _STATE["assignment"]
    scores = {}
    for part in assignments.parts(assignment):
        fn = namespace.get(part.function)
        if not callable(fn):
            print(f"MISSING {part.grade_id}: {undefined_name_message(part.function)}")
            scores[part.grade_id] = 0.0
            continue
        report = evaluate(part.grade_id, fn)
        print(report.text)
        scores[part.grade_id] = report.score
    return scores
