"""Feedback text for a :class:`~dlcourse.checks.verdict.Report`: what failed, on which input, and why.

Visible cases show the input and expected vs got. Hidden cases show only the kind
of input (``Case.kind``) and the kind of problem, never the arguments or the
expected values.
"""

from __future__ import annotations

from .verdict import Report

PASS, FAIL = "PASSED", "FAILED"


def _points(x: float) -> str:
    return f"{x:g}"


def render(report: Report) -> str:
    """The feedback for one part as plain text (a few lines)."""
    part = report.part
    n = len(report.verdicts)
    failing = [v for v in report.verdicts if not v.ok]
    head = f"{part.grade_id}: {_points(report.score)} of {_points(report.points)} points"
    if report.delegated:
        return "\n".join([
            f"{FAIL} {head}",
            f"  Your `{part.function}` uses the reference implementation in dlcourse ({report.delegated}).",
            "  Graded functions must be written by you with NumPy; calling dlcourse earns no points.",
        ])
    if not failing:
        lines = [f"{PASS} {head} ({n} of {n} cases right)"]
        notes = sorted({note for v in report.verdicts for note in v.notes})
        lines += [f"  note: {note}" for note in notes[:2]]
        return "\n".join(lines)
    first = failing[0]
    lines = [f"{FAIL} {head} ({n - len(failing)} of {n} cases right)"]
    if first.case.hidden:
        lines.append(f"  First failing input: a hidden test case ({first.case.kind}).")
    else:
        lines.append(f"  First failing input ({first.case.kind}):")
        lines.append(f"    {part.function}({first.case.describe(part.params)})")
    lines.append(f"  Problem: {first.problem}")
    diagnoses = first.diagnoses or next((v.diagnoses for v in failing if v.diagnoses), [])
    lines += [f"  Likely cause: {d}" for d in diagnoses[:3]]
    if part.partial and len(part.outputs) > 1:
        right = [name for i, name in enumerate(part.outputs)
                 if all(v.components_ok[i] for v in report.verdicts)]
        lines.append(f"  Right on every case: {', '.join(right) if right else 'none of the outputs'}"
                     f" (partial credit: each of {', '.join(part.outputs)} earns its share).")
    kinds = sorted({v.case.kind for v in failing[1:]} - {first.case.kind})
    if len(failing) > 1:
        more = f"  {len(failing) - 1} more failing case(s)"
        lines.append(more + (f", also of kind: {', '.join(kinds)}" if kinds else ""))
    notes = sorted({note for v in report.verdicts for note in v.notes})
    lines += [f"  note: {note}" for note in notes[:2]]
    return "\n".join(lines)
