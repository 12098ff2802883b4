"""Hidden cases of ex07_training: the inputs its hidden tests and the verified grading draw.

Only the grader has them; the learner package holds the visible cases alone.
"""

from __future__ import annotations

import numpy as np

from dlcourse.checks.spec import case
from dlcourse.checks.assignments.ex07_training import (
    _as_backward, _backward_draw, _forward_draw, _graph, _graph_draw, _net, _op, _op_draw, _train_draw, _update_draw,
    chain_graph, digits_case, train_case)

from .base import Hidden


def _forward_hidden():
    rng = np.random.default_rng(170)
    return [_net(rng, 1, (4, 3, 3, 2), "one sample through a network of 3 layers"),
            _net(rng, 3, (2, 4, 4, 4, 4, 3), "a network of 5 layers", {"deep"}),
            _net(rng, 4, (5, 3), "no hidden layer (L = 1)", {"L = 1"})]


def _backward_hidden():
    return [_as_backward(c) for c in _forward_hidden()]


def _train_hidden():
    rng = np.random.default_rng(172)
    return [train_case(rng, 15, (4, 5, 2), 0.3, 4, 6, 11, "N = 15 in batches of 6, 4 epochs", {"last batch smaller"}),
            train_case(rng, 16, (2, 4, 4, 4, 3), 0.1, 3, 4, 5, "a network of 4 layers", {"deep"})]


def _digits_hidden():
    return [digits_case(101, 48, "another split of the digits, one hidden layer of 48")]


def _digits_draw(rng):
    """The digits with their 64 pixels and their 10 labels shuffled by permutations drawn at grading time.

    A network that was trained once and kept (a table of weights) classifies the shuffled
    task at chance level, while training from scratch works as well as on the digits
    themselves: an MLP does not care in which order its inputs or its classes come.
    """
    from dlcourse.data import digits

    from dlcourse.checks.assignments.ex07_training import init_params

    X, y = digits(scale=True)
    pixels, labels = rng.permutation(X.shape[1]), rng.permutation(10)
    X, y = X[:, pixels], labels[y]
    order = rng.permutation(len(y))
    train, test = order[:1200], order[1200:]
    hidden = int(rng.choice([24, 32, 48, 64]))
    seed = int(rng.integers(0, 10**6))
    params = init_params(np.random.default_rng(seed + 1), (64, hidden, 10))
    return case(X[train], y[train], params, 0.1, 10, 32, seed, tags={"digits"}, judge_data=(X[test], y[test]),
                kind=f"the digits with pixels and labels shuffled at grading time, one hidden layer of {hidden}")


def _op_hidden():
    return [_op("relu", (0.0,), -1.5, {"relu at 0"}), _op("**2", (0.0,), 2.0), _op("/", (-0.5, 0.25), 1.25),
            _op("tanh", (-3.0,), 0.5), _op("exp", (-2.0,), -1.0)]


def _graph_hidden():
    rng = np.random.default_rng(173)
    chain_nodes, chain_out = chain_graph(6001)
    return [case((("leaf", (), -2.0), ("*", (0, 0), 4.0), ("*", (1, 0), -8.0)), 2,
                 kind="x * x * x with x reused", tags={"shared input"}),
            _graph(rng, 30, 4, "a larger expression with unused nodes", {"unused nodes", "shared input"}),
            case(chain_nodes, chain_out, kind="another long chain", tags={"long chain"})]


HIDDEN = {
    "mlp_forward_caches_match_reference": Hidden(_forward_hidden, _forward_draw, 2),
    "mlp_backward_matches_reference": Hidden(_backward_hidden, _backward_draw, 2),
    "sgd_update_matches_reference": Hidden(None, _update_draw, 2),
    "training_loop_matches_reference": Hidden(_train_hidden, _train_draw, 2),
    "training_reaches_accuracy": Hidden(_digits_hidden, _digits_draw, 1),
    "op_backward_matches_reference": Hidden(_op_hidden, _op_draw, 4),
    "topological_order_is_valid": Hidden(_graph_hidden, _graph_draw, 2),
    "graph_backward_matches_reference": Hidden(_graph_hidden, _graph_draw, 2),
}
