r"""Max and average pooling over ``KH x KW`` windows with stride ``S`` (no padding), NCHW.

Input ``(N, C, H, W)`` -> output ``(N, C, H_out, W_out)`` with
:math:`H_\text{out} = \lfloor (H - K_H) / S \rfloor + 1` (the convolution formula with
:math:`P = 0`); each channel is pooled on its own, so pooling has no parameters.

* Max: :math:`\text{out}[n,c,i,j] = \max_{u,v} x[n,c,iS+u,jS+v]`; its gradient goes to
  the maximum only. **Ties:** the first maximum in row-major order inside the window
  (smallest ``u``, then smallest ``v``) gets the whole gradient, as in PyTorch's CPU kernel.
* Average: :math:`\text{out}[n,c,i,j] = \frac{1}{K_H K_W}\sum_{u,v} x[n,c,iS+u,jS+v]`;
  each input pixel gets :math:`1/(K_H K_W)` of the gradient of every window that holds it.

When windows overlap (``S < K``) a pixel can receive gradient from several windows;
both backward passes add those contributions. The ``*_naive`` versions loop over the
windows; the others use strided views (``sliding_window_view``) and are tested equal.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._checks import as_float_array, check_ndim
from .base import Layer, check_forward_called
from .conv import _pair, conv_output_size

__all__ = [
    "MaxPoolCache", "AvgPoolCache", "max_pool2d_forward", "max_pool2d_backward",
    "max_pool2d_forward_naive", "max_pool2d_backward_naive", "avg_pool2d_forward",
    "avg_pool2d_backward", "avg_pool2d_forward_naive", "avg_pool2d_backward_naive",
    "MaxPool2D", "AvgPool2D",
]


class MaxPoolCache(NamedTuple):
    """What the max-pool backward pass needs."""

    x_shape: tuple  #: (N, C, H, W)
    argmax: np.ndarray  #: (N, C, H_out, W_out) row-major index u * KW + v of each window's maximum
    kernel_size: tuple  #: (KH, KW)
    stride: tuple  #: (SH, SW)


class AvgPoolCache(NamedTuple):
    """What the average-pool backward pass needs."""

    x_shape: tuple  #: (N, C, H, W)
    kernel_size: tuple  #: (KH, KW)
    stride: tuple  #: (SH, SW)


def _prepare(x, kernel_size, stride):
    """Validate; return x, (KH, KW), (SH, SW), (H_out, W_out). ``stride=None`` means the kernel size."""
    x = as_float_array(x, "x")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    kernel = _pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else _pair(stride, "stride")
    try:
        out_hw = tuple(conv_output_size(s, k, st) for s, k, st in zip(x.shape[2:], kernel, stride))
    except ValueError as exc:
        raise ValueError(f"{exc} (x.shape={x.shape}, kernel_size={kernel}, stride={stride})") from None
    return x, kernel, stride, out_hw


def _windows(x, kernel, stride, out_hw):
    """Strided view (N, C, H_out, W_out, KH, KW) of every pooling window (no copy)."""
    view = sliding_window_view(x, kernel, axis=(2, 3))
    return view[:, :, :stride[0] * out_hw[0]:stride[0], :stride[1] * out_hw[1]:stride[1]]


def _check_dout(dout, x_shape, out_hw) -> np.ndarray:
    dout = as_float_array(dout, "dout")
    expected = tuple(x_shape[:2]) + tuple(out_hw)
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape (N, C, H_out, W_out) = "
                         f"{expected}; got dout.shape={dout.shape}")
    return dout


def _out_hw(x_shape, kernel, stride) -> tuple:
    return tuple((s - k) // st + 1 for s, k, st in zip(x_shape[2:], kernel, stride))


def max_pool2d_forward(x, kernel_size=2, stride=None):
    r"""Max pooling forward pass on strided window views.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (int, int)
        ``K`` or ``(KH, KW)``.
    stride : int, (int, int) or None
        ``S``; ``None`` (default) uses the kernel size (non-overlapping windows).

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out)
        :math:`H_\text{out} = \lfloor (H - K_H) / S \rfloor + 1`, likewise ``W_out``.
    cache : MaxPoolCache
    """
    x, kernel, stride, out_hw = _prepare(x, kernel_size, stride)
    flat = _windows(x, kernel, stride, out_hw).reshape(x.shape[:2] + out_hw + (-1,))
    argmax = flat.argmax(axis=-1)  # the first maximum, as PyTorch
    out = np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0]
    return out, MaxPoolCache(x.shape, argmax, kernel, stride)


def max_pool2d_backward(dout, cache: MaxPoolCache):
    r"""Max pooling backward pass: route each :math:`\delta[n,c,i,j]` to its window's maximum.

    ``dout`` (N, C, H_out, W_out) -> ``dx`` (N, C, H, W). Overlapping windows that share a
    maximum add their gradients there (a ``bincount`` over flat pixel indices).
    """
    (n, c, h, w), argmax, (kh, kw), (sh, sw) = cache
    dout = _check_dout(dout, cache.x_shape, argmax.shape[2:])
    rows = np.arange(argmax.shape[2]).reshape(-1, 1) * sh + argmax // kw
    cols = np.arange(argmax.shape[3]) * sw + argmax % kw
    pixel = (np.arange(n * c).reshape(n, c, 1, 1) * h + rows) * w + cols
    dx = np.bincount(pixel.ravel(), weights=dout.ravel(), minlength=n * c * h * w)
    return dx.reshape(n, c, h, w).astype(dout.dtype, copy=False)


def max_pool2d_forward_naive(x, kernel_size=2, stride=None):
    """Max pooling with explicit loops; same arguments, shapes and cache as :func:`max_pool2d_forward`."""
    x, (kh, kw), (sh, sw), (h_out, w_out) = _prepare(x, kernel_size, stride)
    out = np.zeros(x.shape[:2] + (h_out, w_out), dtype=x.dtype)
    argmax = np.zeros(out.shape, dtype=np.intp)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(h_out):
                for j in range(w_out):
                    window = x[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    argmax[n, c, i, j] = np.argmax(window)  # row-major, first maximum
                    out[n, c, i, j] = window.flat[argmax[n, c, i, j]]
    return out, MaxPoolCache(x.shape, argmax, (kh, kw), (sh, sw))


def max_pool2d_backward_naive(dout, cache: MaxPoolCache):
    """Max pooling backward with explicit loops: ``dout`` (N, C, H_out, W_out) -> ``dx`` (N, C, H, W)."""
    x_shape, argmax, (kh, kw), (sh, sw) = cache
    dout = _check_dout(dout, x_shape, argmax.shape[2:])
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for n, c, i, j in np.ndindex(*dout.shape):
        u, v = divmod(int(argmax[n, c, i, j]), kw)
        dx[n, c, i * sh + u, j * sw + v] += dout[n, c, i, j]
    return dx


def avg_pool2d_forward(x, kernel_size=2, stride=None):
    r"""Average pooling forward pass on strided window views.

    ``x`` (N, C, H, W) -> ``out`` (N, C, H_out, W_out) with
    :math:`H_\text{out} = \lfloor (H - K_H) / S \rfloor + 1`, and an :class:`AvgPoolCache`.
    ``stride=None`` uses the kernel size.
    """
    x, kernel, stride, out_hw = _prepare(x, kernel_size, stride)
    out = _windows(x, kernel, stride, out_hw).mean(axis=(-2, -1))
    return out, AvgPoolCache(x.shape, kernel, stride)


def avg_pool2d_backward(dout, cache: AvgPoolCache):
    r"""Average pooling backward pass: ``dout`` (N, C, H_out, W_out) -> ``dx`` (N, C, H, W).

    For each kernel position :math:`(u, v)` one strided slice of ``dx`` receives
    :math:`\delta / (K_H K_W)`, so overlapping windows add up.
    """
    x_shape, (kh, kw), (sh, sw) = cache
    h_out, w_out = _out_hw(x_shape, (kh, kw), (sh, sw))
    share = _check_dout(dout, x_shape, (h_out, w_out)) / (kh * kw)
    dx = np.zeros(x_shape, dtype=share.dtype)
    for u in range(kh):
        for v in range(kw):
            dx[:, :, u:u + sh * h_out:sh, v:v + sw * w_out:sw] += share
    return dx


def avg_pool2d_forward_naive(x, kernel_size=2, stride=None):
    """Average pooling with explicit loops; same arguments, shapes and cache as :func:`avg_pool2d_forward`."""
    x, (kh, kw), (sh, sw), (h_out, w_out) = _prepare(x, kernel_size, stride)
    out = np.zeros(x.shape[:2] + (h_out, w_out), dtype=x.dtype)
    for n, c, i, j in np.ndindex(*out.shape):
        out[n, c, i, j] = np.mean(x[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw])
    return out, AvgPoolCache(x.shape, (kh, kw), (sh, sw))


def avg_pool2d_backward_naive(dout, cache: AvgPoolCache):
    """Average pooling backward with explicit loops: ``dout`` (N, C, H_out, W_out) -> ``dx`` (N, C, H, W)."""
    x_shape, (kh, kw), (sh, sw) = cache
    dout = _check_dout(dout, x_shape, _out_hw(x_shape, (kh, kw), (sh, sw)))
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for n, c, i, j in np.ndindex(*dout.shape):
        dx[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw] += dout[n, c, i, j] / (kh * kw)
    return dx


class _Pool2D(Layer):
    """Shared body of the pooling layers: ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``."""

    _kernels: tuple = ()  # (forward, backward, forward_naive, backward_naive)

    def __init__(self, kernel_size=2, stride=None, naive: bool = False):
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")
        if min(self.kernel_size + self.stride) < 1:
            raise ValueError(f"kernel_size and stride must be at least 1; got kernel_size="
                             f"{self.kernel_size}, stride={self.stride}")
        self.naive = naive
        self._cache = None

    def forward(self, x, training: bool = True):
        forward = self._kernels[2 if self.naive else 0]
        out, cache = forward(x, self.kernel_size, self.stride)
        self._cache = cache if training else None
        return out

    def backward(self, dout):
        check_forward_called(self._cache, self)
        return self._kernels[3 if self.naive else 1](dout, self._cache)

    def output_shape(self, input_shape: tuple) -> tuple:
        """``(C, H, W)`` -> ``(C, H_out, W_out)``."""
        c, h, w = input_shape
        return (c,) + tuple(conv_output_size(s, k, st) for s, k, st in
                            zip((h, w), self.kernel_size, self.stride))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


class MaxPool2D(_Pool2D):
    r"""Max pooling layer: :math:`H_\text{out} = \lfloor (H - K_H) / S \rfloor + 1`.

    ``kernel_size`` ``K`` or ``(KH, KW)`` (default 2), ``stride`` (default: the kernel size),
    ``naive=True`` for the loop kernels. Ties: the first maximum in the window gets the gradient.
    """

    _kernels = (max_pool2d_forward, max_pool2d_backward,
                max_pool2d_forward_naive, max_pool2d_backward_naive)


class AvgPool2D(_Pool2D):
    r"""Average pooling layer: :math:`H_\text{out} = \lfloor (H - K_H) / S \rfloor + 1`.

    ``kernel_size`` ``K`` or ``(KH, KW)`` (default 2), ``stride`` (default: the kernel size),
    ``naive=True`` for the loop kernels.
    """

    _kernels = (avg_pool2d_forward, avg_pool2d_backward,
                avg_pool2d_forward_naive, avg_pool2d_backward_naive)
