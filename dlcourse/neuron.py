r"""A single artificial neuron: weighted sum, bias, activation.

.. math:: z = \sum_i w_i x_i + b = w \cdot x + b, \qquad a = f(z)

With inputs :math:`x = (0.5, -0.2, 0.1)`, weights :math:`w = (0.4, 0.7, -0.3)` and bias
:math:`b = 0.1`: :math:`z = 0.20 - 0.14 - 0.03 + 0.1 = 0.13`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import activations
from ._checks import as_float_array, check_finite

__all__ = ["weighted_sum", "neuron", "Neuron", "NeuronOutput"]


def weighted_sum(inputs, weights, bias: float = 0.0):
    r"""The pre-activation :math:`z = w \cdot x + b`.

    Parameters
    ----------
    inputs : array-like, shape (D,) or (N, D)
    weights : array-like, shape (D,)
    bias : float

    Returns
    -------
    float for one input vector, ndarray (N,) for a batch of rows.
    """
    x = as_float_array(inputs, "inputs")
    w = as_float_array(weights, "weights")
    if w.ndim != 1:
        raise ValueError(f"weights must have shape (D,); got shape {w.shape}")
    if x.ndim not in (1, 2) or x.shape[-1] != w.shape[0]:
        raise ValueError(f"inputs must have shape ({w.shape[0]},) or (N, {w.shape[0]}) to match the "
                         f"weights; got shape {x.shape}")
    check_finite(x, "inputs")
    z = x @ w + float(bias)
    return float(z) if np.ndim(z) == 0 else z


class NeuronOutput(NamedTuple):
    """The two numbers a neuron computes: pre-activation ``z`` and output ``a = f(z)``."""

    z: float
    a: float


def neuron(inputs, weights, bias: float = 0.0, activation="linear") -> NeuronOutput:
    """Run one neuron: returns ``(z, a)`` with ``z = w . x + b`` and ``a = activation(z)``.

    ``activation`` is a name or object of :mod:`dlcourse.activations` (``"step"``,
    ``"sigmoid"``, ``"relu"``, ...).
    """
    z = weighted_sum(inputs, weights, bias)
    a = activations.get(activation)(z)
    return NeuronOutput(z, float(a) if np.ndim(a) == 0 else a)


class Neuron:
    """A neuron with stored weights, bias and activation; ``Neuron(w, b, f)(x)`` gives ``a``.

    Parameters
    ----------
    weights : array-like, shape (D,)
    bias : float
    activation : str or ActivationFunction
    """

    def __init__(self, weights, bias: float = 0.0, activation="sigmoid"):
        self.weights = as_float_array(weights, "weights")
        self.bias = float(bias)
        self.activation = activations.get(activation)

    def pre_activation(self, inputs):
        """:math:`z = w \\cdot x + b`."""
        return weighted_sum(inputs, self.weights, self.bias)

    def __call__(self, inputs):
        """:math:`a = f(w \\cdot x + b)`."""
        a = self.activation(self.pre_activation(inputs))
        return float(a) if np.ndim(a) == 0 else a

    def __repr__(self) -> str:
        return f"Neuron(weights={self.weights.tolist()}, bias={self.bias}, activation={self.activation.name!r})"
