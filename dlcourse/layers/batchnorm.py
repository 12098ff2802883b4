r"""Batch normalisation (Ioffe and Szegedy, 2015), as PyTorch's ``BatchNorm1d``/``BatchNorm2d``.

In training, each feature is normalised with the statistics of the batch (the book's
notation reserves mu for momentum, gamma for schedules and beta for Adam, so the mean is
written :math:`\bar x` and the scale and shift :math:`w, b`; in code they are the
attributes ``gamma`` and ``beta``, PyTorch's ``weight`` and ``bias``),

.. math::
    \bar x = \frac{1}{N}\sum_n x_n, \quad
    \operatorname{var} = \frac{1}{N}\sum_n (x_n - \bar x)^2, \quad
    \hat x = \frac{x - \bar x}{\sqrt{\operatorname{var} + \epsilon}}, \quad
    y = w \hat x + b,

and running estimates are updated with ``momentum`` :math:`m` (PyTorch's convention,
not Keras's): :math:`\bar x_\text{run} \leftarrow (1-m)\bar x_\text{run} + m\bar x` and the same
for the variance, which uses the *unbiased* :math:`\frac{N}{N-1}\operatorname{var}`. In
evaluation the running estimates replace the batch statistics.

Backward (training), with :math:`g = \partial L/\partial \hat x = w\,\partial L/\partial y`:

.. math::
    \frac{\partial L}{\partial x} = \frac{1}{N\sqrt{\operatorname{var}+\epsilon}}
    \Bigl(N g - \textstyle\sum_n g_n - \hat x \sum_n g_n \hat x_n\Bigr).

Input ``(N, D)`` normalises each of the ``D`` features; ``(N, C, H, W)`` normalises
each channel over ``N, H, W`` (BatchNorm2d).
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np

from .._checks import as_float_array
from ..parameter import Parameter, aligned
from .base import Layer, check_forward_called

__all__ = ["BatchNorm"]


class BatchNormCache(NamedTuple):
    """What the backward pass needs: normalised input, 1/std, whether batch statistics were used."""

    x_hat: np.ndarray
    inv_std: np.ndarray
    training: bool


class BatchNorm(Layer):
    """Batch normalisation over features (2-D input) or channels (4-D input).

    Parameters
    ----------
    num_features : int
        ``D`` (or ``C`` for images).
    momentum : float
        Weight of the new batch in the running statistics (PyTorch's default 0.1).
    eps : float
        Added to the variance before the square root.
    dtype : numpy dtype

    Attributes
    ----------
    gamma, beta : Parameter, shape (D,)
        Learnable scale (starts at 1) and shift (starts at 0).
    running_mean, running_var : ndarray, shape (D,)
        Running estimates (start at 0 and 1).
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5, dtype=np.float64):
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"num_features must be a positive int; got {num_features!r}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must lie in [0, 1]; got {momentum!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0; got {eps!r}")
        self.num_features, self.momentum, self.eps = int(num_features), float(momentum), float(eps)
        self.gamma = Parameter(aligned(np.ones(self.num_features, dtype)), "gamma")
        self.beta = Parameter(aligned(np.zeros(self.num_features, dtype)), "beta")
        self.running_mean = np.zeros(self.num_features, dtype=dtype)
        self.running_var = np.ones(self.num_features, dtype=dtype)
        self._cache: BatchNormCache | None = None

    def _axes(self, x: np.ndarray) -> tuple:
        if x.ndim not in (2, 4) or x.shape[1] != self.num_features:
            raise ValueError(
                f"x must have shape (N, {self.num_features}) or (N, {self.num_features}, H, W); "
                f"got shape {x.shape}"
            )
        return (0,) if x.ndim == 2 else (0, 2, 3)

    def _expand(self, v: np.ndarray, ndim: int) -> np.ndarray:
        return v if ndim == 2 else v[None, :, None, None]

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Normalise with batch statistics (training) or running statistics (evaluation)."""
        x = as_float_array(x, "x")
        axes = self._axes(x)
        count = x.size // self.num_features
        if training:
            if count < 2:
                raise ValueError(f"BatchNorm needs more than 1 value per feature in training; got x.shape={x.shape}")
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)
            m = self.momentum
            self.running_mean *= 1 - m
            self.running_mean += m * mean
            self.running_var *= 1 - m
            self.running_var += m * var * (count / (count - 1))
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (x - self._expand(mean, x.ndim)) * self._expand(inv_std, x.ndim)
        self._cache = BatchNormCache(x_hat, inv_std, training)
        return x_hat * self._expand(self.gamma.data, x.ndim) + self._expand(self.beta.data, x.ndim)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        """Fill ``gamma.grad``, ``beta.grad``; return ``dx`` (shape of the input)."""
        check_forward_called(self._cache, self)
        x_hat, inv_std = self._cache.x_hat, self._cache.inv_std
        if dout.shape != x_hat.shape:
            raise ValueError(f"dout must have the shape of the layer's output {x_hat.shape}; got {dout.shape}")
        axes = (0,) if dout.ndim == 2 else (0, 2, 3)
        nd = dout.ndim
        self.beta.grad = dout.sum(axis=axes)
        self.gamma.grad = (dout * x_hat).sum(axis=axes)
        g = dout * self._expand(self.gamma.data, nd)
        if not self._cache.training:  # running statistics are constants
            return g * self._expand(inv_std, nd)
        count = dout.size // self.num_features
        g_sum = self._expand(g.sum(axis=axes), nd)
        gx_sum = self._expand((g * x_hat).sum(axis=axes), nd)
        return (g - g_sum / count - x_hat * gx_sum / count) * self._expand(inv_std, nd)

    def parameters(self) -> Iterator[Parameter]:
        yield self.gamma
        yield self.beta

    def buffers(self) -> list[np.ndarray]:
        """Non-learnable state that a snapshot must save: the running statistics."""
        return [self.running_mean, self.running_var]

    def output_shape(self, input_shape: tuple) -> tuple:
        shp = tuple(input_shape)
        if len(shp) not in (1, 3) or shp[0] != self.num_features:
            raise ValueError(f"BatchNorm({self.num_features}) expects per-sample shape ({self.num_features},) "
                             f"or ({self.num_features}, H, W); got {shp}")
        return shp

    def __repr__(self) -> str:
        return f"BatchNorm({self.num_features}, momentum={self.momentum}, eps={self.eps})"
