"""Delegation: the learner's function calls the reference (``dlcourse``) instead of computing the answer."""

from __future__ import annotations

from ..results import Flag, FlagKind
from ..similarity import names_dlcourse
from .base import Detector, Evidence


class Delegation(Detector):
    """The function's code imports ``dlcourse`` or uses a name its cells imported from it (read, not run)."""

    kind = FlagKind.DELEGATION
    stage = "code"

    def __call__(self, ev: Evidence) -> Flag | None:
        reason = names_dlcourse(ev.fn, ev.from_dlcourse) if ev.fn is not None else None
        return self.flag(ev, reason) if reason else None
