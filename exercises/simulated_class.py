"""A simulated class for every assignment: who submits what, and the grades they must get.

Used by ``tests/test_exercises.py`` (and available to the ``dlcourse-grade`` tests). Each
student fills the *released* notebook's solution cells:

* ``solution``: the instructor's solution bodies (every autograded point);
* ``untouched``: nothing (0 points, and the notebook must not crash the grader);
* one student per typical mistake below: the solution bodies with the listed functions
  replaced; ``scores`` gives the expected points of the parts that are not full, and
  ``expect`` a text the autograded notebook must contain (the diagnosis), per grade id.

A body is given without indentation; it replaces the stub
``# YOUR CODE HERE`` / ``raise NotImplementedError()`` of the function's cell.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

__all__ = ["Mistake", "MISTAKES", "solution_bodies", "fill", "class_notebooks"]

STUB = re.compile(r"^(?P<indent>[ \t]*)# YOUR CODE HERE\n(?P=indent)raise NotImplementedError\(\)[ \t]*$", re.M)


@dataclass
class Mistake:
    student: str
    bodies: dict[str, str]
    scores: dict[str, float] = field(default_factory=dict)
    expect: dict[str, str] = field(default_factory=dict)


MISTAKES: dict[str, list[Mistake]] = {
    "ex01_perceptron": [
        Mistake("ge-step", {"step": "return np.where(np.asarray(z) >= 0, 1.0, 0.0)"},
                {"step_matches_reference": 0, "predict_matches_reference": 0, "update_matches_reference": 0,
                 "training_matches_reference": 0},
                {"step_matches_reference": ">= instead of >"}),
        Mistake("mutating-update", {"perceptron_update": "y_hat = step(x @ w + b)\nerror = y - y_hat\n"
                                    "w += lr * error * x\nreturn w, b + lr * error"},
                {"update_matches_reference": 0}, {"update_matches_reference": "input mutated in place"}),
        Mistake("sign-flipped", {"perceptron_update": "y_hat = step(x @ w + b)\nerror = y_hat - y\n"
                                 "return w + lr * error * x, b + lr * error"},
                {"update_matches_reference": 0, "training_matches_reference": 0},
                {"update_matches_reference": "error sign flipped"}),
        Mistake("bias-forgotten", {"perceptron_update": "y_hat = step(x @ w + b)\nerror = y - y_hat\n"
                                   "return w + lr * error * x, b"},
                {"update_matches_reference": 1, "training_matches_reference": 0},
                {"update_matches_reference": "Right on every case: w "}),
    ],
    "ex02_mlp": [
        Mistake("naive-sigmoid", {"sigmoid": "return 1 / (1 + np.exp(-z))"}, {"sigmoid_is_stable": 0},
                {"sigmoid_is_stable": "overflow"}),
        Mistake("wrong-axis", {"softmax": "e = np.exp(Z - Z.max(axis=0, keepdims=True))\n"
                               "return e / e.sum(axis=0, keepdims=True)"},
                {"softmax_matches_reference": 0, "softmax_is_stable": 0, "mlp_forward_matches_reference": 0},
                {"softmax_matches_reference": "wrong axis"}),
        Mistake("column-convention", {"dense_forward": "return W.T @ X.T + b.reshape(-1, 1)"},
                {"dense_forward_matches_reference": 0, "mlp_forward_matches_reference": 0},
                {"dense_forward_matches_reference": "transposed"}),
        Mistake("relu-in-place", {"relu": "z[z < 0] = 0\nreturn z"}, {"relu_matches_reference": 0},
                {"relu_matches_reference": "input mutated in place"}),
    ],
    "ex03_derivatives": [
        Mistake("fed-activation", {"sigmoid_derivative": "return z * (1 - z)"},
                {"sigmoid_derivative_matches_reference": 0, "backprop_matches_reference": 1},
                {"sigmoid_derivative_matches_reference": "derivative fed the activation"}),
        Mistake("one-sided", {"numerical_gradient": "x = np.array(x, dtype=np.float64)\ngrad = np.zeros_like(x)\n"
                              "fx = f(x)\nfor idx in np.ndindex(x.shape):\n    xp = x.copy()\n    xp[idx] += eps\n"
                              "    grad[idx] = (f(xp) - fx) / eps\nreturn grad"},
                {"numerical_gradient_matches_reference": 0},
                {"numerical_gradient_matches_reference": "one-sided difference"}),
        Mistake("tanh-of-activation", {"tanh_derivative": "return 1 - z**2"}, {"tanh_derivative_matches_reference": 0},
                {"tanh_derivative_matches_reference": "derivative fed the activation"}),
        Mistake("no-mean", {"two_layer_backward": "A1 = sigmoid(X @ W1 + b1)\nP = softmax_rows(A1 @ W2 + b2)\n"
                            "dZ2 = P - Y\ndZ1 = (dZ2 @ W2.T) * A1 * (1 - A1)\n"
                            "return X.T @ dZ1, dZ1.sum(axis=0), A1.T @ dZ2, dZ2.sum(axis=0)"},
                {"backprop_matches_reference": 0}, {"backprop_matches_reference": "mean missing"}),
    ],
    "ex04_losses": [
        Mistake("log10", {"binary_cross_entropy": "return -np.mean(y_true * np.log10(p) + (1 - y_true) * np.log10(1 - p))",
                          "categorical_cross_entropy": "return -np.sum(Y * np.log10(P)) / Y.shape[0]"},
                {"bce_matches_reference": 0, "cce_matches_reference": 0},
                {"bce_matches_reference": "log10 instead of ln", "cce_matches_reference": "log10 instead of ln"}),
        Mistake("sum-not-mean", {"mse": "return np.sum((y_pred - y_true) ** 2)",
                                 "mse_gradient": "return 2 * (y_pred - y_true)"},
                {"mse_matches_reference": 0, "mse_gradient_matches_reference": 0},
                {"mse_matches_reference": "a sum where a mean", "mse_gradient_matches_reference": "mean missing"}),
        Mistake("cce-mean-all", {"categorical_cross_entropy": "return -np.mean(Y * np.log(P))"},
                {"cce_matches_reference": 0}, {"cce_matches_reference": "mean over all elements"}),
        Mistake("ce-gradient-no-mean", {"softmax_cross_entropy_gradient": "e = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
                                        "return e / e.sum(axis=1, keepdims=True) - Y"},
                {"softmax_ce_gradient_matches_reference": 0},
                {"softmax_ce_gradient_matches_reference": "factor of the batch size"}),
    ],
    "ex05_optimizers": [
        Mistake("gradient-ascent", {"sgd_step": "return w + lr * grad"}, {"sgd_step_matches_reference": 0},
                {"sgd_step_matches_reference": "wrong direction"}),
        Mistake("eps-inside", {"rmsprop_step": "sq_avg_new = alpha * sq_avg + (1 - alpha) * grad**2\n"
                               "return w - lr * grad / np.sqrt(sq_avg_new + eps), sq_avg_new"},
                {"rmsprop_step_matches_reference": 1}, {"rmsprop_step_matches_reference": "epsilon inside the square root"}),
        Mistake("no-bias-correction", {"adam_step": "m_new = beta1 * m + (1 - beta1) * grad\n"
                                       "v_new = beta2 * v + (1 - beta2) * grad**2\n"
                                       "return w - lr * m_new / (np.sqrt(v_new) + eps), m_new, v_new"},
                {"adam_step_matches_reference": 2}, {"adam_step_matches_reference": "bias correction missing"}),
        Mistake("momentum-in-place", {"momentum_step": "velocity *= momentum\nvelocity += grad\n"
                                      "return w - lr * velocity, velocity"},
                {"momentum_step_matches_reference": 0}, {"momentum_step_matches_reference": "input mutated in place"}),
    ],
    "ex06_cnn": [
        Mistake("flipped-kernel", {"conv2d_forward": "N, C, H, W = x.shape\nF, _, KH, KW = w.shape\n"
                                   "H_out = conv_output_size(H, KH, stride, padding)\n"
                                   "W_out = conv_output_size(W, KW, stride, padding)\n"
                                   "x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))\n"
                                   "w = w[:, :, ::-1, ::-1]\nout = np.zeros((N, F, H_out, W_out))\n"
                                   "for i in range(H_out):\n    for j in range(W_out):\n"
                                   "        window = x_pad[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW]\n"
                                   "        out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b\n"
                                   "return out"},
                {"conv2d_forward_matches_reference": 0}, {"conv2d_forward_matches_reference": "kernel flipped"}),
        Mistake("no-plus-one", {"conv_output_size": "return (n + 2 * padding - k) // stride"},
                {"conv_output_size_matches_reference": 0, "conv2d_forward_matches_reference": 0},
                {"conv_output_size_matches_reference": "+1 missing"}),
        Mistake("average-pool", {"max_pool_forward": "N, C, H, W = x.shape\nH_out = (H - size) // stride + 1\n"
                                 "W_out = (W - size) // stride + 1\nout = np.zeros((N, C, H_out, W_out))\n"
                                 "for i in range(H_out):\n    for j in range(W_out):\n"
                                 "        out[:, :, i, j] = x[:, :, i * stride:i * stride + size, "
                                 "j * stride:j * stride + size].mean(axis=(2, 3))\nreturn out"},
                {"max_pool_forward_matches_reference": 0}, {"max_pool_forward_matches_reference": "average pooling"}),
        Mistake("spread-gradient", {"max_pool_backward": "dx = np.zeros_like(x)\nfor i in range(dout.shape[2]):\n"
                                    "    for j in range(dout.shape[3]):\n"
                                    "        dx[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += "
                                    "dout[:, :, i:i + 1, j:j + 1] / size**2\nreturn dx"},
                {"max_pool_backward_matches_reference": 0}, {"max_pool_backward_matches_reference": "spread evenly"}),
    ],
    "ex07_training": [
        Mistake("relu-on-output", {"mlp_forward": "A_prev, cache = X, []\nfor W, b in params:\n    Z = A_prev @ W + b\n"
                                   "    cache.append((A_prev, Z))\n    A_prev = relu(Z)\nreturn A_prev, cache"},
                {"mlp_forward_caches_match_reference": 1, "training_loop_matches_reference": 0},
                {"mlp_forward_caches_match_reference": "ReLU on the output layer"}),
        Mistake("no-relu-derivative", {"mlp_backward": "grads = [None] * len(params)\ndelta = dout\n"
                                       "for l in range(len(params) - 1, -1, -1):\n"
                                       "    grads[l] = (cache[l][0].T @ delta, delta.sum(axis=0))\n"
                                       "    delta = delta @ params[l][0].T\nreturn grads"},
                {"mlp_backward_matches_reference": 0, "training_loop_matches_reference": 0},
                {"mlp_backward_matches_reference": "ReLU derivative missing"}),
        Mistake("same-order-every-epoch", {"train_mlp": "N = X.shape[0]\nfor epoch in range(epochs):\n"
                                           "    order = np.random.default_rng(seed).permutation(N)\n"
                                           "    for start in range(0, N, batch_size):\n"
                                           "        idx = order[start:start + batch_size]\n"
                                           "        out, cache = mlp_forward(X[idx], params)\n"
                                           "        loss, dout = softmax_cross_entropy(out, y[idx])\n"
                                           "        params = sgd_update(params, mlp_backward(dout, cache, params), lr)\n"
                                           "return params"},
                {"training_loop_matches_reference": 0},
                {"training_loop_matches_reference": "the same order every epoch"}),
        Mistake("tanh-of-input", {"op_backward": "g = out_grad\nif op == '+':\n    return (g, g)\n"
                                  "if op == '-':\n    return (g, -g)\nif op == '*':\n    a, b = inputs\n"
                                  "    return (g * b, g * a)\nif op == '/':\n    a, b = inputs\n"
                                  "    return (g / b, -g * a / b ** 2)\nx = inputs[0]\nif op.startswith('**'):\n"
                                  "    p = float(op[2:])\n    return (g * p * x ** (p - 1),)\n"
                                  "if op == 'exp':\n    return (g * out,)\nif op == 'log':\n    return (g / x,)\n"
                                  "if op == 'tanh':\n    return (g * (1 - x ** 2),)\n"
                                  "return (g * (1.0 if x > 0 else 0.0),)"},
                {"op_backward_matches_reference": 0, "graph_backward_matches_reference": 0},
                {"op_backward_matches_reference": "tanh' of the input"}),
        Mistake("recursive-order", {"topological_order": "order, seen = [], set()\ndef visit(i):\n"
                                    "    if i in seen:\n        return\n    seen.add(i)\n"
                                    "    for j in nodes[i][1]:\n        visit(j)\n    order.append(i)\n"
                                    "visit(output)\nreturn order"},
                {"topological_order_is_valid": 0, "graph_backward_matches_reference": 0},
                {"topological_order_is_valid": "RecursionError"}),
    ],
}


def _function_of(source: str) -> str | None:
    m = re.search(r"^def (\w+)\(", source, re.M)
    return m.group(1) if m else None


def solution_bodies(source_nb) -> dict[str, str]:
    """The instructor's solution body of each function (dedented), from the source notebook."""
    bodies = {}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        lines = cell.source.split("\n")
        start = next(i for i, line in enumerate(lines) if "### BEGIN SOLUTION" in line)
        end = next(i for i, line in enumerate(lines) if "### END SOLUTION" in line)
        indent = len(lines[start]) - len(lines[start].lstrip())
        bodies[_function_of(cell.source)] = "\n".join(line[indent:] for line in lines[start + 1:end])
    return bodies


def fill(release_nb, bodies: dict[str, str]):
    """A copy of the released notebook with the stubs of the named functions replaced by ``bodies``."""
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        name = _function_of(cell.source) if cell.cell_type == "code" else None
        if name in bodies:
            def put(m, body=bodies[name]):
                return "\n".join(m.group("indent") + line if line else line for line in body.split("\n"))
            cell.source, count = STUB.subn(put, cell.source)
            if count != 1:
                raise ValueError(f"no stub to fill in the cell of {name}")
    return nb


def class_notebooks(assignment: str, source_nb, release_nb) -> dict[str, tuple]:
    """``{student: (notebook, scores, expect)}`` for the whole simulated class of ``assignment``."""
    solution = solution_bodies(source_nb)
    out = {"solution": (fill(release_nb, solution), {}, {}), "untouched": (copy.deepcopy(release_nb), None, {})}
    for m in MISTAKES[assignment]:
        out[m.student] = (fill(release_nb, {**solution, **m.bodies}), m.scores, m.expect)
    return out
