"""One recorded call of a learner's function: the value or the error, warnings, stderr, in-place changes.

Both graders use this module: :func:`dlcourse.checks.run.run_case` in the learner's
kernel, and ``dlcourse-grade``'s sandboxed verification run, which cannot import
``dlcourse`` and so gets a copy of this very file. It therefore imports only the
standard library and NumPy, and nothing relative.

What a call records is what :class:`dlcourse.checks.verdict.Outcome` holds, as plain
data: the return value (as returned), ``error`` (``"TypeError: message"``), the
distinct warning messages (floating-point errors become warnings; none is printed,
since nbgrader scores any stderr text as a failure), what the call wrote to stderr,
and the names of the arguments it changed in place. Texts are cut to fixed lengths
(a learner's message cannot grow without bound).
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np

__all__ = ["call", "changed", "MAX_ERROR", "MAX_WARNING", "MAX_WARNINGS", "MAX_STDERR"]

MAX_ERROR = 2000      # characters of an error message
MAX_WARNING = 500     # characters of one warning message
MAX_WARNINGS = 10     # distinct warning messages kept
MAX_STDERR = 2000     # characters of stderr


def changed(before, after) -> bool:
    """Did an argument change in place? (arrays compared by shape and value, NaN equal to NaN)."""
    if isinstance(before, np.ndarray):
        return not (isinstance(after, np.ndarray) and before.shape == after.shape
                    and np.array_equal(before, after, equal_nan=True))
    if isinstance(before, tuple):
        return not isinstance(after, tuple) or any(changed(b, a) for b, a in zip(before, after))
    return False


def call(fn, args: tuple, kwargs: dict, pristine: tuple[tuple, dict], params=(), *,
         catch: type[BaseException] = Exception, guard=None) -> dict:
    """Call ``fn(*args, **kwargs)`` and record what happened.

    ``pristine`` is an untouched copy ``(args, kwargs)`` to find in-place changes;
    ``params`` names the positional parameters (for the message); ``catch`` is what
    counts as the learner's error (the sandbox catches ``BaseException``, the kernel
    lets KeyboardInterrupt through); ``guard`` is an optional context manager around
    the call itself (the kernel's delegation trap).

    Returns ``{"value", "error", "warnings", "mutated", "stderr"}``.
    """
    err = io.StringIO()
    value, error = None, None
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"), \
            contextlib.redirect_stderr(err), (guard if guard is not None else contextlib.nullcontext()):
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
        except catch as exc:  # the learner's bug is reported, not raised
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    names = tuple(params)
    mutated = [names[i] if i < len(names) else f"argument {i + 1}"
               for i, (b, a) in enumerate(zip(pristine[0], args)) if changed(b, a)]
    mutated += [k for k in kwargs if changed(pristine[1][k], kwargs[k])]
    messages = list(dict.fromkeys(str(w.message)[:MAX_WARNING] for w in caught))[:MAX_WARNINGS]
    return {"value": value, "error": error, "warnings": messages, "mutated": mutated,
            "stderr": err.getvalue()[:MAX_STDERR]}
