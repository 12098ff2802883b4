r"""Activation layers: one layer per activation function of :mod:`dlcourse.activations`.

``Activation("relu")`` wraps any activation; the named classes (``ReLU()``,
``Sigmoid()``, ...) are shorthands. Forward applies :math:`a = f(z)` and caches
what the backward pass needs; backward returns

.. math:: \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot f'(z)

(for softmax the full vector-Jacobian product
:math:`s \odot (g - \langle g, s\rangle)`). For sigmoid, tanh, ReLU and softmax the
backward pass reuses the cached output instead of recomputing :math:`f(z)`,
which is what makes a training loop fast; the other activations call
``act.vjp(z, dout)``. Shapes: any ``(N, ...)``; the output has the input's shape.
"""

from __future__ import annotations

import numpy as np

from .. import activations as _act
from .._checks import as_float_array
from .base import Layer, check_forward_called

__all__ = [
    "Activation", "Step", "Linear", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU",
    "Swish", "Softplus", "Softmax", "LogSoftmax",
]


def _relu_backward(z, a, dout):
    return dout * (z > 0)


def _sigmoid_backward(z, a, dout):
    return dout * a * (1 - a)


def _tanh_backward(z, a, dout):
    return dout * (1 - a * a)


def _softmax_backward(axis):
    def backward(z, a, dout):
        return a * (dout - np.sum(dout * a, axis=axis, keepdims=True))
    return backward


def _log_softmax_backward(axis):
    def backward(z, a, dout):
        return dout - np.exp(a) * np.sum(dout, axis=axis, keepdims=True)
    return backward


def _fast_backward(fn):
    """A backward rule from the cached input ``z`` and output ``a``, or None to use ``fn.vjp``."""
    kind = type(fn)
    if kind is _act.ReLU:
        return _relu_backward
    if kind is _act.Sigmoid:
        return _sigmoid_backward
    if kind is _act.Tanh:
        return _tanh_backward
    if kind is _act.Softmax:
        return _softmax_backward(fn.axis)
    if kind is _act.LogSoftmax:
        return _log_softmax_backward(fn.axis)
    return None


class Activation(Layer):
    r"""A layer that applies an activation function element-wise (softmax: along an axis).

    Parameters
    ----------
    fn : str or dlcourse.activations.Activation
        The function, by name (``"relu"``, ``"sigmoid"``, ...) or as an object.

    Attributes
    ----------
    fn : dlcourse.activations.Activation
    """

    def __init__(self, fn="relu"):
        self.fn = _act.get(fn)
        self._fast = _fast_backward(self.fn)
        self._fast_softmax = type(self.fn) is _act.Softmax
        self._cache = None

    def _fast_forward(self, z):
        """Softmax with the max shift, skipping the +-inf bookkeeping when every row max is finite."""
        if z.ndim == 0 or z.size == 0:
            return self.fn._forward(z)
        m = z.max(axis=self.fn.axis, keepdims=True)
        if not np.all(np.isfinite(m)):
            return self.fn._forward(z)
        e = np.exp(z - m)
        e /= e.sum(axis=self.fn.axis, keepdims=True)
        return e

    @property
    def name(self) -> str:
        return self.fn.name

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Apply the function; shape ``(N, ...)`` in and out."""
        z = as_float_array(x, "x")
        a = self._fast_forward(z) if self._fast_softmax else self.fn._forward(z)
        self._cache = (z, a)
        return a

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return :math:`\\partial L/\\partial z` (shape of the input)."""
        check_forward_called(self._cache, self)
        z, a = self._cache
        if dout.shape != z.shape:
            raise ValueError(f"dout must have the shape of the layer's output {z.shape}; got {dout.shape}")
        if self._fast is not None:
            return self._fast(z, a, dout)
        return self.fn.vjp(z, dout)

    def __repr__(self) -> str:
        if type(self) is Activation:
            return f"Activation({self.fn.name!r})"
        return repr(self.fn)


class Step(Activation):
    """Heaviside step layer (strict: 1 where z > 0). Its gradient is 0 everywhere."""

    def __init__(self):
        super().__init__(_act.Step())


class Linear(Activation):
    """Identity layer :math:`f(z) = z`."""

    def __init__(self):
        super().__init__(_act.Linear())


class Sigmoid(Activation):
    r"""Sigmoid layer :math:`\sigma(z) = 1/(1+e^{-z})`; backward :math:`g \odot a(1-a)`."""

    def __init__(self):
        super().__init__(_act.Sigmoid())


class Tanh(Activation):
    r"""Tanh layer; backward :math:`g \odot (1 - a^2)`."""

    def __init__(self):
        super().__init__(_act.Tanh())


class ReLU(Activation):
    r"""ReLU layer :math:`\max(0, z)`; backward :math:`g \odot [z > 0]`."""

    def __init__(self):
        super().__init__(_act.ReLU())


class LeakyReLU(Activation):
    r"""Leaky ReLU layer (slope ``alpha`` for :math:`z \le 0`, PyTorch's default 0.01)."""

    def __init__(self, alpha: float = 0.01):
        super().__init__(_act.LeakyReLU(alpha))


class ELU(Activation):
    r"""ELU layer :math:`\alpha(e^z - 1)` for :math:`z \le 0`, else :math:`z`."""

    def __init__(self, alpha: float = 1.0):
        super().__init__(_act.ELU(alpha))


class Swish(Activation):
    r"""Swish/SiLU layer :math:`z\,\sigma(z)`."""

    def __init__(self):
        super().__init__(_act.Swish())


class Softplus(Activation):
    r"""Softplus layer :math:`\ln(1 + e^z)`."""

    def __init__(self):
        super().__init__(_act.Softplus())


class Softmax(Activation):
    r"""Softmax layer along ``axis`` (default: per sample row). Backward :math:`s \odot (g - \langle g, s \rangle)`."""

    def __init__(self, axis: int = -1):
        super().__init__(_act.Softmax(axis))


class LogSoftmax(Activation):
    r"""Log-softmax layer along ``axis``. Backward :math:`g - s \sum_j g_j` with :math:`s = e^{a}`."""

    def __init__(self, axis: int = -1):
        super().__init__(_act.LogSoftmax(axis))
