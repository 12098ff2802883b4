"""ex02_mlp: stable activations, a row-wise softmax, a dense layer and a two-layer MLP forward pass.

References: :mod:`dlcourse.activations` (``sigmoid``, ``tanh``, ``relu``, ``softmax``) and
:func:`dlcourse.layers.dense.dense_forward`.
"""

from __future__ import annotations

import numpy as np

from ..spec import Mistake, Part, Tolerance, case

A = "ex02_mlp"


def ref_sigmoid(z):
    from dlcourse.activations import sigmoid

    return sigmoid(np.asarray(z))


def ref_tanh(z):
    from dlcourse.activations import tanh

    return tanh(np.asarray(z))


def ref_relu(z):
    from dlcourse.activations import relu

    return relu(np.asarray(z))


def ref_softmax(Z):
    from dlcourse.activations import softmax

    return softmax(np.asarray(Z))


def ref_dense(X, W, b):
    from dlcourse.layers.dense import dense_forward

    return dense_forward(X, W, b)[0]


def ref_mlp(X, W1, b1, W2, b2):
    return ref_softmax(ref_dense(ref_relu(ref_dense(X, W1, b1)), W2, b2))


def _plain_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _plain_softmax(Z, axis=-1):
    e = np.exp(Z - np.max(Z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# ---- inputs ------------------------------------------------------------------------------
def _vector_cases():
    z = np.array([-6.0, -2.0, -0.5, 0.0, 0.5, 2.0, 6.0])
    return [case(z, kind="a vector of moderate values"),
            case(np.append(z, [-1e-8, 1e-8]).reshape(1, -1).astype(np.float32), kind="a float32 row (values near 0 too)",
                 tags={"tiny values"}),
            case(np.linspace(-5, 5, 12).reshape(2, 2, 3), kind="a 3-D array", tags={"3-D"})]


def _moderate_draw(rng):
    shape = (int(rng.integers(1, 5)), int(rng.integers(2, 6)))
    return case(rng.normal(scale=3.0, size=shape), kind=f"random {shape} array")


def _large_cases():
    z = np.array([-1e4, -1000.0, -730.0, -100.0, -90.0, -30.0, 0.0, 30.0, 100.0, 1000.0, 1e4])
    return [case(z, kind="large inputs (|z| up to 1e4)", tags={"large"}),
            case(z.astype(np.float32), kind="large float32 inputs", tags={"large"})]


def _softmax_fixed():
    return [case(np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]), kind="two rows (one uniform)", tags={"uniform row"}),
            case(np.array([[0.5, -1.0, 2.0, 0.0]], dtype=np.float32), kind="one float32 row", tags={"N = 1"}),
            case(np.array([[0.5], [7.0], [-3.0]]), kind="a single class (K = 1)", tags={"K = 1"}),
            case(np.array([[0.2, -1.0, 3.0], [1.5, 0.0, -0.5], [2.0, 2.0, -1.0]]), kind="3 rows of 3 classes",
                 tags={"N = K"})]


def _softmax_draw(rng):
    shape = (int(rng.integers(2, 6)), int(rng.integers(2, 6)))
    return case(rng.normal(scale=2.0, size=shape), kind=f"random {shape} logits")


def _softmax_large():
    return [case(np.array([[1000.0, 1001.0, 1002.0], [-1e4, 0.0, 1e4]]), kind="large logits (up to 1e4)",
                 tags={"large"}),
            case(np.array([[-1000.0, -1001.0]], dtype=np.float32), kind="large negative float32 logits",
                 tags={"large"})]


def _dense_draw(rng):
    n, d, k = (int(v) for v in rng.integers(2, 6, size=3))
    return case(rng.normal(size=(n, d)), rng.normal(size=(d, k)), rng.normal(size=k), kind=f"N={n}, D={d}, K={k}")


def _dense_fixed():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    return [case(X, np.array([[1.0, 0.0, -1.0], [0.5, 1.0, 2.0]]), np.array([0.1, 0.2, 0.3]), kind="N=3, D=2, K=3"),
            case(np.array([[1.0, -2.0, 0.5]]), np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]), np.array([0.5, -0.5]),
                 kind="one sample (N = 1)", tags={"N = 1"}),
            case(X[:2], np.array([[2.0, -1.0], [0.5, 3.0]]), np.array([1.0, -1.0]), kind="square weights (D = K)",
                 tags={"D = K"})]


def _mlp_draw(rng):
    n, d, h, k = (int(v) for v in rng.integers(2, 6, size=4))
    return case(rng.normal(size=(n, d)), rng.normal(size=(d, h)), rng.normal(size=h),
                rng.normal(size=(h, k)), rng.normal(size=k), kind=f"N={n}, D={d}, H={h}, K={k}")


def _mlp_fixed():
    rng = np.random.default_rng(2)
    c = _mlp_draw(rng)
    return [c, case(*(a.astype(np.float32) for a in _mlp_draw(rng).args), kind="a float32 network")]


def _keepdims_missing(Z):
    e = np.exp(Z - np.max(Z, axis=1, keepdims=True))
    if Z.shape[0] != Z.shape[1]:
        raise ValueError("does not broadcast")
    return e / np.sum(e, axis=1)


TRANSPOSED = Mistake.transforms("transposed", "your result is the transpose of the right one (check the order "
                                "of a matrix product, or which axis is which)", lambda e: e.T)
WRONG_AXIS = ("softmax over the wrong axis: each row (one sample) must sum to 1; use axis=1 "
              "(or -1) with keepdims=True")
PARTS = [
    Part(A, "sigmoid_matches_reference", "sigmoid", ("z",), ref_sigmoid, 1, _vector_cases, _moderate_draw, 3,
         mistakes=(Mistake.calls("sign in the exponent", "use exp(-z): 1 / (1 + exp(z)) is sigmoid(-z)",
                                 lambda z: _plain_sigmoid(-z)),),
         title="sigmoid(z) = 1 / (1 + exp(-z)) for moderate z, dtype kept"),
    Part(A, "sigmoid_is_stable", "sigmoid", ("z",), ref_sigmoid, 1, _large_cases, None, 0, stability=True, title="sigmoid is right to rounding for |z| up to 1e4, tiny values included"),
    Part(A, "tanh_matches_reference", "tanh", ("z",), ref_tanh, 1, _vector_cases, _moderate_draw, 3,
         tolerance=Tolerance(rtol=1e-7, atol=1e-12),
         mistakes=(Mistake.calls("scaled wrongly", "tanh(z) = 2 sigmoid(2z) - 1: the argument is 2z, not z",
                                 lambda z: 2 * _plain_sigmoid(z) - 1),
                   Mistake.calls("shifted sigmoid", "tanh is a scaled *and* shifted sigmoid: 2 sigmoid(2z) - 1",
                                 lambda z: _plain_sigmoid(2 * z) - 0.5)),
         title="tanh(z) for moderate z, dtype kept"),
    Part(A, "relu_matches_reference", "relu", ("z",), ref_relu, 1, _vector_cases, _moderate_draw, 3,
         mistakes=(Mistake.calls("mask returned", "ReLU returns max(0, z), not the mask z > 0",
                                 lambda z: (z > 0).astype(z.dtype)),),
         title="relu(z) = max(0, z) element-wise (np.maximum, not np.max)"),
    Part(A, "softmax_matches_reference", "softmax", ("Z",), ref_softmax, 2, _softmax_fixed, _softmax_draw, 3,
         mistakes=(Mistake.calls("wrong axis", WRONG_AXIS, lambda Z: _plain_softmax(Z, axis=0)),
                   Mistake.calls("whole batch", "you normalise over the whole batch; normalise each row "
                                 "on its own (sum over axis=1, keepdims=True)",
                                 lambda Z: np.exp(Z - Z.max()) / np.exp(Z - Z.max()).sum()),
                   Mistake.calls("keepdims missing", "the row sums have shape (N,) without keepdims=True, so they "
                                 "divide along the wrong axis: sum(axis=1, keepdims=True)",
                                 lambda Z: _keepdims_missing(Z)),
                   TRANSPOSED),
         title="softmax of each row of Z (N, K); every row sums to 1"),
    Part(A, "softmax_is_stable", "softmax", ("Z",), ref_softmax, 1, _softmax_large, None, 0,
         stability=True,
         mistakes=(Mistake("overflow", "exp overflows for large logits: subtract each row's maximum "
                           "before exp (the result does not change)", on_warning="overflow"),),
         title="softmax is right to rounding for logits up to 1e4"),
    Part(A, "dense_forward_matches_reference", "dense_forward", ("X", "W", "b"), ref_dense, 1, _dense_fixed,
         _dense_draw, 3, mistakes=(Mistake.calls("bias missing", "add the bias b (broadcast over the rows)", lambda X, W, b: X @ W),
                                   Mistake.calls("W transposed", "W has shape (D, K): the product is X @ W, "
                                                 "not X @ W.T", lambda X, W, b: X @ W.T + b),
                                   TRANSPOSED),
         title="dense_forward(X, W, b) = X @ W + b with W of shape (D, K)"),
    Part(A, "mlp_forward_matches_reference", "mlp_forward", ("X", "W1", "b1", "W2", "b2"), ref_mlp, 2,
         _mlp_fixed, _mlp_draw, 3, mistakes=(Mistake.calls("no softmax", "the output layer must apply softmax to the logits",
                                 lambda X, W1, b1, W2, b2: np.maximum(X @ W1 + b1, 0) @ W2 + b2),
                   Mistake.calls("no hidden activation", "apply relu to the hidden layer's pre-activation",
                                 lambda X, W1, b1, W2, b2: _plain_softmax((X @ W1 + b1) @ W2 + b2)),
                   Mistake.calls("sigmoid hidden layer", "the hidden layer uses relu, not sigmoid",
                                 lambda X, W1, b1, W2, b2: _plain_softmax(_plain_sigmoid(X @ W1 + b1) @ W2 + b2))),
         depends_on=("dense_forward", "relu", "softmax"),
         title="mlp_forward = softmax(dense(relu(dense(X, W1, b1)), W2, b2))"),
]
