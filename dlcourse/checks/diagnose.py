"""Diagnoses: which known mistake explains a wrong result, told only when it is verified.

A :class:`~dlcourse.checks.spec.Mistake` predicts what code with that mistake returns.
A hint a learner acts on must be right, so a mistake is reported only when re-applying
it reproduces what the learner's function returned:

* on **every** case where the function returned a value, its output (or the component
  of a tuple output) equals the mistake's prediction within the part's normal
  tolerance (one case where it does not, and the mistake is not what the code does);
* on at least one of those cases the prediction differs from the reference (and on
  two, when two or more of the part's inputs tell them apart), and
* the hint is attached only to the cases where it was reproduced, so the feedback
  prints it with an input on which it holds.

There are no generic guesses (a factor of 2, of the batch size, ...) that match by
coincidence: a part lists the mistakes its text makes likely, and
:meth:`~dlcourse.checks.spec.Mistake.sign_flipped` / ``scaled`` help write the common
ones. ``on_warning`` mistakes (overflow) are verified by the warning itself.
"""

from __future__ import annotations

import numpy as np

from .spec import Case, Mistake, Part

__all__ = ["verified_diagnoses", "same_value", "differs"]


def _as_float(v):
    """``v`` as a float64 array, or None when it is not a real number array."""
    try:
        a = np.asarray(v)
        if a.dtype.kind not in "biuf":
            return None
        with np.errstate(all="ignore"):
            return a.astype(np.float64)
    except Exception:  # noqa: BLE001 - not array-like
        return None


def _dtype(v):
    try:
        return np.asarray(v).dtype
    except Exception:  # noqa: BLE001
        return np.dtype(np.float64)


def same_value(a, b, part: Part, dtype_of=None) -> bool:
    """Are ``a`` and ``b`` equal under the part's normal tolerance (same shape, NaN equal to NaN)?

    A ``b`` that is a tuple or list (a nested answer: one ``(W, b)`` pair per layer) needs
    an ``a`` of the same length whose items are equal one by one.
    """
    if isinstance(b, (tuple, list)):
        return (isinstance(a, (tuple, list)) and len(a) == len(b)
                and all(same_value(x, y, part, dtype_of) for x, y in zip(a, b)))
    fa, fb = _as_float(a), _as_float(b)
    if fa is None or fb is None or fa.shape != fb.shape:
        return False
    if part.dtype == "int":
        return bool(np.array_equal(fa, fb))
    rtol, atol = part.tolerance.for_dtypes(_dtype(a), _dtype(b), *(dtype_of or ()))
    with np.errstate(all="ignore"):
        return bool(np.allclose(fa, fb, rtol=rtol, atol=atol, equal_nan=True))


def differs(pred, expected, part: Part) -> bool:
    """Does the prediction differ from the reference beyond the part's tolerance?"""
    return not same_value(pred, expected, part)


def _component(value, index):
    if index is None:
        return value
    if isinstance(value, (tuple, list)) and len(value) > index:
        return value[index]
    return None


def _usable(outcome) -> bool:
    return outcome.error is None and not outcome.delegated and not outcome.timed_out


def _predict(m: Mistake, c: Case, expected):
    try:
        return True, m.predict(c, expected)
    except Exception:  # noqa: BLE001 - a mistake that does not apply to this input
        return False, None


def _verify(part: Part, m: Mistake, cases, outcomes, expected, index) -> list[int]:
    """The cases on which ``m`` reproduces component ``index``; ``[]`` when it is not verified."""
    reproduced, telling = [], 0
    for k, (c, o, e) in enumerate(zip(cases, outcomes, expected)):
        ok, pred = _predict(m, c, tuple(e) if isinstance(e, (tuple, list)) else e)
        if not ok:
            continue
        p, ek = _component(pred, index), _component(e, index)
        if p is None or (_as_float(p) is None and not isinstance(p, (tuple, list))):
            continue
        tells = differs(p, ek, part)
        telling += tells
        if not _usable(o):
            continue
        g = _component(o.value, index)
        if not same_value(g, p, part, (_dtype(ek),)):
            return []  # the learner's code does something else on this input
        if tells:
            reproduced.append(k)
    if not reproduced or len(reproduced) < min(2, telling):
        return []
    return reproduced


def verified_diagnoses(part: Part, cases: list[Case], outcomes: list, expected: list) -> list[list[str]]:
    """For each case, the messages of the known mistakes verified on it (see the module doc)."""
    found: list[list[str]] = [[] for _ in cases]
    indices = list(range(len(part.outputs))) if part.outputs else [None]
    for m in part.mistakes:
        if m.on_warning is not None:
            for k, o in enumerate(outcomes):
                if any(m.on_warning in w for w in o.warnings):
                    found[k].append(f"{m.name}: {m.message}")
            continue
        if m.predict is None:
            continue
        for index in indices:
            name = f"{part.outputs[index]}: " if index is not None else ""
            for k in _verify(part, m, cases, outcomes, expected, index):
                message = f"{name}{m.name}: {m.message}"
                if message not in found[k]:
                    found[k].append(message)
    return found
