"""What judging produces, as plain data: :class:`Outcome` (one call), :class:`CaseVerdict` (one case), :class:`Report` (one part).

:mod:`dlcourse.checks.judge` fills them in and :mod:`dlcourse.checks.feedback` turns a
:class:`Report` into text; both import these types from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .spec import Case, Part

__all__ = ["Outcome", "CaseVerdict", "Report"]


@dataclass
class Outcome:
    """What one call of the learner's function produced (plain data).

    ``value`` is the return value (arrays, numbers, or a tuple of them); ``error`` is
    ``"TypeError: message"`` when the call raised; ``warnings`` the warning messages;
    ``mutated`` the names of arguments the call changed in place; ``delegated`` a
    reason when the call reached the reference (``dlcourse``); ``stderr`` and ``stdout`` what
    it wrote there (capped); ``timed_out`` whether it ran past the time limit.
    """

    value: Any = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    mutated: tuple[str, ...] = ()
    delegated: str | None = None
    stderr: str = ""
    stdout: str = ""
    timed_out: bool = False


@dataclass
class CaseVerdict:
    """The verdict on one case: pass/fail per output component, the problem and any diagnoses."""

    case: Case
    ok: bool
    components_ok: tuple[bool, ...]
    problem: str = ""
    diagnoses: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    hint_input: str = ""


@dataclass
class Report:
    """The score of one part on a list of cases, with the feedback text."""

    part: Part
    score: float
    verdicts: list[CaseVerdict]
    delegated: str | None = None
    text: str = ""
    printed: str = ""

    @property
    def points(self) -> float:
        return float(self.part.points)

    @property
    def passed(self) -> bool:
        return self.score >= self.points

    @property
    def diagnoses(self) -> list[str]:
        """Every distinct diagnosis, in the order first seen."""
        seen: list[str] = []
        for v in self.verdicts:
            seen += [d for d in v.diagnoses if d not in seen]
        return seen
