"""Hidden cases of ex04_losses: the inputs its hidden tests and the verified grading draw.

Only the grader has them; the learner package holds the visible cases alone.
"""

from __future__ import annotations

import numpy as np

from dlcourse.checks.spec import case
from dlcourse.checks.assignments.ex04_losses import _bce_draw, _cce_draw, _huber_draw, _logits_draw, _reg_draw

from .base import Hidden

def _reg_hidden():
    return [case(np.zeros(5), np.array([0.0, 0.5, -3.0, 10.0, -0.2]), kind="zero targets with an outlier"),
            case(np.ones((2, 3), dtype=np.float32), np.full((2, 3), 1.25, dtype=np.float32), kind="float32 targets",
                 tags={"2-D"})]

def _huber_hidden():
    return [case(np.zeros(4), np.array([10.0, -10.0, 0.1, 0.0]), 3.0, kind="large outliers, delta = 3")]

def _bce_hidden():
    return [case(np.array([1.0, 1.0, 0.0]), np.array([0.01, 0.99, 0.01]), kind="confident predictions",
                 tags={"confident"}),
            case(np.array([0.3, 0.7]), np.array([0.4, 0.6]), kind="soft targets, other values", tags={"soft targets"})]

def _cce_hidden():
    return [case(np.array([[0.0, 1.0]]), np.array([[0.25, 0.75]]), kind="one sample", tags={"N = 1"}),
            case(np.array([[0.2, 0.8], [0.5, 0.5]]), np.array([[0.3, 0.7], [0.6, 0.4]]), kind="soft targets, other values",
                 tags={"soft targets"})]

def _logits_hidden():
    return [case(np.array([[0.0, 1.0]]), np.array([[1000.0, -1000.0]]), kind="one sample with huge logits",
                 tags={"N = 1", "large logits"})]


HIDDEN = {
    "mse_matches_reference": Hidden(_reg_hidden, _reg_draw, 2),
    "mae_matches_reference": Hidden(_reg_hidden, None, 0),
    "huber_matches_reference": Hidden(_huber_hidden, _huber_draw, 2),
    "bce_matches_reference": Hidden(_bce_hidden, _bce_draw, 2),
    "cce_matches_reference": Hidden(_cce_hidden, _cce_draw, 2),
    "mse_gradient_matches_reference": Hidden(_reg_hidden, None, 0),
    "bce_gradient_matches_reference": Hidden(_bce_hidden, None, 0),
    "softmax_ce_gradient_matches_reference": Hidden(_logits_hidden, _logits_draw, 2),
}
