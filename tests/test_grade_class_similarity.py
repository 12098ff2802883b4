"""Learner-to-learner similarity (``dlcourse-grade similarity``): copydetect on the class, report offline.

A small ex01_perceptron course: four honest students with solutions of their own, two who
share a (renamed) copy of a non-trivial helper, one of them with a ``</script><script>``
comment above it. The copying pair is reported, no honest pair is, the HTML
fetches nothing from the network and shows the hostile comment only escaped.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "grade_corpus"))

import corpus_build as build  # noqa: E402

pytestmark = [pytest.mark.xdist_group("dlcourse_grade"), pytest.mark.grading]

A = "ex01_perceptron"
HOSTILE = "</script><script>alert(1)</script>"
FUNCTIONS = ("step", "perceptron_predict", "perceptron_update", "train_perceptron")

#: each honest student's own bodies for the four functions (indented as function bodies)
HONEST = {
    "h1_ada": {
        "step": "return (np.asarray(z) > 0).astype(float)",
        "perceptron_predict": "return step(X @ w + b)",
        "perceptron_update": "err = y - step(x @ w + b)\nreturn w + lr * err * x, float(b + lr * err)",
        "train_perceptron": ("w, b = np.zeros(X.shape[1]), 0.0\nfor _ in range(epochs):\n"
                             "    for xi, yi in zip(X, y):\n        w, b = perceptron_update(xi, yi, w, b, lr)\n"
                             "return w, b"),
    },
    "h2_grace": {
        "step": "z = np.asarray(z)\nreturn np.where(z > 0, 1.0, 0.0).astype(np.result_type(z, np.float32))",
        "perceptron_predict": "scores = np.dot(X, w) + b\nreturn step(scores)",
        "perceptron_update": ("prediction = float(step(np.dot(x, w) + b))\nif prediction == y:\n"
                              "    return w.copy(), float(b)\ndelta = lr * (y - prediction)\n"
                              "return w + delta * x, float(b + delta)"),
        "train_perceptron": ("n, d = X.shape\nweights = np.zeros(d)\nbias = 0.0\nepoch = 0\nwhile epoch < epochs:\n"
                             "    for i in range(n):\n        weights, bias = perceptron_update(X[i], y[i], weights, bias, lr)\n"
                             "    epoch += 1\nreturn weights, bias"),
    },
    "h3_linus": {
        "step": "out = np.zeros_like(np.asarray(z, dtype=float))\nout[np.asarray(z) > 0] = 1.0\nreturn out",
        "perceptron_predict": "return np.array([step(row.dot(w) + b) for row in np.atleast_2d(X)]).reshape(-1)",
        "perceptron_update": ("activation = x.dot(w) + b\nlabel = 1.0 if activation > 0 else 0.0\n"
                              "change = lr * (y - label)\nnew_w = w + change * x\nnew_b = b + change\n"
                              "return new_w, float(new_b)"),
        "train_perceptron": ("params = [np.zeros(len(X[0])), 0.0]\nfor epoch in range(epochs):\n"
                             "    order = list(range(len(X)))\n    for k in order:\n"
                             "        params = list(perceptron_update(X[k], y[k], params[0], params[1], lr))\n"
                             "return params[0], params[1]"),
    },
    "h4_barbara": {
        "step": "return np.heaviside(np.asarray(z, dtype=float), 0.0)",
        "perceptron_predict": "logits = X @ w\nlogits = logits + b\nreturn (logits > 0) * 1.0",
        "perceptron_update": ("mistake = y - (1.0 if float(np.sum(x * w)) + b > 0 else 0.0)\n"
                              "w_next = w.astype(float) + lr * mistake * np.asarray(x, dtype=float)\n"
                              "return w_next, b + lr * mistake"),
        "train_perceptron": ("w = np.zeros(X.shape[-1], dtype=np.float64)\nb = 0.0\nfor rep in range(int(epochs)):\n"
                             "    idx = 0\n    while idx < len(y):\n"
                             "        w, b = perceptron_update(X[idx], y[idx], w, b, lr)\n        idx += 1\n"
                             "return w, float(b)"),
    },
}

#: the shared helper (a learner's own, not the reference's): epochs with a mistake count and early stop
HELPER = '''
def run_epochs(X, y, w, b, lr, epochs, patience=2, verbose=False):
    """Epochs of updates; stops when `patience` epochs in a row make no mistake."""
    history = []
    quiet = 0
    for epoch in range(epochs):
        mistakes = 0
        for x_row, target in zip(X, y):
            before = (w.copy(), b)
            w, b = perceptron_update(x_row, target, w, b, lr)
            if not np.array_equal(before[0], w) or before[1] != b:
                mistakes += 1
        history.append(mistakes)
        if verbose:
            print(f"epoch {epoch}: {mistakes} mistakes, |w| = {np.linalg.norm(w):.3f}")
        quiet = quiet + 1 if mistakes == 0 else 0
        if quiet >= patience and epoch >= 1:
            break
    return w, b, history
'''
RENAMED = (HELPER.replace("run_epochs", "train_loop").replace("history", "log").replace("quiet", "calm")
           .replace("mistakes", "errs").replace("x_row", "sample").replace("target", "label")
           .replace("before", "prev").replace("patience", "wait"))
#: the copiers' own graded functions (distinct from everyone's), their train_perceptron calling the shared helper
C1 = {
    "step": "arr = np.asarray(z)\nreturn np.greater(arr, 0).astype(arr.dtype if arr.dtype.kind == 'f' else float)",
    "perceptron_predict": "return step(np.matmul(X, w) + b)",
    "perceptron_update": ("guess = step(np.inner(x, w) + b)\nstep_size = lr * float(y - guess)\n"
                          "return np.add(w, step_size * x), b + step_size"),
    "train_perceptron": ("w, b, _ = run_epochs(X, y, np.zeros(X.shape[1]), 0.0, lr, epochs, patience=epochs + 1)\n"
                         "return w, b"),
}
C2 = {
    "step": "return np.array(z, dtype=float, copy=True).__gt__(0).astype(float)",
    "perceptron_predict": "predictions = step(np.einsum('nd,d->n', X, w) + b)\nreturn predictions",
    "perceptron_update": ("z = sum(xi * wi for xi, wi in zip(x, w)) + b\ngap = y - (z > 0)\n"
                          "return w + (lr * gap) * x, float(b + lr * gap)"),
    "train_perceptron": ("out = train_loop(X, y, np.zeros(len(X[0])), 0.0, lr, epochs, wait=epochs + 1)\n"
                         "return out[0], out[1]"),
}
COPIERS = {"c1_mallet": (C1, HELPER), "c2_oscar": (C2, "# " + HOSTILE + "\n" + RENAMED)}


def _filled(nb: dict, function: str, body: str) -> dict:
    """The released solution cell of ``function`` with ``body`` in place of the placeholder."""
    cell = nb["cells"][build.cell_index(nb, build.solution_id(nb, function))]
    text = build.src(cell)
    indented = "\n".join("    " + line if line else line for line in body.splitlines())
    new = re.sub(r"[ \t]*# YOUR CODE HERE\n[ \t]*raise NotImplementedError\(\)", lambda m: indented, text)
    assert new != text, text
    return build.set_solution(nb, function, new)


def _notebook(course: Path, bodies: dict, extra: str | None = None) -> dict:
    nb = json.loads((course / "release" / A / f"{A}.ipynb").read_text())
    for f in FUNCTIONS:
        nb = _filled(nb, f, bodies[f])
    if extra:
        nb = build.add_cell_after(nb, build.solution_id(nb, "perceptron_update"), extra)
    return nb


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    course = build.make_course(tmp_path_factory.mktemp("similarity") / "course", (A,))
    for student, bodies in HONEST.items():
        build.submit(course, student, A, _notebook(course, bodies))
    for student, (bodies, helper) in COPIERS.items():
        build.submit(course, student, A, _notebook(course, bodies, helper))
    link = course / "submitted" / "z9_link"
    link.symlink_to(course / "submitted" / "h1_ada")  # a link is never read
    from dlcourse_grade.cli import main

    assert main(["similarity", A, "--course", str(course)]) == 0
    out = course / "dlcourse-grade" / A
    return json.loads((out / "similarity.json").read_text()), (out / "similarity.html").read_text()


def test_the_copying_pair_is_reported_and_no_honest_pair(report):
    data, _ = report
    pairs = {frozenset((p["a"], p["b"])): p for p in data["pairs"]}
    print(json.dumps(data["pairs"], indent=1))
    copied = pairs.get(frozenset(COPIERS))
    assert copied is not None, data
    assert max(copied["a_to_b"], copied["b_to_a"]) >= data["threshold"]
    assert {"run_epochs"} <= set(copied["functions_a"] + copied["functions_b"]) or \
        {"train_loop"} <= set(copied["functions_a"] + copied["functions_b"])
    assert set(pairs) == {frozenset(COPIERS)}, sorted(map(sorted, pairs))
    assert "z9_link" not in data["students"]


def test_the_report_is_offline_and_escapes_learner_code(report):
    _, html = report
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    assert "https://" not in html and "http://" not in html
    assert HOSTILE not in html and "<script>alert(1)" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script") == 1  # the report's own inline toggle script only
