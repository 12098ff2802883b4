r"""Inverted dropout: drop units at random in training, do nothing in evaluation.

In training each element is kept with probability :math:`1 - p` and the kept
ones are scaled by :math:`1/(1-p)`:

.. math:: y = \frac{m \odot x}{1 - p}, \qquad m_i \sim \mathrm{Bernoulli}(1 - p)

so that :math:`\mathbb{E}[y] = x` and evaluation needs no rescaling (PyTorch's
``nn.Dropout``). Backward multiplies by the same mask and scale.
"""

from __future__ import annotations

import numpy as np

from .. import init as _init
from .._checks import as_float_array
from typing import NamedTuple

from .base import Layer, check_forward_called

__all__ = ["Dropout", "DropoutCache"]


class DropoutCache(NamedTuple):
    """What the backward pass needs: the mask of the forward pass times :math:`1/(1-p)` (shape of x, or ())."""

    scaled_mask: np.ndarray


class Dropout(Layer):
    """Inverted dropout with drop probability ``p``.

    Parameters
    ----------
    p : float
        Probability of zeroing each element, ``0 <= p <= 1`` (PyTorch's default 0.5).
    seed : int or numpy.random.Generator, optional
        Source of the masks (``rng`` is an alias); the same seed gives the same masks.

    Shapes: any ``(N, ...)``; the output has the input's shape.
    """

    def __init__(self, p: float = 0.5, seed=None, rng=None):
        if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
            raise ValueError(f"p must be a probability in [0, 1]; got {p!r}")
        self.p = float(p)
        self.rng = _init.as_generator(rng if rng is not None else seed)
        self._cache: DropoutCache | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """In training: ``x * mask / (1 - p)``; in evaluation: ``x`` unchanged."""
        x = as_float_array(x, "x")
        if not training or self.p == 0:
            self._cache = DropoutCache(np.ones((), dtype=x.dtype))
            return x
        if self.p == 1:
            self._cache = DropoutCache(np.zeros_like(x))
        else:
            keep = self.rng.random(x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32)
            self._cache = DropoutCache((keep >= self.p).astype(x.dtype) / x.dtype.type(1 - self.p))
        return x * self._cache.scaled_mask

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        """``dout * mask / (1 - p)`` with the mask of the last forward pass."""
        check_forward_called(self._cache, self)
        return dout * self._cache.scaled_mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
