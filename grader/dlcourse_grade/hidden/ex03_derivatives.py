"""Hidden cases of ex03_derivatives: the inputs its hidden tests and the verified grading draw.

Only the grader has them; the learner package holds the visible cases alone.
"""

from __future__ import annotations

import numpy as np

from dlcourse.checks.spec import case
from dlcourse.checks.callables import FunctionSpec
from dlcourse.checks.assignments.ex03_derivatives import _backprop_draw, _ngrad_draw

from .base import Hidden

def _act_hidden():
    return [case(np.array([-30.0, -10.0, 10.0, 30.0]), kind="saturated inputs (|z| >= 10)", tags={"saturated"}),
            case(np.linspace(-3, 3, 12).reshape(3, 4), kind="a grid of values", tags={"2-D"})]

HIDDEN_EXPRESSIONS = ["tanh(x)", "x*exp(-x**2)", "sqrt(1 + x**2)"]

def _sympy_hidden():
    z = np.linspace(-2, 2, 7)
    return [case(e, z, kind="another differentiable expression") for e in HIDDEN_EXPRESSIONS]

#: Expression templates of the drawn cases; the coefficients and the points are drawn at grading time.
TEMPLATES = ["{a}*x**3 - {b}*x", "sin({a}*x)*exp(x/{b})", "log(1 + exp({a}*x))", "x*exp(-x**2/{a})",
             "sqrt({a} + x**2)", "tanh(x/{a}) + {b}*x**2", "1/(1 + exp(-{a}*x))"]


def _sympy_draw(rng):
    template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
    expression = template.format(a=int(rng.integers(1, 4)), b=int(rng.integers(1, 4)))
    return case(expression, np.sort(rng.uniform(-2, 2, size=int(rng.integers(4, 8)))).round(3),
                kind="another differentiable expression at other points")


def _ngrad_hidden():
    return [case(FunctionSpec("sines", {"a": np.full((2, 3), 1.5)}), np.linspace(-1, 1, 6).reshape(2, 3), 1e-2,
                 kind="sum of sines of a 2-D x, eps 1e-2", tags={"2-D x"})]


HIDDEN = {
    "sigmoid_derivative_matches_reference": Hidden(_act_hidden, None, 0),
    "tanh_derivative_matches_reference": Hidden(_act_hidden, None, 0),
    "sympy_derivative_matches_reference": Hidden(_sympy_hidden, _sympy_draw, 3),
    "numerical_gradient_matches_reference": Hidden(_ngrad_hidden, _ngrad_draw, 2),
    "backprop_matches_reference": Hidden(None, _backprop_draw, 3),
}
