"""The six nbgrader assignments, end to end, in a temporary copy of the course.

For each assignment one class run: ``generate_assignment``, a simulated class
(``exercises/simulated_class.py``: the solutions, the untouched release and at least
three typical mistakes), one ``nbgrader autograde`` run for all of them,
and ``generate_feedback``. The ex01 run also exercises the instructor workflow around
it: roster import from CSV, ``zip_collect`` of an LMS download, a due date with the
late-submission penalty, the CSV export of the grades, and regrading one student after a fix.
"""

from __future__ import annotations

import csv
import html
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "exercises"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(COURSE))

nbformat = pytest.importorskip("nbformat", reason="nbformat comes with nbgrader (the grade extra)")

from dlcourse.checks import assignments  # noqa: E402
from dlcourse_grade.nbgrader_plugins import hidden_lines  # noqa: E402

ASSIGNMENTS = assignments.ASSIGNMENTS
PARAMS = [pytest.param(a, marks=pytest.mark.xdist_group(f"grading-{a}")) for a in ASSIGNMENTS]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
DUE = "2026-01-10 12:00:00 UTC"
ON_TIME, TWO_DAYS_LATE = "2026-01-09 08:00:00 UTC", "2026-01-12 08:00:00 UTC"


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``course``; fail the test with its log when it fails."""
    if shutil.which("nbgrader", path=str(BIN)) is None:
        pytest.skip("nbgrader is not installed in this environment (pip install ./grader)")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "DLCOURSE_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, text=True, capture_output=True)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@dataclass
class ClassRun:
    assignment: str
    course: Path
    source: object
    release: object
    expected: dict  # student -> (scores or None, expect)
    grades: dict = field(default_factory=dict)  # student -> {grade_id: score}
    totals: dict = field(default_factory=dict)  # student -> (raw score, late penalty)
    seconds: dict = field(default_factory=dict)

    def autograded(self, student: str):
        a = self.assignment
        return nbformat.read(self.course / "autograded" / student / a / f"{a}.ipynb", as_version=4)


def _write_submission(course: Path, student: str, assignment: str, nb, timestamp: str | None = None) -> None:
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{assignment}.ipynb")
    if timestamp:
        (folder / "timestamp.txt").write_text(timestamp)


def _workflow_before_autograde(run: ClassRun, solution_nb) -> None:
    """ex01 only: roster from CSV, a due date, a late student, and a submission through zip_collect."""
    a, course = run.assignment, run.course
    roster = course / "roster.csv"
    with roster.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "first_name", "last_name", "email"])
        for i, student in enumerate([*run.expected, "late", "zipped"]):
            writer.writerow([student, f"First{i}", f"Last{i}", f"{student}@example.org"])
    nbgrader(course, "db", "student", "import", str(roster))
    nbgrader(course, "db", "assignment", "add", a, f"--duedate={DUE}")
    for student in run.expected:
        (course / "submitted" / student / a / "timestamp.txt").write_text(ON_TIME)
    _write_submission(course, "late", a, solution_nb, TWO_DAYS_LATE)
    archive = course / "downloaded" / a / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "lms_download.zip", "w") as zf:
        zf.writestr(f"zipped_{a}.ipynb", nbformat.writes(solution_nb))
    nbgrader(course, "zip_collect", a)
    run.expected["late"] = ({}, {})
    run.expected["zipped"] = ({}, {})


def _gradebook(course: Path, assignment: str, students) -> tuple[dict, dict]:
    """({student: {grade_id: score}}, {student: (score, late penalty)}) from the course's gradebook."""
    from nbgrader.api import Gradebook

    grades, totals = {}, {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in students:
            notebook = gb.find_submission(assignment, student).notebooks[0]
            grades[student] = {g.name: g.score for g in notebook.grades}
            totals[student] = (notebook.score, notebook.late_submission_penalty)
    return grades, totals


def _class_run(assignment: str, tmp: Path) -> ClassRun:
    from simulated_class import class_notebooks

    course = tmp / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(COURSE / "nbgrader_config.py", course)
    shutil.copytree(COURSE / "source" / assignment, course / "source" / assignment)
    t0 = time.perf_counter()
    nbgrader(course, "generate_assignment", assignment, "--force")
    src = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    rel = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    students = class_notebooks(assignment, src, rel)
    run = ClassRun(assignment, course, src, rel, {s: (v[1], v[2]) for s, v in students.items()})
    run.seconds["generate"] = time.perf_counter() - t0
    for student, (nb, _, _) in students.items():
        _write_submission(course, student, assignment, nb)
    if assignment == "ex01_perceptron":
        _workflow_before_autograde(run, students["solution"][0])
    t0 = time.perf_counter()
    nbgrader(course, "autograde", assignment, "--force")
    run.seconds["autograde"] = time.perf_counter() - t0
    run.grades, run.totals = _gradebook(course, assignment, run.expected)
    t0 = time.perf_counter()
    nbgrader(course, "generate_feedback", assignment, "--force")
    if assignment == "ex01_perceptron":
        nbgrader(course, "export", "--to", str(course / "grades.csv"))
    run.seconds["feedback"] = time.perf_counter() - t0
    print(f"{assignment}: {len(run.expected)} notebooks; " +
          ", ".join(f"{k} {v:.1f}s" for k, v in run.seconds.items()))
    return run


@pytest.fixture(scope="session")
def class_run(request, tmp_path_factory) -> ClassRun:
    """The whole class run of one assignment (indirect parameter: the assignment name)."""
    return _class_run(request.param, tmp_path_factory.mktemp(request.param))


def _points() -> dict:
    return {p.grade_id: float(p.points) for p in assignments.all_parts()}


def _secret_lines(nb) -> tuple[set, set]:
    """(solution lines, hidden-test lines) of a source notebook that occur nowhere else in it."""
    solution, hidden, public = set(), set(), set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("solution"):
            solution.update(line.strip() for line in cell.source.split("\n"))
            continue
        region = None
        for line in cell.source.split("\n"):
            text = line.strip()
            if "BEGIN SOLUTION" in text or "BEGIN HIDDEN TESTS" in text:
                region = solution if "SOLUTION" in text else hidden
            elif "END SOLUTION" in text or "END HIDDEN TESTS" in text:
                region = None
            else:
                (region if region is not None else public).add(text)
    return solution - public - {""}, hidden - public - {""}


def _cell_output_text(nb, grade_id: str) -> str:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            parts = []
            for out in cell.get("outputs", []):
                parts += [out.get("text", ""), out.get("evalue", ""), "\n".join(out.get("traceback", [])),
                          str(out.get("data", {}).get("text/plain", ""))]
            return ANSI.sub("", "\n".join(parts))
    raise AssertionError(f"no cell with grade id {grade_id}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebooks_are_built_from_the_builder(assignment):
    """Is each committed source notebook exactly what exercises/make_sources.py builds?"""
    proc = subprocess.run([sys.executable, str(COURSE / "make_sources.py"), "--check", assignment],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_assignment_has_four_to_eight_parts_and_a_written_answer(assignment):
    """Does each notebook grade 4-8 described parts plus at least one hand-graded written answer?"""
    nb = nbformat.read(COURSE / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    metas = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    tests = [m["grade_id"] for m in metas if m.get("grade") and not m.get("solution")]
    written = [c for c, m in zip(nb.cells, metas) if m.get("grade") and m.get("solution") and c.cell_type == "markdown"]
    assert 4 <= len(tests) <= 8, tests
    assert tests == [p.grade_id for p in assignments.parts(assignment)]
    assert written, "no written answer cell"


@pytest.mark.grading
@pytest.mark.parametrize("class_run", PARAMS, indirect=True)
def test_release_holds_no_solution_and_no_hidden_test_line(class_run):
    """Does the released notebook hold none of the source's solution or hidden-test lines?"""
    solution, hidden = _secret_lines(class_run.source)
    assert solution and hidden
    released = {line.strip() for cell in class_run.release.cells for line in cell.source.split("\n")}
    assert not solution & released, f"solution lines in the release: {sorted(solution & released)[:5]}"
    assert not hidden & released, f"hidden-test lines in the release: {sorted(hidden & released)[:5]}"
    assert not any(cell.get("outputs") for cell in class_run.release.cells if cell.cell_type == "code")


@pytest.mark.grading
@pytest.mark.parametrize("class_run", PARAMS, indirect=True)
def test_solutions_earn_every_autograded_point(class_run):
    """Do the instructor's solutions earn every point of every autograded part?"""
    points = _points()
    grades = class_run.grades["solution"]
    for part in assignments.parts(class_run.assignment):
        assert grades[part.grade_id] == points[part.grade_id], (
            part.grade_id, _cell_output_text(class_run.autograded("solution"), part.grade_id))


@pytest.mark.grading
@pytest.mark.parametrize("class_run", PARAMS, indirect=True)
def test_untouched_release_earns_zero_without_crashing(class_run):
    """Does the untouched release get every autograded part graded, each with 0 points?"""
    grades = class_run.grades["untouched"]
    for part in assignments.parts(class_run.assignment):
        assert grades[part.grade_id] == 0.0, part.grade_id
        text = _cell_output_text(class_run.autograded("untouched"), part.grade_id)
        assert "not implemented yet" in text or "NotImplementedError" in text, text


@pytest.mark.grading
@pytest.mark.parametrize("class_run", PARAMS, indirect=True)
def test_typical_mistakes_earn_expected_marks_and_diagnosis(class_run):
    """Does each typical mistake earn exactly its expected partial marks, with the diagnosis in the notebook?"""
    from simulated_class import MISTAKES

    points = _points()
    assert len(MISTAKES[class_run.assignment]) >= 3
    for mistake in MISTAKES[class_run.assignment]:
        grades = class_run.grades[mistake.student]
        expected = {gid: mistake.scores.get(gid, points[gid]) for gid in grades if gid in points}
        got = {gid: grades[gid] for gid in expected}
        assert got == pytest.approx(expected), (mistake.student, got, expected)
        assert sum(got.values()) < sum(points[g] for g in got), f"{mistake.student} lost no points"
        nb = class_run.autograded(mistake.student)
        for gid, text in mistake.expect.items():
            assert text in _cell_output_text(nb, gid), (mistake.student, gid, _cell_output_text(nb, gid))


def _visible_text(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


@pytest.mark.grading
@pytest.mark.parametrize("class_run", PARAMS, indirect=True)
def test_feedback_holds_no_hidden_test_line(class_run):
    """Is feedback generated for every student, without any hidden-test line or marker?"""
    a = class_run.assignment
    secrets = [line for cell in class_run.source.cells for line in hidden_lines(cell.source)]
    assert secrets
    for student in class_run.expected:
        page = class_run.course / "feedback" / student / a / f"{a}.html"
        text = _visible_text(page)
        assert a in text
        leaked = [s for s in secrets if s in text]
        assert not leaked, (student, leaked[:3])
        assert "HIDDEN TESTS" not in text, student


@pytest.mark.grading
@pytest.mark.parametrize("class_run", [PARAMS[0]], indirect=True)
def test_instructor_workflow_roster_zip_collect_late_penalty_and_regrade(class_run):
    """Do the roster import, zip_collect, the late penalty, the CSV export and a regrade work as documented?"""
    a, course = class_run.assignment, class_run.course
    full = assignments.assignment_points(a)
    assert class_run.grades["zipped"] == class_run.grades["solution"]
    raw, penalty = class_run.totals["late"]
    assert raw == full and penalty == pytest.approx(0.2 * full), "two days late: 2 x 10 % of the score"
    assert class_run.totals["solution"][1] in (None, 0.0)
    with (course / "grades.csv").open() as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert rows["late"]["first_name"].startswith("First") and float(rows["late"]["score"]) == pytest.approx(0.8 * full)
    assert float(rows["solution"]["score"]) == full
    # regrade one student after a fix (in a copy, so the other tests keep their class)
    regrade_dir = course.parent / "regrade"
    shutil.copytree(course, regrade_dir)
    submitted = regrade_dir / "submitted"
    shutil.copy(submitted / "solution" / a / f"{a}.ipynb", submitted / "untouched" / a / f"{a}.ipynb")
    nbgrader(regrade_dir, "autograde", a, "--student", "untouched", "--force")
    _, totals = _gradebook(regrade_dir, a, ["untouched", "solution"])
    assert totals["untouched"][0] == full and totals["solution"][0] == full


def _public_lines() -> set:
    """Lines the book may show anyway: the chapters' sources and the package (the public reference)."""
    lines = set()
    for path in [*ROOT.glob("chapters/*.md"), *ROOT.glob("dlcourse/**/*.py")]:
        lines.update(line.strip() for line in path.read_text(errors="replace").split("\n"))
    return lines


@pytest.mark.book
def test_built_book_holds_no_solution_and_no_hidden_test_line(book_html):
    """Does the built book (pages and downloadable notebooks) hold none of the solution or hidden-test lines?

    This is also the browser suite's check that no built file leaks a solution (issue 12).
    """
    public = _public_lines()
    secrets = set()
    for a in ASSIGNMENTS:
        nb = nbformat.read(COURSE / "source" / a / f"{a}.ipynb", as_version=4)
        solution, hidden = _secret_lines(nb)
        secrets |= {line for line in solution | hidden if len(line) >= 20 and line not in public}
    assert len(secrets) > 50
    for path in book_html.rglob("*"):
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        elif path.suffix in {".html", ".txt", ".md", ".py"}:
            text = _visible_text(path)
        else:
            continue
        # whole lines: a docstring may state the formula that a solution line then computes
        leaked = sorted(secrets & {line.strip() for line in text.split("\n")})
        assert not leaked, f"{path.relative_to(book_html)} shows solution or hidden-test lines: {leaked[:3]}"
