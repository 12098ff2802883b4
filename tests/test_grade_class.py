"""Issue 9: a class run of `dlcourse-grade` that never breaks, isolated from the gradebook, with hard limits.

The class (``tests/grade_corpus/corpus_cases.py``: ``class_cases``) is built from the instructor's
solutions of ex01_perceptron: an honest student, then a duplicated graded cell, invalid
JSON, an empty file, a renamed notebook, os._exit, a segfault, sys.exit, infinite loops
(in a solution cell and inside a graded function), a memory bomb, a fork bomb, huge
printed and rich output, an attack on gradebook.db and source/, a network connection
and a submitted numpy.py. One `dlcourse-grade autograde --jobs 2` run grades them all
(shared with the corpus test, see ``grade_corpus/corpus_shared.py``).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "grade_corpus"))

import corpus_cases as cases  # noqa: E402
import corpus_shared as shared  # noqa: E402

pytestmark = pytest.mark.xdist_group("dlcourse_grade")
needs_run = [pytest.mark.grading, pytest.mark.slow]

CLASS = cases.class_cases(0, "")


@pytest.fixture(scope="module")
def corpus():
    why = shared.ensure_sandbox()
    if why:
        pytest.skip(why)
    return shared.corpus_run()


@pytest.mark.grading
@pytest.mark.slow
@pytest.mark.parametrize("sub", CLASS, ids=[s.student for s in CLASS])
def test_each_student_gets_the_expected_outcome(corpus, sub):
    """Does every student of the class get the expected score per part, status, flags and reasons?"""
    shared.check_outcome(corpus.first, sub)


@pytest.mark.grading
@pytest.mark.slow
def test_the_run_succeeds_and_prints_every_student(corpus):
    """Does one run exit 0 (no grader failure) and print a row for every submitted student?"""
    for a in shared.ASSIGNMENTS:
        assert corpus.first.returncodes[a] == 0, corpus.first.stderr[a][-3000:]
        assert "isolation: bwrap" in corpus.first.stdout[a]
    for sub in CLASS:
        assert sub.student in corpus.first.stdout[cases.A1], f"{sub.student} missing from the table"


@pytest.mark.grading
@pytest.mark.slow
def test_gradebook_holds_the_recorded_scores_and_no_blank_autograde(corpus):
    """Does nbgrader's gradebook hold exactly the table's scores, with no autograded grade left blank?"""
    book = corpus.gradebook[cases.A1]
    for sub in CLASS:
        row = corpus.first.student(sub.student)
        table = {p["grade_id"]: p["score"] for p in row["parts"]}
        assert book[sub.student] == table, f"{sub.student}: gradebook {book[sub.student]} vs table {table}"
        blank = [g for g, s in book[sub.student].items() if s is None and g != "xor_answer"]
        assert not blank, f"{sub.student}: autograded grades left blank: {blank}"


@pytest.mark.grading
@pytest.mark.slow
def test_earlier_grades_and_the_course_are_untouched(corpus):
    """Are the honest student's grades (graded first) intact, and source/ and gradebook.db unharmed?"""
    assert corpus.gradebook[cases.A1]["c01_honest"] == cases.FULL1
    assert shared.tree_digest(corpus.course / "source") == corpus.source_digest, "source/ was changed"
    assert not (corpus.course / "source" / "pwned.txt").exists()
    con = sqlite3.connect(corpus.course / "gradebook.db")
    assert con.execute("select count(*) from grade where auto_score > 0").fetchone()[0] > 0
    con.close()


@pytest.mark.grading
@pytest.mark.slow
def test_the_sandbox_sees_no_course_files_and_no_network(corpus):
    """Did the attack cell find no gradebook and the network attempt reach no listener?"""
    nb = json.loads((corpus.course / "autograded" / "c15_gradebook_source" / cases.A1 / f"{cases.A1}.ipynb")
                    .read_text())
    text = "".join(o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
                   for c in nb["cells"] for o in c.get("outputs", []))
    assert "seen: []" in text, f"the sandbox found course files: {text[:500]}"
    assert text.count("source: ") == 2, f"a write into source/ did not fail: {text[:500]}"
    assert corpus.listener.connections == 0, "a sandboxed cell reached a server on 127.0.0.1"


@pytest.mark.grading
@pytest.mark.slow
@pytest.mark.parametrize("student", ["c13_huge_print", "c14_huge_rich"])
def test_outputs_are_capped_with_a_marker(corpus, student):
    """Is a notebook's output cut to about 1 MB, with a marker saying so?"""
    path = corpus.course / "autograded" / student / cases.A1 / f"{cases.A1}.ipynb"
    assert path.stat().st_size < 1_200_000, f"{student}: autograded notebook is {path.stat().st_size} bytes"
    assert "output truncated" in path.read_text()


@pytest.mark.grading
@pytest.mark.slow
def test_no_sandboxed_process_survives_the_run(corpus):
    """After the run, is no process left running as a sandbox user (the fork bomb's children included)?"""
    import time

    import psutil

    for _ in range(40):  # a killed sandbox may take a moment to release a large memory
        left = [p.info for p in psutil.process_iter(["pid", "username", "cmdline"])
                if (p.info["username"] or "").startswith("dlgrade")]
        if not left:
            break
        time.sleep(0.5)
    assert not left, f"processes left behind: {left[:5]}"


def test_isolation_warns_loudly_without_root(monkeypatch):
    """Without root, does detect() fall back to limits only and say NOT ISOLATED?"""
    from dlcourse_grade import sandbox

    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    iso = sandbox.detect()
    assert iso.level == "none" and not iso.isolated
    assert iso.warning.startswith("NOT ISOLATED") and "gradebook" in iso.warning


def test_gradebook_writes_retry_a_locked_database():
    """Is a write that meets 'database is locked' retried until it succeeds, and another error raised?"""
    from sqlalchemy.exc import OperationalError

    from dlcourse_grade.gradebook import with_retries

    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("UPDATE grade", {}, Exception("database is locked"))
        return "written"

    assert with_retries(flaky, first_wait=0.001) == "written" and len(calls) == 3

    def broken():
        raise OperationalError("UPDATE grade", {}, Exception("no such table: grade"))

    with pytest.raises(OperationalError):
        with_retries(broken, first_wait=0.001)


def test_output_cap_keeps_errors_and_stderr():
    """Does capping a 3 MB notebook keep an error as an error and stderr as stderr, under the limit?"""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from dlcourse_grade.outputs import cap_notebook, output_size

    big = new_code_cell("print(...)", outputs=[new_output("stream", name="stdout", text="x" * 3_000_000)])
    err = new_code_cell("1/0", outputs=[new_output("stream", name="stderr", text="warn " * 1000),
                                        new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                                   traceback=["line"] * 500)])
    nb = new_notebook(cells=[big, err])
    assert cap_notebook(nb, 100_000)
    total = sum(output_size(o) for c in nb.cells for o in c.outputs)
    assert total < 110_000, total
    kinds = [(o.output_type, o.get("name")) for o in nb.cells[1].outputs]
    assert kinds == [("stream", "stderr"), ("error", None)], kinds
    assert nb.cells[1].outputs[1].ename == "ZeroDivisionError"
    nbformat.validate(nb)


def test_relative_sqlite_gradebook_is_found_under_the_course_root(tmp_path, monkeypatch):
    """Does ``db_url = "sqlite:///gradebook.db"`` in nbgrader_config.py name the course root's
    gradebook (in the Course and in the config nbgrader reads), whatever the current directory?"""
    from dlcourse_grade.course import load_course

    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.db_url = "sqlite:///gradebook.db"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    course = load_course("../course")
    want = f"sqlite:///{root.resolve() / 'gradebook.db'}"
    assert course.db_url == want
    assert course.config.CourseDirectory.db_url == want and course.coursedir.db_url == want


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_driverless_postgresql_url_loads_an_installed_driver(scheme, monkeypatch):
    """Is ``postgresql://`` (or ``postgres://``) sent to psycopg2 when psycopg 3 is missing, left alone
    when psycopg 3 is there, and does SQLAlchemy then load a driver for it?"""
    import importlib.util

    from dlcourse_grade import course as course_mod

    sa = pytest.importorskip("sqlalchemy")
    url = f"{scheme}://grader:pw@localhost:5432/gradebook"
    real = importlib.util.find_spec
    has_psycopg3 = real("psycopg") is not None
    if real("psycopg2") is None and not has_psycopg3:
        pytest.skip("neither psycopg nor psycopg2 is installed")
    rest = "grader:pw@localhost:5432/gradebook"
    got = course_mod.resolve_db_url(url, Path("/course"))
    assert got == f"postgresql{'' if has_psycopg3 else '+psycopg2'}://{rest}"
    sa.create_engine(got).dispose()  # builds the dialect and imports its DBAPI module (no connection)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "psycopg" else real(name))
    assert course_mod.resolve_db_url(url, Path("/course")) == f"postgresql://{rest}"


def test_course_secret_is_created_once_by_racing_shards(tmp_path):
    """Do eight threads creating the course secret at once all get the same 64-hex-digit secret,
    mode 0600, with no temporary file left, and does creating it again keep the first one?"""
    import stat
    import threading

    from dlcourse_grade import classrun
    from dlcourse_grade.course import Course

    course = Course(root=tmp_path, db_url="sqlite://")
    barrier, got, errors = threading.Barrier(8), [], []

    def shard():
        barrier.wait()
        try:
            got.append(classrun.load_secret(course))
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=shard) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(got)) == 1 and len(got[0]) == 64 and int(got[0], 16) >= 0
    path = tmp_path / ".dlcourse-grade-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    classrun._create_secret(path)  # a shard that saw no file a moment ago
    assert classrun.load_secret(course) == got[0] and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_slot_user_accepts_a_user_another_process_created(monkeypatch):
    """When ``useradd`` fails because another shard just created the slot user, is that user used,
    and is a user that never appears reported with useradd's message?"""
    import pwd
    import subprocess

    from dlcourse_grade import sandbox

    me = pwd.getpwuid(0)
    created = []
    monkeypatch.setattr(sandbox.time, "sleep", lambda s: None)

    def getpwnam(name):
        if not created:
            raise KeyError(name)
        return me

    def useradd(cmd, **kw):
        created.append(cmd[-1])  # the other process won: the user now exists, our useradd failed
        return subprocess.CompletedProcess(cmd, 9, "", f"useradd: user '{cmd[-1]}' already exists")

    monkeypatch.setattr(sandbox.pwd, "getpwnam", getpwnam)
    monkeypatch.setattr(sandbox.subprocess, "run", useradd)
    assert sandbox.slot_user(3) is me and created == ["dlgrade3"]

    monkeypatch.setattr(sandbox.pwd, "getpwnam", lambda name: (_ for _ in ()).throw(KeyError(name)))
    with pytest.raises(RuntimeError, match="dlgrade3.*already exists"):
        sandbox.slot_user(3)


def test_kernel_start_is_retried_before_giving_up(monkeypatch):
    """Does a kernel that dies before replying to kernel_info get started again (up to
    START_ATTEMPTS times), and is the last error raised when every attempt fails?"""
    import asyncio

    from dlcourse_grade import kernel

    import time

    from dlcourse_grade.sandbox import Limits

    monkeypatch.setattr(kernel, "START_PAUSE", 0.0)
    runner = kernel.NotebookRunner.__new__(kernel.NotebookRunner)
    runner.limits, runner.budget, runner.notebook_end = Limits(), None, time.monotonic() + 600
    calls = []

    async def flaky_start():
        calls.append(1)
        if len(calls) < kernel.START_ATTEMPTS:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return "client"

    runner._start_once = flaky_start
    assert asyncio.run(runner._start()) == "client" and len(calls) == kernel.START_ATTEMPTS

    calls.clear()

    async def dead_start():
        calls.append(1)
        raise RuntimeError(f"Kernel died before replying to kernel_info (attempt {len(calls)})")

    runner._start_once = dead_start
    with pytest.raises(RuntimeError, match=f"attempt {kernel.START_ATTEMPTS}"):
        asyncio.run(runner._start())
    assert len(calls) == kernel.START_ATTEMPTS

    calls.clear()  # once the notebook's time is spent, a failed start is not tried again
    runner.notebook_end = time.monotonic() - 1
    with pytest.raises(RuntimeError, match="attempt 1"):
        asyncio.run(runner._start())
    assert len(calls) == 1
