"""Near copies: the learner's function is, up to names and layout, the reference's code."""

from __future__ import annotations

from ..results import Flag, FlagKind
from ..similarity import near_copy
from .base import Detector, Evidence


class NearCopy(Detector):
    """Normalised-token similarity to the reference's source at or above the threshold (for the instructor to judge)."""

    kind = FlagKind.NEAR_COPY

    def __call__(self, ev: Evidence) -> Flag | None:
        similar = near_copy(ev.fn, ev.part.reference) if ev.fn is not None else None
        if similar is None:
            return None
        return self.flag(ev, f"`{ev.part.function}` is a near copy of the reference's code (similarity "
                             f"{similar:.2f}): for the instructor to judge", for_instructor=True)
