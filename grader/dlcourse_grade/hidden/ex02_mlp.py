"""Hidden cases of ex02_mlp: the inputs its hidden tests and the verified grading draw.

Only the grader has them; the learner package holds the visible cases alone.
"""

from __future__ import annotations

import numpy as np

from dlcourse.checks.spec import case
from dlcourse.checks.assignments.ex02_mlp import _dense_draw, _mlp_draw, _moderate_draw, _softmax_draw

from .base import Hidden

def _moderate_hidden():
    return [case(np.linspace(-8, 8, 24).reshape(2, 3, 4), kind="a 3-D array", tags={"3-D"}),
            case(np.array([-1e-9, 0.0, 1e-9, 3.0], dtype=np.float32), kind="float32 values near 0",
                 tags={"tiny values"})]

def _large_hidden():
    return [case(np.array([[-745.0, -710.0], [710.0, 745.0]]), kind="inputs near exp's overflow limit",
                 tags={"large"}),
            case(np.full((2, 2), -1e4, dtype=np.float32), kind="all -1e4, float32", tags={"large"})]

def _softmax_hidden():
    return [case(np.array([[3.0], [-2.0]]), kind="a single class (K = 1)", tags={"K = 1"}),
            case(np.array([[0.0, 0.0], [5.0, -5.0], [1.0, 2.0]]), kind="3 rows of 2 classes", tags={"uniform row"})]

def _extreme_values(rng, dtype, n):
    """``n`` values of mixed signs: where exp underflows to subnormals, and |z| from 1e3 up to the dtype's limit."""
    window = (710.0, 738.0) if dtype == np.float64 else (89.0, 97.0)  # sigmoid(-z) is a subnormal there
    top = 308 if dtype == np.float64 else 38
    k = n // 2
    z = np.concatenate([-rng.uniform(*window, size=k), rng.choice([-1.0, 1.0], size=n - k)
                        * 10.0 ** rng.uniform(3, top, size=n - k)])
    return rng.permutation(z).astype(dtype)


def _large_draw(rng):
    dtype = np.float32 if rng.integers(2) else np.float64
    return case(_extreme_values(rng, dtype, int(rng.integers(8, 14))),
                kind=f"extreme {np.dtype(dtype).name} inputs (|z| from 1e3 to the dtype's limit, mixed signs)",
                tags={"large"})


def _softmax_large_draw(rng):
    dtype = np.float32 if rng.integers(2) else np.float64
    n, k = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    top = 300 if dtype == np.float64 else 36
    offsets = rng.choice([-1.0, 1.0], size=(n, 1)) * 10.0 ** rng.uniform(3, top, size=(n, 1))
    # a row whose spread still matters, where the dtype still resolves the differences to ~1e-5
    offsets[0] = rng.choice([-1.0, 1.0]) * (rng.uniform(1e3, 1e4) if dtype == np.float64 else rng.uniform(300, 1e3))
    Z = offsets + rng.normal(scale=3.0, size=(n, k))
    if k > 1:
        Z[-1, 0] = Z[-1, 1] - (740.0 if dtype == np.float64 else 95.0)  # an entry whose probability is subnormal
    return case(Z.astype(dtype), kind=f"extreme {np.dtype(dtype).name} logits (|z| from 1e3 up, mixed signs)",
                tags={"large"})


def _softmax_large_hidden():
    return [case(np.array([[800.0, 800.0], [-800.0, -799.0]]), kind="logits beyond exp's overflow limit",
                 tags={"large"})]

def _dense_hidden():
    return [case(np.ones((1, 4)), np.arange(8.0).reshape(4, 2), np.zeros(2), kind="one sample", tags={"N = 1"}),
            case(np.arange(9.0).reshape(3, 3), np.eye(3)[::-1].copy(), np.array([1.0, 2.0, 3.0]),
                 kind="square weights", tags={"D = K"})]

def _mlp_hidden():
    rng = np.random.default_rng(3)
    c = _mlp_draw(rng)
    return [c, case(*(a.astype(np.float32) for a in c.args), kind="float32 network")]


HIDDEN = {
    "sigmoid_matches_reference": Hidden(_moderate_hidden, _moderate_draw, 2),
    "sigmoid_is_stable": Hidden(_large_hidden, _large_draw, 3),
    "tanh_matches_reference": Hidden(_moderate_hidden, None, 0),
    "relu_matches_reference": Hidden(_moderate_hidden, None, 0),
    "softmax_matches_reference": Hidden(_softmax_hidden, _softmax_draw, 2),
    "softmax_is_stable": Hidden(_softmax_large_hidden, _softmax_large_draw, 3),
    "dense_forward_matches_reference": Hidden(_dense_hidden, _dense_draw, 2),
    "mlp_forward_matches_reference": Hidden(_mlp_hidden, _mlp_draw, 2),
}
