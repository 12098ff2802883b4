"""Tampering: the score the learner's kernel recorded is not the score verification finds."""

from __future__ import annotations

from ..results import Flag, FlagKind
from .base import Detector, Evidence


class Tampering(Detector):
    """In-kernel and verified scores differ: the in-kernel checks were patched, skipped or fooled."""

    kind = FlagKind.TAMPERING

    def __call__(self, ev: Evidence) -> Flag | None:
        rec, verified = ev.recorded, float(ev.report.score)
        if rec.in_kernel is None or abs(verified - float(rec.in_kernel)) <= 1e-9:
            return None
        return self.flag(ev, f"{ev.part.grade_id}: in-kernel {rec.in_kernel:g}/{rec.max_score:g}, verified "
                             f"{verified:g}/{rec.max_score:g}: possible tampering", for_instructor=True)
