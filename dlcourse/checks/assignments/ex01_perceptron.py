"""ex01_perceptron: the step rule, the perceptron's prediction, its update rule and training loop.

References: :data:`dlcourse.activations.step` (strict ``z > 0``) for the step; the
Rosenblatt rule as small functions here (tested against :mod:`dlcourse.perceptron`).
"""

from __future__ import annotations

import numpy as np

from ..spec import Mistake, Part, case

A = "ex01_perceptron"
GATES = {
    "AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "XOR": [0, 1, 1, 0],
}
GATE_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def ref_step(z):
    from dlcourse.activations import step

    return step(np.asarray(z))


def ref_predict(X, w, b):
    return ref_step(np.asarray(X) @ np.asarray(w) + b)


def ref_update(x, y, w, b, lr):
    """One Rosenblatt step: ``err = y - step(x . w + b)``; ``w + lr err x``, ``b + lr err``."""
    err = y - float(ref_step(np.asarray(x) @ w + b))
    return w + lr * err * np.asarray(x), float(b + lr * err)


def ref_train(X, y, lr=0.1, epochs=10):
    """Start from zeros; for each epoch visit the samples in order and apply the update."""
    w, b = np.zeros(np.shape(X)[1]), 0.0
    for _ in range(epochs):
        for xi, yi in zip(X, y):
            w, b = ref_update(xi, yi, w, b, lr)
    return w, b


def _ge_step(z):
    return (np.asarray(z) >= 0).astype(np.float64)


# ---- inputs ------------------------------------------------------------------------------
def _step_fixed():
    return [case(np.array([-2.0, -0.5, 0.0, 0.5, 2.0]), kind="a vector with an exact 0", tags={"exact zeros"}),
            case(np.array([[0.0, 1.0], [-1.0, 0.0]]), kind="a 2-D array with zeros", tags={"exact zeros", "2-D"}),
            case(np.array([0.0, -0.0, 1e-9, -1e-9, 3e3, -3e3], dtype=np.float32), kind="float32 edge values",
                 tags={"exact zeros", "tiny values"})]


def _step_draw(rng):
    return case(rng.normal(size=(int(rng.integers(2, 6)), 3)).round(1), kind="random 2-D array (some zeros)",
                tags={"2-D"})


def _separable(rng, n=None, d=None):
    n = n or int(rng.integers(6, 12))
    d = d or int(rng.integers(2, 4))
    X = rng.integers(-3, 4, size=(n, d)).astype(np.float64)
    w_true = rng.integers(-2, 3, size=d).astype(np.float64)
    y = (X @ w_true + 0.5 > 0).astype(np.float64)
    return X, y


def _predict_fixed():
    return [case(GATE_X, np.array([1.0, 1.0]), -1.0, kind="OR gate weights (net input exactly 0 on [0, 1])",
                 tags={"ties at 0"}),
            case(GATE_X, np.array([0.5, 0.5]), -0.7, kind="AND gate weights")]


def _predict_draw(rng):
    X = rng.integers(-2, 3, size=(int(rng.integers(3, 7)), 3)).astype(np.float64)
    return case(X, rng.integers(-2, 3, size=3).astype(np.float64), float(rng.integers(-1, 2)),
                kind="random integer inputs (ties at 0)", tags={"ties at 0"})


def update_tags(x, y, w, b) -> set:
    """What an update input is: the net input exactly 0 ("tie"), and which way the prediction errs."""
    net = float(np.asarray(x) @ w + b)
    err = y - float(net > 0)
    return ({"tie"} if net == 0 else set()) | {
        "false negative" if err > 0 else "false positive" if err < 0 else "already right"}


def _update(x, y, w, b, lr, kind):
    return case(x, y, w, b, lr, kind=kind, tags=update_tags(x, y, w, b))


def _update_fixed():
    return [_update(np.array([1.0, 1.0]), 1.0, np.array([0.0, 0.0]), 0.0, 0.1,
                    kind="AND gate from zero weights at input [1, 1]"),
            _update(np.array([0.0, 0.0]), 0.0, np.array([0.0, 0.0]), 0.0, 0.1,
                    kind="input [0, 0] with zero weights (net input exactly 0)"),
            _update(np.array([1.0, 0.0]), 0.0, np.array([0.3, 0.2]), 0.0, 0.5, kind="false positive"),
            _update(np.array([0.5, -1.0, 2.0]), 1.0, np.array([1.0, 1.0, 1.0]), 0.5, 0.1, kind="already right"),
            _update(np.array([2.0, -1.0]), 1.0, np.array([-0.5, 0.5]), 0.25, 0.5, kind="false negative"),
            _update(np.array([1.0, 0.0]), 1.0, np.array([-1.0, 0.5]), 0.0, 0.1,
                    kind="false negative that one small step does not fix")]


def _update_draw(rng):
    d = int(rng.integers(2, 5))
    return _update(rng.normal(size=d).round(2), float(rng.integers(0, 2)), rng.normal(size=d).round(2),
                   round(float(rng.normal()), 2), float(rng.choice([0.05, 0.1, 0.5])), kind="random sample and weights")


def _train_fixed():
    return [case(GATE_X, np.array(GATES["AND"], float), 0.1, 10, kind="AND gate, lr 0.1, 10 epochs"),
            case(GATE_X, np.array(GATES["OR"], float), 0.5, 5, kind="OR gate, lr 0.5, 5 epochs"),
            case(GATE_X, np.array(GATES["XOR"], float), 0.5, 3, kind="XOR, lr 0.5, 3 epochs (never converges)",
                 tags={"not separable"})]


def _train_draw(rng):
    X, y = _separable(rng)
    # powers of two: sums of multiples of lr are exact, so a net input of exactly 0 stays 0
    # whichever order a learner's dot product adds in (0.1 can round to +-1e-17 instead)
    return case(X, y, float(rng.choice([0.125, 0.5, 1.0])), int(rng.integers(1, 8)), kind="random separable data")


def _update_sign(x, y, w, b, lr):
    err = float(ref_step(np.asarray(x) @ w + b)) - y
    return w + lr * err * x, b + lr * err


def _update_no_lr(x, y, w, b, lr):
    err = y - float(ref_step(np.asarray(x) @ w + b))
    return w + err * x, b + err


def _update_bias_after(x, y, w, b, lr):
    w_new = w + lr * (y - float(ref_step(np.asarray(x) @ w + b))) * x
    return w_new, b + lr * (y - float(ref_step(np.asarray(x) @ w_new + b)))


def _update_ge(x, y, w, b, lr):
    err = y - float(_ge_step(np.asarray(x) @ w + b))
    return w + lr * err * x, b + lr * err


def _train_with(update):
    def train(X, y, lr=0.1, epochs=10):
        w, b = np.zeros(np.shape(X)[1]), 0.0
        for _ in range(epochs):
            for xi, yi in zip(X, y):
                w, b = update(xi, yi, w, b, lr)
        return w, b
    return train


GE = ("the step is 1 only for z > 0; at z = 0 it is 0 (the strict rule that the AND-gate "
      "trace needs)")

PARTS = [
    Part(A, "step_matches_reference", "step", ("z",), ref_step, 1, _step_fixed, _step_draw, 3,
         dtype="any",
         mistakes=(Mistake.calls(">= instead of >", GE, _ge_step),
                   Mistake.calls("np.sign", "np.sign(z) is -1 for z < 0 (and 0 at 0): the step is 0 for every "
                                 "z <= 0", lambda z: np.sign(z))),
         title="step(z) is 1 where z > 0 and 0 elsewhere, element-wise"),
    Part(A, "predict_matches_reference", "perceptron_predict", ("X", "w", "b"), ref_predict, 1,
         _predict_fixed, _predict_draw, 3, dtype="any",
         mistakes=(Mistake.calls(">= instead of >", GE, lambda X, w, b: _ge_step(X @ w + b)),
                   Mistake.calls("no step", "you return the net input X @ w + b; apply step to it",
                                 lambda X, w, b: X @ w + b),
                   Mistake.calls("bias missing", "the bias b is missing from the net input",
                                 lambda X, w, b: ref_step(X @ w))),
         depends_on=("step",), title="perceptron_predict(X, w, b) = step(X @ w + b)"),
    Part(A, "update_matches_reference", "perceptron_update", ("x", "y", "w", "b", "lr"), ref_update, 2,
         _update_fixed, _update_draw, 4, dtype="float", outputs=("w", "b"),
         partial=True,
         mistakes=(Mistake.calls("error sign flipped", "the error is y - y_hat (label minus prediction), "
                                 "not y_hat - y", _update_sign),
                   Mistake.calls("learning rate missing", "multiply the change by the learning rate lr",
                                 _update_no_lr),
                   Mistake.calls(">= instead of >", GE, _update_ge),
                   Mistake.calls("error recomputed", "compute the error once, from the old w and b, and use "
                                 "that same error for both the w and the b update", _update_bias_after)),
         depends_on=("step",), title="one Rosenblatt update returns the new (w, b)"),
    Part(A, "training_matches_reference", "train_perceptron", ("X", "y", "lr", "epochs"), ref_train, 2,
         _train_fixed, _train_draw, 3, dtype="float", outputs=("w", "b"),
         mistakes=(Mistake.calls(">= instead of >", GE, _train_with(_update_ge)),
                   Mistake.calls("error sign flipped", "the error is y - y_hat", _train_with(_update_sign))),
         depends_on=("perceptron_update",), title="train_perceptron from zeros, samples in order"),
]
