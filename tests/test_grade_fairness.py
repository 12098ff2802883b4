"""Honest work loses nothing (issue 18): cell magics, renamed LMS copies, fd-level stderr, late
penalties in the table, and the instructor's make targets.

Unit level, no sandbox users: verification runs with ``Isolation("none")`` (a plain child
process), notebooks are built here with nbformat. Each oracle is independent of the code under
test: IPython itself for what a cell magic leaves in the namespace, the reference solution
written out for the verified score, file times set here for the newest copy, nbgrader's own
``AssignLatePenalties`` on a real gradebook for the penalty, ``make -n`` for the commands.
"""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta, timezone
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

pytest.importorskip("nbgrader", reason="the grader needs nbgrader (pip install ./grader)")

from nbgrader import utils as nbutils  # noqa: E402

from dlcourse.checks import assignments  # noqa: E402
from dlcourse_grade import steps, submission, verify  # noqa: E402
from dlcourse_grade.course import AssignmentSpec, CellSpec, NotebookSpec  # noqa: E402
from dlcourse_grade.results import FlagKind, NotebookResult, PartResult  # noqa: E402
from dlcourse_grade.sandbox import Isolation, Limits  # noqa: E402
from nbgrader_cells import nbgrader_cell  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
A1 = "ex01_perceptron"
# the strict Heaviside step of ex01, written out here (not taken from dlcourse)
STEP = "def step(z):\n    return np.where(np.asarray(z, dtype=float) > 0, 1.0, 0.0)\n"


def _cell(source, grade_id, **meta):
    return nbgrader_cell("code", source, grade_id, **meta)


def _step_notebook(solution_source):
    return new_notebook(cells=[
        _cell("import numpy as np", "setup", locked=True),
        _cell(solution_source, "step_solution", solution=True),
        _cell('checks.check("step_matches_reference", step)', "step_matches_reference",
              grade=True, locked=True, points=1.0),
    ])


def _verify_task(tmp_path):
    submitted = tmp_path / "submitted"
    submitted.mkdir(parents=True, exist_ok=True)
    return SimpleNamespace(assignment=A1, seed=5, submitted=str(submitted), base=str(tmp_path), slot=0,
                           iso=Isolation("none", ""), limits=Limits(), spec=SimpleNamespace(source_dir=None))


def _verified(tmp_path, solution_source, in_kernel=1.0):
    """Verify the step part of a notebook whose solution cell is ``solution_source``."""
    nb = _step_notebook(solution_source)
    spec = NotebookSpec(A1, (CellSpec("step_matches_reference", "code", True, nb.cells[2].source, "c",
                                      grade=True, points=1.0),))
    result = NotebookResult(A1, "graded", [PartResult("step_matches_reference", 1.0, in_kernel, in_kernel)], [])
    verify.verify_notebook(_verify_task(tmp_path), spec, nb, result)
    return result


# --- 1. cell magics ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ipython():
    from IPython.testing.globalipapp import start_ipython
    return start_ipython()


MAGIC_CELLS = [
    "%%time\ndef f(x):\n    return x + 1\ny = f(1)\n",
    "\n%%capture\ndef f(x):\n    return x + 1\ny = f(1)\n",
    "%%capture out --no-stderr\n%%time\ndef f(x):\n    return x + 1\ny = f(1)\n",
    "%%prun -q\ndef f(x):\n    return x + 1\ny = f(1)\n",
    "%%timeit -n1 -r1\ndef f(x):\n    return x + 1\ny = f(1)\n",
    "%%time\n%pwd\ndef f(x):\n    return x + 1\n!true\ny = f(1)\n",
    "%%html\n<b>def f(x): pass</b>\n",
]


@pytest.mark.parametrize("src", MAGIC_CELLS)
def test_a_cell_magic_defines_what_ipython_defines(ipython, src):
    """Oracle: IPython itself. Does the verification's plain Python leave ``f`` and ``y`` exactly
    where running the cell in an IPython shell leaves them?"""
    for name in ("f", "y"):
        ipython.user_ns.pop(name, None)
    ipython.run_cell(src, silent=True)
    want = {n: ipython.user_ns[n](2) if n == "f" else ipython.user_ns[n]
            for n in ("f", "y") if n in ipython.user_ns}
    ns = {}
    exec(compile(verify.python_source(src), "<cell>", "exec"), ns)
    got = {n: ns[n](2) if n == "f" else ns[n] for n in ("f", "y") if n in ns}
    assert got == want


@pytest.mark.parametrize("src", ["%%writefile helper_fair.py\ndef g():\n    return 42\n",
                                 "%%writefile helper_fair.py\ndef g():\n    return 42"])
def test_writefile_writes_the_file_a_later_cell_imports(ipython, tmp_path, monkeypatch, src):
    """``%%writefile helper.py`` then ``import helper``: the file the verification writes is IPython's file."""
    monkeypatch.chdir(tmp_path)
    ipython.run_cell(src, silent=True)
    want = (tmp_path / "helper_fair.py").read_text()
    (tmp_path / "helper_fair.py").unlink()
    exec(compile(verify.python_source(src), "<cell>", "exec"), {})
    assert (tmp_path / "helper_fair.py").read_text() == want


def test_line_numbers_survive_a_dropped_magic():
    src = "%%time\nx = 1\nraise ValueError\n"
    with pytest.raises(ValueError) as info:
        exec(compile(verify.python_source(src), "<cell>", "exec"), {})
    assert info.traceback[-1].lineno + 1 == 3  # pytest's line numbers start at 0


@pytest.mark.parametrize("magic", ["%%time", "%%capture", "%%time\n%%capture captured"])
def test_a_solution_under_a_cell_magic_is_verified_in_full_and_not_flagged(tmp_path, magic):
    """A correct step under ``%%time`` earns what the same cell without it earns (the part's points)."""
    plain = _verified(tmp_path / "plain", STEP)
    timed = _verified(tmp_path / "timed", f"{magic}\n{STEP}")
    points = assignments.get_part("step_matches_reference").points
    assert plain.parts[0].verified == points
    assert timed.parts[0].verified == points and timed.parts[0].score == points
    assert not [f for f in timed.flags if f.kind == FlagKind.TAMPERING], timed.flags


def test_timeit_leaves_nothing_defined_in_verification_as_in_the_kernel(tmp_path):
    """``%%timeit`` keeps no definition in IPython (see above): verification agrees, so an in-kernel 0
    (the test cell's NameError) and the verified 0 match and no tampering is flagged."""
    r = _verified(tmp_path, f"%%timeit -n1 -r1\n{STEP}", in_kernel=0.0)
    assert r.parts[0].verified == 0.0 and not [f for f in r.flags if f.kind == FlagKind.TAMPERING]


# --- 3. stderr at the file-descriptor level ------------------------------------------------------

def _scored(outputs):
    nb = new_notebook(cells=[_cell("check()", "t", grade=True, locked=True, points=2.0)])
    nb.cells[0].outputs = [nbformat.from_dict(o) for o in outputs]
    spec = NotebookSpec(A1, (CellSpec("t", "code", True, "check()", "c", grade=True, points=2.0),))
    return steps.in_kernel_scores(nb, spec)[0]


STDERR = {"output_type": "stream", "name": "stderr", "text": "a note from C code\n"}
ERROR = {"output_type": "error", "ename": "GradingFailure", "evalue": "wrong", "traceback": []}


@pytest.mark.parametrize("others", [
    [],                                                                       # passed
    [{"output_type": "stream", "name": "stdout", "text": "PASSED\n"}],
    [ERROR],                                                                  # a visible check failed
    [{"output_type": "execute_result", "data": {"text/plain": "0"}, "metadata": {}, "execution_count": 1}],
    [{"output_type": "execute_result", "data": {"text/plain": "1.5"}, "metadata": {}, "execution_count": 1}],
])
def test_stderr_output_changes_no_in_kernel_score(others):
    """Oracle: nbgrader's ``determine_grade`` on the same cell as it would be without the stderr
    output. Writing to stderr before the result, or after it, leaves the score it gives."""
    nb = new_notebook(cells=[_cell("check()", "t", grade=True, locked=True, points=2.0)])
    nb.cells[0].outputs = [nbformat.from_dict(o) for o in others]
    want, _ = nbutils.determine_grade(nb.cells[0])
    assert _scored([STDERR] + others).in_kernel == want
    assert _scored(others + [STDERR]).in_kernel == want
    assert _scored([STDERR] + others).reason == _scored(others).reason


@pytest.fixture(scope="module")
def kernel_outputs():
    """The outputs a real IPython kernel gives cells whose function writes to fd 2 (nbclient, no sandbox)."""
    from nbclient import NotebookClient
    nb = new_notebook(cells=[
        new_code_cell("import os\nimport numpy as np\n"
                      "def step(z):\n    os.write(2, b'computing step\\n')\n"
                      "    return np.where(np.asarray(z, dtype=float) > 0, 1.0, 0.0)"),
        new_code_cell("assert step(1.0) == 1.0 and step(0.0) == 0.0"),
    ])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}  # ipykernel skips fd capture under pytest
    NotebookClient(nb, timeout=60, kernel_name="python3").execute(env=env)
    return nb.cells[1].outputs


def _stderr_outputs(kernel_outputs):
    """The kernel's real outputs where it captured fd 2; else the stream output such a kernel gives."""
    if any(o.get("name") == "stderr" for o in kernel_outputs):
        return [dict(o) for o in kernel_outputs]
    return [{"output_type": "stream", "name": "stderr", "text": "computing step\n"}]


def test_fd_level_stderr_reaches_the_test_cell(kernel_outputs):
    """The premise: a kernel shows what the learner's function writes to fd 2 as the test cell's stderr."""
    if not kernel_outputs:
        pytest.skip("this ipykernel did not capture file-descriptor output here (it does not under some runners)")
    assert any(o.get("name") == "stderr" and "computing step" in o.get("text", "") for o in kernel_outputs)


def test_fd_level_stderr_is_no_tampering_but_a_wrong_answer_still_is(tmp_path, kernel_outputs):
    """An honest step that writes to fd 2: in-kernel full (the kernel's real outputs), verified full,
    no tampering flag. The same in-kernel outputs with a wrong step verified: still flagged."""
    in_kernel = _scored(_stderr_outputs(kernel_outputs)).in_kernel
    assert in_kernel == 2.0  # the points of the cell _scored builds
    noisy = "import os\n" + STEP.replace("    return", "    os.write(2, b'computing step\\n')\n    return")
    honest = _verified(tmp_path / "honest", noisy, in_kernel=1.0)
    assert honest.parts[0].verified == 1.0
    assert not [f for f in honest.flags if f.kind == FlagKind.TAMPERING], honest.flags
    wrong = "import os\ndef step(z):\n    os.write(2, b'x\\n')\n    return np.zeros_like(np.asarray(z, dtype=float))\n"
    cheat = _verified(tmp_path / "cheat", wrong, in_kernel=1.0)
    assert cheat.parts[0].verified == 0.0
    assert [f for f in cheat.flags if f.kind == FlagKind.TAMPERING]


# --- 2. renamed copies from an LMS ------------------------------------------------------------------

def _a1_spec():
    nb = _step_notebook(STEP)
    cells = tuple(CellSpec(c.metadata["nbgrader"]["grade_id"], "code", c.metadata["nbgrader"]["locked"], c.source,
                           "c", grade=c.metadata["nbgrader"]["grade"], solution=c.metadata["nbgrader"]["solution"],
                           points=c.metadata["nbgrader"].get("points")) for c in nb.cells)
    return AssignmentSpec(A1, (NotebookSpec(A1, cells),)), nb


def _write(folder, name, nb, mtime):
    p = folder / name
    p.write_text(nbformat.writes(nb))
    os.utime(p, (mtime, mtime))
    return p


@pytest.mark.parametrize("newest", [0, 1])
def test_two_renamed_copies_grade_the_newest_and_say_so(tmp_path, newest):
    spec, nb = _a1_spec()
    names = ["ex01_perceptron (1).ipynb", "ex01_perceptron-2.ipynb"]
    times = [1_700_000_000, 1_700_000_000]
    times[newest] += 3600
    for name, t in zip(names, times):
        _write(tmp_path, name, nb, t)
    found, notes = submission.locate(tmp_path, spec)
    assert found[A1] == tmp_path / names[newest]
    assert names[newest] in notes[A1] and names[1 - newest] in notes[A1] and "not graded" in notes[A1]


def test_a_newer_notebook_of_another_assignment_does_not_stand_in(tmp_path):
    """The copy holding the assignment's grade ids wins over a newer, unrelated notebook."""
    spec, nb = _a1_spec()
    _write(tmp_path, "ex01_perceptron (1).ipynb", nb, 1_700_000_000)
    _write(tmp_path, "scratch.ipynb", new_notebook(cells=[new_code_cell("1 + 1")]), 1_800_000_000)
    found, notes = submission.locate(tmp_path, spec)
    assert found[A1] == tmp_path / "ex01_perceptron (1).ipynb" and "scratch" not in notes[A1]


def test_the_expected_name_still_wins_and_a_single_rename_is_unchanged(tmp_path):
    spec, nb = _a1_spec()
    _write(tmp_path, "ex01_perceptron (1).ipynb", nb, 1_800_000_000)
    found, notes = submission.locate(tmp_path, spec)
    assert found[A1].name == "ex01_perceptron (1).ipynb" and notes[A1].startswith("notebook renamed")
    _write(tmp_path, "ex01_perceptron.ipynb", nb, 1_700_000_000)
    found, notes = submission.locate(tmp_path, spec)
    assert found[A1] == tmp_path / "ex01_perceptron.ipynb" and not notes


# --- 4. the table shows the score after the late penalty ---------------------------------------------

def _late_gradebook(tmp_path, seconds_late):
    from nbgrader.api import Gradebook
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    due = datetime(2026, 1, 10, 17, 0, 0)
    with Gradebook(url) as gb:
        gb.add_assignment(A1, duedate=due)
        gb.add_notebook(A1, A1)
        gb.add_grade_cell("t1", A1, A1, max_score=2.0, cell_type="code")
        gb.add_grade_cell("t2", A1, A1, max_score=3.0, cell_type="code")
        gb.add_student("s1")
    return url, due + timedelta(seconds=seconds_late)


@pytest.mark.parametrize("seconds_late", [0, 3600, 1.5 * 86400, 40 * 86400])
def test_the_table_shows_the_score_after_nbgraders_late_penalty(tmp_path, monkeypatch, seconds_late):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")  # alembic
    from traitlets.config import Config
    from dlcourse_grade import gradebook, report
    from dlcourse_grade.nbgrader_plugins import PercentPerDayLatePenalty
    from dlcourse_grade.results import StudentResult
    url, ts = _late_gradebook(tmp_path, seconds_late)
    result = StudentResult("s1", ts, notebooks=[NotebookResult(A1, "graded", [PartResult("t1", 2.0, 2.0, 2.0),
                                                                              PartResult("t2", 3.0, 1.0, 1.0)])])
    gradebook.record_student(url, "dlcourse", A1, result)
    config = Config()
    config.AssignLatePenalties.plugin_class = PercentPerDayLatePenalty
    config.PercentPerDayLatePenalty.percent_per_day = 10.0
    penalty = gradebook.apply_late_penalties(url, config, A1, result)
    raw = 3.0
    days = math.ceil(seconds_late / 86400) if seconds_late > 0 else 0  # the course's rule, written out
    want = min(raw, raw * days * 0.10)
    assert penalty == pytest.approx(want) and result.late_penalty == pytest.approx(want)
    row = report.student_row(result)
    assert float(row["score"]) == pytest.approx(raw - want) and float(row["raw"]) == raw
    assert float(row["penalty"]) == pytest.approx(want)
    text = report.table([result])
    assert f"{raw - want:g}" in text.splitlines()[2]
    assert (f"-{want:g}" in text.splitlines()[2]) == (want > 0)


# --- 5. the instructor's make targets and zip_collect ------------------------------------------------

def _make_n(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    out = subprocess.run(["make", "--no-print-directory", "-n", *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env=env)  # as a top-level make, also when the tests run under `make test`
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_make_formgrader_allows_root_only_as_root():
    line = _make_n("formgrader")
    assert "jupyter lab" in line and "--no-browser" in line
    assert ("--allow-root" in line) == (os.geteuid() == 0)


def test_make_zip_collect_reaches_force():
    assert "--force" in _make_n("zip-collect", "ASSIGNMENT=ex01_perceptron", "FORCE=1")
    assert "--force" not in _make_n("zip-collect", "ASSIGNMENT=ex01_perceptron")


def _zip_course(tmp_path):
    course = tmp_path / "course"
    archive = course / "downloaded" / A1 / "archive"
    archive.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text((ROOT / "exercises" / "nbgrader_config.py").read_text())
    release = course / "release" / A1
    release.mkdir(parents=True)
    nb = nbformat.writes(_step_notebook(STEP))
    (release / f"{A1}.ipynb").write_text(nb)
    return course, archive, nb


def _zip_collect(course, *extra):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "zip_collect", A1, *extra], cwd=course,
                          capture_output=True, text=True, timeout=120, env=env)


def _read_ts(path):
    from nbgrader.utils import parse_utc
    return parse_utc(path.read_text())


def test_zip_collect_writes_the_downloads_times_keeps_the_newer_copy_and_reruns(tmp_path):
    """Oracle: the times set here on the downloaded files (a zip entry's date, a loose file's mtime)."""
    import zipfile
    course, archive, nb = _zip_course(tmp_path)
    t_loose = datetime(2026, 1, 9, 12, 0, 0, tzinfo=timezone.utc).timestamp()
    loose = archive / f"s1_{A1}.ipynb"
    loose.write_text(nb)
    os.utime(loose, (t_loose, t_loose))
    entry_time = (2026, 1, 11, 8, 30, 0)  # local time, as a zip stores it
    with zipfile.ZipFile(archive / "batch.zip", "w") as zf:
        zf.writestr(zipfile.ZipInfo(f"s2_{A1}.ipynb", date_time=entry_time), nb)
        zf.writestr(zipfile.ZipInfo(f"s1_{A1}.ipynb", date_time=(2026, 1, 8, 9, 0, 0)), nb)  # an older duplicate
    out = _zip_collect(course)
    assert out.returncode == 0, out.stdout + out.stderr
    sub = course / "submitted"
    assert (sub / "s1" / A1 / f"{A1}.ipynb").is_file() and (sub / "s2" / A1 / f"{A1}.ipynb").is_file()
    want_s2 = datetime.fromtimestamp(time.mktime(entry_time + (0, 0, -1)), timezone.utc).replace(tzinfo=None)
    assert _read_ts(sub / "s2" / A1 / "timestamp.txt") == want_s2
    assert _read_ts(sub / "s1" / A1 / "timestamp.txt") == datetime(2026, 1, 9, 12, 0, 0)  # the newer copy's time
    again = _zip_collect(course)
    assert again.returncode != 0 and "--force" in again.stdout + again.stderr  # nbgrader refuses without it
    forced = _zip_collect(course, "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert _read_ts(sub / "s1" / A1 / "timestamp.txt") == datetime(2026, 1, 9, 12, 0, 0)


def test_a_timestamp_group_in_the_name_wins_over_the_file_time(tmp_path):
    course, archive, nb = _zip_course(tmp_path)
    cfg = course / "nbgrader_config.py"
    regexp = r".*/(?P<student_id>[a-z0-9]+)_(?P<timestamp>\d{8}T\d{6}Z)_(?P<file_id>ex\d\d_[a-z0-9]+)\.ipynb$"
    cfg.write_text(cfg.read_text() + f"\nc.FileNameCollectorPlugin.named_regexp = {regexp!r}\n")
    (archive / f"s3_20260112T101500Z_{A1}.ipynb").write_text(nb)
    out = _zip_collect(course)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _read_ts(course / "submitted" / "s3" / A1 / "timestamp.txt") == datetime(2026, 1, 12, 10, 15, 0)


@pytest.fixture(scope="module")
def generated_course(tmp_path_factory):
    """A course with ex01 and ex02 generated by nbgrader itself (its release is what learners get)."""
    sys.path.insert(0, str(ROOT / "tests" / "grade_corpus"))
    try:
        import corpus_build
    finally:
        sys.path.remove(str(ROOT / "tests" / "grade_corpus"))
    root = tmp_path_factory.mktemp("course")
    corpus_build.make_course(root, (A1, "ex02_mlp"))
    return root, corpus_build


def _sanitized(course_root, assignment, nb_dict):
    from dlcourse_grade.course import assignment_spec, load_course
    from dlcourse_grade.steps import SANITIZE, NotebookJob, run_steps
    spec = assignment_spec(load_course(course_root), assignment).notebooks[0]
    job = NotebookJob(SimpleNamespace(assignment=assignment), spec, json.dumps(nb_dict).encode())
    run_steps(job, SANITIZE)
    return job


@pytest.mark.parametrize("assignment", [A1, "ex02_mlp"])
def test_an_honest_notebook_gets_no_nbgrader_warning_but_an_edited_test_cell_does(generated_course, assignment):
    """Oracle: nbgrader's own release (generate_assignment) and its own OverwriteCells warnings."""
    root, build = generated_course
    honest = build.honest(root, assignment)
    job = _sanitized(root, assignment, honest)
    assert not job.flags, [str(f) for f in job.flags]
    edited = json.loads(json.dumps(honest))
    test_cell = next(c for c in edited["cells"] if (c["metadata"].get("nbgrader") or {}).get("grade")
                     and c["cell_type"] == "code" and not c["metadata"]["nbgrader"].get("solution"))
    test_cell["source"] = "pass  # the test removed"
    flags = [str(f) for f in _sanitized(root, assignment, edited).flags]
    assert flags, "an edited test cell must be flagged"


def test_zip_collect_takes_renamed_copies_and_ids_with_underscores(tmp_path):
    """An LMS download where a learner uploaded twice ('ex01_perceptron (1).ipynb', 'ex01_perceptron-2.ipynb')
    and a student id with an underscore: the newer copy is collected under the assignment's own name, with
    its time (oracle: the file times set here), and nobody is skipped."""
    course, archive, nb = _zip_course(tmp_path)
    older, newer = (datetime(2026, 1, 9, h, 0, 0, tzinfo=timezone.utc).timestamp() for h in (8, 12))
    blank = nb.replace("return", "return  ")  # a different text, to tell the copies apart
    for name, text, t in ((f"s4_{A1} (1).ipynb", blank, older), (f"s4_{A1}-2.ipynb", nb, newer),
                          (f"s5_{A1} (1).ipynb", nb, older), (f"s_6_{A1}.ipynb", nb, newer)):
        path = archive / name
        path.write_text(text)
        os.utime(path, (t, t))
    out = _zip_collect(course)
    assert out.returncode == 0, out.stdout + out.stderr
    log = out.stdout + out.stderr
    assert "4 files collected, 1 files skipped" in log and "newer timestamp" in log, log  # the older copy of s4
    sub = course / "submitted"
    assert (sub / "s4" / A1 / f"{A1}.ipynb").read_text() == nb
    assert _read_ts(sub / "s4" / A1 / "timestamp.txt") == datetime(2026, 1, 9, 12, 0, 0)
    assert (sub / "s5" / A1 / f"{A1}.ipynb").is_file() and (sub / "s_6" / A1 / f"{A1}.ipynb").is_file()
