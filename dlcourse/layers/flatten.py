"""Flatten: the bridge from convolutional feature maps to dense layers."""

from __future__ import annotations

import numpy as np

from .._checks import as_float_array
from typing import NamedTuple

from .base import Layer, check_forward_called

__all__ = ["Flatten", "FlattenCache"]


class FlattenCache(NamedTuple):
    """What the backward pass needs: the input's shape (N, C, H, W)."""

    x_shape: tuple


class Flatten(Layer):
    r"""Reshape ``(N, C, H, W)`` (or any ``(N, ...)``) to ``(N, C * H * W)``, row-major.

    The order is channel, then row, then column, as ``torch.nn.Flatten``, so a
    dense layer after it sees the same features in both libraries. Backward
    reshapes the gradient ``(N, C * H * W)`` back to the input's shape; nothing is learned.
    """

    def __init__(self):
        self._cache: FlattenCache | None = None

    def forward(self, x, training: bool = True) -> np.ndarray:
        """``x`` (N, C, H, W) -> (N, C * H * W)."""
        x = as_float_array(x, "x")
        if x.ndim < 2:
            raise ValueError(f"x must have a batch axis and at least one more, (N, ...); got shape {x.shape}")
        self._cache = FlattenCache(x.shape) if training else None
        return x.reshape(x.shape[0], -1)

    def backward(self, dout, need_dx: bool = True) -> np.ndarray:
        """``dout`` (N, C * H * W) -> ``dx`` (N, C, H, W)."""
        check_forward_called(self._cache, self)
        x_shape = self._cache.x_shape
        dout = as_float_array(dout, "dout")
        expected = (x_shape[0], int(np.prod(x_shape[1:])))
        if dout.shape != expected:
            raise ValueError(f"dout must have shape (N, C * H * W) = {expected}; got {dout.shape}")
        return dout.reshape(x_shape)

    def output_shape(self, input_shape: tuple) -> tuple:
        """``(C, H, W)`` -> ``(C * H * W,)``."""
        return (int(np.prod(input_shape)),)
