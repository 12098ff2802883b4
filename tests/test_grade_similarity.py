"""Near copies of the reference across the whole notebook (dlcourse_grade.similarity): pure functions, no sandbox.

The oracle is the real reference code (``reference_sources``): each copy below is made by
transforming it (renaming, splitting a statement, moving the body into a helper, swapping
two independent statements); the honest variants are independent solutions written here.
"""

from __future__ import annotations

import ast
import builtins
import copy
import inspect
import json
from pathlib import Path

import pytest

from dlcourse.checks import assignments
from dlcourse_grade.similarity import (MIN_TOKENS, THRESHOLD, best_similarity, learner_function, near_copy,
                                       reference_sources, tokens)

ROOT = Path(__file__).resolve().parents[1]

#: part -> the learner's names for the reference's own module helpers it calls
PARTS = {
    "training_matches_reference": {"ref_update": "perceptron_update", "ref_step": "step"},
    "update_matches_reference": {"ref_step": "step"},
    "backprop_matches_reference": {},
    "mlp_forward_caches_match_reference": {},
    "mlp_backward_matches_reference": {},
}


def _source_cells(assignment: str) -> list[str]:
    nb = json.loads((ROOT / "exercises" / "source" / assignment / f"{assignment}.ipynb").read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _reference_def(part) -> ast.FunctionDef:
    ref = reference_sources(part.reference)[0]
    assert ref.name == part.reference.__name__
    return copy.deepcopy(ref)


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.mapping.get(node.arg, node.arg)
        return node

    def visit_FunctionDef(self, node):
        node.name = self.mapping.get(node.name, node.name)
        self.generic_visit(node)
        return node


def _module_helpers(part, fn: ast.FunctionDef) -> list[ast.FunctionDef]:
    """The reference module's own functions that ``fn`` calls (transitively), as a copier would take them."""
    module = inspect.getmodule(part.reference)
    out, todo, seen = [], [fn], {fn.name}
    while todo:
        node = todo.pop()
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id not in seen and inspect.isfunction(getattr(module, n.id, None)) \
                    and getattr(module, n.id).__module__ == module.__name__:
                seen.add(n.id)
                helper = ast.parse(inspect.getsource(getattr(module, n.id))).body[0]
                out.append(helper)
                todo.append(helper)
    return out


def _renaming(part, defs) -> dict[str, str]:
    """Every local, parameter and helper gets a new name (the graded function its learner name)."""
    names = {part.reference.__name__: part.function, **PARTS[part.grade_id]}
    for d in defs:
        names.setdefault(d.name, f"my_{d.name.strip('_')}_helper")
        for n in ast.walk(d):
            name = n.arg if isinstance(n, ast.arg) else n.id if isinstance(n, ast.Name) and \
                isinstance(n.ctx, ast.Store) else None
            if name and name not in names and not hasattr(builtins, name):
                names[name] = f"q_{name.lower()}_{len(names)}"
    return names


def _strip(fn: ast.FunctionDef) -> ast.FunctionDef:
    """No docstring, no function-level imports of dlcourse (a copier drops those)."""
    fn.body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               and not isinstance(s, (ast.Import, ast.ImportFrom))]
    return fn


def _copy(part) -> list[ast.FunctionDef]:
    """The reference and the module helpers it calls, renamed throughout: [graded function, helpers...]."""
    main = _strip(_reference_def(part))
    defs = [main] + [_strip(h) for h in _module_helpers(part, main) if h.name not in PARTS[part.grade_id]]
    renamer = _Renamer(_renaming(part, defs))
    return [renamer.visit(d) for d in defs]


def _split(fn: ast.FunctionDef) -> ast.FunctionDef:
    """One statement split in two: an inner binary operation goes into a temporary first (in any block)."""
    blocks = [fn.body] + [getattr(n, f) for n in ast.walk(fn) if n is not fn for f in ("body", "orelse")
                          if isinstance(getattr(n, f, None), list) and getattr(n, f)
                          and isinstance(getattr(n, f)[0], ast.stmt)]
    for body in blocks:
        for k, stmt in enumerate(body):
            if not isinstance(stmt, (ast.Assign, ast.Return)) or stmt.value is None:
                continue
            inner = next((n for n in ast.walk(stmt.value) if isinstance(n, ast.BinOp) and n is not stmt.value),
                         None) or next((n for n in ast.walk(stmt.value) if isinstance(n, ast.Call)
                                        and n is not stmt.value), None)
            if inner is None:
                continue
            temp = ast.Assign(targets=[ast.Name("tmp_part", ast.Store())], value=copy.deepcopy(inner))
            for parent in ast.walk(stmt):
                for field, value in ast.iter_fields(parent):
                    if value is inner:
                        setattr(parent, field, ast.Name("tmp_part", ast.Load()))
                    elif isinstance(value, list) and any(v is inner for v in value):
                        value[[i for i, v in enumerate(value) if v is inner][0]] = ast.Name("tmp_part", ast.Load())
            body[k:k] = [temp]
            return fn
    raise AssertionError(f"nothing to split in {fn.name}")


def _rw(stmt) -> tuple[set[str], set[str]]:
    names = [n for n in ast.walk(stmt) if isinstance(n, ast.Name)]
    return {n.id for n in names if isinstance(n.ctx, ast.Load)}, {n.id for n in names if not isinstance(n.ctx, ast.Load)}


def _swap(fn: ast.FunctionDef) -> ast.FunctionDef:
    """Two independent adjacent statements swapped, or else the pairs of a tuple assignment ``a, b = x, y``."""
    for k in range(len(fn.body) - 1):
        a, b = fn.body[k], fn.body[k + 1]
        (ra, wa), (rb, wb) = _rw(a), _rw(b)
        simple = all(isinstance(s, (ast.Assign, ast.AugAssign)) for s in (a, b))
        if simple and not (wa & (rb | wb) or ra & wb):
            fn.body[k], fn.body[k + 1] = b, a
            return fn
    for s in fn.body:
        if (isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Tuple) and isinstance(s.value, ast.Tuple)
                and len(s.value.elts) == len(s.targets[0].elts) == 2):
            s.targets[0].elts.reverse()
            s.value.elts.reverse()
            return fn
    raise AssertionError(f"no independent statements to swap in {fn.name}")


def _code(defs) -> str:
    return "\n\n".join(ast.unparse(ast.fix_missing_locations(d)) for d in defs) + "\n"


def _flag(part, learner_cell: str, comment: str = "") -> float | None:
    """near_copy as verification calls it: the whole notebook's code cells, the learner's cell last."""
    cells = _source_cells(part.assignment) + [f"# {comment}\n" + learner_cell]
    fn, _ = learner_function(cells, part.function)
    assert fn is not None
    return near_copy(fn, part.reference)


def _copies(part, how: str) -> str:
    defs = _copy(part)
    if how == "split":
        defs[0] = _split(defs[0])
    elif how == "swapped":
        defs[0] = _swap(defs[0])
    elif how == "helper":
        impl = defs[0]
        impl.name = "_do_" + part.function
        args = impl.args
        call = ", ".join([a.arg for a in args.posonlyargs + args.args] + [f"{a.arg}={a.arg}" for a in args.kwonlyargs])
        wrapper = ast.parse(f"def {part.function}({ast.unparse(args)}):\n    return _do_{part.function}({call})\n")
        defs = wrapper.body + defs
    elif how == "numpy":
        return "import numpy\n" + _code(defs).replace("np.", "numpy.")
    return _code(defs)


#: what each part's copy can be: (how, part) pairs; perceptron_update has no two independent statements
CASES = [(how, g) for g in sorted(PARTS) for how in ("renamed", "split", "helper", "swapped", "numpy")
         if not (g == "update_matches_reference" and how == "swapped")]


@pytest.mark.parametrize("how, grade_id", CASES)
def test_copies_of_the_reference_are_flagged(grade_id, how):
    """Is the reference, renamed / split / moved into a helper / reordered / via numpy., a near copy?"""
    part = assignments.get_part(grade_id)
    code = _copies(part, how)
    assert how == "renamed" or code != _copies(part, "renamed")
    got = _flag(part, code, how)
    assert got is not None and got >= THRESHOLD, (how, grade_id, got, code)


def test_a_one_line_graded_function_with_a_copied_helper_was_missed_before():
    """The helper case is found only by inlining: the graded function alone is too short to judge."""
    part = assignments.get_part("backprop_matches_reference")
    code = _copies(part, "helper")
    fn, _ = learner_function(_source_cells(part.assignment) + [code], part.function)
    assert len(tokens(fn)) < MIN_TOKENS <= len(tokens(fn, depth=2))
    assert near_copy(fn, part.reference) is not None


HONEST = {
    "training_matches_reference": [
        # the instructor's solution is in the notebook already; these are other learners'
        """
def train_perceptron(X, y, lr=0.1, epochs=10):
    n_samples, n_features = X.shape
    weights = np.zeros(n_features)
    bias = 0.0
    for epoch in range(epochs):
        for i in range(n_samples):
            prediction = 1.0 if X[i] @ weights + bias > 0 else 0.0
            error = y[i] - prediction
            weights = weights + lr * error * X[i]
            bias += lr * error
    return weights, float(bias)
""",
        """
def train_perceptron(X, y, lr=0.1, epochs=10):
    params = np.zeros(X.shape[1] + 1)       # the bias is the last entry
    Xb = np.hstack([X, np.ones((len(X), 1))])
    epoch = 0
    while epoch < epochs:
        for row, target in zip(Xb, y):
            out = step(row @ params)
            params += lr * (target - out) * row
        epoch += 1
    return params[:-1], float(params[-1])
""",
        """
def _one_epoch(X, y, w, b, lr):
    for k in range(len(y)):
        w, b = perceptron_update(X[k], y[k], w, b, lr)
    return w, b


def train_perceptron(X, y, lr=0.1, epochs=10):
    state = (np.zeros(X.shape[1], dtype=float), 0.0)
    for _ in range(epochs):
        state = _one_epoch(X, y, *state, lr)
    w, b = state
    return w, b
""",
    ],
    "backprop_matches_reference": [
        """
def two_layer_backward(X, Y, W1, b1, W2, b2):
    m = len(X)
    hidden = sigmoid(X.dot(W1) + b1)
    probs = softmax_rows(hidden.dot(W2) + b2)
    delta_out = (probs - Y) / m
    grad_W2 = hidden.T.dot(delta_out)
    grad_b2 = np.sum(delta_out, axis=0)
    delta_hidden = delta_out.dot(W2.T) * hidden * (1.0 - hidden)
    grad_W1 = X.T.dot(delta_hidden)
    grad_b1 = np.sum(delta_hidden, axis=0)
    return grad_W1, grad_b1, grad_W2, grad_b2
""",
        """
def _forward(X, W1, b1, W2, b2):
    Z1 = X @ W1 + b1
    A1 = sigmoid(Z1)
    Z2 = A1 @ W2 + b2
    return Z1, A1, softmax_rows(Z2)


def two_layer_backward(X, Y, W1, b1, W2, b2):
    Z1, A1, P = _forward(X, W1, b1, W2, b2)
    G2 = P - Y
    G2 /= X.shape[0]
    G1 = (G2 @ W2.T) * sigmoid_derivative(Z1)
    grads = [X.T @ G1, G1.sum(0), A1.T @ G2, G2.sum(0)]
    return tuple(grads)
""",
        """
def two_layer_backward(X, Y, W1, b1, W2, b2):
    N = X.shape[0]
    pre = np.einsum("nd,dh->nh", X, W1) + b1
    act = sigmoid(pre)
    logits = np.einsum("nh,hk->nk", act, W2) + b2
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    P = shifted / shifted.sum(axis=1, keepdims=True)
    d_logits = (P - Y) / N
    d_act = np.einsum("nk,hk->nh", d_logits, W2)
    d_pre = d_act * sigmoid_derivative(pre)
    return (np.einsum("nd,nh->dh", X, d_pre), d_pre.sum(axis=0),
            np.einsum("nh,nk->hk", act, d_logits), d_logits.sum(axis=0))
""",
    ],
    "mlp_forward_caches_match_reference": [
        """
def mlp_forward(X, params):
    cache = []
    A = X
    L = len(params)
    for i in range(L):
        W, b = params[i]
        Z = A @ W + b
        cache.append((A, Z))
        if i < L - 1:
            A = relu(Z)
        else:
            A = Z
    return A, cache
""",
        """
def mlp_forward(X, params):
    *hidden, (W_out, b_out) = params
    cache, A = [], X
    for W, b in hidden:
        Z = np.dot(A, W) + b
        cache.append((A, Z))
        A = np.maximum(Z, 0)
    out = np.dot(A, W_out) + b_out
    cache.append((A, out))
    return out, cache
""",
        """
def _layer(A, W, b, last):
    Z = A @ W + b
    return Z, (Z if last else relu(Z))


def mlp_forward(X, params):
    caches = []
    current = X
    for idx, (W, b) in enumerate(params):
        Z, nxt = _layer(current, W, b, idx == len(params) - 1)
        caches.append((current, Z))
        current = nxt
    return current, caches
""",
    ],
    "mlp_backward_matches_reference": [
        """
def mlp_backward(dout, cache, params):
    L = len(params)
    grads = []
    g = dout
    for l in reversed(range(L)):
        A_prev, Z = cache[l]
        dW = A_prev.T @ g
        db = g.sum(axis=0)
        grads.insert(0, (dW, db))
        if l:
            g = g @ params[l][0].T
            g = g * (cache[l - 1][1] > 0)
    return grads
""",
        """
def mlp_backward(dout, cache, params):
    out = [None for _ in params]
    delta = dout
    l = len(params) - 1
    while l >= 0:
        A_prev = cache[l][0]
        out[l] = (np.dot(A_prev.T, delta), np.sum(delta, axis=0))
        if l > 0:
            relu_grad = np.where(cache[l - 1][1] > 0, 1.0, 0.0)
            delta = np.dot(delta, params[l][0].T) * relu_grad
        l -= 1
    return out
""",
        """
def _relu_mask(Z):
    return (Z > 0).astype(Z.dtype)


def mlp_backward(dout, cache, params):
    grads = {}
    d = dout
    for layer in range(len(params) - 1, -1, -1):
        inp, _ = cache[layer]
        grads[layer] = (inp.T @ d, d.sum(axis=0))
        if layer == 0:
            break
        d = (d @ params[layer][0].T) * _relu_mask(cache[layer - 1][1])
    return [grads[k] for k in range(len(params))]
""",
    ],
}


@pytest.mark.parametrize("grade_id", sorted(HONEST))
def test_honest_variants_are_not_flagged(grade_id):
    """Are independent honest solutions (including ones with helpers) left alone?"""
    part = assignments.get_part(grade_id)
    for k, code in enumerate(HONEST[grade_id]):
        best, _ = best_similarity(learner_function(_source_cells(part.assignment) + [code], part.function)[0],
                                  part.reference)
        assert best < THRESHOLD, (grade_id, k, best)


def test_short_derivative_calling_the_given_helpers_is_not_flagged():
    """ex03's sigmoid_derivative calls the given (reference-like) sigmoid: short code is never flagged."""
    part = assignments.get_part("sigmoid_derivative_matches_reference")
    for code in ("def sigmoid_derivative(z):\n    s = sigmoid(z)\n    return s * (1 - s)\n",
                 "def sigmoid_derivative(z):\n    return sigmoid(z) * (1 - sigmoid(z))\n",
                 "def sigmoid_derivative(z):\n    s = sigmoid(z)\n    return s - s * s\n"):
        fn, _ = learner_function(_source_cells(part.assignment) + [code], part.function)
        assert near_copy(fn, part.reference) is None, code


def test_given_starter_helpers_are_not_inlined():
    """With the released code known, ex03's given sigmoid (reference-like) is not counted as the learner's."""
    part = assignments.get_part("sigmoid_derivative_matches_reference")
    code = "def sigmoid_derivative(z):\n    return sigmoid(z) * (1 - sigmoid(z))\n"
    cells = _source_cells(part.assignment) + [code]
    given_fn = learner_function(cells, part.function, given=cells[:-1])[0]
    plain_fn = learner_function(cells, part.function)[0]
    assert "abs" in tokens(plain_fn, depth=1) and "abs" not in tokens(given_fn, depth=1)
    assert best_similarity(given_fn, part.reference) == (0.0, len(tokens(given_fn)))
    assert near_copy(plain_fn, part.reference) is None


@pytest.mark.parametrize("assignment", assignments.ASSIGNMENTS)
def test_the_instructors_solutions_are_not_flagged(assignment):
    """Is every solution of the source notebooks (the honest learner) below the threshold?"""
    cells = _source_cells(assignment)
    for p in assignments.parts(assignment):
        fn, _ = learner_function(cells, p.function)
        assert fn is not None and near_copy(fn, p.reference) is None, p.grade_id


def test_recursion_and_cycles_are_safe():
    """A recursive helper and two mutually recursive helpers neither loop nor blow up."""
    part = assignments.get_part("backprop_matches_reference")
    code = ("def a(x):\n    return b(x) + 1\n\ndef b(x):\n    return a(x) * 2\n\n"
            "def two_layer_backward(X, Y, W1, b1, W2, b2):\n    return a(X) + two_layer_backward(X, Y, W1, b1, W2, b2)\n")
    fn, _ = learner_function([code], part.function)
    assert near_copy(fn, part.reference) is None
    assert len(tokens(fn, depth=3)) < 500


def test_lambdas_assigned_to_names_are_helpers():
    """``helper = lambda ...`` is inlined like a def."""
    cells = ["f = lambda a, b: a @ b + np.tanh(a).sum()\n", "def g(x, y):\n    return f(x, y)\n"]
    fn, _ = learner_function(cells, "g")
    assert "tanh" in tokens(fn, depth=1) and "tanh" not in tokens(fn)


def test_inlining_is_bounded_on_a_pathological_notebook():
    """A helper calling a helper a hundred times, three levels deep, stays small and fast."""
    import time

    calls = " + ".join(["h2(x)"] * 100)
    cells = [f"def h2(x):\n    return {calls.replace('h2', 'h3')}\n", "def h3(x):\n    return np.tanh(x) * x\n",
             f"def h1(x):\n    return {calls}\n", "def two_layer_backward(X, Y, W1, b1, W2, b2):\n    return h1(X)\n"]
    fn, _ = learner_function(cells, "two_layer_backward")
    start = time.perf_counter()
    near_copy(fn, assignments.get_part("backprop_matches_reference").reference)
    assert time.perf_counter() - start < 30
    assert len(tokens(fn, depth=3)) < 60000
