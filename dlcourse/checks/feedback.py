"""Feedback text for a :class:`~dlcourse.checks.verdict.Report`: what failed, on which input, and why.

Visible cases show the input and expected vs got. Hidden cases show only the kind
of input (``Case.kind``) and the kind of problem, never the arguments or the
expected values. A "Likely cause" is printed only with an input on which it was
verified (:mod:`dlcourse.checks.diagnose`). What the learner's function printed during
the checks comes first, cut to a fixed size; the verdict is always last.
"""

from __future__ import annotations

from .verdict import Report

PASS, FAIL = "PASSED", "FAILED"


def _points(x: float) -> str:
    return f"{x:g}"


def _printed_block(report: Report) -> list[str]:
    if not report.printed.strip():
        return []
    lines = report.printed.rstrip("\n").split("\n")
    shown = lines[:20] + ([f"[... {len(lines) - 20} more lines not shown]"] if len(lines) > 20 else [])
    return ["Your function printed (during these checks):"] + [f"  | {line}" for line in shown]


def _shown(failing):
    """The failing case to show: the first that carries a verified hint (visible first), else the first."""
    with_hint = [v for v in failing if v.diagnoses]
    visible = [v for v in with_hint if not v.case.hidden]
    return (visible or with_hint or failing)[0]


def render(report: Report) -> str:
    """The feedback for one part as plain text (a few lines); what the function printed comes first."""
    return "\n".join(_printed_block(report) + [_verdict(report)])


def _verdict(report: Report) -> str:
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
    first = _shown(failing)
    lines = [f"{FAIL} {head} ({n - len(failing)} of {n} cases right)"]
    if first.case.hidden:
        lines.append(f"  First failing input: a hidden test case ({first.case.kind}).")
    else:
        label = "First failing input" if first is failing[0] else "Failing input"
        lines.append(f"  {label} ({first.case.kind}):")
        lines.append(f"    {part.function}({first.case.describe(part.params)})")
    lines.append(f"  Problem: {first.problem}")
    lines += [f"  Likely cause: {d}" for d in first.diagnoses[:3]]
    if part.partial and len(part.outputs) > 1:
        right = [name for i, name in enumerate(part.outputs)
                 if all(v.components_ok[i] for v in report.verdicts)]
        lines.append(f"  Right on every case: {', '.join(right) if right else 'none of the outputs'}"
                     f" (partial credit: each of {', '.join(part.outputs)} earns its share).")
    kinds = sorted({v.case.kind for v in failing if v is not first} - {first.case.kind})
    if len(failing) > 1:
        more = f"  {len(failing) - 1} more failing case(s)"
        lines.append(more + (f", also of kind: {', '.join(kinds)}" if kinds else ""))
    notes = sorted({note for v in report.verdicts for note in v.notes})
    lines += [f"  note: {note}" for note in notes[:2]]
    return "\n".join(lines)
