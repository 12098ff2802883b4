r"""The fully connected (dense, affine) layer :math:`Y = X W + b`.

Samples are rows: ``X`` has shape ``(N, D)``, ``W`` has shape ``(D, K)`` (in, out)
and ``b`` has shape ``(K,)``. Some texts write the column convention
:math:`y = W x + b` with ``W`` of shape (out, in); PyTorch's ``nn.Linear`` stores
that transposed matrix, which is why the cross-check copies ``W.T`` into it.

Backward pass, for the upstream gradient :math:`G = \partial L / \partial Y`:

.. math::
    \frac{\partial L}{\partial W} = X^\top G, \qquad
    \frac{\partial L}{\partial b} = \textstyle\sum_n G_{n,:}, \qquad
    \frac{\partial L}{\partial X} = G W^\top .
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np

from .. import init as _init
from .._checks import as_float_array
from ..parameter import Parameter, aligned
from .base import Layer, check_forward_called, keeps_methods

__all__ = ["Dense", "DenseCache", "dense_forward", "dense_backward"]


class DenseCache(NamedTuple):
    """What :func:`dense_backward` needs: the input ``x`` (N, D) and the weight ``w`` (D, K)."""

    x: np.ndarray
    w: np.ndarray


def dense_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> tuple[np.ndarray, DenseCache]:
    """Affine map ``out = x @ w + b``.

    Parameters
    ----------
    x : ndarray, shape (N, D)
    w : ndarray, shape (D, K)
    b : ndarray, shape (K,), or None for no bias

    Returns
    -------
    out : ndarray, shape (N, K)
    cache : DenseCache
    """
    out = x @ w
    if b is not None:
        out += b
    return out, _new_cache(DenseCache, (x, w))  # DenseCache(x, w), without its Python __new__


def dense_backward(dout: np.ndarray, cache: DenseCache, need_dx: bool = True):
    """Gradients of the affine map.

    Parameters
    ----------
    dout : ndarray, shape (N, K)
        Upstream gradient :math:`\\partial L / \\partial\\,\\mathrm{out}`.
    cache : DenseCache
    need_dx : bool
        Skip the input gradient (the first layer of a network does not need it).

    Returns
    -------
    dx : ndarray, shape (N, D), or None when ``need_dx`` is False
    dw : ndarray, shape (D, K)
    db : ndarray, shape (K,)
    """
    x, w = cache
    dw = x.T @ dout
    db = _sum_reduce(dout, axis=0)  # dout.sum(axis=0) without the method's Python wrapper
    dx = dout @ w.T if need_dx else None
    return dx, dw, db


_new_cache, _sum_reduce = tuple.__new__, np.add.reduce


class Dense(Layer):
    r"""Fully connected layer :math:`Y = X W + b`.

    Parameters
    ----------
    in_features : int
        ``D``, the number of input features.
    out_features : int
        ``K``, the number of units (output features).
    init : str or callable
        Weight initialiser from :mod:`dlcourse.init`: ``"xavier_uniform"`` (default),
        ``"xavier_normal"``, ``"he_normal"``, ``"he_uniform"``, ``"normal"``,
        ``"uniform"``, ``"zeros"``, or ``f(shape, rng, dtype=)``. The bias starts at 0.
    seed : int or numpy.random.Generator, optional
        Source of the initial weights (``rng`` is an alias).
    bias : bool
        Whether the layer has a bias ``b``.
    dtype : numpy dtype
        float64 (default) or float32.

    Attributes
    ----------
    W : Parameter, shape (D, K)
    b : Parameter, shape (K,) (absent when ``bias=False``)
    """

    def __init__(self, in_features: int, out_features: int, init="xavier_uniform", seed=None,
                 rng=None, bias: bool = True, dtype=np.float64):
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int; got {value!r}")
        if seed is not None and rng is not None:
            raise TypeError("pass either seed= or rng=, not both")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"dtype must be float32 or float64; got {dtype}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.init = init
        gen = _init.as_generator(rng if rng is not None else seed)
        w = _init.get(init)((self.in_features, self.out_features), gen, dtype=dtype)
        self.W = Parameter(aligned(w, dtype), "W")
        self.b = Parameter(aligned(np.zeros(self.out_features, dtype)), "b") if bias else None
        self._cache: DenseCache | None = None

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """``(N, D) -> (N, K)``; caches ``x`` for the backward pass."""
        if type(x) is not np.ndarray or x.dtype.kind != "f":  # the common case skips the call
            x = as_float_array(x, "x")
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"x must have shape (N, {self.in_features}) for Dense({self.in_features}, "
                f"{self.out_features}); got shape {x.shape}"
            )
        out, self._cache = dense_forward(x, self.W.data, None if self.b is None else self.b.data)
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Fill ``W.grad`` (D, K) and ``b.grad`` (K,); return ``dx`` (N, D)."""
        cache = self._cache
        if cache is None:
            check_forward_called(cache, self)
        dx, dw, db = dense_backward(dout, cache, need_dx)
        self.W.grad = dw
        if self.b is not None:
            self.b.grad = db
        return dx

    def _unchecked_parts(self) -> list | None:
        """``[("dense", self)]`` for :func:`dlcourse.layers._unchecked.passes`; None where ``forward`` or
        ``backward`` is overridden (that code then runs every step)."""
        return [("dense", self)] if keeps_methods(self, Dense) else None

    def parameters(self) -> Iterator[Parameter]:
        yield self.W
        if self.b is not None:
            yield self.b

    def output_shape(self, input_shape: tuple) -> tuple:
        if tuple(input_shape) != (self.in_features,):
            raise ValueError(
                f"Dense({self.in_features}, {self.out_features}) expects {self.in_features} input "
                f"features per sample; got per-sample shape {tuple(input_shape)}"
            )
        return (self.out_features,)

    def __repr__(self) -> str:
        init = "" if self.init == "xavier_uniform" else f", init={self.init!r}"
        bias = "" if self.b is not None else ", bias=False"
        return f"Dense({self.in_features}, {self.out_features}{init}{bias})"
