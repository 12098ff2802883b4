"""What grading one student produces, as plain data: :class:`PartResult`, :class:`NotebookResult`, :class:`StudentResult`.

Workers return these to the parent process, which writes them to the gradebook
(:mod:`.gradebook`) and the table (:mod:`.report`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PartResult", "NotebookResult", "StudentResult", "summarize"]


@dataclass
class PartResult:
    """One grade cell: in-kernel score, verified score (None if not verified), recorded score."""

    grade_id: str
    max_score: float
    in_kernel: float | None
    score: float | None
    verified: float | None = None
    reason: str = ""
    manual: bool = False


@dataclass
class NotebookResult:
    name: str
    status: str
    parts: list[PartResult] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    comments: dict = field(default_factory=dict)
    nb_json: str | None = None
    flag_for_instructor: bool = False
    seconds: float = 0.0


@dataclass
class StudentResult:
    student: str
    timestamp: object = None
    notebooks: list[NotebookResult] = field(default_factory=list)
    error: str | None = None

    @property
    def score(self) -> float:
        return sum(p.score or 0.0 for nb in self.notebooks for p in nb.parts)

    @property
    def max_score(self) -> float:
        return sum(p.max_score for nb in self.notebooks for p in nb.parts)

    @property
    def flags(self) -> list[str]:
        return [f for nb in self.notebooks for f in nb.flags]


def summarize(text: str, limit: int = 300) -> str:
    """The problem and likely cause of a feedback text (``Problem: ...``), else its first line."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    key = [ln for ln in lines if ln.startswith(("Problem:", "Likely cause:", "Your "))]
    return " / ".join(key[:2] or lines[:1])[:limit]
