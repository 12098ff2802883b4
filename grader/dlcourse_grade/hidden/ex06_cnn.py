"""Hidden cases of ex06_cnn: the inputs its hidden tests and the verified grading draw.

Only the grader has them; the learner package holds the visible cases alone.
"""

from __future__ import annotations

from dlcourse.checks.assignments.ex06_cnn import _conv_draw, _dw_draw, _pool_back_draw, _pool_draw, _size_draw

from .base import Hidden

HIDDEN = {
    "conv_output_size_matches_reference": Hidden(None, _size_draw, 4),
    "conv2d_forward_matches_reference": Hidden(None, _conv_draw, 3),
    "max_pool_forward_matches_reference": Hidden(None, _pool_draw, 2),
    "max_pool_backward_matches_reference": Hidden(None, _pool_back_draw, 2),
    "conv_backward_weights_matches_reference": Hidden(None, _dw_draw, 3),
}
