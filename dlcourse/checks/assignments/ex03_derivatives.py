"""ex03_derivatives: activation derivatives, a SymPy derivative, a numerical gradient, backprop by hand.

References: ``dlcourse.activations.sigmoid.derivative`` / ``tanh.derivative``,
:func:`dlcourse.gradcheck.numerical_gradient`; SymPy itself for the symbolic part; the
two-layer backward pass as a small function here (tested against PyTorch autograd).
"""

from __future__ import annotations

import numpy as np

from ..spec import EXACT, Mistake, Part, Tolerance, case
from ..callables import FunctionSpec

A = "ex03_derivatives"


def ref_sigmoid_derivative(z):
    from dlcourse.activations import sigmoid

    return sigmoid.derivative(np.asarray(z))


def ref_tanh_derivative(z):
    from dlcourse.activations import tanh

    return tanh.derivative(np.asarray(z))


def ref_sympy_derivative(expression, z):
    """d/dx of ``expression`` (a SymPy string in ``x``) evaluated at the points ``z``, float64."""
    import sympy as sp

    x = sp.Symbol("x")
    f = sp.sympify(expression, locals={"x": x})  # only the course's own expressions reach this
    df = sp.lambdify(x, sp.diff(f, x), "numpy")
    return np.asarray(df(np.asarray(z, dtype=np.float64)), dtype=np.float64)


def _sympy_value(expression, z):
    import sympy as sp

    x = sp.Symbol("x")
    return np.asarray(sp.lambdify(x, sp.sympify(expression, locals={"x": x}), "numpy")(np.asarray(z, float)), float)


def ref_numerical_gradient(f, x, eps=1e-6):
    from dlcourse.gradcheck import numerical_gradient

    return numerical_gradient(f, x, eps)


def _sig(z):
    return 0.5 * (1 + np.tanh(0.5 * z))  # the logistic function without overflow


def _softmax_rows(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def two_layer_forward(X, W1, b1, W2, b2):
    """Z1 = X W1 + b1, A1 = sigmoid(Z1), Z2 = A1 W2 + b2, P = softmax(Z2) (rows)."""
    Z1 = X @ W1 + b1
    A1 = _sig(Z1)
    return Z1, A1, _softmax_rows(A1 @ W2 + b2)


def ref_backward(X, Y, W1, b1, W2, b2, *, fed_activation=False, mean=True):
    """Gradients of L = -(1/N) sum_n sum_k Y log P: returns (dW1, db1, dW2, db2)."""
    n = X.shape[0] if mean else 1
    Z1, A1, P = two_layer_forward(X, W1, b1, W2, b2)
    dZ2 = (P - Y) / n
    dA1 = dZ2 @ W2.T
    local = _sig(A1) * (1 - _sig(A1)) if fed_activation else A1 * (1 - A1)
    dZ1 = dA1 * local
    return X.T @ dZ1, dZ1.sum(axis=0), A1.T @ dZ2, dZ2.sum(axis=0)


# ---- inputs ------------------------------------------------------------------------------
def _act_fixed():
    return [case(np.array([-4.0, -1.0, 0.0, 0.5, 2.0, 4.0]), kind="a vector of moderate values"),
            case(np.array([[0.0, 1.5], [-2.5, 3.0]], dtype=np.float32), kind="a float32 matrix", tags={"2-D"}),
            case(np.array([-25.0, -12.0, 11.0, 20.0]), kind="saturated inputs (|z| >= 10)", tags={"saturated"})]


def _act_draw(rng):
    shape = (int(rng.integers(1, 4)), int(rng.integers(2, 5)))
    return case(rng.normal(scale=2.0, size=shape), kind=f"random {shape} pre-activations", tags={"2-D"})


EXPRESSIONS = ["x**3 - 2*x", "sin(x)*exp(x)", "log(1 + exp(x))", "1/(1 + exp(-x))"]
def _sympy_fixed():
    z = np.array([-1.5, -0.5, 0.0, 0.7, 2.0])
    return [case(e, z, kind=f"f(x) = {e}") for e in EXPRESSIONS]


def _ngrad_fixed():
    return [case(FunctionSpec("sines", {"a": np.array([1.0, -2.0, 0.5])}), np.array([0.3, -1.2, 2.0]), 1e-3,
                 kind="sum of sines, eps 1e-3"),
            case(FunctionSpec("quadratic", {"A": np.array([[2.0, 1.0], [1.0, 3.0]]), "b": np.array([1.0, -1.0])}),
                 np.array([0.5, -0.25]), 1e-4, kind="a quadratic form, eps 1e-4"),
            case(FunctionSpec("logsumexp"), np.array([[0.1, -0.4], [1.2, 0.3]]), 1e-3, kind="log-sum-exp of a 2-D x",
                 tags={"2-D x"})]


def _ngrad_draw(rng):
    n, d = int(rng.integers(3, 6)), int(rng.integers(2, 4))
    spec = FunctionSpec("linear_mse", {"X": rng.normal(size=(n, d)), "y": rng.normal(size=n)})
    return case(spec, rng.normal(size=d), float(rng.choice([1e-3, 1e-4])), kind="MSE of a linear model in w")


def _forward_difference(f, x, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    fx = f(x.copy())
    for idx in np.ndindex(x.shape):
        xp = x.copy()
        xp[idx] += eps
        g[idx] = (f(xp) - fx) / eps
    return g


def _backprop_draw(rng):
    n, d, h, k = int(rng.integers(3, 6)), int(rng.integers(2, 5)), int(rng.integers(2, 5)), int(rng.integers(2, 5))
    Y = np.eye(k)[rng.integers(0, k, size=n)]
    return case(rng.normal(size=(n, d)), Y, rng.normal(size=(d, h)), rng.normal(size=h) * 0.1,
                rng.normal(size=(h, k)), rng.normal(size=k) * 0.1, kind=f"N={n}, D={d}, H={h}, K={k}")


def _backprop_fixed():
    return [_backprop_draw(np.random.default_rng(7))]


FED_ACTIVATION = ("derivative fed the activation: the sigmoid's derivative takes the pre-activation z "
                  "(sigma(z)(1 - sigma(z))), or equivalently a(1 - a) of the activation a; you computed "
                  "sigma'(a)")
PARTS = [
    Part(A, "sigmoid_derivative_matches_reference", "sigmoid_derivative", ("z",), ref_sigmoid_derivative, 1,
         _act_fixed, _act_draw, 3, tolerance=EXACT, analytic=True,
         mistakes=(Mistake.calls("derivative fed the activation", "sigmoid_derivative(z) takes the pre-activation z: "
                                 "compute s = sigmoid(z) first, then s * (1 - s); z * (1 - z) is the formula "
                                 "for an input that is already the activation", lambda z: z * (1 - z)),),
         title="sigmoid'(z) = sigmoid(z) (1 - sigmoid(z)) of the pre-activation z"),
    Part(A, "tanh_derivative_matches_reference", "tanh_derivative", ("z",), ref_tanh_derivative, 1,
         _act_fixed, _act_draw, 3, tolerance=EXACT, analytic=True,
         mistakes=(Mistake.calls("derivative fed the activation", "tanh_derivative(z) takes the pre-activation: "
                                 "1 - tanh(z)**2, not 1 - z**2", lambda z: 1 - z * z),
                   Mistake.calls("sigmoid's derivative", "that is the sigmoid's derivative; tanh'(z) = 1 - tanh(z)**2",
                                 lambda z: _sig(z) * (1 - _sig(z))),
                   Mistake.calls("square missing", "tanh'(z) = 1 - tanh(z)**2 (squared)", lambda z: 1 - np.tanh(z))),
         title="tanh'(z) = 1 - tanh(z)^2 of the pre-activation z"),
    Part(A, "sympy_derivative_matches_reference", "derivative_with_sympy", ("expression", "z"),
         ref_sympy_derivative, 1, _sympy_fixed, None, 0, dtype="float",
         tolerance=Tolerance(rtol=1e-9, atol=1e-12),
         mistakes=(Mistake.calls("f instead of f'", "you evaluated the expression itself; differentiate it "
                                 "with sympy.diff before lambdify",
                                 _sympy_value),),
         title="the SymPy derivative of a string expression, evaluated at z"),
    Part(A, "numerical_gradient_matches_reference", "numerical_gradient", ("f", "x", "eps"),
         ref_numerical_gradient, 2, _ngrad_fixed, _ngrad_draw, 3, dtype="float",
         tolerance=Tolerance(rtol=1e-6, atol=1e-8, rtol32=1e-6, atol32=1e-8),
         mistakes=(Mistake.calls("one-sided difference", "use the central difference (f(x + eps) - f(x - eps)) "
                                 "/ (2 eps); the one-sided (f(x + eps) - f(x)) / eps is much less accurate",
                                 _forward_difference),),
         title="central differences, entry by entry, x left unchanged"),
    Part(A, "backprop_matches_reference", "two_layer_backward", ("X", "Y", "W1", "b1", "W2", "b2"), ref_backward,
         2, _backprop_fixed, _backprop_draw, 3, dtype="float", tolerance=EXACT, analytic=True,
         outputs=("dW1", "db1", "dW2", "db2"), partial=True,
         mistakes=(Mistake.calls("derivative fed the activation", FED_ACTIVATION,
                                 lambda *a: ref_backward(*a, fed_activation=True)),
                   Mistake.calls("mean missing", "the loss is a mean over the N samples: divide dZ2 = P - Y by N",
                                 lambda *a: ref_backward(*a, mean=False))),
         depends_on=("sigmoid_derivative",), title="gradients of the mean cross-entropy of a 2-layer network"),
]
