r"""The residual (skip) connection: :math:`\mathrm{out} = x + f(x)` for a wrapped stack of layers.

``f`` is any list of layers applied in order (as in :class:`dlcourse.network.Sequential`);
its output must have the input's shape. The backward pass adds the two paths:

.. math::
    \frac{\partial L}{\partial x} = G + \left(\frac{\partial f}{\partial x}\right)^{\!\top} G,
    \qquad G = \frac{\partial L}{\partial\,\mathrm{out}} ,

so the upstream gradient :math:`G` reaches the input unchanged through the identity path,
however small the gradient through ``f`` has become. That is why deep stacks of residual
blocks (He et al., 2016, "Deep residual learning for image recognition") still train where
the same stack without skips does not. PyTorch has no ``Residual`` module; its twin is a
``forward`` that returns ``x + self.f(x)``.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np

from ..parameter import Parameter
from .base import Layer, check_forward_called

__all__ = ["Residual", "ResidualCache"]


class ResidualCache(NamedTuple):
    """What :meth:`Residual.backward` checks: the input shape of the last training forward pass."""

    input_shape: tuple


class Residual(Layer):
    r"""``out = x + f(x)``, with ``f`` the layers given, applied in order.

    Parameters
    ----------
    layers : Layer or sequence of Layer
        The residual branch ``f``; it must map a per-sample shape to the same shape.

    Attributes
    ----------
    layers : list of Layer
    """

    def __init__(self, layers):
        layers = [layers] if isinstance(layers, Layer) else list(layers)
        if not layers:
            raise ValueError("Residual needs at least one layer in its branch")
        for layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Residual's branch must hold Layer objects; got {type(layer).__name__}")
        self.layers: list[Layer] = layers
        self._cache: ResidualCache | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """``x + f(x)``; ``f``'s layers keep what their backward passes need."""
        out = x
        for layer in self.layers:
            out = layer.forward(out, training)
        if out.shape != np.shape(x):
            raise ValueError(f"Residual's branch maps shape {np.shape(x)} to {out.shape}; x + f(x) needs the same shape")
        self._cache = ResidualCache(tuple(np.shape(x)))
        return x + out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Fill the branch's ``.grad``; return ``dout + (df/dx)^T dout`` (None when ``need_dx`` is False)."""
        check_forward_called(self._cache, self)
        if np.shape(dout) != self._cache.input_shape:
            raise ValueError(f"dout must have the output's shape {self._cache.input_shape}; got {np.shape(dout)}")
        grad = dout
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(grad, need_dx=need_dx or i > 0)
        return dout + grad if need_dx else None

    def parameters(self) -> Iterator[Parameter]:
        for layer in self.layers:
            yield from layer.parameters()

    def buffers(self) -> list:
        """The branch's buffers (batch-norm running statistics), for ``Sequential.get_weights``."""
        return [b for layer in self.layers for b in getattr(layer, "buffers", lambda: [])()]

    def output_shape(self, input_shape: tuple) -> tuple:
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.output_shape(shape)
        if shape != tuple(input_shape):
            raise ValueError(f"Residual's branch maps per-sample shape {tuple(input_shape)} to {shape}; "
                             "a skip connection needs the same shape")
        return shape

    def __repr__(self) -> str:
        return f"Residual([{', '.join(repr(layer) for layer in self.layers)}])"
