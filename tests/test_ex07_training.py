"""ex07_training: its references against independent oracles, its criteria, and dlcourse-grade on it.

Oracles: PyTorch float64 autograd (forward and backward of the network, the training loop
with the same permutations, every op of the graph and whole random graphs), central
differences (the backward pass), and hand-checked orders for the topological-order criterion.
The last test grades the simulated class of ex07 with ``dlcourse-grade`` (sandboxed and verified).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from dlcourse.checks import assignments, evaluate
from dlcourse.checks.judge import compare_value
from dlcourse.checks.spec import Case
from dlcourse.checks.verdict import Outcome
from dlcourse.checks import judge
from dlcourse.checks.assignments import ex07_training as ex7
from dlcourse_grade import hidden as hidden_tests

from central_diff import numerical_gradient

torch = pytest.importorskip("torch", reason="PyTorch is the oracle of these tests")
ROOT = Path(__file__).resolve().parents[1]
PARTS = {p.grade_id: p for p in assignments.parts("ex07_training")}


def _torch_params(params):
    return [(torch.tensor(W, dtype=torch.float64, requires_grad=True),
             torch.tensor(b, dtype=torch.float64, requires_grad=True)) for W, b in params]


def _torch_forward(X, tparams):
    A = torch.tensor(X, dtype=torch.float64)
    for l, (W, b) in enumerate(tparams):
        A = A @ W + b
        if l < len(tparams) - 1:
            A = torch.relu(A)
    return A


def test_forward_and_backward_references_match_torch_autograd(rng):
    """On a 4-layer network, do ref_forward's output and ref_backward's gradients equal PyTorch's?"""
    sizes = (5, 7, 6, 4, 3)
    X, params = rng.normal(size=(6, 5)), ex7.init_params(rng, sizes)
    out, cache = ex7.ref_forward(X, params)
    tparams = _torch_params(params)
    tout = _torch_forward(X, tparams)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12, atol=1e-13)
    dout = rng.normal(size=out.shape)
    (tout * torch.tensor(dout)).sum().backward()
    grads = ex7.ref_backward(dout, cache, params)
    assert len(grads) == len(params)
    for (dW, db), (W, b) in zip(grads, tparams):
        np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-11, atol=1e-13)


def test_backward_reference_matches_central_differences(rng):
    """Does each dW of ref_backward equal central differences of sum(out * dout) (a 3-layer network)?"""
    X, params = rng.normal(size=(4, 3)), ex7.init_params(rng, (3, 4, 4, 2))
    dout = rng.normal(size=(4, 2))
    grads = ex7.ref_backward(dout, ex7.ref_forward(X, params)[1], params)
    for l, (W, b) in enumerate(params):
        def f():
            return float(np.sum(ex7.ref_forward(X, params)[0] * dout))
        np.testing.assert_allclose(grads[l][0], numerical_gradient(f, W), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(grads[l][1], numerical_gradient(f, b), rtol=1e-6, atol=1e-8)


def test_training_reference_matches_a_torch_loop_with_the_same_shuffles():
    """Does ref_train (the package's loop) equal a PyTorch SGD loop over the same permutations, and the NumPy twin?"""
    for c in PARTS["training_loop_matches_reference"].cases(seed=2):
        X, y, params, lr, epochs, batch_size, seed = c.materialize()[0]
        got = ex7.ref_train(X, y, params, lr, epochs, batch_size, seed)
        tparams = _torch_params(params)
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            order = rng.permutation(len(y))
            for start in range(0, len(y), batch_size):
                idx = order[start:start + batch_size]
                loss = torch.nn.functional.cross_entropy(_torch_forward(X[idx], tparams), torch.tensor(y[idx]))
                grads = torch.autograd.grad(loss, [t for pair in tparams for t in pair])
                flat = [t.detach() - lr * g for t, g in zip([t for pair in tparams for t in pair], grads)]
                tparams = [(flat[2 * i].requires_grad_(), flat[2 * i + 1].requires_grad_()) for i in range(len(tparams))]
        twin = ex7._train(X, y, params, lr, epochs, batch_size, seed)
        for (W, b), (tW, tb), (nW, nb) in zip(got, tparams, twin):
            np.testing.assert_allclose(W, tW.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=c.kind)
            np.testing.assert_allclose(b, tb.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=c.kind)
            np.testing.assert_allclose(W, nW, rtol=1e-10, atol=1e-12, err_msg=c.kind)
            np.testing.assert_allclose(b, nb, rtol=1e-10, atol=1e-12, err_msg=c.kind)


def _torch_op(op, ts):
    if op in ex7.OPS2:
        a, b = ts
        return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b}[op]()
    (a,) = ts
    if op.startswith("**"):
        return a ** float(op[2:])
    return getattr(torch, op)(a)


@pytest.mark.parametrize("op", ex7.OPS2 + ex7.OPS1)
def test_op_backward_reference_matches_torch(op, rng):
    """For every op, is what ref_op_backward passes to each input PyTorch's gradient times out_grad?"""
    for _ in range(5):
        inputs = ex7._valid_input(rng, op)
        out_grad = float(rng.normal())
        ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
        out = _torch_op(op, ts)
        (out * out_grad).backward()
        got = ex7.ref_op_backward(op, inputs, out.item(), out_grad)
        np.testing.assert_allclose(got, [t.grad.item() for t in ts], rtol=1e-12, atol=1e-15)
        assert ex7._op_backward(op, inputs, out.item(), out_grad) == pytest.approx(got, rel=1e-12, abs=1e-15)


def _torch_graph_grads(nodes, output):
    ts = [None] * len(nodes)
    for i in ex7._order_all(nodes):
        op, inputs, data = nodes[i]
        if op == "leaf":
            ts[i] = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        else:
            ts[i] = _torch_op(op, [ts[j] for j in inputs])
            ts[i].retain_grad()
        assert ts[i].item() == pytest.approx(data, rel=1e-12, abs=1e-15), "the node's data is its value"
    ts[output].backward()
    return np.array([0.0 if t.grad is None else t.grad.item() for t in ts])


def test_graph_backward_reference_matches_torch_on_random_graphs():
    """On the visible and hidden graphs (any order, shared and unused nodes), is ref_graph_backward torch's?"""
    part = PARTS["graph_backward_matches_reference"]
    cases = [c for c in part.cases(seed=4) + hidden_tests.hidden_cases(part, seed=4) if "long chain" not in c.tags]
    assert len(cases) >= 6
    for c in cases:
        nodes, output = c.args
        np.testing.assert_allclose(ex7.ref_graph_backward(nodes, output), _torch_graph_grads(nodes, output),
                                   rtol=1e-12, atol=1e-14, err_msg=c.kind)


def test_every_order_the_criterion_accepts_is_valid_and_wrong_ones_are_named():
    """Does valid_order accept the reference's and another valid order, and name each wrong one?"""
    nodes = (("leaf", (), 2.0), ("leaf", (), 3.0), ("*", (0, 1), 6.0), ("+", (2, 0), 8.0), ("exp", (1,), 20.0))
    c = Case((nodes, 3))
    assert ex7.ref_topological_order(nodes, 3) in ([0, 1, 2, 3], [1, 0, 2, 3])
    for order in ([0, 1, 2, 3], [1, 0, 2, 3], np.array([1, 0, 2, 3])):
        assert ex7.valid_order(c, order) == ""
    assert "reversed" in ex7.valid_order(c, [3, 2, 1, 0])
    assert "node 4 is in your order" in ex7.valid_order(c, [0, 1, 4, 2, 3])
    assert "node 1 is missing" in ex7.valid_order(c, [0, 2, 3])
    assert "twice" in ex7.valid_order(c, [0, 1, 1, 2, 3])
    assert "integer" in ex7.valid_order(c, [0.0, 1.0, 2.0, 3.0])


def test_the_digits_reference_reaches_the_stated_accuracy_and_an_untrained_network_does_not():
    """Does the reference loop meet the accuracy criterion on the visible and hidden digits, and do the
    starting weights (and diverged weights) fail it with the reason?"""
    part = PARTS["training_reaches_accuracy"]
    for c in part.cases() + hidden_tests.hidden_cases(part):
        X_test, y_test = c.judge_data
        assert X_test.shape[0] == 597 and not any(np.shares_memory(X_test, a) for a in c.args[:2])
        assert part.criterion(c, part.expected(c)) == ""
        untrained = part.criterion(c, c.args[2])
        assert "accuracy on the 597 held-out digits" in untrained
        diverged = [(W * np.nan, b) for W, b in c.args[2]]
        assert "NaN or inf" in part.criterion(c, diverged)
        assert "pairs" in part.criterion(c, c.args[2][:1])


def test_the_judge_uses_the_criterion_and_never_passes_judge_data_to_the_learner():
    """Is a criterion part scored by its criterion (not by equality), and do the learner's arguments exclude judge_data?"""
    part = PARTS["topological_order_is_valid"]
    cases = part.cases()
    other = []  # a valid order that differs from the reference where the graph allows it
    for c in cases:
        nodes, output = c.args
        need = ex7.ancestors(nodes, output)
        other.append([i for i in ex7._order_all(nodes) if i in need])
    report = judge.grade_outcomes(part, cases, [Outcome(value=o) for o in other])
    assert report.passed, report.text
    assert any(o != part.expected(c) for o, c in zip(other, cases)), "no case tells the criterion from equality"
    wrong = judge.grade_outcomes(part, cases, [Outcome(value=list(reversed(o))) for o in other])
    assert wrong.score == 0 and "reversed" in wrong.text
    c = PARTS["training_reaches_accuracy"].cases()[0]
    args, kwargs = c.materialize()
    assert len(args) == 7 and not kwargs and c.judge_data


def test_nested_answers_are_compared_item_by_item_with_their_index():
    """Is a list of (dW, db) pairs of the wrong length, or with one wrong array, named by its index?"""
    part = PARTS["mlp_backward_matches_reference"]
    e = [(np.ones((2, 3)), np.ones(3)), (np.ones((3, 1)), np.ones(1))]
    assert compare_value(e, [(np.ones((2, 3)), np.ones(3))], part, False).startswith("your result: expected 2 items")
    bad = [(np.ones((2, 3)), np.ones(3)), (np.ones((3, 1)), np.zeros(1))]
    assert compare_value(e, bad, part, False).startswith("result[1][1]: ")
    assert compare_value(e, [tuple(x.copy() for x in p) for p in e], part, False) == ""
    text = Case((tuple(e),)).describe(("grads",))
    assert "np.array" in text and "(" in text and len(text) < 400


def test_the_instructor_solution_passes_with_the_named_mistakes_diagnosed():
    """Do the source notebook's solutions pass all parts (hidden cases included), and is a typical mistake named?"""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(ROOT / "exercises" / "source" / "ex07_training" / "ex07_training.ipynb", as_version=4)
    ns = {"__name__": "__main__"}
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("grade"):
            exec(compile(cell.source, "<ex07>", "exec"), ns)
    for part in PARTS.values():
        report = evaluate(part.grade_id, ns[part.function], hidden_cases=hidden_tests.hidden_cases(part, seed=9))
        assert report.passed, report.text
    def sgd_update(params, grads, lr):
        return [(W + lr * dW, b + lr * db) for (W, b), (dW, db) in zip(params, grads)]
    report = evaluate("sgd_update_matches_reference", sgd_update)
    assert report.score == 0 and "wrong direction" in report.text


def test_a_long_returned_list_crosses_the_sandbox_wall_whole(tmp_path):
    """Does a returned order of 5,002 node indices come back from the verification run in full (not cut short)?"""
    from dlcourse_grade.protocol import MAX_SEQUENCE_ITEMS, Unreadable, decode_output

    order = list(range(5002))
    assert decode_output({"list": [{"int": str(i)} for i in order]}, tmp_path) == order
    too_long = decode_output({"list": [{"none": True}] * (MAX_SEQUENCE_ITEMS + 1)}, tmp_path)
    assert isinstance(too_long, Unreadable)


@pytest.mark.grading
@pytest.mark.slow
def test_dlcourse_grade_verifies_the_simulated_class(tmp_path):
    """Does dlcourse-grade (sandboxed, verified outside the kernel) give the solution every point, the blank
    release zero, and each typical mistake exactly its expected marks, with verified == in-kernel?"""
    sys.path[:0] = [str(ROOT / "tests" / "grade_corpus"), str(ROOT / "exercises")]
    import corpus_build as build
    import corpus_shared as shared
    import nbformat
    from simulated_class import class_notebooks

    why = shared.ensure_sandbox()
    if why:
        pytest.skip(why)
    a = "ex07_training"
    course = build.make_course(tmp_path / "course", (a,))
    src = nbformat.read(course / "source" / a / f"{a}.ipynb", as_version=4)
    rel = nbformat.read(course / "release" / a / f"{a}.ipynb", as_version=4)
    students = class_notebooks(a, src, rel)
    for student, (nb, _, _) in students.items():
        build.submit(course, student, a, raw=nbformat.writes(nb))
    proc = build.run_grader(course, a, 2, course / "out.json", "--cell-timeout", "60")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {r["student"]: r for r in json.loads((course / "out.json").read_text())["students"]}
    points = {p.grade_id: float(p.points) for p in PARTS.values()}
    for student, (_, scores, _) in students.items():
        parts = {p["grade_id"]: p for p in rows[student]["parts"] if not p["manual"]}
        want = {g: 0.0 for g in points} if scores is None else {g: scores.get(g, points[g]) for g in points}
        assert {g: parts[g]["score"] for g in points} == pytest.approx(want), (student, rows[student]["reasons"])
        for g, p in ((g, parts[g]) for g in points):
            assert p["verified"] == p["in_kernel"] == p["score"], (student, g, p)
        assert "possible tampering" not in rows[student]["flags"], (student, rows[student]["flags"])
    assert "isolation: bwrap" in proc.stdout
