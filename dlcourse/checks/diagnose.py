"""Diagnoses: which known mistake explains a wrong result.

A :class:`~dlcourse.checks.assignments.Mistake` predicts what code with that mistake returns; a
wrong result that equals the prediction (and the prediction differs from the reference)
is explained by it. The part's own mistakes come first; the generic ones (flipped sign,
factor of the batch size or of the number of elements, factor 2, transposed) only when
none of the part's own fits.
"""

from __future__ import annotations

import numpy as np

from .spec import Case, Mistake, Part

__all__ = ["diagnose", "generic_mistakes"]


def _first_array_arg(c: Case):
    for a in c.args:
        if isinstance(a, np.ndarray) and a.ndim >= 1:
            return a
    return None


def generic_mistakes(c: Case) -> list[Mistake]:
    """Mistakes that fit any array result: sign, batch-size and element-count factors, factor 2."""
    out = [Mistake.transforms("sign flipped", "the sign is flipped: you return minus the right answer "
                              "(check the order of a subtraction, or a missing minus sign)", lambda e: -e)]
    first = _first_array_arg(c)
    n = first.shape[0] if first is not None else 0
    if n >= 2:
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
    if n != 2:  # with N = 2 the batch-size factor already says it
        out += [
            Mistake.transforms("factor 2", "you are off by a factor of 2 (a missing or extra 2, or 1/2)",
                               lambda e: 2 * e),
            Mistake.transforms("factor 1/2", "you are off by a factor of 1/2 (a missing or extra 2, or 1/2)",
                               lambda e: e / 2),
        ]
    return out


def _matches(pred, got, part: Part, expected) -> bool:
    """Does ``got`` equal the mistake's prediction ``pred`` while the prediction differs from ``expected``?

    "Differs" uses the part's own tolerance; "equals" allows ten times it (a mistake may be
    computed in another order than the learner's code).
    """
    try:
        p, g, e = np.asarray(pred, dtype=np.float64), np.asarray(got), np.asarray(expected, dtype=np.float64)
        gf = g.astype(np.float64)
    except (TypeError, ValueError):
        return False
    if p.shape != gf.shape:
        return False
    rtol, atol = part.tolerance.for_dtypes(e.dtype)
    with np.errstate(all="ignore"):
        if p.shape == e.shape and np.allclose(p, e, rtol=rtol, atol=atol, equal_nan=True):
            return False
        rtol, atol = part.tolerance.for_dtypes(g.dtype, np.asarray(expected).dtype)
        return bool(np.allclose(gf, p, rtol=10 * rtol, atol=10 * atol, equal_nan=True))


def diagnose(part: Part, c: Case, expected, got, index: int | None, outcome) -> list[str]:
    """Messages of the known mistakes that explain ``got`` (component ``index`` of a tuple output)."""
    found: list[str] = []
    for m in list(part.mistakes) + [None] + generic_mistakes(c):
        if m is None:  # the generic mistakes only when no specific one fits
            if found:
                break
            continue
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
