"""Near copies: the learner's function, with the helpers it calls inlined, is up to names, layout,
split statements and independent reorderings the reference's code (see :mod:`..similarity`)."""

from __future__ import annotations

from ..results import Flag, FlagKind
from ..similarity import graded_functions, near_copy
from .base import Detector, Evidence


class NearCopy(Detector):
    """Normalised-token similarity to the reference's source at or above the threshold (for the instructor to judge).

    The learner's other graded functions stay calls (each is judged on its own); every
    other top-level helper of the notebook is inlined. A flag is a lead, never a score.
    """

    kind = FlagKind.NEAR_COPY

    def __call__(self, ev: Evidence) -> Flag | None:
        if ev.fn is None:
            return None
        similar = near_copy(ev.fn, ev.part.reference, graded_functions(ev.part.reference) | {ev.part.function})
        if similar is None:
            return None
        return self.flag(ev, f"`{ev.part.function}` (with the helpers it calls) is a near copy of the reference's "
                             f"code (similarity {similar:.2f}): for the instructor to judge", for_instructor=True)
