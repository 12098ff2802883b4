"""Hidden cases of ex01_perceptron: the inputs its hidden tests and the verified grading draw.

Only the grader has them; the learner package holds the visible cases alone.
"""

from __future__ import annotations

import numpy as np

from dlcourse.checks.spec import case
from dlcourse.checks.assignments.ex01_perceptron import GATES, GATE_X, _train_draw, _update, _update_draw

from .base import Hidden

def _step_hidden():
    return [case(np.array([0.0, -0.0, 1e-12, -1e-12, 1e4, -1e4], dtype=np.float32), kind="float32 edge values",
                 tags={"exact zeros", "tiny values"}),
            case(np.zeros((3, 2)), kind="all zeros", tags={"exact zeros", "2-D"})]

def _predict_hidden():
    return [case(np.zeros((2, 4)), np.zeros(4), 0.0, kind="zero weights and bias", tags={"ties at 0"}),
            case(np.eye(3), np.array([2.0, -1.0, 0.0]), 0.0, kind="identity inputs", tags={"ties at 0"})]

def _update_hidden():
    return [_update(np.array([2.0, -3.0]), 1.0, np.array([1.5, 1.0]), 0.0, 1.0, kind="net input exactly 0, label 1"),
            _update(np.array([1.0, 2.0, 3.0, 4.0]), 0.0, np.array([0.1, 0.1, 0.1, 0.1]), 0.2, 0.25,
                    kind="false positive with 4 features")]

def _train_hidden():
    return [case(GATE_X, np.array(GATES["NAND"], float), 0.125, 20, kind="NAND gate"),
            case(GATE_X, np.array(GATES["XOR"], float), 0.125, 7, kind="XOR (never converges)",
                 tags={"not separable"})]


HIDDEN = {
    "step_matches_reference": Hidden(_step_hidden, None, 0),
    "predict_matches_reference": Hidden(_predict_hidden, None, 0),
    "update_matches_reference": Hidden(_update_hidden, _update_draw, 3),
    "training_matches_reference": Hidden(_train_hidden, _train_draw, 3),
}
