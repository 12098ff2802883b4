"""Hidden cases of ex05_optimizers: the inputs its hidden tests and the verified grading draw.

Only the grader has them; the learner package holds the visible cases alone.
"""

from __future__ import annotations

from dlcourse.checks.assignments.ex05_optimizers import _adam_draw, _cosine_draw, _momentum_draw, _rmsprop_draw, _sgd_draw

from .base import Hidden

HIDDEN = {
    "sgd_step_matches_reference": Hidden(None, _sgd_draw, 2),
    "momentum_step_matches_reference": Hidden(None, _momentum_draw, 2),
    "rmsprop_step_matches_reference": Hidden(None, _rmsprop_draw, 2),
    "adam_step_matches_reference": Hidden(None, _adam_draw, 3),
    "cosine_schedule_matches_reference": Hidden(None, _cosine_draw, 3),
}
