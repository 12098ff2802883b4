"""Judging: compare what a learner's function returned with the reference, and explain.

This module never runs learner code. It takes :class:`Outcome` s (data: the value a
call returned, or the error it raised, the warnings it emitted, the arguments it
changed in place) and the part's :class:`~dlcourse.exercises.Case` s, and returns a
:class:`Report` with a score and feedback text. The in-kernel checks
(:func:`dlcourse.grading.check`) and the out-of-kernel grader both call
:func:`grade_outcomes`, so their scores and diagnoses agree.

Order of checks for each returned value: it exists (not ``None``), it is numeric,
its shape, its dtype, NaN or infinity where a number was expected, then the values
with the dtype's tolerance. A failing value is then compared with the output of
every known mistake (the part's own, then the generic ones: sign flipped, factor 2,
factor of the batch size or of the number of elements, transposed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..exercises.base import Case, Mistake, Part

__all__ = ["Outcome", "CaseVerdict", "Report", "grade_outcomes", "judge_case", "compare_value"]


@dataclass
class Outcome:
    """What one call of the learner's function produced (plain data).

    ``value`` is the return value (arrays, numbers, or a tuple of them); ``error`` is
    ``"TypeError: message"`` when the call raised; ``warnings`` the warning messages;
    ``mutated`` the names of arguments the call changed in place; ``delegated`` a
    reason when the call reached the reference (``dlcourse``); ``stderr`` what it wrote there.
    """

    value: Any = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    mutated: tuple[str, ...] = ()
    delegated: str | None = None
    stderr: str = ""


@dataclass
class CaseVerdict:
    """The verdict on one case: pass/fail per output component, the problem and any diagnoses."""

    case: Case
    ok: bool
    components_ok: tuple[bool, ...]
    problem: str = ""
    diagnoses: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """The score of one part on a list of cases, with the feedback text."""

    part: Part
    score: float
    verdicts: list[CaseVerdict]
    delegated: str | None = None
    text: str = ""

    @property
    def points(self) -> float:
        return float(self.part.points)

    @property
    def passed(self) -> bool:
        return self.score >= self.points

    @property
    def diagnoses(self) -> list[str]:
        """Every distinct diagnosis, in the order first seen."""
        seen: list[str] = []
        for v in self.verdicts:
            seen += [d for d in v.diagnoses if d not in seen]
        return seen


def _fmt(x) -> str:
    try:
        return f"{float(x):.6g}"
    except (TypeError, ValueError):
        return repr(x)


def _first_array_arg(c: Case):
    for a in c.args:
        if isinstance(a, np.ndarray) and a.ndim >= 1:
            return a
    return None


def generic_mistakes(c: Case) -> list[Mistake]:
    """Mistakes that fit any array result: sign, factor 2, batch-size and element-count factors."""
    out = [
        Mistake.transforms("sign flipped", "the sign is flipped: you return minus the right answer "
                           "(check the order of a subtraction, or a missing minus sign)", lambda e: -e),
        Mistake.transforms("factor 2", "you are off by a factor of 2 (a missing or extra 2, or 1/2)", lambda e: 2 * e),
        Mistake.transforms("factor 1/2", "you are off by a factor of 1/2 (a missing or extra 2, or 1/2)", lambda e: e / 2),
    ]
    first = _first_array_arg(c)
    if first is not None and first.shape[0] > 2:
        n = first.shape[0]
        out += [
            Mistake.transforms("batch size", f"you are off by a factor of the batch size N = {n}: "
                               "a sum where a mean over the batch was asked", lambda e, n=n: e * n),
            Mistake.transforms("batch size", f"you are off by a factor of 1/N (N = {n}): "
                               "an extra mean over the batch, or a division by N twice", lambda e, n=n: e / n),
        ]
        if first.size != n:
            m = first.size
            out += [
                Mistake.transforms("element count", f"you are off by a factor of the number of elements ({m}): "
                                   "a sum where a mean over all elements was asked", lambda e, m=m: e * m),
                Mistake.transforms("element count", f"you are off by a factor of 1/{m}: a mean over all "
                                   "elements where another reduction was asked", lambda e, m=m: e / m),
            ]
    return out


def compare_value(expected, got, part: Part, hidden: bool, name: str = "") -> str:
    """Return ``""`` if ``got`` matches ``expected`` under the part's rules, else the problem in words."""
    what = f"{name}: " if name else ""
    if got is None:
        return f"{what}your function returned None (did you forget `return`?)"
    if part.dtype == "int":
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
            return (f"{what}expected an integer (int), got {type(got).__name__} {got!r}"
                    + ("; use // (floor division) or int()" if isinstance(got, (float, np.floating)) else ""))
        if int(got) != int(expected):
            return f"{what}expected {int(expected)}, got {int(got)}" if not hidden else f"{what}wrong value {int(got)}"
        return ""
    try:
        g = np.asarray(got)  # drops ndarray subclasses (a lying __eq__ is never used)
    except (TypeError, ValueError):
        return f"{what}your function returned {type(got).__name__}, which is not array-like"
    e = np.asarray(expected)
    if g.dtype.kind not in "biuf":
        return f"{what}expected numbers, got an array of dtype {g.dtype} ({type(got).__name__})"
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


def _matches(pred, got, part: Part, expected) -> bool:
    """Does ``got`` equal the mistake's prediction ``pred`` while the prediction differs from ``expected``?"""
    try:
        p, g, e = np.asarray(pred, dtype=np.float64), np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if p.shape != g.shape:
        return False
    rtol, atol = part.tolerance.for_dtypes(np.float32)  # a diagnosis may be a little loose
    with np.errstate(all="ignore"):
        if p.shape == e.shape and np.allclose(p, e, rtol=rtol, atol=atol, equal_nan=True):
            return False
        return bool(np.allclose(g, p, rtol=rtol, atol=atol, equal_nan=True))


def _diagnose(part: Part, c: Case, expected, got, index: int | None, outcome: Outcome) -> list[str]:
    """Messages of the known mistakes that explain ``got`` (component ``index`` of a tuple output)."""
    found: list[str] = []
    for m in list(part.mistakes) + generic_mistakes(c):
        if m.on_warning is not None:
            if any(m.on_warning in w for w in outcome.warnings):
                found.append(f"{m.name}: {m.message}")
            continue
        try:
            pred = m.predict(c, expected if index is None else tuple(expected))
        except Exception:  # a mistake that does not apply to this input  # noqa: BLE001
            continue
        if index is not None:
            if not isinstance(pred, tuple) or len(pred) <= index:
                continue
            pred = pred[index]
        exp = expected if index is None else expected[index]
        if _matches(pred, got, part, exp):
            found.append(f"{m.name}: {m.message}")
    # a transposed result of a square matrix has the right shape: test it too
    g = np.asarray(got) if not isinstance(got, tuple) else None
    exp = np.asarray(expected if index is None else expected[index])
    if g is not None and g.ndim == 2 and exp.ndim == 2 and g.shape[::-1] == exp.shape and g.shape != exp.shape:
        if np.allclose(g.T.astype(float), exp.astype(float), rtol=1e-4, atol=1e-6):
            found.append("transposed: your result is the transpose of the right one (check the order of a "
                         "matrix product, or which axis is which)")
    return found


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
        diags = _diagnose(part, c, expected, outcome.value, None, outcome) if not part.outputs else []
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
            found = _diagnose(part, c, expected, g, i if part.outputs else None, outcome)
            diags += [f"{name}: {d}" if name else d for d in found if d not in diags]
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
    from .feedback import render

    report.text = render(report)
    return report
