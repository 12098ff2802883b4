"""Functions passed *as arguments* to a learner's function, described as data.

A part such as ``numerical_gradient(f, x)`` takes a function. To keep every test
input plain data (so an out-of-kernel grader can send it to an isolated process
without pickle), such an argument is a :class:`FunctionSpec`: a name from
:data:`FUNCTIONS` plus a dict of arrays. ``spec.build()`` turns it into an ordinary
Python function of one array that returns a float.

This module imports only NumPy and nothing from ``dlcourse``, so a sandbox that
cannot import ``dlcourse`` may carry a copy of this file. Calls into it are not
counted as delegation to the reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["FunctionSpec", "FUNCTIONS", "build"]


def _sines(x, a):
    return float(np.sum(a * np.sin(x)) + 0.5 * np.sum(x * x))


def _quadratic(x, A, b):
    v = np.asarray(x, dtype=np.float64).ravel()
    return float(0.5 * v @ A @ v + b @ v)


def _logsumexp(x):
    v = np.asarray(x, dtype=np.float64)
    m = np.max(v)
    return float(m + np.log(np.sum(np.exp(v - m))))


def _linear_mse(w, X, y):
    r = X @ np.asarray(w, dtype=np.float64) - y
    return float(np.mean(r * r))


#: name -> (function of (x, **params), words for feedback)
FUNCTIONS = {
    "sines": (_sines, "f(x) = sum(a * sin(x)) + 0.5 * sum(x**2)"),
    "quadratic": (_quadratic, "f(x) = 0.5 * x @ A @ x + b @ x"),
    "logsumexp": (_logsumexp, "f(x) = log(sum(exp(x)))"),
    "linear_mse": (_linear_mse, "f(w) = mean((X @ w - y)**2)"),
}


@dataclass(frozen=True)
class FunctionSpec:
    """A function given by ``name`` (a key of :data:`FUNCTIONS`) and its array ``params``."""

    name: str
    params: dict = field(default_factory=dict)

    def build(self):
        """The Python function ``f(x) -> float`` this spec stands for."""
        return build(self.name, self.params)

    def describe(self) -> str:
        return FUNCTIONS[self.name][1]

    def to_data(self) -> dict:
        """Plain data (name and arrays) for sending to another process."""
        return {"name": self.name, "params": dict(self.params)}


def build(name: str, params: dict):
    """Return ``f(x) -> float`` for the function ``name`` with arrays ``params`` bound."""
    if name not in FUNCTIONS:
        raise ValueError(f"unknown test function {name!r}; expected one of {sorted(FUNCTIONS)}")
    impl = FUNCTIONS[name][0]
    frozen = {k: np.array(v, copy=True) for k, v in params.items()}

    def f(x):
        return impl(x, **frozen)

    f.__name__ = name
    f.__doc__ = FUNCTIONS[name][1]
    return f
