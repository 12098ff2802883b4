"""What grading one student produces, as plain data: :class:`PartResult`, :class:`NotebookResult`, :class:`StudentResult`.

Workers return these to the parent process, which writes them to the gradebook
(:mod:`.gradebook`) and the table (:mod:`.report`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

__all__ = ["FlagKind", "Flag", "PartResult", "NotebookResult", "StudentResult", "summarize"]


class FlagKind(str, Enum):
    """What a flag is about (its ``value`` is what the JSON record holds)."""

    REPAIR = "repair"              # the notebook was damaged and repaired before grading
    SUBMISSION = "submission"      # files of the submission that were not used
    LIMIT = "limit"                # a cell hit a limit (time, memory, output) or killed its kernel
    VERIFICATION = "verification"  # the out-of-kernel run could not run everything
    TAMPERING = "tampering"        # in-kernel and verified scores differ
    NEAR_COPY = "near-copy"        # the learner's code is a near copy of the reference's
    DELEGATION = "delegation"      # the learner's code calls the reference
    IMPORT = "import"              # the verification refused an import outside the exercise's allow-list


@dataclass(frozen=True)
class Flag:
    """One flag on a notebook: its kind, the text shown to the instructor, the part it concerns."""

    kind: FlagKind
    text: str
    part: str | None = None
    for_instructor: bool = False  # asks the instructor to look (tampering, near copies)

    def __str__(self) -> str:
        return self.text


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
    flags: list[Flag] = field(default_factory=list)
    comments: dict = field(default_factory=dict)
    nb_json: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # of its sandboxes (kernels and verification runs; 0 without cgroup accounting)

    @property
    def flag_for_instructor(self) -> bool:
        """Does a flag ask the instructor to look (nbgrader's "flagged" submission)?"""
        return any(f.for_instructor for f in self.flags)


@dataclass
class StudentResult:
    student: str
    timestamp: object = None
    notebooks: list[NotebookResult] = field(default_factory=list)
    error: str | None = None
    extra_flags: list[Flag] = field(default_factory=list)  # about the submission as a whole
    late_penalty: float = 0.0  # nbgrader's late-submission penalty (points), once recorded
    seconds: float = 0.0  # wall time of grading this student (within ``Limits.student_timeout``)
    cpu_seconds: float = 0.0  # CPU time of all the student's sandboxes (0 without cgroup accounting)

    @property
    def score(self) -> float:
        """The points earned, before any late penalty."""
        return sum(p.score or 0.0 for nb in self.notebooks for p in nb.parts)

    @property
    def final_score(self) -> float:
        """The score after nbgrader's late penalty (as the gradebook's total shows it)."""
        return max(0.0, self.score - self.late_penalty)

    @property
    def max_score(self) -> float:
        return sum(p.max_score for nb in self.notebooks for p in nb.parts)

    @property
    def flags(self) -> list[Flag]:
        return list(self.extra_flags) + [f for nb in self.notebooks for f in nb.flags]


def summarize(text: str, limit: int = 300) -> str:
    """The problem and likely cause of a feedback text (``Problem: ...``), else its first line."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    key = [ln for ln in lines if ln.startswith(("Problem:", "Likely cause:", "Your "))]
    return " / ".join(key[:2] or lines[:1])[:limit]
