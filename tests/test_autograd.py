"""autograd: the scalar Value engine against central differences, PyTorch, SymPy and closed forms.

The random graphs come from the cross-check's generator (it only draws inputs); every
expected gradient comes from an oracle outside the engine.
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from central_diff import numerical_gradient
from conftest import ROOT, TORCH_DEVICES

from dlcourse.autograd import Value, zero_grad
from dlcourse.xcheck.autograd import OPS, chain_program, random_program, run_program

#: Central differences in float64 with eps = 1e-6 are good to about 1e-7 relative.
CENTRAL_DIFF_RTOL, CENTRAL_DIFF_ATOL = 1e-5, 1e-6
#: Closed forms and PyTorch are evaluated in float64 like the engine: a few ulps apart.
EXACT_RTOL, EXACT_ATOL = 1e-10, 1e-12


def _leaf_grads(leaves: np.ndarray, steps) -> tuple[float, np.ndarray]:
    values = [Value(float(v)) for v in leaves]
    _, out = run_program(values, steps)
    out.backward()
    return out.data, np.array([v.grad for v in values])


# ---- independent oracles -----------------------------------------------------------------------

def test_random_graphs_match_central_differences(rng):
    """On 20 random expression graphs, is every leaf gradient the central difference of the forward pass?"""
    for g in range(20):
        leaves, steps = random_program(rng)
        x = np.array(leaves)
        _, grads = _leaf_grads(x, steps)
        numeric = numerical_gradient(lambda: run_program([Value(float(v)) for v in x], steps)[1].data, x)
        np.testing.assert_allclose(grads, numeric, rtol=CENTRAL_DIFF_RTOL, atol=CENTRAL_DIFF_ATOL,
                                   err_msg=f"graph {g}: steps {steps}")


def test_every_operation_appears_in_the_random_graphs(rng):
    """Would a wrong backward of any one operation be seen by the random graphs (is each op drawn)?"""
    drawn = {name for _ in range(20) for name, _, _ in random_program(rng)[1]}
    assert drawn == set(OPS), f"never drawn: {sorted(set(OPS) - drawn)}"


TORCH_CASES = {
    "mul, add, pow": lambda a, b: a * b + b ** 3,
    "sub, div, neg": lambda a, b: -(a - b) / (b * b + 1),
    "numbers on both sides": lambda a, b: 2 + a - 3 * b + a / 4 - 5 / b + (1 - a) * 2,
    "exp, log": lambda a, b: (a * b).exp() + (a * a + 0.5).log(),
    "tanh, sigmoid, relu": lambda a, b: (a * 3).tanh() * b.sigmoid() + (a - b).relu() + (b - a).relu(),
    "fractional and negative powers": lambda a, b: (a * a + 1) ** 0.5 + (b * b + 2) ** -1.5 + a ** -2,
    "reuse": lambda a, b: (a * a * a + a) * (a + b) / (b + a + a),
}


@pytest.mark.parametrize("case", TORCH_CASES)
def test_matches_pytorch_autograd(case):
    """Does the same Python expression give PyTorch's value and gradients (float64) for both inputs?"""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: no autograd to compare with")
    fn = TORCH_CASES[case]
    for a0, b0 in [(0.7, -1.3), (-0.4, 2.1), (1.9, 0.6)]:
        a, b = Value(a0), Value(b0)
        out = fn(a, b)
        out.backward()
        ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a0, b0))
        t_out = fn(ta, tb)
        t_out.backward()
        np.testing.assert_allclose([out.data, a.grad, b.grad], [t_out.item(), ta.grad.item(), tb.grad.item()],
                                   rtol=EXACT_RTOL, atol=EXACT_ATOL, err_msg=f"{case} at a={a0}, b={b0}")


@pytest.mark.parametrize("device", TORCH_DEVICES)
def test_xcheck_rows_pass(device):
    """Does every autograd row of the cross-check (random graphs and the deep chain) pass on this device?"""
    from dlcourse.xcheck import core

    rows = core.run(["autograd"], [device])
    assert len(rows) >= 20 and any("deep chain" in r.operation for r in rows)
    failed = [(r.operation, r.max_abs, r.detail) for r in rows if not r.ok]
    assert not failed, failed


def test_xcheck_notices_a_wrong_backward(monkeypatch):
    """Would the cross-check fail if tanh's backward forgot the square (1 - t instead of 1 - t^2)?"""
    pytest.importorskip("torch", reason="PyTorch is not installed: no autograd to compare with")
    from dlcourse.xcheck import core

    def wrong_tanh(self):
        t = math.tanh(self.data)
        return self._unary(t, "tanh", 1.0 - t)

    monkeypatch.setattr(Value, "tanh", wrong_tanh)
    rows = core.run(["autograd"], ["cpu"])
    assert any(not r.ok for r in rows), "no row failed with a wrong tanh derivative"


def _sympy_math(sp):
    return dict(exp=sp.exp, log=sp.log, tanh=sp.tanh, sigmoid=lambda z: 1 / (1 + sp.exp(-z)))


VALUE_MATH = dict(exp=Value.exp, log=Value.log, tanh=Value.tanh, sigmoid=Value.sigmoid)

SYMPY_CASES = {
    "tanh(x y) + exp(x) / (1 + y^2) - 3 / x": lambda x, y, m: m["tanh"](x * y) + m["exp"](x) / (1 + y ** 2) - 3 / x,
    "sigmoid(x - 2 y) log(x^2 + y^2)": lambda x, y, m: m["sigmoid"](x - 2 * y) * m["log"](x ** 2 + y ** 2),
    "(x y)^3 - x^0.5 / y": lambda x, y, m: (x * y) ** 3 - x ** 0.5 / y,
}


@pytest.mark.parametrize("case", SYMPY_CASES)
def test_matches_sympy_derivatives(case):
    """Are the gradients SymPy's closed-form partial derivatives, at several points?"""
    sp = pytest.importorskip("sympy", reason="SymPy is not installed: no closed forms to compare with")
    fn = SYMPY_CASES[case]
    x, y = sp.symbols("x y", positive=True)
    expr = fn(x, y, _sympy_math(sp))
    dfdx, dfdy = (sp.lambdify((x, y), sp.diff(expr, s), "math") for s in (x, y))
    for x0, y0 in [(0.3, 0.8), (1.7, 0.4), (2.5, 1.9)]:
        vx, vy = Value(x0), Value(y0)
        out = fn(vx, vy, VALUE_MATH)
        out.backward()
        np.testing.assert_allclose([out.data, vx.grad, vy.grad],
                                   [float(expr.subs({x: x0, y: y0})), dfdx(x0, y0), dfdy(x0, y0)],
                                   rtol=EXACT_RTOL, atol=EXACT_ATOL, err_msg=f"{case} at ({x0}, {y0})")


# ---- Python numbers, reuse, depth ------------------------------------------------------------

@pytest.mark.parametrize("number", [3, 2.5, np.float64(-1.5), np.int64(4)])
def test_python_numbers_mix_on_either_side(number):
    """Do 2 + v, v - 2, 2 - v, 2 * v, v / 3, 3 / v and v ** 2 give the float results and d/dv by hand?"""
    v0 = 1.25
    c = float(number)
    cases = {  # expression -> (value, derivative with respect to v) by hand
        "c + v": (lambda v: number + v, c + v0, 1.0),
        "v + c": (lambda v: v + number, v0 + c, 1.0),
        "c - v": (lambda v: number - v, c - v0, -1.0),
        "v - c": (lambda v: v - number, v0 - c, 1.0),
        "c * v": (lambda v: number * v, c * v0, c),
        "v * c": (lambda v: v * number, v0 * c, c),
        "v / c": (lambda v: v / number, v0 / c, 1 / c),
        "c / v": (lambda v: number / v, c / v0, -c / v0 ** 2),
        "v ** c": (lambda v: v ** number, v0 ** c, c * v0 ** (c - 1)),
    }
    for name, (fn, value, derivative) in cases.items():
        v = Value(v0)
        out = fn(v)
        assert isinstance(out, Value), f"{name} gave {type(out).__name__}, not a Value"
        out.backward()
        np.testing.assert_allclose([out.data, v.grad], [value, derivative], rtol=EXACT_RTOL, err_msg=name)


def test_a_reused_node_adds_its_gradients():
    """Used twice or more (x * x, a + a, x^3 + x as products), does a node get the sum of the contributions?"""
    x0 = 0.8
    for fn, derivative in [(lambda x: x * x, 2 * x0), (lambda x: x + x, 2.0), (lambda x: x - x, 0.0),
                           (lambda x: x * x * x + x, 3 * x0 ** 2 + 1), (lambda x: x / x, 0.0),
                           (lambda x: (x * 2) * (x * 2 + x), 12 * x0)]:
        x = Value(x0)
        fn(x).backward()
        assert x.grad == pytest.approx(derivative, rel=EXACT_RTOL, abs=EXACT_ATOL)


def test_diamond_graph_against_central_differences():
    """In a diamond (b and c both from a, d from both), is da the central difference?"""
    def forward(a):
        b = a * 2 + 1
        c = a.tanh() + b
        return b * c + c.exp()

    a = Value(0.3)
    forward(a).backward()
    x = np.array([0.3])
    numeric = numerical_gradient(lambda: forward(Value(float(x[0]))).data, x)
    np.testing.assert_allclose(a.grad, numeric[0], rtol=CENTRAL_DIFF_RTOL)


def test_a_chain_of_5000_nodes_backpropagates_without_recursion():
    """Does backward() on a chain 5000 deep (above the recursion limit) finish with d/dx r^5000 x = r^5000?"""
    assert sys.getrecursionlimit() < 5000, "the test needs a chain deeper than the recursion limit"
    r, x = 1.0001, Value(0.5)
    y = x
    for _ in range(5000):
        y = y * r
    y.backward()
    assert len(y.topological_order()) == 5001 + 5000  # x, 5000 products and their 5000 constants
    assert x.grad == pytest.approx(r ** 5000, rel=1e-9)


def test_deep_chain_with_reuse_against_central_differences():
    """Over 2100 ops of y <- y + 0.001 tanh(y), is dy/dx the central difference?"""
    steps = chain_program(700)
    x = np.array([0.3])
    _, grads = _leaf_grads(x, steps)
    numeric = numerical_gradient(lambda: run_program([Value(float(x[0]))], steps)[1].data, x)
    np.testing.assert_allclose(grads, numeric, rtol=CENTRAL_DIFF_RTOL)


def test_topological_order_puts_inputs_first_and_each_node_once(rng):
    """Does every node come after all of its inputs, exactly once, with the output last?"""
    leaves, steps = random_program(rng)
    _, out = run_program([Value(v) for v in leaves], steps)
    order = out.topological_order()
    position = {node: k for k, node in enumerate(order)}
    assert len(position) == len(order) and order[-1] is out
    assert all(position[i] < position[n] for n in order for i in n.inputs)


# ---- gradient bookkeeping -------------------------------------------------------------------

def test_leaves_accumulate_intermediates_reset_and_zero_grad_clears():
    """A second backward(): do leaves add up (as in PyTorch), intermediates start again, zero_grad reset?"""
    a, b = Value(1.5), Value(-0.5)
    hidden = a * b
    out = hidden.tanh() + a
    out.backward()
    first = (a.grad, b.grad, hidden.grad)
    out.backward()
    assert (a.grad, b.grad) == pytest.approx((2 * first[0], 2 * first[1]))
    assert hidden.grad == pytest.approx(first[2]), "an intermediate node kept its old gradient"
    zero_grad([a, b])
    assert (a.grad, b.grad) == (0.0, 0.0)
    out.backward()
    assert (a.grad, b.grad) == pytest.approx(first[:2])


def test_backward_of_a_leaf_is_one():
    """Is d(x)/d(x) = 1 for a lone leaf?"""
    x = Value(3.0)
    x.backward()
    assert x.grad == 1.0


# ---- stability and errors -------------------------------------------------------------------

def test_large_inputs_stay_finite_without_warnings():
    """Are tanh and sigmoid of +-1e4 exact limits with zero gradient, and exp(709) finite?"""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for z, t_limit, s_limit in [(1e4, 1.0, 1.0), (-1e4, -1.0, 0.0)]:
            for fn, limit in [(Value.tanh, t_limit), (Value.sigmoid, s_limit)]:
                x = Value(z)
                out = fn(x)
                out.backward()
                assert out.data == limit and x.grad == 0.0, (fn.__name__, z, out, x)
        big = Value(709.0).exp()
        assert math.isfinite(big.data) and big.data == math.exp(709.0)


@pytest.mark.parametrize("make,error,words", [
    (lambda: Value(-2.0).log(), ValueError, ["log", "positive", "-2.0"]),
    (lambda: Value(0.0).log(), ValueError, ["log", "0.0"]),
    (lambda: Value(2.0) ** Value(3.0), TypeError, ["number exponent", "Value"]),
    (lambda: 2 ** Value(3.0), TypeError, ["number exponent"]),
    (lambda: Value(2.0) + "3", TypeError, ["str", "real number"]),
    (lambda: [1] * Value(2.0), TypeError, ["list", "real number"]),
    (lambda: Value(1.0) * None, TypeError, ["NoneType"]),
    (lambda: Value("3"), TypeError, ["real number", "str"]),
    (lambda: Value(True), TypeError, ["bool"]),
    (lambda: Value(1.0) / 0, ZeroDivisionError, ["division by zero"]),
    (lambda: 1 / Value(0.0), ZeroDivisionError, ["division by zero"]),
    (lambda: Value(0.0) ** -1, ZeroDivisionError, ["negative power"]),
    (lambda: Value(-8.0) ** 0.5, ValueError, ["negative base", "integer exponent"]),
    (lambda: Value(710.0).exp(), OverflowError, ["exp(710.0)", "overflows"]),
])
def test_errors_name_the_problem(make, error, words):
    """Does each misuse raise the right error, with a message that names the value and what is allowed?"""
    with pytest.raises(error) as info:
        make()
    message = str(info.value)
    assert all(w in message for w in words), message


def test_importing_the_engine_loads_nothing_heavy():
    """Do dlcourse.autograd and dlcourse.plots.graph import without torch, SymPy or matplotlib?"""
    code = ("import sys, dlcourse.autograd, dlcourse.plots.graph; "
            "print([m for m in ('torch', 'sympy', 'matplotlib') if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# ---- the drawing ------------------------------------------------------------------------------

def _small_graph():
    x, w, b = Value(2.0, "x"), Value(-0.5, "w"), Value(0.25, "b")
    out = ((x * w + b).tanh() * x + 3 / x) ** 2
    out.label = "L"
    out.backward()
    return out


def test_draw_graph_labels_every_node_with_op_data_and_grad():
    """Does draw_graph return an Axes with one text per node showing its op (or label), data and grad?"""
    pytest.importorskip("matplotlib", reason="the drawing needs matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.axes import Axes
    from matplotlib.patches import FancyArrowPatch

    from dlcourse.plots import close
    from dlcourse.plots.graph import draw_graph

    out = _small_graph()
    nodes = out.topological_order()
    ax = draw_graph(out)
    try:
        assert isinstance(ax, Axes)
        texts = [t.get_text() for t in ax.texts]
        assert len(texts) == len(nodes)
        for node in nodes:
            expected = [node.label or node.op or "leaf", f"data {node.data:.4g}", f"grad {node.grad:.4g}"]
            assert any(all(e in t for e in expected) for t in texts), (expected, texts)
        arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
        assert len(arrows) == sum(len(n.inputs) for n in nodes)
    finally:
        close(ax.figure)


def test_draw_graph_uses_the_given_axes_and_places_inputs_left():
    """Does draw_graph draw into the given Axes, with every arrow from left to right (inputs first)?"""
    pytest.importorskip("matplotlib", reason="the drawing needs matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dlcourse.plots.graph import draw_graph, graph_layout

    out = _small_graph()
    pos = graph_layout(out)
    assert all(pos[i][0] < pos[n][0] for n in pos for i in n.inputs)
    assert max(pos.values())[0] == pos[out][0] and sum(p[0] == pos[out][0] for p in pos.values()) == 1
    fig, ax = plt.subplots()
    try:
        assert draw_graph(out, ax=ax) is ax
        with pytest.raises(ValueError, match="max_nodes"):
            draw_graph(out, ax=ax, max_nodes=3)
    finally:
        plt.close(fig)
