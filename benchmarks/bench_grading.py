"""Grading a class: ``dlcourse-grade --jobs 2`` vs ``--jobs 1`` vs stock ``nbgrader autograde``.

A temporary copy of the course (``exercises/``: its configuration and sources) gets
the assignment generated with ``nbgrader generate_assignment`` and a synthetic class
of ``BENCH_CLASS_SIZE`` (default 40) submissions built from the instructor's own
solutions (:func:`make_course`): most complete, some with one or two functions left
as the released stub, so the scores differ. The same submissions are then

* executed plainly, one fresh kernel per notebook, no grader at all (nbclient): the
  notebook's own execution time, the floor any grader pays;
* graded by stock, sequential ``nbgrader autograde`` (its own copy of the course);
* graded by ``dlcourse-grade autograde`` with every guarantee on (sandbox, limits,
  out-of-kernel verification) with ``--jobs 1`` and with ``--jobs 2``, in ABBA order
  (``BENCH_GRADING_REPEATS``, default 2 runs per side), each on a fresh copy.

Every ``dlcourse-grade`` run must leave identical grades, and the table says whether
they did and whether their automatic scores equal stock nbgrader's. All copies share
one course secret (``DLCOURSE_GRADE_SECRET``), so every run draws the same inputs.

Run alone: ``python benchmarks/bench_grading.py`` (``BENCH_CLASS_SIZE=4`` for a quick try).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
ASSIGNMENT = os.environ.get("BENCH_ASSIGNMENT", "ex01_perceptron")
CLASS_SIZE = int(os.environ.get("BENCH_CLASS_SIZE", "40"))
REPEATS = int(os.environ.get("BENCH_GRADING_REPEATS", "2"))
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def course_env() -> dict:
    """Environment for nbgrader and dlcourse-grade: the venv first on PATH, this checkout importable."""
    path = os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    # one course secret for every copy, so that each run draws the same grading-time inputs
    return dict(os.environ, PATH=path, PYTHONPATH=pythonpath, DLCOURSE_PROGRESS="0", PYTHONHASHSEED="0",
                DLCOURSE_GRADE_SECRET=os.environ.get("DLCOURSE_GRADE_SECRET", "dlcourse-bench-secret"))


class Run(NamedTuple):
    """One timed command: wall seconds, and the 1-minute load average when it ended.

    (CPU time is not reported: sandboxed kernels that are killed at the end of a notebook
    are never waited for by their parent, so their CPU time does not reach us.)
    """

    seconds: float
    load: float


def timed_run(cmd: list[str], **kwargs) -> tuple[subprocess.CompletedProcess, Run]:
    """``subprocess.run(cmd, capture_output=True, text=True, **kwargs)``, timed."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    return done, Run(time.perf_counter() - start, os.getloadavg()[0])


def _course_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "exercises"],
                         cwd=ROOT, capture_output=True, check=True).stdout.decode()
    return [p for p in out.split("\0") if p and (ROOT / p).is_file()]


def _solution_code(source: str) -> str:
    """A solution cell as a learner who solved it would leave it: the markers' lines removed."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS)


def _student_notebook(release: dict, solutions: dict, k: int) -> dict:
    """Student ``k``'s notebook: the release with every solution filled in, except that
    students 1, 5, 9, ... leave one function as the stub and 2, 6, 10, ... leave two."""
    nb = json.loads(json.dumps(release))
    code_ids = [gid for gid, (kind, _) in solutions.items() if kind == "code"]
    n_blank = {1: 1, 2: 2}.get(k % 4, 0) if code_ids else 0
    blanks = {code_ids[(k // 4 + j) % len(code_ids)] for j in range(n_blank)}
    for cell in nb["cells"]:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        gid = meta.get("grade_id")
        if meta.get("solution") and gid in solutions and gid not in blanks:
            cell["source"] = solutions[gid][1]
    return nb


def make_course(dest: Path, assignment: str = ASSIGNMENT, n_students: int = CLASS_SIZE) -> list[str]:
    """Copy the course into ``dest``, generate ``assignment``, write a synthetic class; returns student ids.

    ``dest/submitted/<student>/<assignment>/<notebook>.ipynb`` plus ``timestamp.txt``,
    students ``s000``, ``s001``, ...; the gradebook is ``dest/gradebook.db``.
    """
    for rel in _course_files():
        target = dest / Path(rel).relative_to("exercises")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    done = subprocess.run([str(BIN / "nbgrader"), "generate_assignment", assignment, "--force"], cwd=dest,
                          env=course_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{done.stderr[-2000:]}")
    students = [f"s{k:03d}" for k in range(n_students)]
    for nb_path in sorted((dest / "release" / assignment).glob("*.ipynb")):
        source = json.loads((dest / "source" / assignment / nb_path.name).read_text())
        solutions = {}
        for cell in source["cells"]:
            meta = (cell.get("metadata") or {}).get("nbgrader") or {}
            if meta.get("solution"):
                text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                solutions[meta["grade_id"]] = (cell["cell_type"], _solution_code(text))
        release = json.loads(nb_path.read_text())
        for k, student in enumerate(students):
            folder = dest / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / nb_path.name).write_text(json.dumps(_student_notebook(release, solutions, k), indent=1))
            (folder / "timestamp.txt").write_text("2026-01-15 12:00:00.000000 UTC")
    return students


def _execute_each(paths: list[str]) -> list[float]:
    """Seconds to execute each notebook in a fresh kernel, in a scratch folder (runs in a child process)."""
    import nbformat
    from nbclient import NotebookClient

    times = []
    for nb_path in paths:
        with tempfile.TemporaryDirectory(prefix="dlcourse-bench-exec-") as work:
            nb = nbformat.read(nb_path, as_version=4)
            start = time.perf_counter()
            NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": work}}).execute()
            times.append(time.perf_counter() - start)
    return times


def plain_execution(course: Path, assignment: str = ASSIGNMENT) -> tuple[list[float], Run]:
    """Seconds to execute each submitted notebook plainly: a fresh kernel each, no grader, no sandbox."""
    paths = [str(p) for p in sorted(course.glob(f"submitted/*/{assignment}/*.ipynb"))]
    # in a child process: the kernels' chatter on stderr stays out of the table
    done, run = timed_run([str(BIN / "python"), __file__, "--execute-each", *paths], env=course_env())
    if done.returncode != 0:
        raise RuntimeError(f"plain execution failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), run


def nbgrader_autograde(course: Path, assignment: str = ASSIGNMENT) -> Run:
    """Stock ``nbgrader autograde`` over the whole class (sequential), timed."""
    done, run = timed_run([str(BIN / "nbgrader"), "autograde", assignment], cwd=course, env=course_env())
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader autograde failed: {done.stderr[-2000:]}")
    return run


def dlcourse_grade(course: Path, jobs: int, assignment: str = ASSIGNMENT, db_url: str | None = None,
                   students: list[str] | None = None) -> tuple[Run, dict]:
    """One ``dlcourse-grade autograde`` run, timed, and its ``--json`` report.

    Exit status 1 (the grader failed on some student, everyone else graded) keeps the
    run, with the ``GRADER ERROR`` lines in ``report["grader_errors"]``; any other
    failure raises.
    """
    report = Path(tempfile.mkstemp(prefix="dlcourse-grade-", suffix=".json")[1])
    cmd = [str(BIN / "dlcourse-grade"), "autograde", assignment, "--course", str(course), "--jobs", str(jobs),
           "--json", str(report)]
    if db_url:
        cmd += ["--db-url", db_url]
    for s in students or ():
        cmd += ["--student", s]
    # cwd: the course's relative "sqlite:///gradebook.db" is resolved against the working directory
    done, run = timed_run(cmd, cwd=course, env=course_env())
    try:
        if done.returncode not in (0, 1) or not report.stat().st_size:
            raise RuntimeError(f"dlcourse-grade --jobs {jobs} exited {done.returncode}:\n"
                               f"{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
        data = json.loads(report.read_text())
        data["grader_errors"] = [ln for ln in done.stderr.splitlines() if ln.startswith("GRADER ERROR")]
        return run, data
    finally:
        report.unlink(missing_ok=True)


def gradebook_scores(db_url: str, assignment: str = ASSIGNMENT, course_id: str = "dlcourse") -> dict:
    """``{(student, notebook, grade_id): (auto_score, needs_manual_grade)}`` read back through nbgrader's API."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(db_url, course_id) as gb:
        for sub in gb.find_assignment(assignment).submissions:
            for nb in sub.notebooks:
                for grade in nb.grades:
                    scores[(sub.student.id, nb.name, grade.name)] = (grade.auto_score, grade.needs_manual_grade)
    return scores


def _mean_run(runs: list[Run]) -> Run:
    return Run(statistics.fmean(r.seconds for r in runs), max(r.load for r in runs))


def _grade_runs(base: Path, tmp: Path, order: list[int], assignment: str) -> tuple[dict, list, list]:
    """``dlcourse-grade`` once per entry of ``order`` (the ``--jobs``), each on a fresh copy of ``base``."""
    runs, books, reports = {1: [], 2: []}, [], []
    for k, jobs in enumerate(order):
        copy = Path(shutil.copytree(base, tmp / f"run{k}-jobs{jobs}", symlinks=True))
        run, report = dlcourse_grade(copy, jobs, assignment)
        runs[jobs].append(run)
        books.append((jobs, gradebook_scores(f"sqlite:///{copy / 'gradebook.db'}", assignment)))
        reports.append(report)
        shutil.rmtree(copy)
    return runs, books, reports


def _differences(books: list, nbgrader_book: dict) -> list[str]:
    """Grade cells where a run differs from the first, or an automatic score from stock nbgrader's."""
    first = books[0][1]
    diffs = [f"{k}: --jobs 1 {first.get(k)}, --jobs {jobs} {other.get(k)}" for jobs, other in books[1:]
             for k in sorted(set(first) | set(other)) if first.get(k) != other.get(k)]
    ours, theirs = ({k: v[0] for k, v in b.items()} for b in (first, nbgrader_book))
    return diffs + [f"{k}: dlcourse {ours.get(k)} nbgrader {theirs.get(k)}" for k in sorted(set(ours) | set(theirs))
                    if ours.get(k) != theirs.get(k)]


def measure(n_students: int = CLASS_SIZE, assignment: str = ASSIGNMENT, repeats: int = REPEATS) -> dict:
    """All measurements on the same synthetic class, plus the cross-checks of the scores.

    The ``dlcourse-grade`` runs go in ABBA order (``--jobs 1``, ``--jobs 2``, ``--jobs 2``,
    ``--jobs 1`` for two repeats), each on a fresh copy of the course, so a load that drifts
    during the run weighs on both sides alike; each side's time is the mean of its runs.
    """
    order = [1, 2] if repeats < 2 else [1, 2, 2, 1] * (repeats // 2) + [1, 2] * (repeats % 2)
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-grading-") as tmp:
        base = Path(tmp) / "base"
        make_course(base, assignment, n_students)
        plain, plain_run = plain_execution(base, assignment)
        runs, books, reports = _grade_runs(base, Path(tmp), order, assignment)
        copy = shutil.copytree(base, Path(tmp) / "nbgrader", symlinks=True)
        tnb = nbgrader_autograde(copy, assignment)
        snb = gradebook_scores(f"sqlite:///{copy / 'gradebook.db'}", assignment)
    first = books[0][1]
    diffs = _differences(books, snb)
    totals = sorted(float(s["score"]) for s in reports[0]["students"])
    errors = [f"run {k + 1} (--jobs {order[k]}): {e}" for k, rep in enumerate(reports) for e in rep["grader_errors"]]
    return {"students": n_students, "notebooks": len(plain), "plain": plain, "plain_run": plain_run,
            "jobs1": _mean_run(runs[1]), "jobs2": _mean_run(runs[2]), "runs": len(order), "nbgrader": tnb,
            "isolation": reports[0]["isolation"], "same_12": all(b == first for _, b in books) and len(first) > 0,
            "same_nbgrader": not any(": dlcourse " in d for d in diffs), "diffs": diffs, "errors": errors,
            "grades": len(first), "score_range": (totals[0], totals[-1]) if totals else (0, 0)}


def rows(n_students: int = CLASS_SIZE) -> list[tuple]:
    """Table rows ``(benchmark, comparison, ratio, target, detail)``."""
    r = measure(n_students)
    n, j1, j2, nbg = r["notebooks"], r["jobs1"], r["jobs2"], r["nbgrader"]
    exec_med = statistics.median(r["plain"])
    per1, per_nb = j1.seconds / n, nbg.seconds / n
    cores = len(os.sched_getaffinity(0))
    what = f"Grade {r['students']} submissions of {ASSIGNMENT} ({n} notebooks)"
    same = f"identical grades in all {r['runs']} runs" if r["same_12"] else "GRADES DIFFER between --jobs 1 and 2"
    vs_nb = "same auto scores as nbgrader" if r["same_nbgrader"] else "AUTO SCORES DIFFER from nbgrader's"
    if r["diffs"]:
        print("grade differences:\n  " + "\n  ".join(map(str, r["diffs"][:20])), file=sys.stderr)
    if r["errors"]:
        same += f"; {len(r['errors'])} GRADER ERROR(S), first: {r['errors'][0][:160]}"
    return [
        (what, "dlcourse-grade --jobs 2 speed-up over --jobs 1", j1.seconds / j2.seconds, ">= 1.8",
         f"--jobs 1 {j1.seconds:.0f} s ({60 * n / j1.seconds:.0f} notebooks/min), --jobs 2 {j2.seconds:.0f} s "
         f"({60 * n / j2.seconds:.0f}/min), {r['runs'] // 2} run(s) each in ABBA order, on {cores} cores, "
         f"1-min load average up to {max(j1.load, j2.load):.1f} (other work on the machine); "
         f"isolation {r['isolation']}, verification on; {same} ({r['grades']} grade cells, "
         f"student totals {r['score_range'][0]:g}..{r['score_range'][1]:g})"),
        (what, "dlcourse-grade --jobs 1 / plain execution, per notebook", per1 / exec_med, "",
         f"overhead {per1 - exec_med:.2f} s per notebook beyond its own execution ({per1:.2f} s per notebook "
         f"vs {exec_med:.2f} s median plain nbclient run, fresh kernel each)"),
        (what, "stock nbgrader autograde (sequential) / dlcourse-grade --jobs 1", nbg.seconds / j1.seconds,
         "(reference)", f"nbgrader {nbg.seconds:.0f} s = {per_nb:.2f} s per notebook, "
         f"{per_nb - exec_med:+.2f} s beyond plain execution; {vs_nb}"),
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--execute-each"]:
        print(json.dumps(_execute_each(sys.argv[2:])))
        sys.exit(0)
    for row in rows():
        print(" | ".join(f"{c:.2f}" if isinstance(c, float) else str(c) for c in row))
