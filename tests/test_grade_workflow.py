"""Issue 18, done when: a class of 22 submissions (cheats of each kind, honest work written the unusual ways),
across ex01_perceptron and ex02_mlp, graded in one run through the instructor workflow of the README.

One module fixture makes a fresh course in a temporary folder the way the README says an instructor does, through
the real make targets (the root Makefile and exercises/instructor.mk copied there, with the exercises' sources and
nbgrader_config.py; ``make -C <tmp> ... STAMP=... BIN=... EXERCISE_IDS=...`` on the command line, no file edited):
``assignments`` (the two assignments), ``roster ROSTER=students.csv``, ``due`` for ex01, an LMS download (loose
notebooks with their file times, a zip with its entry dates) collected with ``zip-collect`` (again with ``FORCE=1``),
``autograde`` (``JOBS_GRADE=2``), ``formgrader`` (started, queried for the course, stopped), ``feedback``, ``grades``.

The cases and their expected outcomes are in ``tests/grade_corpus/workflow_cases.py``. Outcomes are read back from
dlcourse-grade's per-student JSON reports (``<course>/dlcourse-grade/<a>/<student>.json``), nbgrader's Gradebook and
``grades.csv``. The class's time limits (``--cell-timeout``, ``--student-timeout`` for the sleeper) go to
dlcourse-grade through ``make autograde GRADE_OPTS=...``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "grade_corpus"))

import corpus_build as build  # noqa: E402
import corpus_shared as shared  # noqa: E402
import workflow_cases as wc  # noqa: E402
from corpus_cases import A1, A2  # noqa: E402

pytestmark = [pytest.mark.xdist_group("dlcourse_grade"), pytest.mark.grading, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CASES = wc.cases()
ASSIGNMENTS = (A1, A2)
#: (student, assignment, kind, expected, got) of the last run, for the report
TABLE: list[tuple[str, str, str, str, str]] = []


@dataclass
class Workflow:
    top: Path
    course: Path
    steps: dict = field(default_factory=dict)    # make target -> CompletedProcess
    reports: dict = field(default_factory=dict)  # (student, assignment) -> dlcourse-grade JSON report
    gradebook: dict = field(default_factory=dict)
    grades: list = field(default_factory=list)   # rows of grades.csv
    formgrader: dict = field(default_factory=dict)
    timestamps: dict = field(default_factory=dict)  # after the first and the forced collection
    seconds: dict = field(default_factory=dict)


def _env(**extra) -> dict:
    env = {k: v for k, v in build.grader_env().items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "DLCOURSE_GRADE_SECRET")}
    env.update(extra)  # no secret in the environment: the course's .dlcourse-grade-secret is made, as for a user
    return env


def _make_cmd(wf: Workflow, *args: str) -> list[str]:
    return ["make", "--no-print-directory", "-C", str(wf.top), f"STAMP={wf.top / 'installed.stamp'}", f"BIN={BIN}",
            f"EXERCISE_IDS={A1} {A2}", *args]


def make(wf: Workflow, target: str, *args: str, timeout: int = 600, check: bool = True):
    t0 = time.monotonic()
    proc = subprocess.run(_make_cmd(wf, target, *args), capture_output=True, text=True, timeout=timeout, env=_env())
    wf.seconds[target] = wf.seconds.get(target, 0.0) + time.monotonic() - t0
    if check:
        wf.steps.setdefault(target, proc)
        if proc.returncode != 0:
            wf.steps[target] = proc
    return proc


def _copy_project(top: Path) -> None:
    """What the make targets read: the root Makefile, exercises/ (instructor.mk, nbgrader_config.py, the
    sources and make_sources.py's inputs) and the prerequisites of the install stamp, the stamp newer."""
    shutil.copy(ROOT / "Makefile", top / "Makefile")
    shutil.copytree(ROOT / "exercises", top / "exercises", ignore=shutil.ignore_patterns(
        "release", "submitted", "autograded", "feedback", "feedback_to_return", "downloaded", "dlcourse-grade",
        "gradebook.db", "grades.csv", ".dlcourse-grade-secret", "__pycache__", ".ipynb_checkpoints"))
    for f in ("pyproject.toml", "constraints.txt", "grader/pyproject.toml"):
        (top / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / f, top / f)
    old = time.time() - 3600
    for f in ("pyproject.toml", "constraints.txt", "grader/pyproject.toml"):
        os.utime(top / f, (old, old))
    (top / "installed.stamp").touch()


def _write_nb(path: Path, nb: dict, mtime: int) -> None:
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    os.utime(path, (mtime, mtime))


def _download(course: Path) -> None:
    """The LMS download: ex01 mostly loose notebooks (file times kept as `cp -p` would), one student's older
    blank upload in a zip beside its newer loose one; ex02 in one zip (entry dates)."""
    blank1 = json.loads((course / "release" / A1 / f"{A1}.ipynb").read_text())
    for a in ASSIGNMENTS:
        (course / "downloaded" / a / "archive").mkdir(parents=True)
    arch1, arch2 = (course / "downloaded" / a / "archive" for a in ASSIGNMENTS)
    with zipfile.ZipFile(arch1 / "ex01_batch.zip", "w") as z1, zipfile.ZipFile(arch2 / "ex02_all.zip", "w") as z2:
        for case in CASES:
            nb = case.notebook(course)
            name = f"{case.student}_{case.assignment}.ipynb"
            if case.how == "copies":
                continue  # placed in submitted/ by hand after the collection
            if case.assignment == A1:
                _write_nb(arch1 / name, nb, case.mtime)
                if case.how == "zip+older":
                    z1.writestr(zipfile.ZipInfo(name, date_time=time.localtime(wc.OLDER)[:6]), json.dumps(blank1))
            else:
                z2.writestr(zipfile.ZipInfo(name, date_time=time.localtime(case.mtime)[:6]), json.dumps(nb))


def _copies_by_hand(course: Path) -> None:
    for case in CASES:
        if case.how != "copies":
            continue
        folder = course / "submitted" / case.student / case.assignment
        folder.mkdir(parents=True, exist_ok=True)
        blank = json.loads((course / "release" / case.assignment / f"{case.assignment}.ipynb").read_text())
        _write_nb(folder / f"{case.assignment} (1).ipynb", blank, wc.OLDER)         # the first, blank download
        _write_nb(folder / f"{case.assignment}-2.ipynb", case.notebook(course), wc.ON_TIME)  # the finished one


def _timestamps(course: Path) -> dict:
    from nbgrader.utils import parse_utc

    return {p.parent.parent.name + "/" + p.parent.name: parse_utc(p.read_text())
            for p in (course / "submitted").glob("*/*/timestamp.txt")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 to the login page is the answer, not the login page's 200


def _get(url: str, token: str, timeout: float = 10.0) -> tuple[int, str]:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.build_opener(_NoRedirect).open(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _formgrader(wf: Workflow) -> dict:
    """`make formgrader PORT=<free>` in the background (token through JUPYTER_TOKEN), the course's pages, stopped."""
    port, token = _free_port(), "workflow-test-token"
    log = wf.top / "formgrader.log"
    out = {"port": port}
    with open(log, "w") as logf:
        proc = subprocess.Popen(_make_cmd(wf, "formgrader", f"PORT={port}"), stdout=logf, stderr=subprocess.STDOUT,
                                env=_env(JUPYTER_TOKEN=token), start_new_session=True)
        try:
            deadline, status = time.monotonic() + 120, None
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    status, _ = _get(f"http://127.0.0.1:{port}/api/status", token, timeout=5)
                    if status == 200:
                        break
                except OSError:
                    pass
                time.sleep(1)
            out["up"] = status == 200
            if out["up"]:
                out["page"] = _get(f"http://127.0.0.1:{port}/formgrader/manage_submissions/{A1}", token, 30)
                out["api"] = _get(f"http://127.0.0.1:{port}/formgrader/api/submissions/{A1}", token, 30)
                out["no_token"] = _get(f"http://127.0.0.1:{port}/formgrader/api/submissions/{A1}", "wrong", 30)[0]
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # make, jupyter and its children: the group this test started
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=20)
            out["exit"] = proc.returncode
    out["log"] = log.read_text(errors="replace")[-3000:]
    return out


def _score_text(case, scores: dict, flags: list, penalty: float) -> str:
    full = wc.FULL1 | wc.FULL2
    lost = sorted(k for k, v in scores.items() if v is not None and full.get(k) is not None and v < full[k])
    text = "full marks" if not lost else "0 on " + ", ".join(lost) if all(scores[k] == 0 for k in lost) else \
        "lost " + ", ".join(f"{k} {scores[k]:g}" for k in lost)
    shown = [f["text"][:70] for f in flags]
    text += ("; flags: " + " | ".join(shown)) if shown else "; no flag"
    if any(f["for_instructor"] for f in flags):
        text += " [for instructor]"
    if penalty:
        text += f"; late penalty {penalty:g}"
    return text


def flags_of(report: dict) -> list[dict]:
    return list(report.get("extra_flags", [])) + [f for nb in report["notebooks"] for f in nb["flags"]]


def scores_of(report: dict) -> dict:
    return {p["grade_id"]: p["score"] for nb in report["notebooks"] for p in nb["parts"]}


def reasons_of(report: dict) -> str:
    return "; ".join([nb["status"] for nb in report["notebooks"]]
                     + [p["reason"] for nb in report["notebooks"] for p in nb["parts"] if p.get("reason")])


@pytest.fixture(scope="module")
def wf(tmp_path_factory) -> Workflow:
    why = shared.ensure_sandbox()
    if why:
        pytest.skip(why)
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    top = tmp_path_factory.mktemp("workflow")
    _copy_project(top)
    course = top / "exercises"
    w = Workflow(top, course)
    t0 = time.monotonic()
    make(w, "assignments")
    students = sorted({c.student for c in CASES} | {wc.ABSENT})
    roster = top / "students.csv"
    with open(roster, "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["id", "first_name", "last_name", "email"])
        for i, s in enumerate(students):
            wr.writerow([s, f"First{i}", f"Last{i}", f"{s}@example.org"])
    make(w, "roster", f"ROSTER={roster}")
    make(w, "due", f"ASSIGNMENT={A1}", f"DUE={wc.DUE_A1}")
    _download(course)
    for a in ASSIGNMENTS:
        make(w, "zip-collect", f"ASSIGNMENT={a}")
    w.timestamps["first"] = _timestamps(course)
    make(w, "zip-collect", f"ASSIGNMENT={A1}", "FORCE=1")
    w.timestamps["forced"] = _timestamps(course)
    _copies_by_hand(course)
    make(w, "autograde", "JOBS_GRADE=2", f"GRADE_OPTS=--cell-timeout {wc.CELL_TIMEOUT} --student-timeout {wc.BUDGET}")
    for case in CASES:
        p = course / "dlcourse-grade" / case.assignment / f"{case.student}.json"
        if p.exists():
            w.reports[case.student, case.assignment] = json.loads(p.read_text())
    w.gradebook = {a: build.gradebook_scores(course, a) for a in ASSIGNMENTS}
    w.formgrader = _formgrader(w)
    make(w, "feedback")
    make(w, "grades")
    if (course / "grades.csv").exists():
        with open(course / "grades.csv", newline="") as f:
            w.grades = list(csv.DictReader(f))
    w.seconds["total"] = time.monotonic() - t0
    TABLE.clear()
    for case in CASES:
        r = w.reports.get((case.student, case.assignment))
        got = "no report" if r is None else _score_text(case, scores_of(r), flags_of(r), r.get("late_penalty") or 0)
        TABLE.append((case.student, case.assignment, case.kind, case.expected, got))
    width = max(len(t[0]) for t in TABLE)
    print(f"\n{'student':<{width}}  assignment       kind / expected / got")
    for s, a, kind, exp, got in TABLE:
        print(f"{s:<{width}}  {a:<15}  {kind}\n{'':<{width}}  {'':<15}  expected: {exp}\n"
              f"{'':<{width}}  {'':<15}  got:      {got}")
    print("make steps (s): " + ", ".join(f"{k} {v:.1f}" for k, v in w.seconds.items()))
    return w


def _out(proc) -> str:
    return (proc.stdout[-4000:] + "\n--- stderr ---\n" + proc.stderr[-4000:]) if proc is not None else "not run"


@pytest.mark.parametrize("target", ["assignments", "roster", "due", "zip-collect", "autograde", "feedback", "grades"])
def test_each_make_target_of_the_workflow_exits_0(wf, target):
    """Did every README step, run through its make target in the fresh course, exit 0?"""
    proc = wf.steps.get(target)
    assert proc is not None and proc.returncode == 0, _out(proc)


def test_the_class_is_20_submissions_or_more_across_two_assignments_with_every_kind():
    assert len(CASES) >= 20 and {c.assignment for c in CASES} == set(ASSIGNMENTS)
    assert len({(c.student, c.assignment) for c in CASES}) == len(CASES)
    kinds = " ".join(c.kind for c in CASES)
    for word in ("errstate", "lookup", "in place", "torch", "scipy", "reference", "statement split", "helper",
                 "sleeper", "%%time", "two renamed copies", "os.write(2", "due date"):
        assert word in kinds, word


@pytest.mark.parametrize("case", CASES, ids=[f"{c.student}-{c.assignment}" for c in CASES])
def test_each_submission_gets_its_expected_outcome(wf, case):
    """Cheats: 0 on the part they cheat on, with the flag where a flag is the outcome; honest work: full marks
    and no flag for the instructor (only the informational notes the expected outcome names)."""
    r = wf.reports.get((case.student, case.assignment))
    assert r is not None, f"no dlcourse-grade report for {case.student}/{case.assignment}: " + _out(
        wf.steps.get("autograde"))
    got, flags = scores_of(r), flags_of(r)
    texts = "; ".join(f["text"] for f in flags)
    assert got == case.scores, f"{case.student} ({case.kind}): {got} != {case.scores}; flags {texts}; " \
                               f"reasons {reasons_of(r)}"
    for text in case.flags:
        assert text in texts, f"{case.student}: flag {text!r} missing from {texts!r}"
    for text in case.reasons:
        assert text in reasons_of(r), f"{case.student}: reason {text!r} missing from {reasons_of(r)!r}"
    assert any(f["for_instructor"] for f in flags) == case.for_instructor, texts
    if case.honest and not case.flags:
        assert not flags, f"{case.student} is honest and unflagged work, yet: {texts}"
    assert all(nb["status"] == "graded" for nb in r["notebooks"]), r["notebooks"][0]["status"]
    recorded = wf.gradebook[case.assignment][case.student]
    assert recorded == case.scores, f"gradebook {recorded}"


def test_the_sleeper_is_cut_at_the_budget_not_by_the_cell_limit(wf):
    r = wf.reports["w08-sleeper", A1]
    assert wc.BUDGET - 1 <= r["seconds"] <= wc.BUDGET + 15, r["seconds"]
    assert r["seconds"] < wc.SLEEPS * (wc.CELL_TIMEOUT - 0.5)


def test_zip_collect_wrote_the_download_times_kept_the_newer_upload_and_reran_with_force(wf):
    first, forced = wf.timestamps["first"], wf.timestamps["forced"]
    collected = {c.student + "/" + c.assignment for c in CASES if c.how != "copies"}
    assert set(first) == collected and set(forced) == set(first)
    for case in CASES:
        if case.how == "copies":
            continue
        want = datetime.fromtimestamp(case.mtime, timezone.utc).replace(tzinfo=None)
        assert first[f"{case.student}/{case.assignment}"] == want, case.student
    assert forced == first
    nb = json.loads((wf.course / "submitted" / "w10-two-uploads" / A1 / f"{A1}.ipynb").read_text())
    step = next(c for c in nb["cells"] if build.gid(c) == "step_solution")
    assert "np.where" in build.src(step)  # the newer, finished upload (the older one holds the blank release)


def test_the_late_submission_carries_nbgraders_late_penalty_in_grades_csv(wf):
    rows = {(r["student_id"], r["assignment"]): r for r in wf.grades}
    late = rows["w12-late", A1]
    raw = sum(v for v in wc.FULL1.values() if v)  # the written answer is not graded yet
    assert float(late["raw_score"]) == pytest.approx(raw)
    assert float(late["late_submission_penalty"]) == pytest.approx(raw * 0.2)  # two started days, 10 % each
    assert float(late["score"]) == pytest.approx(raw * 0.8)
    assert wf.reports["w12-late", A1]["late_penalty"] == pytest.approx(raw * 0.2)
    for case in CASES:
        if case.student != "w12-late":
            assert float(rows[case.student, case.assignment]["late_submission_penalty"] or 0) == 0, case.student


def test_grades_csv_has_a_row_per_student_per_assignment(wf):
    students = {c.student for c in CASES} | {wc.ABSENT}
    got = [(r["student_id"], r["assignment"]) for r in wf.grades]
    assert sorted(got) == sorted((s, a) for s in students for a in ASSIGNMENTS)
    rows = {(r["student_id"], r["assignment"]): r for r in wf.grades}
    for case in CASES:
        want = sum(v or 0 for v in case.scores.values()) * (1 - 0.1 * case.late_days)
        assert float(rows[case.student, case.assignment]["score"]) == pytest.approx(want), case.student
    assert float(rows[wc.ABSENT, A1]["score"] or 0) == 0


def test_feedback_for_every_submission_without_hidden_tests(wf):
    for case in CASES:
        page = wf.course / "feedback" / case.student / case.assignment / f"{case.assignment}.html"
        assert page.is_file(), page
        html = page.read_text(errors="replace")
        for secret in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "dlcourse_grade.hidden"):
            assert secret not in html, f"{page}: {secret}"


def test_formgrader_serves_the_course_and_lists_the_submissions(wf):
    fg = wf.formgrader
    assert fg.get("up"), fg["log"]
    status, html = fg["page"]
    assert status == 200 and A1 in html, html[:500]
    status, body = fg["api"]
    assert status == 200, body[:500]
    listed = {s["student"] for s in json.loads(body)}
    assert {c.student for c in CASES if c.assignment == A1} <= listed, listed
    assert fg["no_token"] in (302, 401, 403)
