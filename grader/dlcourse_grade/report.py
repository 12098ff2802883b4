"""The per-student table that ``dlcourse-grade autograde`` prints.

``score`` is the final score, after nbgrader's late penalty (``late`` column, ``penalty`` in
the JSON row; ``raw`` is the score before it), as the gradebook's total and ``nbgrader export`` show it.
"""

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
    penalty = float(getattr(r, "late_penalty", 0.0) or 0.0)
    if penalty:
        reasons.insert(0, f"late: {_num(round(r.score, 4))} before a late penalty of {_num(round(penalty, 4))}")
    return {"student": r.student, "score": _num(round(max(0.0, r.score - penalty), 4)),
            "raw": _num(round(r.score, 4)), "penalty": _num(round(penalty, 4)), "max": _num(r.max_score),
            "flags": "; ".join(str(f) for f in r.flags) or "-", "reasons": "; ".join(reasons) or "-"}


def table(results: list[StudentResult], width: int = 100) -> str:
    """A plain-text table, one block per student: the numbers on one line, flags and reasons below."""
    rows = [student_row(r) for r in results]
    sw = max([len("student")] + [len(r["student"]) for r in rows])
    lines = [f"{'student':<{sw}}  {'score':>7}  {'late':>5}  {'max':>5}  flags / reasons", "-" * min(width, sw + 47)]
    for row in rows:
        late = "-" if row["penalty"] in ("0", "-") else f"-{row['penalty']}"
        lines.append(f"{row['student']:<{sw}}  {row['score']:>7}  {late:>5}  {row['max']:>5}  flags: {row['flags']}")
        lines.append(f"{'':<{sw}}  {'':>7}  {'':>5}  {'':>5}  reasons: {row['reasons']}")
    return "\n".join(lines)
