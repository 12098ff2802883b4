"""A real PostgreSQL gradebook written by many grading workers at once.

A throw-away PostgreSQL server on loopback (``tests/pg_server.py``: Debian's package,
installed when missing; the tests skip with the reason where it cannot run) receives
the grades of one synthetic class of ``ex01_perceptron``, written concurrently, and the
result is compared cell by cell with the same class graded serially into SQLite:

* ``dlcourse-grade`` itself, sharded: two processes started together, each grading
  half of the students with ``--jobs 2 --db-url postgresql+psycopg2://...``, as
  workers on several machines sharing the course folder would;
* the gradebook writer alone (:func:`dlcourse_grade.gradebook.record_student`) from
  eight processes at once for a class of 40, to press on concurrent transactions;
* ``--db-url postgresql://...`` written the plain way, without naming the driver.

The assignment is generated into PostgreSQL once, and every test grades into its own
copy of that database (``CREATE DATABASE ... TEMPLATE``).

The class comes from ``benchmarks/bench_grading.py`` (the instructor's solutions,
some students leaving one or two functions as the stub), so the scores differ.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest.importorskip("nbgrader", reason="nbgrader is not installed (pip install ./grader)")
pytest.importorskip("psycopg2", reason="psycopg2 is not installed (the dev extra has psycopg2-binary)")

import bench_grading  # noqa: E402
from pg_server import Unavailable, postgres_server  # noqa: E402

pytestmark = [pytest.mark.grading, pytest.mark.slow, pytest.mark.xdist_group("postgres"),
              # nbgrader's own update_or_create_submission trips SQLAlchemy's autoflush warning
              pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")]

ASSIGNMENT = "ex01_perceptron"
N_STUDENTS = 6
SHARDS = 2
SECRET = "test-grade-postgres-secret"


@pytest.fixture(scope="module")
def server_url():
    """URL of a fresh loopback PostgreSQL server's ``gradebook`` database (skips with the reason)."""
    try:
        with postgres_server() as url:
            yield url
    except Unavailable as exc:
        pytest.skip(f"no PostgreSQL server here: {exc}")


def new_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` on the server (a copy of ``template`` if given) and return its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module")
def class_course(tmp_path_factory) -> Path:
    """A course copy with ``ex01_perceptron`` generated (SQLite gradebook) and a synthetic class submitted."""
    base = tmp_path_factory.mktemp("pg-course") / "course"
    bench_grading.make_course(base, ASSIGNMENT, N_STUDENTS)
    return base


def copy_course(base: Path, dest: Path) -> Path:
    return Path(shutil.copytree(base, dest, symlinks=True))


@pytest.fixture(scope="module")
def pg_template(server_url, class_course, tmp_path_factory) -> str:
    """Name of a database holding the assignment as ``nbgrader generate_assignment`` records it
    (each test gets its own copy with ``CREATE DATABASE ... TEMPLATE``)."""
    url = new_database(server_url, "template_ex01")
    course = copy_course(class_course, tmp_path_factory.mktemp("pg-template") / "course")
    done = subprocess.run([str(bench_grading.BIN / "nbgrader"), "generate_assignment", ASSIGNMENT, "--force",
                           f"--CourseDirectory.db_url={url}"], cwd=course, env=bench_grading.course_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, f"generate_assignment into PostgreSQL failed:\n{done.stderr[-3000:]}"
    return "template_ex01"


def grade_cmd(course: Path, jobs: int, db_url: str | None = None, students=()) -> list[str]:
    cmd = [str(bench_grading.BIN / "dlcourse-grade"), "autograde", ASSIGNMENT, "--course", str(course),
           "--jobs", str(jobs)]
    if db_url:
        cmd += ["--db-url", db_url]
    for s in students:
        cmd += ["--student", s]
    return cmd


def grade_env() -> dict:
    return dict(bench_grading.course_env(), DLCOURSE_GRADE_SECRET=SECRET)


def test_sharded_grading_into_postgres_matches_a_serial_sqlite_run(class_course, server_url, pg_template,
                                                                    tmp_path):
    """Do two dlcourse-grade processes writing one PostgreSQL gradebook at once record exactly the
    grades of one serial run into SQLite, for every student and every graded cell?"""
    students = sorted(p.name for p in (class_course / "submitted").iterdir())
    serial = copy_course(class_course, tmp_path / "serial")
    done = subprocess.run(grade_cmd(serial, 1), cwd=serial, env=grade_env(), capture_output=True, text=True)
    assert done.returncode == 0, f"serial run failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"

    pg_url = new_database(server_url, "sharded", pg_template)
    sharded = copy_course(class_course, tmp_path / "sharded")
    from dlcourse_grade.sandbox import slot_user

    if os.geteuid() == 0:  # one machine running several shards: create the slot users once, up front
        for slot in range(2):
            slot_user(slot)
    procs = [subprocess.Popen(grade_cmd(sharded, 2, pg_url, students[k::SHARDS]), cwd=sharded, env=grade_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(SHARDS)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for k, (p, (out, err)) in enumerate(zip(procs, outputs)):
        assert p.returncode == 0, f"shard {k} failed:\n{out[-2000:]}\n{err[-2000:]}"

    want = bench_grading.gradebook_scores(f"sqlite:///{serial / 'gradebook.db'}", ASSIGNMENT)
    got = bench_grading.gradebook_scores(pg_url, ASSIGNMENT)
    graded = {s for s, _, _ in want}
    assert graded == set(students), f"the serial run graded {sorted(graded)}, expected {students}"
    assert got == want
    assert len({v[0] for v in want.values()}) > 1, "the class should have differing part scores"
    for s in students:
        assert list((sharded / "autograded" / s / ASSIGNMENT).glob("*.ipynb")), f"no autograded notebook for {s}"


def _write_one(args) -> str:
    from dlcourse_grade.gradebook import record_student

    db_url, result = args
    record_student(db_url, "dlcourse", ASSIGNMENT, result)
    return result.student


def synthetic_results(course: Path, n: int, seed: int = 11) -> list:
    """StudentResults for ``n`` students with seeded random part scores (multiples of 0.5 up to the maximum)."""
    from dlcourse_grade.course import assignment_spec, load_course
    from dlcourse_grade.pipeline import NotebookResult, PartResult, StudentResult

    spec = assignment_spec(load_course(course, f"sqlite:///{course / 'gradebook.db'}"), ASSIGNMENT)
    rng = np.random.default_rng(seed)
    results = []
    for k in range(n):
        notebooks = []
        for nb in spec.notebooks:
            parts = []
            for cell in nb.cells:
                if cell.grade and cell.cell_type == "code":
                    top = float(cell.points or 0)
                    score = float(rng.integers(0, int(2 * top) + 1)) / 2
                    parts.append(PartResult(cell.grade_id, top, score, score))
            notebooks.append(NotebookResult(nb.name, "graded", parts, comments={}))
        results.append(StudentResult(f"w{k:03d}", None, notebooks))
    return results


def test_eight_concurrent_writers_lose_no_grade(class_course, server_url, pg_template, tmp_path):
    """Do eight processes recording 40 students into one PostgreSQL gradebook at the same time
    leave exactly the grades that the same writes leave in SQLite one after another?"""
    from dlcourse_grade.gradebook import record_student

    course = copy_course(class_course, tmp_path / "sqlite")
    course_db = f"sqlite:///{course / 'gradebook.db'}"
    pg_url = new_database(server_url, "writers", pg_template)
    results = synthetic_results(course, 40)
    for r in results:
        record_student(course_db, "dlcourse", ASSIGNMENT, r)
    # fork: the children start with nbgrader already imported (every engine of this process is disposed)
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(8, mp_context=ctx) as pool:
        written = list(pool.map(_write_one, [(pg_url, r) for r in results]))
    assert sorted(written) == [r.student for r in results]
    want = bench_grading.gradebook_scores(course_db, ASSIGNMENT)
    got = bench_grading.gradebook_scores(pg_url, ASSIGNMENT)
    parts = {p.grade_id for nb in results[0].notebooks for p in nb.parts}
    auto = {k: v for k, v in got.items() if k[2] in parts}
    assert len(auto) == 40 * len(parts), "a grade is missing from PostgreSQL"
    assert auto == {k: v for k, v in want.items() if k[2] in parts}
    assert got == want


def test_plain_postgresql_url_is_accepted(class_course, server_url, pg_template, tmp_path):
    """Does ``dlcourse-grade --db-url postgresql://...`` (no driver named) grade into PostgreSQL,
    although SQLAlchemy 2.1 maps that form to psycopg 3 and the project installs psycopg2?"""
    pg_url = new_database(server_url, "plain_url", pg_template)
    course = copy_course(class_course, tmp_path / "plain")
    plain = pg_url.replace("postgresql+psycopg2://", "postgresql://", 1)
    student = sorted(p.name for p in (course / "submitted").iterdir())[0]
    done = subprocess.run(grade_cmd(course, 1, plain, [student]), cwd=course, env=grade_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, f"--db-url {plain} failed:\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
    got = bench_grading.gradebook_scores(pg_url, ASSIGNMENT)
    assert {s for s, _, _ in got} == {student}
