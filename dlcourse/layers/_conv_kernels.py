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
With a stride, all the phases go through one correlation (output channels ``(phase, c)``, each
phase's taps padded with zeros to ``ceil(K_H / S_H) x ceil(K_W / S_W)``): one larger product
instead of :math:`S_H S_W` small ones, then one strided copy per phase into ``dx``. At stride 1
with "same" padding the padded :math:`\delta` that the dx pass copies has exactly the columns
``(n, j)`` of ``z``, shifted, so :math:`\partial W` is computed in the same block loop from it
(:class:`_WeightGradient`) instead of from a second copy of ``dout``.
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


def _correlate(src, top, left, w, stride, out, bias=None, each_block=None) -> None:
    """``out[n, f, i, j] = bias[f] + sum w[f, c, u, v] * S[n, c, i * SH + u, j * SW + v]``.

    ``S`` is ``src`` (N, C, h, w) placed at (``top``, ``left``) on zeros (see :class:`_RowStack`);
    ``out`` (N, F, H_out, W_out) may be any writeable view. The ``KW`` width taps are copied into
    the stack (``C KW`` rows), or, at stride 1 with fewer output than input channels (``dx``),
    applied to the product instead: ``KW`` products of ``F`` rows each, added ``v`` columns apart.
    ``each_block(n0, stack)``, if given, is called after each block's product, while the stack holds it.
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
        if each_block is not None:
            each_block(n0, stack)
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
    db = dout.sum(axis=0).reshape(dout.shape[1], -1).sum(axis=1)  # faster than one sum over axes (0, 2, 3)
    grad = _WeightGradient(xp, w.shape, stride, dout)
    if need_dx and _shares_delta(w.shape, stride, padding):
        dx = _input_gradient(xp.shape, w, stride, padding, dout, grad)  # dw from dx's padded delta, block by block
    else:
        dx = _input_gradient(xp.shape, w, stride, padding, dout) if need_dx else None
        grad.run()
    return dx, grad.result(), db


def _shares_delta(w_shape, stride, padding) -> bool:
    """Can dw read its delta from the dx pass's padded delta? Stride 1 and "same" padding: the same columns."""
    kh, kw = w_shape[2:]
    return tuple(stride) == (1, 1) and (kh, kw) != (1, 1) and (2 * padding[0], 2 * padding[1]) == (kh - 1, kw - 1)


class _WeightGradient:
    r""":math:`\partial W[f, (u, v, c)] = \sum_i \delta_i[f, (n, j)]\, z[iS_H + u, v, c, (n, j)]`, block by block.

    :meth:`add` takes one block's delta rows, either from :meth:`run` (a copy of ``dout``) or
    from the dx pass, whose padded delta holds the same columns (:func:`_shares_delta`).
    """

    def __init__(self, xp, w_shape, stride, dout):
        self.xp, self.dout, self.stride, self.w_shape = xp, dout, stride, w_shape
        f, c, kh, kw = w_shape
        self.out_hw = dout.shape[2:]
        self.rows = (self.out_hw[0] - 1) * stride[0] + kh
        self.stacks = {}
        # one partial sum per output row, transposed: z_i @ delta_i^T runs faster in OpenBLAS than delta_i @ z_i^T
        self.acc = np.zeros((self.out_hw[0], kh * kw * c, f), dout.dtype)
        self.prod = np.empty_like(self.acc)

    def stack(self, nb) -> _RowStack:
        if nb not in self.stacks:
            self.stacks[nb] = _RowStack(self.xp.shape, 0, 0, self.rows, self.w_shape[2:], self.stride, self.out_hw,
                                        nb, self.acc.dtype)
        return self.stacks[nb]

    def add(self, n0: int, nb: int, delta) -> None:
        """Add images ``n0 : n0 + nb``; ``delta`` (H_out, F, k) holds the stack's first ``k`` columns ``(n, j)``.

        Its columns ``j >= W_out`` must be zero (they pair with the stack's dropped columns).
        """
        cols = self.stack(nb).fill(self.xp, n0)[:, :, :delta.shape[2]]
        np.matmul(cols, delta.transpose(0, 2, 1), out=self.prod)
        self.acc += self.prod

    def run(self) -> None:
        """All the blocks, each delta a copy of ``dout`` with zero columns ``j >= W_out``."""
        n, f = self.dout.shape[:2]
        (h_out, w_out), (kh, kw) = self.out_hw, self.w_shape[2:]
        block = _block_size(n, self.xp.shape, (kh, kw), self.stride, self.out_hw, f, self.dout.itemsize)
        deltas = {}
        for n0 in range(0, n, block):
            nb = min(block, n - n0)
            if nb not in deltas:
                deltas[nb] = np.zeros((h_out, f, nb, self.stack(nb).wq), self.dout.dtype)
            delta = deltas[nb]
            delta[..., :w_out] = self.dout[n0:n0 + nb].transpose(2, 1, 0, 3)
            self.add(n0, nb, delta.reshape(h_out, f, -1))

    def result(self) -> np.ndarray:
        f, _, kh, kw = self.w_shape
        return self.acc.sum(axis=0).T.reshape(f, kh, kw, -1).transpose(0, 3, 1, 2)


def _weight_gradient(xp, w_shape, stride, dout) -> np.ndarray:
    r""":math:`\partial W = \sum_i \delta_i z_i^T` on its own (see :class:`_WeightGradient`)."""
    grad = _WeightGradient(xp, w_shape, stride, dout)
    grad.run()
    return grad.result()


def _input_gradient(xp_shape, w, stride, padding, dout, grad=None) -> np.ndarray:
    """dx as a stride-1 correlation of the padded delta; with a stride, all the stride phases in one product.

    ``grad`` (a :class:`_WeightGradient`, stride 1 and "same" padding only): add each block's dw from
    the padded delta that the correlation has just copied.
    """
    n, c, hp, wp = xp_shape
    f, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    h, wd = hp - 2 * ph, wp - 2 * pw
    phases_h, phases_w = min(sh, kh), min(sw, kw)  # the phases (y mod SH, x mod SW) that have taps
    covered = kh >= sh and kw >= sw  # every phase has taps, so every pixel is written
    dx = (np.empty if covered else np.zeros)((n, c, h, wd), dout.dtype)
    # padded pixel (rh + SH * Y, rw + SW * X) gets w[:, :, rh + SH * a, rw + SW * b] * delta[Y - a, X - b];
    # phase (rh, rw) covers the rows Y in [y0[rh], y1[rh]) and columns X in [x0[rw], x1[rw]) inside the image
    y0 = [-(-(ph - r) // sh) for r in range(phases_h)]
    y1 = [-(-(ph + h - r) // sh) for r in range(phases_h)]
    x0 = [-(-(pw - r) // sw) for r in range(phases_w)]
    x1 = [-(-(pw + wd - r) // sw) for r in range(phases_w)]
    if phases_h * phases_w == 1:  # stride 1 (or a 1-wide kernel): one phase, written straight into dx
        flipped = w[:, :, ::sh, ::sw][:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, KH, KW)
        ta, tb = flipped.shape[2:]
        target = dx[:, :, sh * y0[0] - ph::sh, sw * x0[0] - pw::sw][:, :, :y1[0] - y0[0], :x1[0] - x0[0]]
        top, left = ta - 1 - y0[0], tb - 1 - x0[0]
        each_block = None
        if grad is not None:  # padded delta row top + i, column left + j is delta[i, j]: dw's columns, shifted
            def each_block(n0, stack):
                padded = stack.phases.reshape(len(stack.phases), f, stack.m)
                grad.add(n0, stack.nb, padded[top:top + dout.shape[2], :, left:])
        if y1[0] > y0[0] and x1[0] > x0[0]:
            _correlate(dout, top, left, flipped, (1, 1), target, each_block=each_block)
        return dx
    # all phases at once: output channels (rh, rw, c), each phase's flipped taps padded with zeros to a x b
    a, b = -(-kh // sh), -(-kw // sw)
    taps = np.zeros((phases_h, phases_w, c, f, a, b), dout.dtype)
    for rh in range(phases_h):
        for rw in range(phases_w):
            t = w[:, :, rh::sh, rw::sw][:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, ta, tb)
            taps[rh, rw, :, :, a - t.shape[2]:, b - t.shape[3]:] = t
    ya, xa = min(y0), min(x0)
    out = np.empty((n, phases_h, phases_w, c, max(y1) - ya, max(x1) - xa), dout.dtype)
    _correlate(dout, a - 1 - ya, b - 1 - xa, taps.reshape(-1, f, a, b), (1, 1), out.reshape(n, -1, *out.shape[4:]))
    for rh in range(phases_h):
        for rw in range(phases_w):
            if y1[rh] > y0[rh] and x1[rw] > x0[rw]:
                target = dx[:, :, rh + sh * y0[rh] - ph::sh, rw + sw * x0[rw] - pw::sw]
                target[:, :, :y1[rh] - y0[rh], :x1[rw] - x0[rw]] = \
                    out[:, rh, rw, :, y0[rh] - ya:y1[rh] - ya, x0[rw] - xa:x1[rw] - xa]
    return dx
