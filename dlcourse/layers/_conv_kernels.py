r"""The blocked matrix-product kernels behind :func:`~dlcourse.layers.conv.conv2d_forward`.

Read :func:`~dlcourse.layers.conv.conv2d_forward_naive` first: this module computes the
same sums, arranged so that matrix products do almost all the arithmetic.

**One matrix per output row.** Output row :math:`i` of a block of ``nb`` images reads the
padded rows :math:`iS_H + u` for :math:`u < K_H`. Put the block in a *row-major stack*
``z[y, v, c, (n, j)] = x_pad[n, c, y, j S_W + v]`` (the :math:`K_W` horizontal shifts of every
padded row ``y``, the images side by side in the last axis). Then the
:math:`K_H K_W C` rows ``(u, v, c)`` that output row :math:`i` needs are the consecutive
rows ``y = iS_H .. iS_H + K_H - 1`` of ``z``: one contiguous ``(K_H K_W C, nb W_q)`` matrix,
a *view*, and all the output rows together are one stacked product

.. math::
    \text{out}[i, f, (n, j)] = \sum_{u, v, c} W[f, (u, v, c)]\; z[iS_H + u, v, c, (n, j)].

``z`` holds :math:`K_W` shifted copies of the input (im2col would make :math:`K_H K_W`),
and with a stride only the real output positions are computed: the width stride is built
into ``z`` (through the input's :math:`S_W` column phases, so that every copy moves long
runs), the height stride is the step between the output rows' views. Each image occupies
``W_q = W_out + (K_W - 1) // S_W`` columns; the last few (``j >= W_out``) are computed and
dropped.

**Backward.** :math:`\partial W = \sum_i \delta_i\, z_i^T` on the same views, with
:math:`\delta_i` the block's output-row gradients (zero in the dropped columns): one stacked
product and a sum over :math:`i`. The input gradient is the adjoint of the shifts:
:math:`\partial x_\text{pad}[y, x] = \sum w[f, c, u, v]\, \delta[f, (y - u)/S_H, (x - v)/S_W]`
over the taps for which both divisions are exact. Split by the stride phase
:math:`(y \bmod S_H, x \bmod S_W)` it is, for each phase, a stride-1 correlation of the
zero-padded :math:`\delta` with that phase's flipped taps, which the forward routine
:func:`_correlate` computes; only pixels inside the image (not the padding) are computed.
There the input has :math:`F` channels and the output :math:`C`; when :math:`F > C` the
width taps are applied to the product instead of copied into ``z``: the product has
:math:`K_W C` rows, and row block :math:`v` is added :math:`v` columns further on.

**Memory order.** :func:`~dlcourse.layers.conv.conv2d_forward` stores ``x_pad`` row by row
(an ``(Hp, C, N, Wp)`` array viewed as ``(N, C, Hp, Wp)``), so that at stride 1 ``z`` is
copied from it in runs of ``nb * Wp`` elements; any other ``x_pad`` (a cache made by the
naive forward, a stride) goes through the column-phase buffer first.

**Blocks.** The batch goes through a few images at a time so that these matrices stay in
the CPU cache (about :data:`BLOCK_BYTES`); the backward pass rebuilds ``z`` per block
instead of storing it.

Shapes: ``x_pad`` (N, C, Hp, Wp), ``w`` (F, C, KH, KW), ``dout`` (N, F, H_out, W_out).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

#: Target size of one block's buffers (stack, column phases, product): they stay in the L2 cache.
BLOCK_BYTES = 1 << 20


class _RowStack:
    """``z[y, v, c, (n, j)] = S[n, c, y, j * SW + v]`` for a block of ``nb`` images, and its row views.

    ``S`` is a source (N, C, h, w) placed at row ``top``, column ``left`` of a zero canvas
    with ``rows`` rows (``top``, ``left`` may be negative: the source is then cut). The copy goes
    through ``phases[y, r, c, n, X] = S[n, c, y, X * SW + r]``, so that both copies move runs of
    ``nb * Wq`` (or ``Wq``) elements; the regions that no source pixel reaches are zeroed once.
    """

    def __init__(self, src_shape, top, left, rows, kernel, stride, out_hw, nb, dtype, width_taps: bool = True):
        (kh, kw), (sh, sw), (h_out, w_out) = kernel, stride, out_hw
        c, hs, ws = src_shape[1:]
        self.kw, self.sw, self.nb = (kw if width_taps else 1), sw, nb
        self.wq = w_out + (kw - 1) // sw  # columns per image: j + v // SW
        self.m = nb * self.wq
        self.phases = np.zeros((rows, sw, c, nb, self.wq), dtype)
        # without the width taps (stride 1 only), z is the phase buffer itself: rows (u, c)
        self.z = np.zeros((rows, kw, c, self.m), dtype) if width_taps else self.phases.reshape(rows, 1, c, self.m)
        it = self.z.itemsize
        self.cols = as_strided(self.z, (h_out, kh * self.kw * c, self.m), (sh * self.z.strides[0], self.m * it, it),
                               writeable=False)  # cols[i] = z[i * SH : i * SH + KH], rows (u, v, c)
        self.width_taps = width_taps
        #: the canvas is the source itself (stride 1, no offset): the phase copy can be skipped
        self.whole = sw == 1 and (top, left, hs, ws) == (0, 0, rows, self.wq)
        y0, y1 = max(0, top), min(rows, top + hs)
        self.copies = []  # (phase r, canvas rows, canvas columns, source rows, first source column, count)
        for r in range(sw):
            x0 = max(0, -(-(left - r) // sw))  # first X with X * SW + r - left >= 0
            x1 = min(self.wq, -(-(ws + left - r) // sw))
            if y1 > y0 and x1 > x0:
                self.copies.append((r, slice(y0, y1), slice(x0, x1), slice(y0 - top, y1 - top),
                                    x0 * sw + r - left, x1 - x0))

    def fill(self, src, n0: int) -> np.ndarray:
        """Copy images ``n0 : n0 + nb`` of ``src``; return the views ``cols`` (H_out, KH * KW * C, nb * Wq)."""
        block = src[n0:n0 + self.nb]
        rows, _, c = self.phases.shape[:3]
        if self.width_taps and self.whole and _rows_major(block):
            # the source is already stored (y, c, n, x), as conv2d_forward lays out x_pad: no phase copy
            planes = [block.transpose(2, 1, 0, 3).reshape(rows, c, self.m)]
        else:
            for r, canvas_rows, canvas_cols, src_rows, s0, count in self.copies:
                part = block[:, :, src_rows, s0::self.sw][..., :count]
                self.phases[canvas_rows, r, :, :, canvas_cols] = part.transpose(2, 1, 0, 3)
            planes = [self.phases[:, r].reshape(rows, c, self.m) for r in range(self.sw)]
        for v in range(self.kw if self.width_taps else 0):  # z[:, v] is phase v % SW shifted v // SW columns left
            q = v // self.sw
            self.z[:, v, :, :self.m - q] = planes[v % self.sw][:, :, q:]
        return self.cols


def _rows_major(block) -> bool:
    """Is ``block`` (nb, C, H, W) stored with each row of all its images side by side (strides (W, ..., 1))?"""
    it = block.itemsize
    return block.strides[3] == it and (block.shape[0] == 1 or block.strides[0] == block.shape[3] * it)


def _block_size(n: int, src_shape, kernel, stride, out_hw, n_out: int, itemsize: int,
                width_taps: bool = True) -> int:
    """Images per block: the stack, its column phases and the product (``n_out`` rows) take about BLOCK_BYTES."""
    (kh, kw), (sh, sw), (h_out, w_out) = kernel, stride, out_hw
    rows, c, wq = (h_out - 1) * sh + kh, src_shape[1], w_out + (kw - 1) // sw
    per_image = (rows * ((kw if width_taps else 0) + sw) * c + h_out * n_out) * wq * itemsize
    return max(1, min(n, BLOCK_BYTES // per_image))


def _blocks(n: int, block: int, make):
    """``(n0, stack)`` for every block; the last, shorter block gets its own buffers."""
    stacks = {}
    for n0 in range(0, n, block):
        nb = min(block, n - n0)
        if nb not in stacks:
            stacks[nb] = make(nb)
        yield n0, stacks[nb]


def _correlate(src, top, left, w, stride, out, bias=None) -> None:
    """``out[n, f, i, j] = bias[f] + sum w[f, c, u, v] * S[n, c, i * SH + u, j * SW + v]``.

    ``S`` is ``src`` (N, C, h, w) placed at (``top``, ``left``) on zeros (see :class:`_RowStack`);
    ``out`` (N, F, H_out, W_out) may be any writeable view. The ``KW`` width taps are copied into
    the stack (``C KW`` rows), or, at stride 1 with fewer output than input channels (``dx``),
    applied to the product instead: ``KW`` products of ``F`` rows each, added ``v`` columns apart.
    """
    n, n_out, h_out, w_out = out.shape
    n_in, kernel = w.shape[1], w.shape[2:]
    rows = (h_out - 1) * stride[0] + kernel[0]
    width_taps = tuple(stride) != (1, 1) or n_out >= n_in
    block = _block_size(n, src.shape, kernel, stride, (h_out, w_out), n_out * (1 if width_taps else kernel[1]),
                        src.itemsize, width_taps)
    if width_taps:
        w_mat = w.transpose(0, 2, 3, 1).reshape(n_out, -1)  # (F, (u, v, c)), as the rows of cols
    else:
        w_mat = w.transpose(3, 0, 2, 1).reshape(kernel[1] * n_out, -1)  # ((v, f), (u, c))

    def make(nb):
        stack = _RowStack(src.shape, top, left, rows, kernel, stride, (h_out, w_out), nb, src.dtype, width_taps)
        return stack, np.empty((h_out, len(w_mat), stack.m), src.dtype)

    bias = None if bias is None else bias.reshape(n_out, 1, 1)
    for n0, (stack, prod) in _blocks(n, block, make):
        np.matmul(w_mat, stack.fill(src, n0), out=prod)  # (H_out, F [x KW], nb * Wq): output row i of every image
        rows_out = prod[:, :n_out]
        for v in range(1, 1 if width_taps else kernel[1]):  # output (n, j) adds tap v's product at (n, j + v)
            rows_out[:, :, :stack.m - v] += prod[:, v * n_out:(v + 1) * n_out, v:]
        rows_out = rows_out.reshape(h_out, n_out, stack.nb, stack.wq)[..., :w_out].transpose(2, 1, 0, 3)
        target = out[n0:n0 + stack.nb]
        if bias is None:
            target[...] = rows_out  # drop j >= W_out, back to (nb, F, H_out, W_out)
        else:
            np.add(rows_out, bias, out=target)


def forward(xp, w, b, stride, out_hw) -> np.ndarray:
    """``x_pad`` (N, C, Hp, Wp), ``w`` (F, C, KH, KW), ``b`` (F,) -> out (N, F, H_out, W_out)."""
    out = np.empty((xp.shape[0], w.shape[0]) + tuple(out_hw), dtype=xp.dtype)
    _correlate(xp, 0, 0, w, stride, out, b)
    return out


def backward(xp, w, stride, padding, dout, need_dx: bool):
    """-> ``dx`` (N, C, H, W) or ``None``, ``dw`` (F, C, KH, KW), ``db`` (F,); ``dout`` already checked."""
    dtype = dout.dtype
    xp, w = xp.astype(dtype, copy=False), w.astype(dtype, copy=False)
    dx = _input_gradient(xp.shape, w, stride, padding, dout) if need_dx else None
    return dx, _weight_gradient(xp, w.shape, stride, dout), dout.sum(axis=(0, 2, 3))


def _weight_gradient(xp, w_shape, stride, dout) -> np.ndarray:
    r""":math:`\partial W[f, (u, v, c)] = \sum_i \delta_i[f, (n, j)]\, z[iS_H + u, v, c, (n, j)]`, block by block."""
    n, f = dout.shape[:2]
    (kh, kw), (h_out, w_out) = w_shape[2:], dout.shape[2:]
    rows = (h_out - 1) * stride[0] + kh
    block = _block_size(n, xp.shape, (kh, kw), stride, (h_out, w_out), f, dout.itemsize)

    def make(nb):
        stack = _RowStack(xp.shape, 0, 0, rows, (kh, kw), stride, (h_out, w_out), nb, dout.dtype)
        return stack, np.zeros((h_out, f, nb, stack.wq), dout.dtype)  # delta; zero for j >= W_out

    acc = np.zeros((h_out, f, kh * kw * w_shape[1]), dout.dtype)  # one partial sum per output row
    prod = np.empty_like(acc)
    for n0, (stack, delta) in _blocks(n, block, make):
        cols = stack.fill(xp, n0)
        delta[..., :w_out] = dout[n0:n0 + stack.nb].transpose(2, 1, 0, 3)
        np.matmul(delta.reshape(h_out, f, stack.m), cols.transpose(0, 2, 1), out=prod)
        acc += prod
    return acc.sum(axis=0).reshape(f, kh, kw, -1).transpose(0, 3, 1, 2)


def _input_gradient(xp_shape, w, stride, padding, dout) -> np.ndarray:
    """dx, one stride phase (y mod SH, x mod SW) at a time: a stride-1 correlation of the padded delta."""
    n, c, hp, wp = xp_shape
    f, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    h, wd = hp - 2 * ph, wp - 2 * pw
    covered = kh >= sh and kw >= sw  # every phase has taps, so every pixel is written
    dx = (np.empty if covered else np.zeros)((n, c, h, wd), dout.dtype)
    for rh in range(min(sh, kh)):
        for rw in range(min(sw, kw)):
            # padded pixel (rh + SH * Y, rw + SW * X) gets w[:, :, rh + SH * a, rw + SW * b] * delta[Y - a, X - b]
            taps = w[:, :, rh::sh, rw::sw]
            ta, tb = taps.shape[2:]
            y0, y1 = -(-(ph - rh) // sh), -(-(ph + h - rh) // sh)  # the phase's rows inside the image
            x0, x1 = -(-(pw - rw) // sw), -(-(pw + wd - rw) // sw)
            if y1 <= y0 or x1 <= x0:
                continue
            flipped = taps[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, ta, tb)
            target = dx[:, :, rh + sh * y0 - ph::sh, rw + sw * x0 - pw::sw][:, :, :y1 - y0, :x1 - x0]
            _correlate(dout, ta - 1 - y0, tb - 1 - x0, flipped, (1, 1), target)
    return dx
