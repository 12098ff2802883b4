"""What every detector gets (:class:`Evidence`) and what it is (:class:`Detector`)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import ClassVar

from dlcourse.checks.spec import Case, Part
from dlcourse.checks.verdict import Outcome, Report

from ..results import Flag, FlagKind, PartResult

__all__ = ["Evidence", "Detector"]


@dataclass
class Evidence:
    """One autograded part of one notebook, as verification saw it (all trusted data).

    ``fn`` is the learner's last top-level ``def`` of the part's function (parsed from
    the notebook, never run here), ``from_dlcourse`` the names its cells import from
    ``dlcourse``; ``outcomes`` came back from the sandbox; ``report`` is the verified
    judgement (``None`` before judging); ``recorded`` the part's row (its in-kernel score).
    """

    part: Part
    cases: list[Case]
    outcomes: list[Outcome]
    fn: ast.FunctionDef | None
    from_dlcourse: set[str]
    recorded: PartResult
    report: Report | None = None
    notes: list[str] = field(default_factory=list)


class Detector:
    """One way of catching a submission that does not earn what it seems to.

    ``kind`` is the :class:`FlagKind` of its flags. ``stage`` is ``"code"`` for a
    detector that reads only the learner's code and runs before judging (a flag from it
    makes the part earn nothing, with the flag's text as the reason), or ``"result"`` for
    one that runs after judging and only flags. ``__call__`` returns a :class:`Flag` or None.
    """

    kind: ClassVar[FlagKind]
    stage: ClassVar[str] = "result"

    def __call__(self, ev: Evidence) -> Flag | None:  # pragma: no cover - every detector overrides it
        raise NotImplementedError

    def flag(self, ev: Evidence, text: str, for_instructor: bool = False) -> Flag:
        return Flag(self.kind, text, ev.part.grade_id, for_instructor)
