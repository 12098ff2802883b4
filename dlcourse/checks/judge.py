"""Judging: compare what a learner's function returned with the reference, and explain.

This module never runs learner code. It takes :class:`Outcome` s (data: the value a
call returned, or the error it raised, the warnings it emitted, the arguments it
changed in place) and the part's :class:`~dlcourse.checks.spec.Case` s, and returns a
:class:`Report` with a score and feedback text. The in-kernel checks
(:func:`dlcourse.checks.check`) and the out-of-kernel grader both call
:func:`grade_outcomes`, so their scores and diagnoses agree.

Order of checks for each returned value: it exists (not ``None``), it is real numbers
(lists, ragged lists, complex numbers, generators and other objects are named), its
shape, its dtype, NaN or infinity where a number was expected, then the values with
the dtype's tolerance. Numbers are shown with as many digits as it takes to see that
they differ. Known mistakes are then named only where verified
(:func:`dlcourse.checks.diagnose.verified_diagnoses`). Errors the notebook text
predicts get a sentence of their own (:mod:`dlcourse.checks.errors`). Nothing a learner
returns makes judging raise: a value the checker cannot read is reported as such.
"""

from __future__ import annotations

import numpy as np

from .diagnose import verified_diagnoses
from .errors import explain_error
from .feedback import render
from .spec import Case, Part
from .verdict import CaseVerdict, Outcome, Report

__all__ = ["Outcome", "CaseVerdict", "Report", "grade_outcomes", "judge_case", "compare_value", "show_pair"]

_LOOSE = (1e-5, 1e-7)  # "close": what a finite-difference estimate reaches


def _short(x, limit: int = 80) -> str:
    try:
        text = repr(x)
    except Exception:  # noqa: BLE001 - a repr that fails
        text = f"<{type(x).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def show_pair(expected, got) -> tuple[str, str]:
    """Both numbers with the fewest significant digits (6 or more) that show them different."""
    try:
        e, g = float(expected), float(got)
    except (TypeError, ValueError, OverflowError):
        return _short(expected), _short(got)
    if f"{e:.6g}" != f"{g:.6g}":
        return f"{e:.6g}", f"{g:.6g}"
    for digits in range(7, 18):  # the same number of digits on both sides, trailing zeros kept
        se, sg = f"{e:#.{digits}g}", f"{g:#.{digits}g}"
        if se != sg:
            return se, sg
    return repr(e), repr(g)


def _compare_int(expected, got, hidden: bool, what: str) -> str:
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        if isinstance(got, np.ndarray) and got.ndim == 0 and got.dtype.kind in "iu":
            got = got[()]
        else:
            return (f"{what}expected an integer (int), got {type(got).__name__} {_short(got)}"
                    + ("; use // (floor division) or int()" if isinstance(got, (float, np.floating)) else ""))
    if int(got) != int(expected):
        return f"{what}expected {int(expected)}, got {int(got)}" if not hidden else f"{what}wrong value {int(got)}"
    return ""


def _as_array(got, what: str):
    """``(array, "")`` or ``(None, problem)`` for a value that is not an array of real numbers."""
    kind = type(got).__name__
    if hasattr(got, "__next__") or type(got).__name__ == "generator":
        return None, f"{what}your function returned a {kind}; return an array (np.array(list(...)))"
    if isinstance(got, (str, bytes, dict, set)):
        return None, f"{what}expected numbers, got a {kind} {_short(got)}"
    try:
        g = np.asarray(got)  # drops ndarray subclasses (a lying __eq__ is never used)
    except ValueError as exc:
        if isinstance(got, (list, tuple)) and ("inhomogeneous" in str(exc) or "sequence" in str(exc)):
            return None, (f"{what}your function returned a ragged {kind} (rows of different lengths), "
                          "which is not an array of numbers")
        return None, f"{what}your function returned a {kind} that is not array-like"
    except Exception:  # noqa: BLE001 - an object whose __array__ fails
        return None, f"{what}your function returned a {kind}, which is not array-like"
    if g.dtype.kind == "c":
        return None, (f"{what}expected real numbers, got complex ones (dtype {g.dtype}): a square root or "
                      "log of a negative number, or an FFT? (the answer has no imaginary part)")
    if g.dtype.kind not in "biuf":
        detail = f"a {kind}" if g.dtype.kind == "O" else f"an array of dtype {g.dtype}"
        return None, f"{what}expected numbers, got {detail} ({_short(got, 60)})"
    return g, ""


def _compare_layout(e: np.ndarray, g: np.ndarray, part: Part, what: str) -> str:
    """Shape, then dtype: checked before any value, so broadcasting cannot hide a wrong shape."""
    if g.shape != e.shape:
        hint = ""
        if g.ndim == 2 and g.shape == e.shape[::-1]:
            hint = " (the transposed shape)"
        elif g.size == e.size:
            hint = " (the same number of entries: a missing reshape or keepdims?)"
        exp_shape = "a scalar, shape ()" if e.shape == () else f"shape {e.shape}"
        return f"{what}wrong shape: expected {exp_shape}, got shape {g.shape}{hint}"
    if part.dtype == "same" and g.dtype != e.dtype:
        text = f"{what}wrong dtype: expected {e.dtype} (the input's dtype), got {g.dtype}"
        if e.dtype == np.float32 and g.dtype == np.float64:
            text += (" (one float64 value in the formula, such as an np.float64 scalar or a float64 "
                     "array, promotes the whole result; Python numbers keep float32)")
        return text
    if part.dtype == "float" and g.dtype.kind != "f":
        return f"{what}wrong dtype: expected a floating-point result, got {g.dtype}"
    return ""


def _compare_sequence(expected, got, part: Part, hidden: bool, name: str) -> str:
    """A nested answer (a list of (W, b) pairs): the same length, then each item as :func:`compare_value`."""
    label = name or "your result"
    if not isinstance(got, (tuple, list)):
        return f"{label}: expected a list of {len(expected)} items, got {type(got).__name__} {_short(got, 60)}"
    if len(got) != len(expected):
        return f"{label}: expected {len(expected)} items (one per {'layer' if name else 'entry'}), got {len(got)}"
    for i, (e, g) in enumerate(zip(expected, got)):
        problem = compare_value(e, g, part, hidden, f"{name or 'result'}[{i}]")
        if problem:
            return problem
    return ""


def compare_value(expected, got, part: Part, hidden: bool, name: str = "") -> str:
    """Return ``""`` if ``got`` matches ``expected`` under the part's rules, else the problem in words.

    An ``expected`` that is a tuple or list (a nested answer such as one ``(dW, db)`` pair per
    layer) is compared item by item, each item named by its index.
    """
    what = f"{name}: " if name else ""
    if got is None:
        return f"{what}your function returned None (did you forget `return`?)"
    if isinstance(expected, (tuple, list)):
        return _compare_sequence(expected, got, part, hidden, name)
    if part.dtype == "int":
        return _compare_int(expected, got, hidden, what)
    g, problem = _as_array(got, what)
    if problem:
        return problem
    e = np.asarray(expected)
    layout = _compare_layout(e, g, part, what)
    if layout:
        return layout
    rtol, atol = (part.tolerance.relative() if part.stability else part.tolerance).for_dtypes(g.dtype, e.dtype)
    with np.errstate(all="ignore"):
        gf, ef = g.astype(np.float64), e.astype(np.float64)
        bad_nonfinite = ~np.isfinite(gf) & np.isfinite(ef)
        if bad_nonfinite.any():
            idx = tuple(int(i) for i in np.argwhere(bad_nonfinite)[0]) if g.ndim else ()
            at = f" at index {idx}" if idx else ""
            return f"{what}got {gf[idx] if idx else gf}{at} where a finite number was expected"
        close = np.isclose(gf, ef, rtol=rtol, atol=atol, equal_nan=True)
        if close.all():
            return ""
        nearly = np.isclose(gf, ef, rtol=_LOOSE[0], atol=_LOOSE[1], equal_nan=True).all()
        worst = float(np.max(np.abs(gf - ef) / (np.abs(ef) + atol / max(rtol, 1e-300))))
    nbad = int((~close).sum())
    note = ""
    if part.analytic and nearly and (rtol, atol) == (part.tolerance.rtol, part.tolerance.atol):
        note = (f"; your values agree with the reference only to about {worst:.0e} (relative): this part "
                f"needs agreement to rounding (rtol {rtol:g}), which the analytic formula (the chain rule) "
                "meets and a finite-difference estimate cannot")
    if hidden:
        return f"{what}values differ from the reference at {nbad} of {close.size} entries{note}"
    if g.ndim == 0:
        se, sg = show_pair(ef, gf)
        return f"{what}expected {se}, got {sg}{note}"
    idx = tuple(int(i) for i in np.argwhere(~close)[0])
    se, sg = show_pair(ef[idx], gf[idx])
    return (f"{what}values differ at {nbad} of {close.size} entries; first at index {idx}: "
            f"expected {se}, got {sg}{note}")


def _overflow_note(outcome: Outcome) -> list[str]:
    if any("overflow" in w for w in outcome.warnings):
        return ["overflow at large inputs: an exponential overflowed; rewrite so that every "
                "exponent is <= 0 (exp(-|z|), or subtract the maximum first)"]
    return []


def judge_case(part: Part, c: Case, outcome: Outcome, expected) -> CaseVerdict:
    """Judge one case: error, delegation, then each output component, then mutation.

    Warnings never fail a case: a part that promises stability is judged on its values
    (:meth:`~dlcourse.checks.spec.Tolerance.relative`), since a warning can be silenced.

    Diagnoses of known mistakes are added by :func:`grade_outcomes`, which sees every case.
    """
    n = max(1, len(part.outputs))
    fail = (False,) * n
    notes = [f"your function warned: {w}" for w in outcome.warnings[:1]]
    if outcome.stderr.strip() and not outcome.warnings:
        notes.append("your function wrote to stderr (nbgrader would count that as an error outside these checks)")
    if outcome.delegated:
        return CaseVerdict(c, False, fail, f"your function calls the reference: {outcome.delegated}",
                           ["calls dlcourse: graded functions must be written by you, not call dlcourse"])
    if outcome.error:
        if outcome.error.startswith("NotImplementedError"):
            return CaseVerdict(c, False, fail, "not implemented yet (the body still raises NotImplementedError)")
        explained = explain_error(part, c, outcome.error)
        return CaseVerdict(c, False, fail, f"your function raised {outcome.error}", explained)
    values = outcome.value if part.outputs else (outcome.value,)
    exps = expected if part.outputs else (expected,)
    if part.outputs and (not isinstance(values, (tuple, list)) or len(values) != n):
        got = f"{type(values).__name__}" + (f" of length {len(values)}" if isinstance(values, (tuple, list)) else "")
        return CaseVerdict(c, False, fail, f"expected a tuple of {n} ({', '.join(part.outputs)}), got {got}")
    oks, problems = [], []
    for i, (e, g) in enumerate(zip(exps, values)):
        if part.criterion is not None:  # a property of the value, not equality with the reference
            problem = "your function returned None (did you forget `return`?)" if g is None else part.criterion(c, g)
        else:
            problem = compare_value(e, g, part, c.hidden, part.outputs[i] if part.outputs else "")
        oks.append(not problem)
        if problem:
            problems.append(problem)
    diags = _overflow_note(outcome) if problems and (part.stability or any(
        "finite number was expected" in p for p in problems)) else []
    if outcome.mutated:
        names = ", ".join(f"`{m}`" for m in outcome.mutated)
        return CaseVerdict(c, False, fail, f"your function changed its argument {names} in place",
                           ["input mutated in place: compute a new array (w = w - lr * g, or work on a "
                            "copy), never change the caller's array (no w -= ..., no x[i] = ... on an input)"])
    return CaseVerdict(c, all(oks), tuple(oks), "; ".join(problems), diags, notes)


def _safe_judge(part: Part, c: Case, outcome: Outcome, expected) -> CaseVerdict:
    """:func:`judge_case`, which never raises: a value it cannot read fails the case and says so."""
    try:
        return judge_case(part, c, outcome, expected)
    except Exception as exc:  # noqa: BLE001 - whatever the learner returned, the checker answers
        fail = (False,) * max(1, len(part.outputs))
        return CaseVerdict(c, False, fail, f"the checker could not read what your function returned "
                           f"({type(outcome.value).__name__}: {type(exc).__name__}); return NumPy arrays or numbers")


def _score(part: Part, verdicts: list[CaseVerdict]) -> float:
    if not verdicts:
        return 0.0
    if part.partial and len(part.outputs) > 1:
        n = len(part.outputs)
        right = sum(all(v.components_ok[i] for v in verdicts) for i in range(n))
        return round(float(part.points) * right / n, 2)
    return float(part.points) if all(v.ok for v in verdicts) else 0.0


def _printed(outcomes: list[Outcome], limit: int = 2000) -> str:
    """What the learner's calls printed, first come first kept, cut at ``limit`` characters."""
    text, dropped = "", 0
    for o in outcomes:
        out = getattr(o, "stdout", "") or ""
        room = limit - len(text)
        text += out[:max(room, 0)]
        dropped += max(0, len(out) - max(room, 0))
    if dropped:
        text += f"\n[... {dropped} more characters not shown]"
    return text


def grade_outcomes(part: Part, cases: list[Case], outcomes: list[Outcome], expected: list | None = None,
                   delegated: str | None = None) -> Report:
    """Score ``part`` from the outcomes of its cases and write the feedback.

    ``expected`` (the reference outputs) is computed when not given. ``delegated`` is a
    reason found before running (a static look at the function); it zeroes the part.
    """
    if expected is None:
        expected = [part.expected(c) for c in cases]
    verdicts = [_safe_judge(part, c, o, e) for c, o, e in zip(cases, outcomes, expected)]
    try:
        hints = verified_diagnoses(part, cases, outcomes, expected)
    except Exception:  # noqa: BLE001 - no hint is better than a crash
        hints = [[] for _ in cases]
    for v, found in zip(verdicts, hints):
        if not v.ok and not v.diagnoses:
            v.diagnoses = list(found)
    delegated = delegated or next((o.delegated for o in outcomes if o.delegated), None)
    score = 0.0 if delegated else _score(part, verdicts)
    report = Report(part, score, verdicts, delegated)
    report.printed = _printed(outcomes)
    report.text = render(report)
    return report
