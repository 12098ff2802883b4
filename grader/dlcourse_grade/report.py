"""The per-student table that ``dlcourse-grade autograde`` prints."""

from __future__ import annotations

from .results import StudentResult

__all__ = ["student_row", "table"]


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:g}"


def student_row(r: StudentResult) -> dict:
    """Score, maximum, flags and reasons of one student, as strings."""
    reasons = []
    for nb in r.notebooks:
        if nb.status != "graded":
            reasons.append(nb.status)
            continue
        for p in nb.parts:
            if p.manual:
                continue
            if (p.score or 0) < p.max_score and p.reason:
                reasons.append(f"{p.grade_id} {_num(p.score)}/{_num(p.max_score)}: {p.reason}")
    manual = sum(p.manual for nb in r.notebooks for p in nb.parts)
    if manual:
        reasons.append(f"{manual} written answer(s) left for manual grading")
    if r.error:
        reasons.insert(0, r.error.splitlines()[0])
    return {"student": r.student, "score": _num(round(r.score, 4)), "max": _num(r.max_score),
            "flags": "; ".join(str(f) for f in r.flags) or "-", "reasons": "; ".join(reasons) or "-"}


def table(results: list[StudentResult], width: int = 100) -> str:
    """A plain-text table, one block per student: the numbers on one line, flags and reasons below."""
    rows = [student_row(r) for r in results]
    sw = max([len("student")] + [len(r["student"]) for r in rows])
    lines = [f"{'student':<{sw}}  {'score':>7}  {'max':>5}  flags / reasons", "-" * min(width, sw + 40)]
    for row in rows:
        lines.append(f"{row['student']:<{sw}}  {row['score']:>7}  {row['max']:>5}  flags: {row['flags']}")
        lines.append(f"{'':<{sw}}  {'':>7}  {'':>5}  reasons: {row['reasons']}")
    return "\n".join(lines)
