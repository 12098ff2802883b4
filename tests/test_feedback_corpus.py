"""The feedback corpus (issue 19): learner-like mistakes and correct-but-unusual solutions.

Each entry of ``tests/feedback_corpus`` is a function's source as a learner would write
it. Is every mistake caught by the visible checks alone, does every correct variant
pass the visible and the hidden cases, is every printed "Likely cause" the expected
one (none where none is expected), and does nothing crash or hang? The table of totals
is printed (``pytest -s``) and asserted.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import time
import warnings

import numpy as np
import pytest

from dlcourse.checks import evaluate
from dlcourse.checks import assignments
from dlcourse_grade import hidden as hidden_tests

from feedback_corpus import ex01, ex02, ex03, ex04, ex05, ex06, ex07, robust

pytestmark = pytest.mark.xdist_group("feedback_corpus")  # one worker computes the rows once

MODULES = {"ex01": ex01, "ex02": ex02, "ex03": ex03, "ex04": ex04, "ex05": ex05, "ex06": ex06, "ex07": ex07,
           "robust": robust}
ENTRIES = [(name, e) for name, m in MODULES.items() for e in m.ENTRIES]
TIME_LIMIT = 1.0  # seconds per call here (the notebooks use Part.time_limit, 5 s)
HANG = 10.0       # a part that takes longer than this counts as a hang


def _function(entry):
    ns = {"np": np, "__name__": "__main__"}
    exec(compile(entry.code, f"<corpus {entry.what}>", "exec"), ns)
    return ns[assignments.get_part(entry.grade_id).function]


def _hints(report) -> list[str]:
    return [line.split("Likely cause: ", 1)[1] for line in report.text.splitlines() if "Likely cause: " in line]


def _problem(report) -> str:
    return next((line for line in report.text.splitlines() if line.strip().startswith("Problem:")), "")


def _judge(entry) -> dict:
    """Run one entry; the row of the table it contributes."""
    row = {"caught": False, "passed": False, "hinted": False, "hint_right": False, "crash": "", "hang": False,
           "text": ""}
    fn = _function(entry)
    start = time.monotonic()
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("error")  # the checker itself must not warn
            report = evaluate(entry.grade_id, fn, time_limit=TIME_LIMIT)
            part = assignments.get_part(entry.grade_id)
            full = evaluate(entry.grade_id, fn, time_limit=TIME_LIMIT,
                            hidden_cases=hidden_tests.hidden_cases(part, seed=3)) if entry.ok else report
    except Exception as exc:  # noqa: BLE001 - a crash of the checker is what this test looks for
        row["crash"] = f"{type(exc).__name__}: {exc}"
        return row
    row["hang"] = time.monotonic() - start > HANG
    if err.getvalue():
        row["crash"] = f"the checker wrote to stderr: {err.getvalue()[:200]}"
    row["text"] = report.text
    row["caught"] = not report.passed
    row["passed"] = report.passed and full.passed
    hints = _hints(report)
    row["hinted"] = bool(hints)
    want = entry.hint
    row["hint_right"] = bool(hints) and want is not None and want in hints[0]
    row["wrong_hint"] = bool(hints) and (want is None or not any(want in h for h in hints))
    row["problem_ok"] = entry.problem is None or entry.problem in _problem(report) + "\n" + "\n".join(hints)
    return row


@pytest.fixture(scope="module")
def rows():
    if importlib.util.find_spec("sympy"):  # its first import takes longer than the time limit used here
        importlib.import_module("sympy")
    return {(name, e.grade_id, e.what): (e, _judge(e)) for name, e in ENTRIES}


def test_corpus_is_large_enough():
    """Does the corpus hold at least 60 mistakes and 20 correct variants, across all seven assignments?"""
    mistakes = [e for _, e in ENTRIES if not e.ok]
    right = [e for _, e in ENTRIES if e.ok]
    assert len(mistakes) >= 60 and len(right) >= 20, (len(mistakes), len(right))
    covered = {assignments.get_part(e.grade_id).assignment for _, e in ENTRIES}
    assert covered == set(assignments.ASSIGNMENTS)


@pytest.mark.parametrize("key", [(n, e.grade_id, e.what) for n, e in ENTRIES], ids=lambda k: f"{k[0]}-{k[2]}")
def test_entry(key, rows):
    """Is this entry judged as expected: caught (mistake) or passed (correct), with the right hint or none?"""
    entry, row = rows[key]
    assert not row["crash"], row["crash"]
    assert not row["hang"], "the check took longer than the hang limit"
    if entry.ok:
        assert row["passed"], row["text"]
        return
    assert row["caught"], f"a mistake passed the visible checks:\n{row['text']}"
    assert not row["wrong_hint"], f"wrong or unexpected hint (expected {entry.hint!r}):\n{row['text']}"
    if entry.hint is not None:
        assert row["hint_right"], f"expected the hint {entry.hint!r}:\n{row['text']}"
    assert row["problem_ok"], f"expected {entry.problem!r} in the problem:\n{row['text']}"


def test_totals_table(rows, capsys):
    """The table of totals per assignment: caught visibly, hints given / right, crashes, hangs."""
    table: dict[str, dict] = {}
    for (name, _gid, _what), (entry, row) in rows.items():
        t = table.setdefault(name, dict.fromkeys(["mistakes", "caught", "correct", "passed", "hints", "right",
                                                  "wrong", "crashes", "hangs"], 0))
        if entry.ok:
            t["correct"] += 1
            t["passed"] += row["passed"]
        else:
            t["mistakes"] += 1
            t["caught"] += row["caught"]
            t["hints"] += row["hinted"]
            t["right"] += row["hint_right"]
            t["wrong"] += row.get("wrong_hint", False)
        t["crashes"] += bool(row["crash"])
        t["hangs"] += row["hang"]
    total = {k: sum(t[k] for t in table.values()) for k in next(iter(table.values()))}
    cols = list(total)
    lines = ["| set | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 1)]
    lines += [f"| {name} | " + " | ".join(str(t[c]) for c in cols) + " |" for name, t in table.items()]
    lines.append("| total | " + " | ".join(str(total[c]) for c in cols) + " |")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert total["caught"] == total["mistakes"] and total["passed"] == total["correct"]
    assert total["wrong"] == 0 and total["crashes"] == 0 and total["hangs"] == 0
