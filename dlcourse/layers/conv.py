r"""Two-dimensional convolution (cross-correlation, as in every DL framework), NCHW.

For an input ``x`` of shape ``(N, C, H, W)``, kernels ``w`` of shape
``(F, C, KH, KW)``, a bias ``b`` of shape ``(F,)``, stride :math:`S` and zero
padding :math:`P`, the output has shape ``(N, F, H_out, W_out)`` with

.. math::
    H_\text{out} = \left\lfloor \frac{H + 2P - K_H}{S} \right\rfloor + 1,
    \qquad
    \text{out}[n, f, i, j] = b_f + \sum_{c, u, v} w[f, c, u, v]\,
    x_\text{pad}[n, c, iS + u, jS + v].

The kernel is *not* flipped (that would be a convolution in the signal-processing
sense); deep-learning texts and libraries call this cross-correlation a convolution.

Two implementations of each pass, tested equal: ``*_naive`` loops over every
output pixel (read it first); the default ones work a few images at a time: they copy the
:math:`K_W` horizontal shifts of the padded input into a row-by-row stack, in which the
:math:`K_H K_W C` values that one output row needs form a contiguous matrix (a view), and do
one stacked matrix product per block; with a stride only the real output positions are
computed (:mod:`dlcourse.layers._conv_kernels`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import init as _init
from .._checks import as_float_array, check_ndim
from ..parameter import Parameter, aligned
from ._conv_kernels import backward as _kernel_backward
from ._conv_kernels import forward as _kernel_forward
from .base import Layer, check_forward_called

__all__ = [
    "Conv2DCache", "conv_output_size", "conv2d_forward", "conv2d_backward",
    "conv2d_forward_naive", "conv2d_backward_naive", "Conv2D",
]


class Conv2DCache(NamedTuple):
    """What the backward pass needs from the forward pass."""

    x_padded: np.ndarray  #: (N, C, H + 2 PH, W + 2 PW) the zero-padded input
    w: np.ndarray  #: (F, C, KH, KW) the kernels
    stride: tuple  #: (SH, SW)
    padding: tuple  #: (PH, PW)


def _int(value, name: str) -> int:
    """``value`` as an int; floats, booleans and anything else are a ``TypeError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {value!r} ({type(value).__name__})")
    return int(value)


def _pair(value, name: str) -> tuple:
    """``3 -> (3, 3)``; ``(2, 3) -> (2, 3)``; anything else is a ``TypeError``."""
    items = value if isinstance(value, (tuple, list)) and len(value) == 2 else (value, value)
    return _int(items[0], name), _int(items[1], name)


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    r"""Output length along one axis: :math:`\lfloor (H + 2P - K) / S \rfloor + 1`.

    Parameters
    ----------
    size : int
        Input length ``H`` (or ``W``).
    kernel_size : int
        Kernel length ``K`` (``KH`` or ``KW``), at least 1.
    stride : int
        Step ``S`` between windows, at least 1.
    padding : int
        Zeros ``P`` added on each side, at least 0.

    Returns
    -------
    int
        ``H_out``; a ``ValueError`` names the sizes when no window fits.
    """
    size, kernel_size = _int(size, "size"), _int(kernel_size, "kernel_size")
    stride, padding = _int(stride, "stride"), _int(padding, "padding")
    if stride < 1:
        raise ValueError(f"stride must be at least 1; got stride={stride}")
    if padding < 0:
        raise ValueError(f"padding must be non-negative; got padding={padding}")
    if kernel_size < 1:
        raise ValueError(f"kernel_size must be at least 1; got kernel_size={kernel_size}")
    if kernel_size > size + 2 * padding:
        raise ValueError(
            f"kernel size {kernel_size} is larger than the padded input: size {size} + 2 * padding "
            f"{padding} = {size + 2 * padding}")
    return (size + 2 * padding - kernel_size) // stride + 1


def _resolve_padding(padding, kh: int, kw: int) -> tuple:
    """Integers as given; ``"same"`` gives ``((KH - 1) / 2, (KW - 1) / 2)`` for odd kernels."""
    if isinstance(padding, str):
        if padding != "same":
            raise ValueError(f"padding must be an int, a pair of ints or 'same'; got {padding!r}")
        if kh % 2 == 0 or kw % 2 == 0:
            raise ValueError(f"padding='same' needs an odd kernel; got kernel (KH, KW) = ({kh}, {kw})")
        return (kh - 1) // 2, (kw - 1) // 2
    return _pair(padding, "padding")


def _prepare(x, w, b, stride, padding):
    """Validate the arguments; return arrays of one dtype, stride, padding and the output size."""
    x, w = as_float_array(x, "x"), as_float_array(w, "w")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    check_ndim(w, 4, "w", "(F, C, KH, KW)")
    n_filters, channels, kh, kw = w.shape
    if x.shape[1] != channels:
        raise ValueError(f"channel mismatch: x has C={x.shape[1]} channels (x.shape={x.shape}) but "
                         f"w expects C={channels} (w.shape={w.shape}, (F, C, KH, KW))")
    b = np.zeros(n_filters, w.dtype) if b is None else as_float_array(b, "b")
    if b.shape != (n_filters,):
        raise ValueError(f"b must have shape (F,) = ({n_filters},); got b.shape={b.shape}")
    stride, padding = _pair(stride, "stride"), _resolve_padding(padding, kh, kw)
    try:
        out_hw = tuple(conv_output_size(s, k, st, p) for s, k, st, p in
                       zip(x.shape[2:], (kh, kw), stride, padding))
    except ValueError as exc:
        raise ValueError(f"{exc} (x.shape={x.shape}, w.shape={w.shape}, stride={stride}, "
                         f"padding={padding})") from None
    dtype = np.result_type(x, w, b)
    return x.astype(dtype, copy=False), w.astype(dtype, copy=False), b.astype(dtype, copy=False), \
        stride, padding, out_hw


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    r"""Convolution forward pass: one stacked matrix product per block of images.

    For a few images at a time (a block that fits the CPU cache), one copy puts the ``KW``
    horizontal shifts of every padded row side by side, ``z[y, v, c, (n, j)] =
    x_pad[n, c, y, j S + v]``; output row :math:`i` then needs rows ``i S .. i S + KH - 1`` of
    ``z``, one contiguous ``(KH * KW * C, nb * W_out)`` matrix (a view), so the block's output
    is one product per output row, stacked. Only the real output positions are computed for
    :math:`S > 1`. ``cache.x_padded`` is stored row by row (an ``(Hp, C, N, Wp)`` array viewed
    as ``(N, C, Hp, Wp)``) so that this copy reads long runs. Details in
    :mod:`dlcourse.layers._conv_kernels`.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input images.
    w : ndarray, shape (F, C, KH, KW)
        Kernels.
    b : ndarray, shape (F,), or None
        Biases (``None``: zeros).
    stride : int or (int, int)
        ``S`` (or ``(SH, SW)``), at least 1.
    padding : int, (int, int) or "same"
        Zeros ``P`` on each side; ``"same"`` (odd kernels) is ``(K - 1) / 2``, which keeps
        ``H_out = H`` at stride 1 (``ceil(H / S)`` otherwise).

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out)
        :math:`H_\text{out} = \lfloor (H + 2P - K_H) / S \rfloor + 1`, likewise ``W_out``.
    cache : Conv2DCache
        For :func:`conv2d_backward`.
    """
    x, w, b, stride, (ph, pw), out_hw = _prepare(x, w, b, stride, padding)
    n, c, h, wd = x.shape
    # stored row by row, each row of all the images side by side (a (Hp, C, N, Wp) array viewed as
    # (N, C, Hp, Wp)): the kernels then read long runs of memory (see dlcourse.layers._conv_kernels)
    xp = np.zeros((h + 2 * ph, c, n, wd + 2 * pw), dtype=x.dtype).transpose(2, 1, 0, 3)
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    out = _kernel_forward(xp, w, b, stride, out_hw)
    return out, Conv2DCache(xp, w, stride, (ph, pw))


def conv2d_backward(dout, cache: Conv2DCache, need_dx: bool = True):
    r"""Convolution backward pass, block by block as :func:`conv2d_forward`.

    .. math::
        \frac{\partial L}{\partial w[f,c,u,v]} = \sum_{n,i,j} \delta[n,f,i,j]\,
        x_\text{pad}[n,c,iS+u,jS+v],\qquad
        \frac{\partial L}{\partial b_f} = \sum_{n,i,j} \delta[n,f,i,j],

    and :math:`\partial L / \partial x_\text{pad}` scatters :math:`w[f,c,u,v]\,\delta[n,f,i,j]`
    back to pixel :math:`(iS+u, jS+v)`; only pixels inside the image are computed. As matrices,
    per block: ``dw`` is ``delta_i @ z_i.T`` on the forward pass's row views, summed over the
    output rows :math:`i`, and ``dx`` is, for each stride phase, the stride-1 correlation of the
    zero-padded ``delta`` with that phase's flipped taps, built the same way; ``z`` is rebuilt
    block by block rather than kept from the forward pass.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
        Upstream gradient :math:`\delta`.
    cache : Conv2DCache
        From :func:`conv2d_forward` or :func:`conv2d_forward_naive`.
    need_dx : bool
        ``False`` skips ``dx`` (returned as ``None``): a network's first layer needs no ``dx``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None
    dw : ndarray, shape (F, C, KH, KW)
    db : ndarray, shape (F,)
    """
    xp, w, stride, padding = cache.x_padded, cache.w, cache.stride, cache.padding
    dout = _check_dout(dout, cache)
    return _kernel_backward(xp, w, stride, padding, dout, need_dx)


def _check_dout(dout, cache: Conv2DCache) -> np.ndarray:
    """``dout`` as an array of the cache's dtype, with the forward output's shape."""
    xp, w, stride, padding = cache.x_padded, cache.w, cache.stride, cache.padding
    dout = as_float_array(dout, "dout")
    check_ndim(dout, 4, "dout", "(N, F, H_out, W_out)")
    expected = (xp.shape[0], w.shape[0]) + tuple(
        (size - k) // s + 1 for size, k, s in zip(xp.shape[2:], w.shape[2:], stride))
    if dout.shape != expected:
        raise ValueError(f"dout must have the forward output's shape (N, F, H_out, W_out) = "
                         f"{expected}; got dout.shape={dout.shape}")
    return dout.astype(np.result_type(dout, w), copy=False)


def conv2d_forward_naive(x, w, b=None, stride=1, padding=0):
    r"""Convolution forward pass with explicit loops (slow; for reading and testing).

    Same arguments, returns and output size
    :math:`H_\text{out} = \lfloor (H + 2P - K_H) / S \rfloor + 1` as :func:`conv2d_forward`:
    ``x`` (N, C, H, W), ``w`` (F, C, KH, KW), ``b`` (F,) -> ``out`` (N, F, H_out, W_out), cache.
    """
    x, w, b, (sh, sw), (ph, pw), (h_out, w_out) = _prepare(x, w, b, stride, padding)
    n_filters, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((x.shape[0], n_filters, h_out, w_out), dtype=x.dtype)
    for n in range(x.shape[0]):
        for f in range(n_filters):
            for i in range(h_out):
                for j in range(w_out):
                    window = xp[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]  # (C, KH, KW)
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, Conv2DCache(xp, w, (sh, sw), (ph, pw))


def conv2d_backward_naive(dout, cache: Conv2DCache):
    """Convolution backward pass with explicit loops: each output pixel sends its gradient back.

    ``dout`` (N, F, H_out, W_out) and a :class:`Conv2DCache` -> ``dx`` (N, C, H, W),
    ``dw`` (F, C, KH, KW), ``db`` (F,), as :func:`conv2d_backward`.
    """
    xp, w = cache.x_padded, cache.w
    (sh, sw), (ph, pw) = cache.stride, cache.padding
    dout = _check_dout(dout, cache)
    n_filters, _, kh, kw = w.shape
    dxp, dw = np.zeros(xp.shape, dtype=dout.dtype), np.zeros_like(w)
    for n in range(dout.shape[0]):
        for f in range(n_filters):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    dw[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
                    dxp[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    dx = dxp[:, :, ph:xp.shape[2] - ph, pw:xp.shape[3] - pw]
    return dx, dw, dout.sum(axis=(0, 2, 3))


class Conv2D(Layer):
    r"""A convolution layer: :math:`F` kernels of shape ``(C, KH, KW)`` and a bias each.

    Input ``(N, C, H, W)`` -> output ``(N, F, H_out, W_out)`` with
    :math:`H_\text{out} = \lfloor (H + 2P - K_H) / S \rfloor + 1` (likewise ``W_out``).

    Parameters
    ----------
    in_channels, out_channels : int
        ``C`` and ``F``.
    kernel_size : int or (int, int)
        ``K`` or ``(KH, KW)``.
    stride, padding
        As in :func:`conv2d_forward` (``padding="same"`` for odd kernels).
    init : str or callable
        Kernel initialiser from :mod:`dlcourse.init` (fan-in ``C * KH * KW``); biases start at 0.
    seed, rng : int or numpy.random.Generator, optional
        Source of the initial weights (give one of them for repeatable results).
    naive : bool
        Use the loop kernels (slow, for comparison).

    Attributes
    ----------
    W : Parameter, shape (F, C, KH, KW)
        The kernels.
    b : Parameter, shape (F,)
        One bias per filter.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 init="he_normal", seed=None, rng=None, dtype=np.float64, naive: bool = False):
        kh, kw = _pair(kernel_size, "kernel_size")
        c, f = _int(in_channels, "in_channels"), _int(out_channels, "out_channels")
        if min(c, f, kh, kw) < 1:
            raise ValueError(f"in_channels, out_channels and kernel_size must be positive; got "
                             f"{in_channels}, {out_channels}, {kernel_size}")
        _pair(stride, "stride"), _resolve_padding(padding, kh, kw)  # fail early on bad values
        self.in_channels, self.out_channels, self.kernel_size = c, f, (kh, kw)
        self.stride, self.padding, self.naive = stride, padding, naive
        gen = _init.as_generator(rng if rng is not None else seed)
        self.W = Parameter(aligned(_init.get(init)((f, c, kh, kw), gen, dtype=dtype)), "W")
        self.b = Parameter(aligned(np.zeros(f, dtype)), "b")
        self._cache = None

    def forward(self, x, training: bool = True):
        """``x`` (N, C, H, W) -> (N, F, H_out, W_out)."""
        kernel = conv2d_forward_naive if self.naive else conv2d_forward
        out, cache = kernel(x, self.W.data, self.b.data, self.stride, self.padding)
        self._cache = cache if training else None
        return out

    def backward(self, dout, need_dx: bool = True):
        """``dout`` (N, F, H_out, W_out) -> ``dx`` (N, C, H, W); sets ``W.grad`` and ``b.grad``.

        ``need_dx=False`` (a network's first layer) skips ``dx`` and returns ``None``.
        """
        check_forward_called(self._cache, self)
        if self.naive:
            dx, self.W.grad, self.b.grad = conv2d_backward_naive(dout, self._cache)
            return dx if need_dx else None
        dx, self.W.grad, self.b.grad = conv2d_backward(dout, self._cache, need_dx)
        return dx

    def parameters(self):
        yield self.W
        yield self.b

    def output_shape(self, input_shape: tuple) -> tuple:
        """``(C, H, W)`` -> ``(F, H_out, W_out)``."""
        c, h, wd = input_shape
        if c != self.in_channels:
            raise ValueError(f"channel mismatch: input has C={c}, layer expects {self.in_channels}")
        kh, kw = self.kernel_size
        (sh, sw), (ph, pw) = _pair(self.stride, "stride"), _resolve_padding(self.padding, kh, kw)
        return (self.out_channels, conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw))

    def __repr__(self) -> str:
        return (f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding!r})")
