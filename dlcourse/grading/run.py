"""Run a learner's function on one case, in the learner's kernel, and record the :class:`Outcome`.

The call runs on fresh copies of the arguments with warnings recorded (never printed:
nbgrader scores any stderr text as a failure), floating-point errors turned into
warnings, stderr captured, ``dlcourse`` imports poisoned and calls into ``dlcourse``
recorded. Afterwards the arguments are compared with untouched copies to find
in-place changes. Returned arrays are copied, so later calls cannot change them.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np

from ..exercises.base import Case
from .delegation import DelegationTrap
from .judge import Outcome

__all__ = ["run_case", "detach"]


def detach(value):
    """A copy of a return value that no later call can change (ndarray subclasses become ndarrays)."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True, subok=False)
    if isinstance(value, (tuple, list)):
        return type(value)(detach(v) for v in value) if isinstance(value, tuple) else [detach(v) for v in value]
    return value


def _changed(before, after) -> bool:
    if isinstance(before, np.ndarray):
        return not (isinstance(after, np.ndarray) and before.shape == after.shape
                    and np.array_equal(before, after, equal_nan=True))
    if isinstance(before, tuple):
        return any(_changed(b, a) for b, a in zip(before, after))
    return False


def run_case(fn, c: Case, params: tuple[str, ...] = ()) -> Outcome:
    """Call ``fn`` on ``c`` and return what happened (value or error, warnings, mutation, delegation)."""
    args, kwargs = c.materialize()
    pristine, _ = c.materialize()
    err = io.StringIO()
    value, error = None, None
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"), \
            contextlib.redirect_stderr(err), DelegationTrap() as trap:
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:  # the learner's bug is reported, not raised  # noqa: BLE001
            error = f"{type(exc).__name__}: {exc}"
    mutated = tuple(params[i] if i < len(params) else f"argument {i + 1}"
                    for i, (b, a) in enumerate(zip(pristine, args)) if _changed(b, a))
    mutated += tuple(k for k in kwargs if _changed(c.kwargs[k], kwargs[k]))
    messages = tuple(dict.fromkeys(str(w.message) for w in caught))
    return Outcome(value=detach(value), error=error, warnings=messages, mutated=mutated,
                   delegated=trap.reason, stderr=err.getvalue())
