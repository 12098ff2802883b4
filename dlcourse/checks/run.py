"""Run a learner's function on one case, in the learner's kernel, and record the :class:`Outcome`.

The call itself is :func:`dlcourse.checks.call.call` (shared with ``dlcourse-grade``'s
sandboxed verification): fresh copies of the arguments, warnings recorded and never
printed, floating-point errors turned into warnings, stderr captured, arguments
compared afterwards with untouched copies. In the kernel it runs inside a
:class:`~dlcourse.checks.delegation.DelegationTrap` (``dlcourse`` imports poisoned,
calls into ``dlcourse`` recorded). Returned arrays are copied, so later calls cannot
change them.
"""

from __future__ import annotations

import numpy as np

from .call import call
from .delegation import DelegationTrap
from .spec import Case
from .verdict import Outcome

__all__ = ["run_case", "detach"]


def detach(value):
    """A copy of a return value that no later call can change (ndarray subclasses become ndarrays)."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True, subok=False)
    if isinstance(value, tuple):
        return tuple(detach(v) for v in value)
    if isinstance(value, list):
        return [detach(v) for v in value]
    return value


def run_case(fn, c: Case, params: tuple[str, ...] = ()) -> Outcome:
    """Call ``fn`` on ``c`` and return what happened (value or error, warnings, mutation, delegation)."""
    args, kwargs = c.materialize()
    trap = DelegationTrap()
    rec = call(fn, args, kwargs, c.materialize(), params, guard=trap)
    return Outcome(value=detach(rec["value"]), error=rec["error"], warnings=tuple(rec["warnings"]),
                   mutated=tuple(rec["mutated"]), delegated=trap.reason, stderr=rec["stderr"])
