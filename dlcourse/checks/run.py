"""Run a learner's function on one case, in the learner's kernel, and record the :class:`Outcome`.

The call itself is :func:`dlcourse.checks.call.call` (shared with ``dlcourse-grade``'s
sandboxed verification): fresh copies of the arguments, warnings recorded and never
printed, floating-point errors turned into warnings, stdout and stderr captured (capped),
the part's time limit per call, arguments compared afterwards with untouched copies. In
the kernel it runs inside a :class:`~dlcourse.checks.delegation.DelegationTrap`
(``dlcourse`` imports poisoned, calls into ``dlcourse`` recorded). Returned arrays are
copied, so later calls cannot change them.
"""

from __future__ import annotations

import numpy as np

from .call import call
from .delegation import DelegationTrap
from .spec import Case
from .verdict import Outcome

__all__ = ["run_case", "detach"]

_MAX_ITEMS = 10_000  # items of a returned list or tuple that are kept (a check never needs more)


def detach(value, depth: int = 0):
    """A copy of a return value that no later call can change (ndarray subclasses become ndarrays).

    Never raises: what cannot be copied is kept as it is; lists nested deeper than 8 levels
    or longer than 10,000 items are cut.
    """
    try:
        if isinstance(value, np.ndarray):
            return np.array(value, copy=True, subok=False)
        if depth > 8:
            return value
        if isinstance(value, tuple):
            return tuple(detach(v, depth + 1) for v in value[:_MAX_ITEMS])
        if isinstance(value, list):
            return [detach(v, depth + 1) for v in value[:_MAX_ITEMS]]
    except Exception:  # noqa: BLE001 - an odd object: judge it as it is
        return value
    return value


def run_case(fn, c: Case, params: tuple[str, ...] = (), timeout: float | None = None) -> Outcome:
    """Call ``fn`` on ``c`` and return what happened (value or error, warnings, output, mutation, delegation)."""
    args, kwargs = c.materialize()
    trap = DelegationTrap()
    rec = call(fn, args, kwargs, c.materialize(), params, guard=trap, timeout=timeout)
    return Outcome(value=detach(rec["value"]), error=rec["error"], warnings=tuple(rec["warnings"]),
                   mutated=tuple(rec["mutated"]), delegated=trap.reason, stderr=rec["stderr"],
                   stdout=rec["stdout"], timed_out=rec["timed_out"])
