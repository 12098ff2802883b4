"""Issue 18: the verification run decides in-place changes on the trusted side and refuses imports.

Unit level, no sandbox users: verification runs with ``Isolation("none")`` (a plain child
process that still has torch, scipy and the reference on its path, so the import rule alone
must refuse them). Each oracle is independent of the code under test: the solutions are written
out here, the modules refused are named here, and a mutation is an assignment into an argument.
"""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest
from nbformat.v4 import new_notebook

pytest.importorskip("nbgrader", reason="the grader needs nbgrader (pip install ./grader)")

from dlcourse.checks import assignments  # noqa: E402
from dlcourse_grade import verify  # noqa: E402
from dlcourse_grade.course import CellSpec, NotebookSpec  # noqa: E402
from dlcourse_grade.results import FlagKind, NotebookResult, PartResult  # noqa: E402
from dlcourse_grade.sandbox import Isolation, Limits  # noqa: E402
from nbgrader_cells import nbgrader_cell  # noqa: E402

STEP = "def step(z):\n    return np.where(np.asarray(z, dtype=float) > 0, 1.0, 0.0)\n"
UPDATE = ("def perceptron_update(x, y, w, b, lr):\n    err = y - float(step(x @ w + b))\n"
          "    return w + lr * err * x, b + lr * err\n")
MUTATING_UPDATE = ("def perceptron_update(x, y, w, b, lr):\n    err = y - float(step(x @ w + b))\n"
                   "    w += lr * err * x\n    return w, b + lr * err\n")
SIGMOID = ("def sigmoid(z):\n    e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n")


def _verify(tmp_path, assignment, solutions: dict[str, str], extra_cells=(), files=None):
    """Verify the parts whose functions ``solutions`` defines (function name -> source); ``{grade_id: score}`` and flags."""
    parts = [p for p in assignments.parts(assignment) if p.function in solutions]
    cells = [nbgrader_cell("code", "import numpy as np", "setup", locked=True)]
    cells += [nbgrader_cell("code", src, f"extra_{i}") for i, src in enumerate(extra_cells)]
    cells += [nbgrader_cell("code", src, f"{fn}_solution", solution=True) for fn, src in solutions.items()]
    specs = []
    for p in parts:
        src = f"checks.check({p.grade_id!r}, {p.function})"
        cells.append(nbgrader_cell("code", src, p.grade_id, grade=True, locked=True, points=float(p.points)))
        specs.append(CellSpec(p.grade_id, "code", True, src, "c", grade=True, points=float(p.points)))
    submitted = tmp_path / "submitted"
    submitted.mkdir(parents=True, exist_ok=True)
    for name, text in (files or {}).items():
        (submitted / name).write_text(text)
    task = SimpleNamespace(assignment=assignment, seed=11, submitted=str(submitted), base=str(tmp_path), slot=0,
                           iso=Isolation("none", ""), limits=Limits(), spec=SimpleNamespace(source_dir=None))
    result = NotebookResult(assignment, "graded", [PartResult(p.grade_id, float(p.points), float(p.points),
                                                              float(p.points)) for p in parts], [])
    verify.verify_notebook(task, NotebookSpec(assignment, tuple(specs)), new_notebook(cells=cells), result)
    return {pr.grade_id: pr.verified for pr in result.parts}, result.flags


# ---- 3. in-place changes, decided by the grader ------------------------------------------------------
PATCH_CHANGED = "import sys\nsys.modules['_call'].changed = lambda before, after: False\n"
PATCH_CALL = ("import sys\n_real = sys.modules['_call'].call\n"
              "def _lying(*a, **k):\n    rec = _real(*a, **k)\n    rec['mutated'] = []\n    return rec\n"
              "sys.modules['_call'].call = _lying\n")

MUTATION = [  # (what, extra cells, update source, update part's expected score)
    ("mutates w", (), MUTATING_UPDATE, 0.0),
    ("mutates w, patches _call.changed", (PATCH_CHANGED,), MUTATING_UPDATE, 0.0),
    ("mutates w, patches _call.call to report nothing", (PATCH_CALL,), MUTATING_UPDATE, 0.0),
    ("honest", (), UPDATE, 2.0),
    ("honest, works on a copy in place", (), "def perceptron_update(x, y, w, b, lr):\n    w = w.copy()\n"
     "    err = y - float(step(x @ w + b))\n    w += lr * err * x\n    return w, b + lr * err\n", 2.0),
    ("honest, changes w and puts it back", (), "def perceptron_update(x, y, w, b, lr):\n    old = w.copy()\n"
     "    err = y - float(step(x @ w + b))\n    w *= 2\n    new = old + lr * err * x\n    w[...] = old\n"
     "    return new, b + lr * err\n", 2.0),
]


@pytest.mark.parametrize("what,extra,update,expected", MUTATION, ids=[m[0] for m in MUTATION])
def test_in_place_changes_are_found_by_the_grader(tmp_path, what, extra, update, expected):
    """Does an in-place change of an input lose the part even when the in-sandbox check is patched?"""
    scores, _ = _verify(tmp_path, "ex01_perceptron", {"step": STEP, "perceptron_update": update}, extra)
    assert scores["update_matches_reference"] == expected, (what, scores)
    assert scores["step_matches_reference"] == 1.0


def test_arguments_that_do_not_come_back_count_as_changed(tmp_path):
    """Does an outcome whose arguments' state is missing or unreadable count each array argument as changed?"""
    part = assignments.get_part("update_matches_reference")
    case = part.cases(3)[0]
    assert verify.mutated_arguments(case, None, part.params, tmp_path) == ("x", "w")
    assert verify.mutated_arguments(case, {"args": [{"nd": "nothere"}] * 5}, part.params, tmp_path) == ("x", "w")


# ---- 4. imports outside the exercise's allow-list ----------------------------------------------------
def _path_of(name):
    spec = importlib.util.find_spec(name)
    return spec.origin if spec else None


TORCH, SCIPY = _path_of("torch"), _path_of("scipy")
needs_torch = pytest.mark.skipif(TORCH is None, reason="torch is not installed here: nothing to refuse")
needs_scipy = pytest.mark.skipif(SCIPY is None, reason="scipy is not installed here: nothing to refuse")

CHEATS = [  # (what, extra cells, sigmoid source, module the flag names)
    pytest.param("scipy expit", (), "from scipy.special import expit\ndef sigmoid(z):\n    return expit(z)\n",
                 "scipy", marks=needs_scipy),
    pytest.param("scipy imported inside", (), "def sigmoid(z):\n    import scipy.special\n"
                 "    return scipy.special.expit(z)\n", "scipy", marks=needs_scipy),
    pytest.param("importlib.import_module", (), "import importlib\ndef sigmoid(z):\n"
                 "    return importlib.import_module('torch').sigmoid(importlib.import_module('torch')"
                 ".from_numpy(z)).numpy()\n", "torch", marks=needs_torch),
    pytest.param("__import__", (), "def sigmoid(z):\n    t = __import__('torch')\n"
                 "    return t.sigmoid(t.from_numpy(z)).numpy()\n", "torch", marks=needs_torch),
    pytest.param("meta_path cleared", ("import sys\nsys.meta_path[:] = [f for f in sys.meta_path "
                                       "if type(f).__name__ != 'ImportPolicy']\n",),
                 "def sigmoid(z):\n    import torch\n    return torch.sigmoid(torch.from_numpy(z)).numpy()\n",
                 "torch", marks=needs_torch),
    pytest.param("spec_from_file_location", (), "import importlib.util\ndef sigmoid(z):\n"
                 f"    spec = importlib.util.spec_from_file_location('sp', {str(SCIPY)!r})\n"
                 "    m = importlib.util.module_from_spec(spec)\n    spec.loader.exec_module(m)\n"
                 "    return m.special.expit(z)\n", "scipy", marks=needs_scipy),
    pytest.param("sys.modules pre-seeded", ("import sys\nsys.modules.pop('dlcourse', None)\n",),
                 "def sigmoid(z):\n    from dlcourse.activations import sigmoid as s\n    return s(z)\n", "dlcourse"),
]


@pytest.mark.parametrize("what,extra,source,module", CHEATS)
def test_an_import_outside_the_allow_list_costs_the_part_and_is_flagged(tmp_path, what, extra, source, module):
    """Does a sigmoid that reaches torch, scipy or the reference score 0, with a flag naming the module?"""
    scores, flags = _verify(tmp_path, "ex02_mlp", {"sigmoid": source}, extra)
    assert scores["sigmoid_matches_reference"] == 0.0 and scores["sigmoid_is_stable"] == 0.0, (what, scores)
    named = [f for f in flags if f.kind == FlagKind.IMPORT and f"imports {module}," in f.text]
    assert named, (what, [f.text for f in flags])


HONEST = [  # (what, extra cells, sigmoid source, files beside the notebook)
    ("numpy only", (), SIGMOID, None),
    ("math and the standard library", (), "import math, functools\ndef sigmoid(z):\n"
     "    f = np.vectorize(lambda v: 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v)))\n"
     "    return f(z).astype(np.asarray(z).dtype)\n", None),
    ("from numpy import", (), "from numpy import exp, abs as np_abs, where\ndef sigmoid(z):\n"
     "    e = exp(-np_abs(z))\n    return where(z >= 0, 1 / (1 + e), e / (1 + e))\n", None),
    ("a helper module of their own", (), "from my_helpers import stable_sigmoid as sigmoid\n",
     {"my_helpers.py": "import numpy as np\n" + SIGMOID.replace("def sigmoid", "def stable_sigmoid")}),
    ("tries scipy, falls back", (), "try:\n    from scipy.special import expit\nexcept ImportError:\n"
     "    expit = None\n" + SIGMOID, None),
    ("matplotlib in a plotting cell", ("import matplotlib.pyplot as plt\nplt.plot([1, 2])\n",), SIGMOID, None),
]


@pytest.mark.parametrize("what,extra,source,files", HONEST, ids=[h[0] for h in HONEST])
def test_honest_imports_keep_full_marks(tmp_path, what, extra, source, files):
    """Does a sigmoid written with the standard library, numpy's names or its own helper file keep full marks?"""
    scores, flags = _verify(tmp_path, "ex02_mlp", {"sigmoid": source}, extra, files)
    assert scores == {"sigmoid_matches_reference": 1.0, "sigmoid_is_stable": 1.0}, (what, scores)
    part_flags = [f.text for f in flags if f.part is not None or f.for_instructor]
    assert not part_flags, (what, part_flags)


def test_sympy_is_allowed_where_the_exercise_needs_it(tmp_path):
    """Does ex03's SymPy part keep full marks with SymPy imported (its allow-list) and no flag?"""
    pytest.importorskip("sympy", reason="SymPy is not installed")
    source = ("import sympy as sp\ndef derivative_with_sympy(expression, z):\n    x = sp.Symbol('x')\n"
              "    d = sp.diff(sp.sympify(expression), x)\n"
              "    return np.asarray(sp.lambdify(x, d, 'numpy')(np.asarray(z, float)) + 0 * np.asarray(z, float), float)\n")
    scores, flags = _verify(tmp_path, "ex03_derivatives", {"derivative_with_sympy": source})
    assert scores == {"sympy_derivative_matches_reference": 1.0}, (scores, [f.text for f in flags])
    assert not [f for f in flags if f.kind == FlagKind.IMPORT], [f.text for f in flags]


def test_the_refused_packages_are_hidden_from_the_sandbox():
    """Are the reference and the other frameworks covered by empty folders in the verification sandbox?"""
    hidden = verify._hidden_paths()
    from dlcourse_grade.sandbox import python_roots
    for name in ("dlcourse", "torch", "scipy"):
        origin = _path_of(name)
        if origin is None or not any(origin.startswith(r + "/") for r in python_roots()):
            continue  # not installed, or an editable install outside the bound installation
        assert any(origin.startswith(h + "/") for h in hidden), (name, hidden)
