"""Issue 23: a worker grades student after student, and nothing one student leaves reaches the next.

``dlcourse-grade`` workers are reused across the students of a run (and, with ``--jobs 2``,
forked from the grader with its libraries already imported). Learner code never runs in a
worker: each notebook gets a fresh sandbox, kernel, workspace and cgroup, each
verification a fresh sandboxed process. This test checks that from the learner's side.

A *planter* adds a cell that leaves everything it can behind - a file in its working
folder, its home folder and ``/tmp``, a thread that keeps rewriting a file in ``/tmp``, an
IPython start-up file in its home, an environment variable, a global in ``builtins``, a
module in ``sys.modules``, an attribute on NumPy and on ``dlcourse`` and a monkeypatched
``numpy.linalg.norm``, and a process in a session of its own that sleeps on - in the
notebook's kernel and in its verification run alike (its cells run in both). A *probe*
graded after it by the same worker looks for every one of them (:data:`PROBE`): if it
finds any, it prints them and leaves ``step`` undefined, so its ``step`` part scores 0
in the kernel and in verification. The probe must get full marks with nothing found,
and afterwards no process of the planters may be left on the machine.

Two runs: ``--jobs 1`` (one process grades planter then probe) and ``--jobs 2`` with two
planters first (each worker takes one of them first, then probes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "grade_corpus"))

import corpus_build as build  # noqa: E402
import corpus_shared as shared  # noqa: E402
from corpus_cases import A1, FULL1  # noqa: E402

pytestmark = [pytest.mark.xdist_group("dlcourse_grade"), pytest.mark.grading, pytest.mark.slow]

MARK = "dlcourse-leak-7f3a"

PLANT = f'''
import builtins, os, subprocess, sys, threading, time
import numpy as np
MARK = {MARK!r}
for _d in (".", os.path.expanduser("~"), "/tmp", os.environ.get("TMPDIR", "/tmp")):
    try:
        with open(os.path.join(_d, MARK + ".txt"), "w") as _f:
            _f.write(MARK)
    except OSError:
        pass
try:
    _startup = os.path.expanduser("~/.ipython/profile_default/startup")
    os.makedirs(_startup, exist_ok=True)
    with open(os.path.join(_startup, "00-leak.py"), "w") as _f:
        _f.write("import builtins; builtins.dlcourse_leak_startup = 1\\n")
except OSError:
    pass
def _keep_writing():
    while True:
        try:
            with open(f"/tmp/{{MARK}}-thread.txt", "w") as _f:
                _f.write(MARK)
        except OSError:
            pass
        time.sleep(0.05)
threading.Thread(target=_keep_writing, daemon=True).start()
os.environ["DLCOURSE_LEAK"] = MARK
builtins.dlcourse_leak = MARK
sys.modules["dlcourse_leak_module"] = type(sys)("dlcourse_leak_module")
np.dlcourse_leak = MARK
np.linalg.norm = lambda *args, **kwargs: 42.0
try:
    import dlcourse
    from dlcourse import checks
    dlcourse.dlcourse_leak = MARK
    checks.dlcourse_leak = MARK
except ImportError:
    pass
try:
    subprocess.Popen([sys.executable, "-c", f"import time; time.sleep(300)  # {{MARK}}"], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
except OSError:
    pass
'''

PROBE = f'''
import builtins, os, sys
import numpy as np
MARK = {MARK!r}
def _leaks():
    found = []
    for d in (".", os.path.expanduser("~"), "/tmp", os.environ.get("TMPDIR", "/tmp")):
        if os.path.exists(os.path.join(d, MARK + ".txt")):
            found.append("file in " + d)
    if os.path.exists(f"/tmp/{{MARK}}-thread.txt"):
        found.append("file written by a thread in /tmp")
    if os.path.exists(os.path.expanduser("~/.ipython/profile_default/startup/00-leak.py")):
        found.append("IPython start-up file in home")
    if "DLCOURSE_LEAK" in os.environ:
        found.append("environment variable")
    for name in ("dlcourse_leak", "dlcourse_leak_startup"):
        if hasattr(builtins, name):
            found.append("builtins." + name)
    if "dlcourse_leak_module" in sys.modules:
        found.append("module in sys.modules")
    if hasattr(np, "dlcourse_leak"):
        found.append("numpy attribute")
    if float(np.linalg.norm(np.array([3.0, 4.0]))) != 5.0:
        found.append("numpy.linalg.norm monkeypatched")
    try:
        import dlcourse
        from dlcourse import checks
        if hasattr(dlcourse, "dlcourse_leak") or hasattr(checks, "dlcourse_leak"):
            found.append("dlcourse attribute")
    except ImportError:
        pass
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{{pid}}/cmdline", "rb") as f:
                if MARK.encode() in f.read():
                    found.append("process " + pid)
        except OSError:
            continue
    print("LEAKS:", found)
    return found
'''

#: appended to the probe's ``step`` solution: a leak found leaves ``step`` undefined (its part then scores 0)
UNDEFINE = "\nif _leaks():\n    step = None\n"

JOBS1 = ("a1_plant", "a2_probe")
JOBS2 = ("b1_plant", "b2_plant", "b3_probe", "b4_probe", "b5_probe")


def _marked_processes() -> list[str]:
    import psutil

    out = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        if any(MARK in a for a in (p.info["cmdline"] or [])):
            out.append(f"{p.info['pid']}: {' '.join(p.info['cmdline'])[:200]}")
    return out


def _probe_output(course: Path, student: str) -> list[str]:
    """The ``LEAKS: [...]`` lines the probe printed in its kernel (from the autograded notebook)."""
    nb = json.loads((course / "autograded" / student / A1 / f"{A1}.ipynb").read_text())
    lines = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            lines += [ln for ln in text.splitlines() if ln.startswith("LEAKS:")]
    return lines


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    why = shared.ensure_sandbox()
    if why:
        pytest.skip(why)
    root = build.make_course(tmp_path_factory.mktemp("pool") / "course", (A1,))
    honest = build.honest(root, A1)
    planter = build.add_cell_after(honest, "setup", PLANT)
    probe = build.append_to_solution(build.add_cell_after(honest, "setup", PROBE), "step", UNDEFINE)
    for s in JOBS1 + JOBS2:
        build.submit(root, s, A1, planter if s.endswith("_plant") else probe)
    return root


@pytest.mark.parametrize("jobs, students", [(1, JOBS1), (2, JOBS2)], ids=["jobs1", "jobs2"])
def test_nothing_a_student_leaves_reaches_the_next_in_the_same_worker(course, jobs, students):
    """Does every probe graded after a planter (same worker) find no file, variable, global, module
    state, monkeypatch, thread or process of it, in its kernel and its verification run, and score
    full marks; and is no planted process left once the run is over?"""
    out = course / f"pool-jobs{jobs}.json"
    who = [a for s in students for a in ("--student", s)]
    done = build.run_grader(course, A1, jobs, out, *who)
    assert done.returncode == 0, done.stderr[-3000:]
    table = {r["student"]: r for r in json.loads(out.read_text())["students"]}
    for s in students:
        if s.endswith("_plant"):
            continue
        printed = _probe_output(course, s)
        assert printed == ["LEAKS: []"], f"{s} found leftovers in its kernel: {printed}"
        parts = {p["grade_id"]: p["score"] for p in table[s]["parts"]}
        verified = {p["grade_id"]: p["verified"] for p in table[s]["parts"]}
        assert parts == FULL1, f"{s}: {parts} ({table[s]['reasons']})"
        assert verified["step_matches_reference"] == FULL1["step_matches_reference"], table[s]["reasons"]
    assert not _marked_processes(), _marked_processes()
