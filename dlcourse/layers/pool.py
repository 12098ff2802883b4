r"""Max and average pooling over ``KH x KW`` windows with stride ``S`` (no padding), NCHW.

Input ``(N, C, H, W)`` -> output ``(N, C, H_out, W_out)`` with
:math:`H_\text{out} = \lfloor (H - K_H) / S \rfloor + 1` (the convolution formula with
:math:`P = 0`); each channel is pooled on its own, so pooling has no parameters.

* Max: :math:`\text{out}[n,c,i,j] = \max_{u,v} x[n,c,iS+u,jS+v]`; its gradient goes to
  the maximum only. **Ties:** the first maximum in row-major order inside the window
  (smallest ``u``, then smallest ``v``) gets the whole gradient, as in PyTorch's CPU kernel.
  **NaN:** as in PyTorch, a NaN takes over from any value (``val > best or isnan(val)``), so a
  window holding a NaN outputs NaN and its *last* NaN in row-major order gets the gradient.
* Average: :math:`\text{out}[n,c,i,j] = \frac{1}{K_H K_W}\sum_{u,v} x[n,c,iS+u,jS+v]`;
  each input pixel gets :math:`1/(K_H K_W)` of the gradient of every window that holds it.

When windows overlap (``S < K``) a pixel can receive gradient from several windows;
both backward passes add those contributions. The ``*_naive`` versions loop over the
windows; the others use strided views and are tested equal: average pooling a
``sliding_window_view`` of all windows, max pooling one strided slice per window entry
:math:`(u, v)` (a running comparison over the :math:`K_H K_W` slices forward, one masked
copy per slice backward).
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
    r"""Max pooling forward pass: a running maximum over the :math:`K_H K_W` window entries.

    Entry :math:`(u, v)` of every window is one strided slice
    ``x[:, :, u::S_H, v::S_W]`` (cut to ``(H_out, W_out)``), so the maximum is
    :math:`K_H K_W - 1` element-wise comparisons and the argmax is where the entry first
    equals it (ties and NaN as in PyTorch, see the module docstring).

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
    entries = np.stack(list(_entry_views(x, kernel, stride, out_hw)))  # (KH * KW, N, C, H_out, W_out)
    out = np.maximum.reduce(entries, axis=0)  # np.maximum propagates NaN, as PyTorch does
    return out, MaxPoolCache(x.shape, _first_maximum(entries, out), kernel, stride)


def _entry_views(x, kernel, stride, out_hw):
    """Entry ``k = u * KW + v`` of every window, as a strided view (N, C, H_out, W_out) of ``x``."""
    (kh, kw), (sh, sw), (h_out, w_out) = kernel, stride, out_hw
    for u in range(kh):
        for v in range(kw):
            yield x[:, :, u:u + sh * (h_out - 1) + 1:sh, v:v + sw * (w_out - 1) + 1:sw]


def _first_maximum(entries, out) -> np.ndarray:
    """Index of the first entry equal to ``out`` in each window; with a NaN, of the last NaN."""
    index_type = np.uint8 if len(entries) <= 256 else np.intp
    argmax = np.zeros(out.shape, index_type)
    found = entries[0] == out
    for k in range(1, len(entries)):
        first = np.greater(entries[k] == out, found)  # equal to the maximum, and no earlier entry was
        argmax += first.astype(index_type) * index_type(k)
        found |= first
    if np.isnan(out).any():  # a NaN takes over from anything (PyTorch), so the last NaN wins
        for k in range(len(entries)):
            argmax[np.isnan(entries[k])] = k
    return argmax


def max_pool2d_backward(dout, cache: MaxPoolCache):
    r"""Max pooling backward pass: route each :math:`\delta[n,c,i,j]` to its window's maximum.

    ``dout`` (N, C, H_out, W_out) -> ``dx`` (N, C, H, W). For each window entry ``k`` the
    strided slice of ``dx`` that holds it receives ``dout`` where ``argmax == k``; with
    overlapping windows (``S < K``) the slices overlap and their gradients add up.
    """
    (n, c, h, w), argmax, kernel, stride = cache.x_shape, cache.argmax, cache.kernel_size, cache.stride
    dout = _check_dout(dout, cache.x_shape, argmax.shape[2:])
    h_out, w_out = argmax.shape[2:]
    tiled = kernel == stride and (h, w) == (h_out * kernel[0], w_out * kernel[1])  # one window per pixel
    finite = bool(np.isfinite(dout).all())
    dx = (np.empty if tiled else np.zeros)((n, c, h, w), dtype=dout.dtype)
    for k, target in enumerate(_entry_views(dx, kernel, stride, (h_out, w_out))):
        hit = argmax == k
        part = dout * hit if finite else np.where(hit, dout, 0)  # x 0/1 is exact for finite dout
        if tiled:
            target[...] = part
        else:
            target += part
    return dx


def max_pool2d_forward_naive(x, kernel_size=2, stride=None):
    """Max pooling with explicit loops; same arguments, shapes and cache as :func:`max_pool2d_forward`."""
    x, (kh, kw), (sh, sw), (h_out, w_out) = _prepare(x, kernel_size, stride)
    out = np.zeros(x.shape[:2] + (h_out, w_out), dtype=x.dtype)
    argmax = np.zeros(out.shape, dtype=np.intp)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(h_out):
                for j in range(w_out):
                    window = x[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw].ravel()
                    nans = np.flatnonzero(np.isnan(window))  # PyTorch: the last NaN wins
                    argmax[n, c, i, j] = nans[-1] if nans.size else np.argmax(window)  # first maximum
                    out[n, c, i, j] = window.flat[argmax[n, c, i, j]]
    return out, MaxPoolCache(x.shape, argmax, (kh, kw), (sh, sw))


def max_pool2d_backward_naive(dout, cache: MaxPoolCache):
    """Max pooling backward with explicit loops: ``dout`` (N, C, H_out, W_out) -> ``dx`` (N, C, H, W)."""
    x_shape, argmax = cache.x_shape, cache.argmax
    (kh, kw), (sh, sw) = cache.kernel_size, cache.stride
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
    x_shape = cache.x_shape
    (kh, kw), (sh, sw) = cache.kernel_size, cache.stride
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
    x_shape = cache.x_shape
    (kh, kw), (sh, sw) = cache.kernel_size, cache.stride
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

    def backward(self, dout, need_dx: bool = True):
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
