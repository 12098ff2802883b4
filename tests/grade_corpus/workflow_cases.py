"""Issue 18's class for the instructor workflow (tests/test_grade_workflow.py): cheats of each kind and honest
work written the unusual ways learners write it, across ex01_perceptron and ex02_mlp, with expected outcomes.

Each :class:`Case` makes one student's notebook for one assignment from the course's release (``notebook(course)``),
says how it reaches the course (``how``: ``"zip"`` through the LMS download and ``make zip-collect``, ``"copies"``
placed in ``submitted/`` by hand as two renamed copies) and what ``dlcourse-grade`` must record: every part's score
(``None`` = written answer, left for manual grading), texts that must be among the flags, and whether the
submission is flagged for the instructor (``for_instructor``: a flag that asks a human to look).

Student ids use no underscore: the course's zip_collect pattern is ``<student_id>_<notebook>.ipynb``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from corpus_build import add_cell_after, append_to_solution, cell_index, honest, set_solution, solution_id, src
from corpus_cases import A1, A2, FD_STDERR, FULL1, FULL2, MUTATES, full

DUE_A1 = "2026-01-10 17:00:00 UTC"
ON_TIME = 1768046400    # 2026-01-10 12:00:00 UTC: before the due date
LATE = 1768194000       # 2026-01-12 05:00:00 UTC: 36 h late, two started days, 20 % off
OLDER = 1767960000      # 2026-01-09 12:00:00 UTC: an earlier upload of the same notebook
SLEEPS = 12             # sleeping cells of the sleeper, each just under the cell limit
CELL_TIMEOUT = 10       # --cell-timeout of the class run (honest cells take < 1 s)
BUDGET = 40             # --student-timeout of the class run: the sleeper would need SLEEPS * 9.5 s
AUTO0_1 = {k: (None if v is None else 0.0) for k, v in FULL1.items()}


@dataclass
class Case:
    student: str
    assignment: str
    kind: str
    notebook: Callable  # course -> nb dict
    scores: dict
    flags: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    for_instructor: bool = False
    honest: bool = False
    how: str = "zip"
    mtime: int = ON_TIME
    late_days: int = 0

    @property
    def expected(self) -> str:
        lost = sorted(k for k, v in self.scores.items() if v is not None and v < (FULL1 | FULL2)[k])
        text = "full marks" if not lost else "0 on " + ", ".join(lost)
        if self.flags:
            text += "; flag " + " / ".join(repr(f) for f in self.flags)
        elif self.honest:
            text += "; no flag for the instructor"
        if self.late_days:
            text += f"; late {self.late_days} day(s): -{10 * self.late_days} %"
        return text


# ---- cheats ---------------------------------------------------------------------------------------------

ERRSTATE_SIGMOID = '''
def sigmoid(z):
    """The textbook formula; the warnings are just noise, so switch them off."""
    with np.errstate(all="ignore"):
        return (1 / (1 + np.exp(-z))).astype(z.dtype)
'''
ERRSTATE_SOFTMAX = '''
def softmax(Z):
    with np.errstate(all="ignore"):
        e = np.exp(Z)
        return e / e.sum(axis=1, keepdims=True)
'''
PATCHED_CHECK = '''
# the checks complain that my update "changes its input": hand them copies
_real_check = checks.check
def _check_with_copies(grade_id, fn, *args, **kwargs):
    def on_copies(*a, **k):
        return fn(*[x.copy() if isinstance(x, np.ndarray) else x for x in a], **k)
    return _real_check(grade_id, on_copies, *args, **kwargs)
checks.check = _check_with_copies
'''
TORCH_TRAIN = '''
def train_perceptron(X, y, lr=0.1, epochs=10):
    import torch
    Xt, yt = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    w, b = torch.zeros(Xt.shape[1], dtype=torch.float64), 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(Xt, yt):
            err = float(y_i) - (1.0 if float(x_i @ w + b) > 0 else 0.0)
            w, b = w + lr * err * x_i, b + lr * err
    return w.numpy(), float(b)
'''
SCIPY_TANH = '''
def tanh(z):
    from scipy.special import expit
    return (2 * expit(2 * z) - 1).astype(z.dtype)
'''
REFERENCE_UPDATE = '''
def perceptron_update(x, y, w, b, lr):
    from dlcourse.checks.assignments import ex01_perceptron as course_answers
    return course_answers.ref_update(x, y, w, b, lr)
'''
#: the reference's update (dlcourse.checks.assignments.ex01_perceptron.ref_update) renamed, one statement split
SPLIT_COPY = '''
def perceptron_update(x, y, w, b, lr):
    net = np.asarray(x) @ w + b
    err = y - float(step(net))
    return w + lr * err * np.asarray(x), float(b + lr * err)
'''
#: the same, its body moved into a helper behind a one-line graded function
HELPER_COPY = '''
def _rosenblatt(xx, yy, ww, bb, rate):
    e = yy - float(step(np.asarray(xx) @ ww + bb))
    return ww + rate * e * np.asarray(xx), float(bb + rate * e)

def perceptron_update(x, y, w, b, lr):
    return _rosenblatt(x, y, w, b, lr)
'''
SLEEP_CELL = f"import time\ntime.sleep({CELL_TIMEOUT - 0.5})  # 'training' (just under the cell limit)\n"


def _key(value):
    a = np.asarray(value)
    return f"{a.dtype.str}{a.shape}{a.tobytes().hex()}"


def lookup_table(grade_id: str, function: str, params: str) -> str:
    """A function answering from a table of every input the learner can know (the visible cases and the
    hidden fixed ones at the course seed, all public), else zeros: what copying the printed answers gives."""
    from dlcourse.checks import assignments
    import dlcourse_grade.hidden as hidden

    part = assignments.get_part(grade_id)
    table = {}
    for case in part.cases(None) + hidden.hidden_cases(part, None):
        args, kwargs = case.materialize()
        out = part.expected(case)
        key = "|".join(_key(a) for a in args)
        table[key] = [np.asarray(o).tolist() for o in out] if isinstance(out, tuple) else np.asarray(out).tolist()
    names = [p.split("=")[0].strip() for p in params.split(",")]
    tuple_out = grade_id == "training_matches_reference"
    fallback = "np.zeros(np.shape(X)[1]), 0.0" if tuple_out else "np.zeros((np.shape(X)[0], np.shape(W2)[1]))"
    answer = "np.asarray(ANSWERS[key][0]), float(ANSWERS[key][1])" if tuple_out else "np.asarray(ANSWERS[key])"
    return (f"ANSWERS = {json.dumps(table)}\n\n"
            "def _key(v):\n    a = np.asarray(v)\n    return f'{a.dtype.str}{a.shape}{a.tobytes().hex()}'\n\n"
            f"def {function}({params}):\n"
            f"    key = '|'.join(_key(a) for a in ({', '.join(names)},))\n"
            f"    if key in ANSWERS:\n        return {answer}\n"
            f"    return {fallback}\n")


def _sleeper(nb):
    for _ in range(SLEEPS):
        nb = add_cell_after(nb, "setup", SLEEP_CELL)
    return nb


def _under_magics(nb, magics):
    nb = json.loads(json.dumps(nb))
    for fn, magic in magics.items():
        cell = nb["cells"][cell_index(nb, solution_id(nb, fn))]
        cell["source"] = magic + "\n" + src(cell)
    return nb


OWN_UPDATE = '''
def perceptron_update(x, y, w, b, lr):
    # my own version: predict, compare, and only move when wrong
    prediction = 1.0 if np.dot(x, w) + b > 0 else 0.0
    if prediction == y:
        return w.copy(), b
    direction = y - prediction
    new_w = np.array([wi + lr * direction * xi for wi, xi in zip(w, x)])
    return new_w, b + lr * direction
'''
OWN_SOFTMAX = '''
def softmax(Z):
    rows = []
    for row in Z:
        shifted = row - row.max()
        ex = np.exp(shifted)
        rows.append(ex / ex.sum())
    return np.array(rows, dtype=Z.dtype)
'''


def _h(course, a):
    return honest(course, a)


def cases() -> list[Case]:
    f1, f2 = FULL1, FULL2
    near = dict(flags=["near copy"], for_instructor=True)
    return [
        # ---- ex01_perceptron: collected from the LMS download ------------------------------------------
        Case("w01-honest", A1, "honest", lambda c: _h(c, A1), f1, honest=True),
        Case("w02-lookup", A1, "cheat: lookup table keyed on the visible/fixed inputs (train_perceptron)",
             lambda c: set_solution(_h(c, A1), "train_perceptron",
                                    lookup_table("training_matches_reference", "train_perceptron",
                                                 "X, y, lr=0.1, epochs=10")),
             full(f1, training_matches_reference=0.0), flags=["possible tampering"], for_instructor=True),
        Case("w03-mutates", A1, "cheat: update changes w in place, checks.check patched to hand it copies",
             lambda c: add_cell_after(set_solution(_h(c, A1), "perceptron_update", MUTATES), "setup", PATCHED_CHECK),
             full(f1, update_matches_reference=0.0), reasons=["in place"], flags=["possible tampering"],
             for_instructor=True),
        Case("w04-torch", A1, "cheat: train_perceptron written with torch",
             lambda c: set_solution(_h(c, A1), "train_perceptron", TORCH_TRAIN),
             full(f1, training_matches_reference=0.0), flags=["imports torch"], for_instructor=True),
        Case("w05-reference", A1, "cheat: perceptron_update imports the reference (dlcourse) and calls it",
             lambda c: set_solution(_h(c, A1), "perceptron_update", REFERENCE_UPDATE),
             full(f1, update_matches_reference=0.0, training_matches_reference=0.0),
             flags=["imports dlcourse"], for_instructor=True),
        Case("w06-split-copy", A1, "cheat: near copy of the reference's update, a statement split",
             lambda c: set_solution(_h(c, A1), "perceptron_update", SPLIT_COPY), f1, **near),
        Case("w07-helper-copy", A1, "cheat: near copy of the reference's update moved into a helper",
             lambda c: set_solution(_h(c, A1), "perceptron_update", HELPER_COPY), f1, **near),
        Case("w08-sleeper", A1, f"cheat: sleeper, {SLEEPS} cells sleeping just under the cell limit",
             lambda c: _sleeper(_h(c, A1)), AUTO0_1, flags=[f"time budget of {BUDGET:g} s"],
             reasons=["was spent"]),
        Case("w09-timed", A1, "honest: every solution cell under %%time",
             lambda c: _under_magics(_h(c, A1), {f: "%%time" for f in ("step", "perceptron_predict",
                                                                      "perceptron_update", "train_perceptron")}),
             f1, honest=True),
        Case("w10-two-uploads", A1, "honest: two uploads in the LMS download (an older blank one in the zip)",
             lambda c: _h(c, A1), f1, honest=True, how="zip+older"),
        Case("w11-fd-stderr", A1, "honest: step writes to stderr with os.write(2, ...)",
             lambda c: append_to_solution(_h(c, A1), "step", FD_STDERR), f1, honest=True),
        Case("w12-late", A1, "honest, submitted 36 h after the due date",
             lambda c: _h(c, A1), f1, honest=True, mtime=LATE, late_days=2),
        Case("w13-own-way", A1, "honest: its own update (np.dot, early return, a list comprehension)",
             lambda c: set_solution(_h(c, A1), "perceptron_update", OWN_UPDATE), f1, honest=True),
        # ---- ex02_mlp -----------------------------------------------------------------------------------
        Case("w01-honest", A2, "honest", lambda c: _h(c, A2), f2, honest=True),
        Case("w14-errstate-sigmoid", A2, "cheat: naive sigmoid under np.errstate(all='ignore')",
             lambda c: set_solution(_h(c, A2), "sigmoid", ERRSTATE_SIGMOID),
             full(f2, sigmoid_is_stable=0.0)),
        Case("w15-errstate-softmax", A2, "cheat: naive softmax under np.errstate(all='ignore')",
             lambda c: set_solution(_h(c, A2), "softmax", ERRSTATE_SOFTMAX),
             full(f2, softmax_is_stable=0.0)),
        Case("w16-scipy", A2, "cheat: tanh from scipy.special.expit",
             lambda c: set_solution(_h(c, A2), "tanh", SCIPY_TANH),
             full(f2, tanh_matches_reference=0.0), flags=["imports scipy", "possible tampering"],
             for_instructor=True),
        Case("w17-lookup", A2, "cheat: lookup table keyed on the visible/fixed inputs (mlp_forward)",
             lambda c: set_solution(_h(c, A2), "mlp_forward",
                                    lookup_table("mlp_forward_matches_reference", "mlp_forward",
                                                 "X, W1, b1, W2, b2")),
             full(f2, mlp_forward_matches_reference=0.0)),
        Case("w18-renamed-copies", A2, "honest: two renamed copies, 'ex02_mlp (1).ipynb' and newer 'ex02_mlp-2.ipynb'",
             lambda c: _h(c, A2), f2, flags=["graded ex02_mlp-2.ipynb", "not graded: ex02_mlp (1).ipynb"],
             honest=True, how="copies"),
        Case("w19-magics", A2, "honest: %%time and %%capture cells around solutions",
             lambda c: _under_magics(_h(c, A2), {"sigmoid": "%%time", "softmax": "%%capture out",
                                                 "mlp_forward": "%%time"}), f2, honest=True),
        Case("w20-own-softmax", A2, "honest: a row-by-row softmax loop of its own",
             lambda c: set_solution(_h(c, A2), "softmax", OWN_SOFTMAX), f2, honest=True),
        Case("w11-fd-stderr", A2, "honest: relu writes to stderr with os.write(2, ...)",
             lambda c: append_to_solution(_h(c, A2), "relu",
                                          "import os\n_quiet_relu = relu\ndef relu(z):\n"
                                          "    os.write(2, b'relu called\\n')\n    return _quiet_relu(z)\n"),
             f2, honest=True),
    ]


#: in the roster, never submits: a row in grades.csv with nothing earned
ABSENT = "w21-absent"
