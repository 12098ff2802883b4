"""Judging: compare what a learner's function returned with the reference, and explain.

This module never runs learner code. It takes :class:`Outcome` s (data: the value a
call returned, or the error it raised, the warnings it emitted, the arguments it
changed in place) and the part's :class:`~dlcourse.checks.assignments.Case` s, and returns a
:class:`Report` with a score and feedback text. The in-kernel checks
(:func:`dlcourse.checks.check`) and the out-of-kernel grader both call
:func:`grade_outcomes`, so their scores and diagnoses agree.

Order of checks for each returned value: it exists (not ``None``), it is numeric,
its shape, its dtype, NaN or infinity where a number was expected, then the values
with the dtype's tolerance. A failing value is then compared with the output of
every known mistake (the part's own, then the generic ones: sign flipped, factor 2,
factor of the batch size or of the number of elements, transposed).
"""

from __future__ import annotations

import numpy as np

from .diagnose import diagnose
from .feedback import render
from .spec import Case, Part
from .verdict import CaseVerdict, Outcome, Report

__all__ = ["Outcome", "CaseVerdict", "Report", "grade_outcomes", "judge_case", "compare_value"]


def _fmt(x) -> str:
    try:
        return f"{float(x):.6g}"
    except (TypeError, ValueError):
        return repr(x)


def _compare_int(expected, got, hidden: bool, what: str) -> str:
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        return (f"{what}expected an integer (int), got {type(got).__name__} {got!r}"
                + ("; use // (floor division) or int()" if isinstance(got, (float, np.floating)) else ""))
    if int(got) != int(expected):
        return f"{what}expected {int(expected)}, got {int(got)}" if not hidden else f"{what}wrong value {int(got)}"
    return ""


def _compare_layout(e: np.ndarray, g: np.ndarray, part: Part, what: str) -> str:
    """Shape, then dtype: checked before any value, so broadcasting cannot hide a wrong shape."""
    if g.shape != e.shape:
        hint = ""
        if g.ndim == 2 and g.shape == e.shape[::-1]:
            hint = " (transposed?)"
        elif g.size == e.size:
            hint = " (same number of entries: reshape, or a missing keepdims?)"
        exp_shape = "a scalar, shape ()" if e.shape == () else f"shape {e.shape}"
        return f"{what}wrong shape: expected {exp_shape}, got shape {g.shape}{hint}"
    if part.dtype == "same" and g.dtype != e.dtype:
        return f"{what}wrong dtype: expected {e.dtype} (the input's dtype), got {g.dtype}"
    if part.dtype == "float" and g.dtype.kind != "f":
        return f"{what}wrong dtype: expected a floating-point result, got {g.dtype}"
    return ""


def compare_value(expected, got, part: Part, hidden: bool, name: str = "") -> str:
    """Return ``""`` if ``got`` matches ``expected`` under the part's rules, else the problem in words."""
    what = f"{name}: " if name else ""
    if got is None:
        return f"{what}your function returned None (did you forget `return`?)"
    if part.dtype == "int":
        return _compare_int(expected, got, hidden, what)
    try:
        g = np.asarray(got)  # drops ndarray subclasses (a lying __eq__ is never used)
    except (TypeError, ValueError):
        return f"{what}your function returned {type(got).__name__}, which is not array-like"
    e = np.asarray(expected)
    if g.dtype.kind not in "biuf":
        return f"{what}expected numbers, got an array of dtype {g.dtype} ({type(got).__name__})"
    layout = _compare_layout(e, g, part, what)
    if layout:
        return layout
    rtol, atol = part.tolerance.for_dtypes(g.dtype, e.dtype)
    with np.errstate(all="ignore"):
        gf, ef = g.astype(np.float64), e.astype(np.float64)
        bad_nonfinite = ~np.isfinite(gf) & np.isfinite(ef)
        if bad_nonfinite.any():
            idx = tuple(int(i) for i in np.argwhere(bad_nonfinite)[0]) if g.ndim else ()
            at = f" at index {idx}" if idx else ""
            return f"{what}got {_fmt(gf[idx] if idx else gf)}{at} where a finite number was expected"
        close = np.isclose(gf, ef, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return ""
    nbad = int((~close).sum())
    if hidden:
        return f"{what}values differ from the reference at {nbad} of {close.size} entries"
    if g.ndim == 0:
        return f"{what}expected {_fmt(ef)}, got {_fmt(gf)}"
    idx = tuple(int(i) for i in np.argwhere(~close)[0])
    return (f"{what}values differ at {nbad} of {close.size} entries; first at index {idx}: "
            f"expected {_fmt(ef[idx])}, got {_fmt(gf[idx])}")


def judge_case(part: Part, c: Case, outcome: Outcome, expected) -> CaseVerdict:
    """Judge one case: error, delegation, mutation, warnings (stability parts), then each output component."""
    n = max(1, len(part.outputs))
    fail = (False,) * n
    notes = [f"your function warned: {w}" for w in outcome.warnings[:1]] if not part.stability else []
    if outcome.stderr.strip() and not outcome.warnings:
        notes.append("your function wrote to stderr (nbgrader would count that as an error outside these checks)")
    if outcome.delegated:
        return CaseVerdict(c, False, fail, f"your function calls the reference: {outcome.delegated}",
                           ["calls dlcourse: graded functions must be written by you, not call dlcourse"])
    if outcome.error:
        if outcome.error.startswith("NotImplementedError"):
            return CaseVerdict(c, False, fail, "not implemented yet (the body still raises NotImplementedError)")
        return CaseVerdict(c, False, fail, f"your function raised {outcome.error}")
    if part.stability and outcome.warnings:
        diags = diagnose(part, c, expected, outcome.value, None, outcome) if not part.outputs else []
        if not any(d.startswith("overflow") for d in diags) and any("overflow" in w for w in outcome.warnings):
            diags.append("overflow at large inputs: an exponential overflowed; rewrite so that every "
                         "exponent is <= 0 (exp(-|z|), or subtract the maximum first)")
        return CaseVerdict(c, False, fail, f"your function warned: {outcome.warnings[0]}", diags)
    values = outcome.value if part.outputs else (outcome.value,)
    exps = expected if part.outputs else (expected,)
    if part.outputs and (not isinstance(values, (tuple, list)) or len(values) != n):
        got = f"{type(values).__name__}" + (f" of length {len(values)}" if isinstance(values, (tuple, list)) else "")
        return CaseVerdict(c, False, fail, f"expected a tuple of {n} ({', '.join(part.outputs)}), got {got}")
    oks, problems, diags = [], [], []
    for i, (e, g) in enumerate(zip(exps, values)):
        name = part.outputs[i] if part.outputs else ""
        problem = compare_value(e, g, part, c.hidden, name)
        oks.append(not problem)
        if problem:
            problems.append(problem)
            found = diagnose(part, c, expected, g, i if part.outputs else None, outcome)
            diags += [f"{name}: {d}" if name else d for d in found if d not in diags]
    if any("finite number was expected" in p for p in problems) and any("overflow" in w for w in outcome.warnings):
        diags.append("overflow at large inputs: an exponential overflowed; keep every exponent <= 0 "
                     "(exp(-|z|), or subtract the maximum first)")
    if outcome.mutated:
        names = ", ".join(f"`{m}`" for m in outcome.mutated)
        return CaseVerdict(c, False, fail, f"your function changed its argument {names} in place",
                           ["input mutated in place: compute a new array (w = w - lr * g, or work on a "
                            "copy), never change the caller's array (no w -= ..., no x[i] = ... on an input)"])
    return CaseVerdict(c, all(oks), tuple(oks), "; ".join(problems), diags, notes)


def _score(part: Part, verdicts: list[CaseVerdict]) -> float:
    if not verdicts:
        return 0.0
    if part.partial and len(part.outputs) > 1:
        n = len(part.outputs)
        right = sum(all(v.components_ok[i] for v in verdicts) for i in range(n))
        return round(float(part.points) * right / n, 2)
    return float(part.points) if all(v.ok for v in verdicts) else 0.0


def grade_outcomes(part: Part, cases: list[Case], outcomes: list[Outcome], expected: list | None = None,
                   delegated: str | None = None) -> Report:
    """Score ``part`` from the outcomes of its cases and write the feedback.

    ``expected`` (the reference outputs) is computed when not given. ``delegated`` is a
    reason found before running (a static look at the function); it zeroes the part.
    """
    if expected is None:
        expected = [part.expected(c) for c in cases]
    verdicts = [judge_case(part, c, o, e) for c, o, e in zip(cases, outcomes, expected)]
    delegated = delegated or next((o.delegated for o in outcomes if o.delegated), None)
    score = 0.0 if delegated else _score(part, verdicts)
    report = Report(part, score, verdicts, delegated)

    report.text = render(report)
    return report
