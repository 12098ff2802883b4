"""Issue 17: a hostile class graded with `--jobs 1` and `--jobs 2`, the grader inside a memory cgroup.

The class (``tests/grade_corpus/hostile_cases.py``) is 22 submissions across ex01_perceptron
and ex02_mlp beside one honest victim. Each run puts ``dlcourse-grade`` (and so everything it
starts) into a fresh cgroup-v1 memory group limited to :data:`MEMORY_LIMIT` and records the
group's peak (``memory.max_usage_in_bytes``) and the wall time. The checks: every student gets
the expected outcome in both runs, the grader exits 0 and was never OOM-killed, the peak and
wall time stay within the documented bounds (``grader/dlcourse_grade/README.md``), and
nothing of ``source/``, the gradebook or the victim is read or changed: their checksums are
the same before and after, and none of the honeypot tokens planted in them appears in
anything the grader wrote (autograded notebooks, JSON reports, its own output).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "grade_corpus"))

import corpus_build as build  # noqa: E402
import corpus_shared as shared  # noqa: E402
import hostile_cases as hostile  # noqa: E402

pytestmark = [pytest.mark.xdist_group("dlcourse_grade"), pytest.mark.grading, pytest.mark.slow]

CASES = hostile.hostile_cases()
HOSTILE = [s for s in CASES if s.student != hostile.VICTIM]
ASSIGNMENTS = (hostile.A1, hostile.A2)
CGROUP_ROOT = Path("/sys/fs/cgroup/memory")
GiB = 1024 ** 3
#: The cgroup's limit: the grader and every sandbox it starts (each notebook's kernel may hold
#: up to 2 GiB, the ``--memory`` default) for ``--jobs 2``, plus 1 GiB for the grader's own processes.
MEMORY_LIMIT = 5 * GiB
#: Documented bounds for this class (grader README): peak of the whole process tree, wall time per run (both
#: assignments). Measured here: 459 / 674 MiB and 72 / 58 s with --jobs 1 / 2 (123 / 98 s on a busy machine).
PEAK_BOUND = 2 * GiB
WALL_BOUND = {1: 300.0, 2: 240.0}


def cgroup_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "creating a memory cgroup needs root"
    if not (CGROUP_ROOT / "cgroup.procs").exists() or not (CGROUP_ROOT / "memory.limit_in_bytes").exists():
        return "no cgroup-v1 memory controller at /sys/fs/cgroup/memory"
    if not os.access(CGROUP_ROOT, os.W_OK):
        return "/sys/fs/cgroup/memory is not writable"
    return None


@dataclass
class Pass:
    """One class run with ``--jobs N``: the JSON tables, exit codes, output, peak memory and wall time."""

    jobs: int
    run: shared.Run = field(default_factory=shared.Run)
    peak: int = 0
    oom_kills: int = 0
    wall: float = 0.0


def _in_cgroup(course: Path, jobs: int, tag: str) -> Pass:
    group = CGROUP_ROOT / f"dlcourse-grade-test-{uuid.uuid4().hex[:8]}"
    group.mkdir()
    out = Pass(jobs)
    try:
        (group / "memory.limit_in_bytes").write_text(str(MEMORY_LIMIT))
        t0 = time.monotonic()
        for a in ASSIGNMENTS:
            table = course / f"{tag}-{a}.json"
            cmd = [sys.executable, "-m", "dlcourse_grade.cli", "autograde", a, "--course", str(course),
                   "--jobs", str(jobs), "--json", str(table), "--cell-timeout", shared.CELL_TIMEOUT]
            wrapped = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(group), *cmd]
            import subprocess

            proc = subprocess.run(wrapped, cwd=course, env=build.grader_env(), capture_output=True, text=True,
                                  errors="replace", timeout=900)
            out.run.returncodes[a], out.run.stdout[a], out.run.stderr[a] = proc.returncode, proc.stdout, proc.stderr
            out.run.tables[a] = json.loads(table.read_text()) if table.exists() else {"students": []}
        out.wall = time.monotonic() - t0
        out.peak = int((group / "memory.max_usage_in_bytes").read_text())
        control = (group / "memory.oom_control").read_text()
        out.oom_kills = int(next((line.split()[1] for line in control.splitlines() if line.startswith("oom_kill ")),
                                 "0"))
    finally:
        for _ in range(50):  # the group can be removed once its last process has gone
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.2)
    return out


def _digest(paths) -> dict[str, str]:
    out = {}
    for p in paths:
        p = Path(p)
        files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
        for q in files:
            out[str(q)] = hashlib.sha256(q.read_bytes()).hexdigest()
    return out


def _plant_honeypots(course: Path) -> None:
    for a in ASSIGNMENTS:
        path = course / "source" / a / f"{a}.ipynb"
        nb = json.loads(path.read_text())
        nb["cells"].append({"cell_type": "markdown", "metadata": {},
                            "source": f"instructor notes {hostile.SOURCE_TOKEN}"})
        path.write_text(json.dumps(nb, indent=1))
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dlcourse") as gb:
        gb.update_or_create_student("zz_honeypot", last_name=hostile.GRADEBOOK_TOKEN, first_name="Honey")


@dataclass
class Hostile:
    course: Path
    first: Pass
    second: Pass
    before: dict
    after: dict


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    why = shared.ensure_sandbox() or cgroup_unavailable()
    if why:
        pytest.skip(why)
    course = tmp_path_factory.mktemp("hostile") / "course"
    build.make_course(course, ASSIGNMENTS)
    _plant_honeypots(course)
    for sub in CASES:
        sub.make(course)
    guarded = [course / "source", *(course / "submitted" / hostile.VICTIM / a for a in ASSIGNMENTS)]
    before = _digest(guarded)
    first = _in_cgroup(course, 1, "jobs1")
    second = _in_cgroup(course, 2, "jobs2")
    return Hostile(course, first, second, before, _digest(guarded))


def _row(p: Pass, student: str, assignment: str) -> dict:
    return next(r for r in p.run.tables[assignment]["students"] if r["student"] == student)


def test_the_class_has_at_least_20_new_hostile_submissions_across_two_assignments():
    """Are there 20 or more distinct hostile students, on both assignments, none from the older corpus?"""
    import corpus_cases

    old = {s.student for s in corpus_cases.class_cases(0, "") + corpus_cases.corpus_cases()}
    assert len(HOSTILE) >= 20 and len({s.student for s in HOSTILE}) == len(HOSTILE)
    assert not {s.student for s in HOSTILE} & old
    assert {s.assignment for s in HOSTILE} == set(ASSIGNMENTS)


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("sub", HOSTILE, ids=[s.student for s in HOSTILE])
def test_each_hostile_submission_gets_its_expected_outcome(hostile_run, sub, jobs):
    """Does every hostile student get the expected scores, status, flags, reasons and tampering verdict?"""
    p = hostile_run.first if jobs == 1 else hostile_run.second
    shared.check_outcome(p.run, sub)


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_victim_is_graded_in_full_on_both_assignments(hostile_run, jobs):
    p = hostile_run.first if jobs == 1 else hostile_run.second
    for a, full in ((hostile.A1, hostile.FULL1), (hostile.A2, hostile.FULL2)):
        row = _row(p, hostile.VICTIM, a)
        assert {q["grade_id"]: q["score"] for q in row["parts"]} == full, row
    # x04 hard-linked the victim's ex01 notebook: both are graded, both flagged for the instructor
    assert "ex01_perceptron.ipynb is a hard link" in _row(p, hostile.VICTIM, hostile.A1)["flags"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_grader_exits_0_within_its_memory_and_time_bounds(hostile_run, jobs):
    """Does each run exit 0, print every student, stay under the peak-memory and wall-time bounds, with no OOM kill?"""
    p = hostile_run.first if jobs == 1 else hostile_run.second
    for a in ASSIGNMENTS:
        assert p.run.returncodes[a] == 0, p.run.stderr[a][-3000:]
        assert "isolation: bwrap" in p.run.stdout[a]
        graded = {r["student"] for r in p.run.tables[a]["students"]}
        assert {s.student for s in CASES if s.assignment == a} | {hostile.VICTIM} <= graded
    print(f"--jobs {jobs}: peak {p.peak / 2 ** 20:.0f} MiB, wall {p.wall:.0f} s")
    assert p.oom_kills == 0, f"the memory cgroup OOM-killed {p.oom_kills} process(es)"
    assert p.peak < PEAK_BOUND, f"peak {p.peak / 2 ** 20:.0f} MiB over the bound {PEAK_BOUND / 2 ** 20:.0f} MiB"
    assert p.wall < WALL_BOUND[jobs], f"wall {p.wall:.0f} s over the bound {WALL_BOUND[jobs]:.0f} s"


def test_source_and_the_victim_are_unchanged(hostile_run):
    """Are source/ and the victim's folders byte for byte what they were before both runs?"""
    assert hostile_run.after == hostile_run.before


def test_no_honeypot_reaches_anything_the_grader_wrote(hostile_run):
    """Does no token planted in source/, the gradebook or the victim's notes appear in the autograded
    notebooks, the JSON reports or the grader's output, and is the gradebook's honeypot row intact?"""
    course = hostile_run.course
    written = [p for d in ("autograded", "dlcourse-grade") for p in (course / d).rglob("*") if p.is_file()]
    assert len(written) > 40
    texts = {str(p): p.read_bytes() for p in written}
    for p in (hostile_run.first, hostile_run.second):
        for a in ASSIGNMENTS:
            texts[f"stdout {p.jobs} {a}"] = (p.run.stdout[a] + p.run.stderr[a]).encode()
    for token in hostile.TOKENS:
        leaks = [name for name, data in texts.items() if token.encode() in data]
        assert not leaks, f"{token} leaked into {leaks[:5]}"
    con = sqlite3.connect(course / "gradebook.db")
    row = con.execute("select last_name from student where id = 'zz_honeypot'").fetchone()
    assert row == (hostile.GRADEBOOK_TOKEN,), row
    con.close()


def test_the_readers_found_nothing_of_the_course(hostile_run):
    """Did the cells that looked for source/, the gradebook and the victim read nothing and write nowhere?"""
    for student, a in (("x01_hardlinks", hostile.A1), ("x05_symlinks", hostile.A1), ("x20_reader", hostile.A2)):
        nb = json.loads((hostile_run.course / "autograded" / student / a / f"{a}.ipynb").read_text())
        text = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
        assert "read: [" in text, f"{student}: the reader cell did not run: {text[:300]}"
        assert "('wrote'" not in text, f"{student}: a write outside the workspace succeeded"
        assert "gradebook.db" not in text and "/source/" not in text, f"{student}: saw course files: {text[:500]}"


def test_nothing_active_survives_in_the_autograded_notebooks(hostile_run):
    """Do the autograded notebooks of the payload students hold no JavaScript output and no raw <script>?"""
    for student, a in (("x08_markdown_payloads", hostile.A1), ("x19_html_outputs", hostile.A2)):
        nb = json.loads((hostile_run.course / "autograded" / student / a / f"{a}.ipynb").read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                assert "<script" not in "".join(cell["source"]).lower(), cell["source"][:300]
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                assert "application/javascript" not in data
                assert "<script" not in "".join(data.get("text/html", "")).lower()
