r"""The blocked matrix-product kernels behind :func:`~dlcourse.layers.conv.conv2d_forward`.

Read :func:`~dlcourse.layers.conv.conv2d_forward_naive` first: this module computes the
same sums, arranged so that matrix products do almost all the arithmetic.

**Stride phases.** With stride :math:`S`, kernel row :math:`u = aS + r` of output row
:math:`i` reads padded row :math:`iS + u = (i + a)S + r`: row :math:`i + a` of the *phase*
``x_pad[r::S]``. So a stride-``S`` convolution is a sum of stride-1 convolutions, one per
phase :math:`(r_h, r_w)`, each with the taps ``w[:, :, r_h::S_H, r_w::S_W]``, and only the
real output positions are computed (stride 1 has one phase: ``x_pad`` itself).

**Shifted columns.** In a phase flattened row-major (width ``Wq``), tap :math:`(a, b)` of
output :math:`(i, j)` sits at index :math:`p + aW_q + b` with :math:`p = iW_q + j`. One copy
per phase builds the width taps, ``cols[n, (b, c), p] = phase[n, c, p + b]``; the height
taps are then the same matrix shifted by :math:`aW_q` columns (a view, no copy), so

.. math::
    \text{out}[n, f, p] = \sum_a W_a[f, (b, c)]\; \text{cols}[n, (b, c), p + aW_q],

one stacked matrix product over :math:`(a, n)` and a sum over :math:`a`. With stride
:math:`S > 1` each phase has few height taps (two for a 3x3 kernel), so they are copied
too and the columns of all phases form one matrix ``(KH * KW * C, span)``: one product.
Columns with :math:`j \ge W_\text{out}` are computed and dropped (``Wq - W_out`` of every ``Wq``).

**Backward.** :math:`\partial W_a = \sum_n \text{cols}[n, :, aW_q :]\,\delta[n]^T` on the
same views. The input gradient is the adjoint of the column shifts,
:math:`\partial x[t] = \sum_{a,b,f} w[f, c, a, b]\, \delta[f, t - aW_q - b]`: a correlation
of the zero-padded :math:`\delta` with the flipped taps, built the same way.

**Blocks.** The batch is processed a few images at a time so that these matrices stay
in the CPU cache (about :data:`BLOCK_BYTES`); the backward pass rebuilds ``cols`` per
block instead of storing it.

Shapes: ``x_pad`` (N, C, Hp, Wp), ``w`` (F, C, KH, KW), ``dout`` (N, F, H_out, W_out).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

#: Target size of one block's column matrices: they stay in the L2/L3 cache.
BLOCK_BYTES = 2 << 20


class _Plan:
    """Sizes shared by the forward and backward pass of one convolution."""

    def __init__(self, xp_shape, w_shape, stride, out_hw, itemsize: int):
        n, c = xp_shape[:2]
        self.f, _, kh, kw = w_shape
        self.c, (self.sh, self.sw), (self.h_out, self.w_out) = c, stride, out_hw
        taps_h = [len(range(r, kh, self.sh)) for r in range(min(self.sh, kh))]
        taps_w = [len(range(r, kw, self.sw)) for r in range(min(self.sw, kw))]
        #: (index, r_h, r_w, taps along H, taps along W) of every phase that holds taps
        self.phases = [(ih * len(taps_w) + iw, ih, iw, ta, tb)
                       for ih, ta in enumerate(taps_h) for iw, tb in enumerate(taps_w)]
        self.wq = self.w_out + taps_w[0] - 1  # phase width: columns j + b
        self.rows = self.h_out + taps_h[0] - 1  # phase height: rows i + a
        self.span = self.h_out * self.wq  # output columns per image: (i, j), i < H_out, j < Wq
        self.ext = self.rows * self.wq  # columns of cols per image: p + a * Wq
        self.depth = kh * kw * c  # rows of the full column matrix
        self.margin = (taps_h[0] - 1) * self.wq + taps_w[0] - 1  # zeros before delta (backward)
        # stride > 1 leaves few height taps per phase: copy them too, for one product in all
        self.full = (self.sh, self.sw) != (1, 1)
        self.group = 1 if self.full else taps_h[0]  # products stacked per block
        copied = kh * kw if self.full else kw  # taps copied per channel
        per_image = (copied * max(c, self.f) * self.ext + self.group * max(c, self.f) * self.span) * itemsize
        self.block = max(1, min(n, BLOCK_BYTES // per_image))


class _TapColumns:
    """Columns ``cols[n, (a, b, ch), p] = src[n, ch, offset + p + a * Wq + b]`` of one phase, block by block.

    The width taps ``b`` are always copied. The height taps ``a`` are either copied too
    (``full``: one matrix of ``ta * tb * ch`` rows) or left as ``ta`` views of the copy shifted
    by ``a * Wq`` columns (rows ``(b, ch)``). :meth:`fill` returns a stack (groups, nb, rows, count).
    """

    def __init__(self, src, ta: int, tb: int, count: int, plan: _Plan, offset: int = 0, cols=None):
        block, ch = src.shape[:2]
        base = src[:, :, offset:]
        sn, sc, sp = base.strides
        if plan.full:  # into `cols` (block, ta * tb * ch, count) if given
            self.cols = np.empty((block, ta * tb * ch, count), src.dtype) if cols is None else cols
            self.source = as_strided(base, (block, ta, tb, ch, count), (sn, plan.wq * sp, sp, sc, sp),
                                     writeable=False)
            self.stack = self.cols[None]
        else:
            self.cols = np.empty((block, tb * ch, count + (ta - 1) * plan.wq), src.dtype)
            self.source = as_strided(base, (block, tb, ch, self.cols.shape[2]), (sn, sp, sc, sp),
                                     writeable=False)
            cn, cr, cp = self.cols.strides
            self.stack = as_strided(self.cols, (ta, block, tb * ch, count), (plan.wq * cp, cn, cr, cp),
                                    writeable=False)
        self.target = self.cols.reshape(self.source.shape)  # splits axis 1 only: a view of cols

    def fill(self, nb: int) -> np.ndarray:
        """Copy the columns of the first ``nb`` images of ``src``; return their stack."""
        self.target[:nb] = self.source[:nb]
        return self.stack[:, :nb]


def _grouped(taps, plan: _Plan) -> np.ndarray:
    """Weights (ta, 1, out, tb * in) of the shifted columns, or (1, 1, out, ta * tb * in) of the full ones."""
    return taps.transpose(1, 2, 0, 3).reshape(1, 1, taps.shape[2], -1) if plan.full else taps


class _Columns:
    """The columns of ``x_pad`` of one block, rows ordered (phase, a, b, c) (see :class:`_TapColumns`)."""

    def __init__(self, plan: _Plan, dtype):
        self.plan = plan
        # one spare row per plane: p + b runs past the last row for the dropped columns j >= W_out
        self.planes = np.zeros((plan.block, len(plan.phases), plan.c, plan.rows + 1, plan.wq), dtype)
        flat = self.planes.reshape(plan.block, len(plan.phases), plan.c, -1)
        if not plan.full:  # stride 1: one phase
            self.columns = [_TapColumns(flat[:, 0], *plan.phases[0][3:], plan.span, plan)]
            return
        self.cols, self.columns, row = np.empty((plan.block, plan.depth, plan.span), dtype), [], 0
        for k, _, _, ta, tb in plan.phases:
            part = self.cols[:, row:row + ta * tb * plan.c]
            self.columns.append(_TapColumns(flat[:, k], ta, tb, plan.span, plan, cols=part))
            row += ta * tb * plan.c

    def fill(self, phases, n0: int, nb: int) -> np.ndarray:
        """Build the columns of images ``n0 : n0 + nb``: a stack (group, nb, rows, span)."""
        for k, (phase, columns) in enumerate(zip(phases, self.columns)):
            block = phase[n0:n0 + nb]
            self.planes[:nb, k, :, :block.shape[2], :block.shape[3]] = block
            stack = columns.fill(nb)
        return self.cols[None, :nb] if self.plan.full else stack


def _phase_views(xp, plan: _Plan) -> list:
    """Phase ``k`` of ``xp`` (N, C, Hp, Wp), cut to (N, C, <= rows, <= Wq), for each phase."""
    return [xp[:, :, rh::plan.sh, rw::plan.sw][:, :, :plan.rows, :plan.wq] for _, rh, rw, _, _ in plan.phases]


def _tap_matrices(w, plan: _Plan) -> np.ndarray:
    """The weights of :meth:`_Columns.fill`'s stack: (ta, 1, F, tb * C), or (1, 1, F, KH * KW * C)."""
    parts = [w[:, :, rh::plan.sh, rw::plan.sw].transpose(2, 0, 3, 1).reshape(ta, 1, plan.f, tb * plan.c)
             for _, rh, rw, ta, tb in plan.phases]
    return np.concatenate([_grouped(part, plan) for part in parts], axis=3)


def forward(xp, w, b, stride, out_hw) -> np.ndarray:
    """``x_pad`` (N, C, Hp, Wp), ``w`` (F, C, KH, KW), ``b`` (F,) -> out (N, F, H_out, W_out)."""
    n = xp.shape[0]
    plan = _Plan(xp.shape, w.shape, stride, out_hw, xp.dtype.itemsize)
    columns, phases, w_taps = _Columns(plan, xp.dtype), _phase_views(xp, plan), _tap_matrices(w, plan)
    out = np.empty((n, plan.f) + tuple(out_hw), dtype=xp.dtype)
    prod = np.empty((plan.group, plan.block, plan.f, plan.h_out, plan.wq), dtype=xp.dtype)
    for n0 in range(0, n, plan.block):  # a few images at a time, so that cols stays in the cache
        nb = min(plan.block, n - n0)
        cols = columns.fill(phases, n0, nb)  # stride 1: (KH, nb, KW * C, span), the KH shifted views
        np.matmul(w_taps, cols, out=prod[:, :nb].reshape(plan.group, nb, plan.f, -1))  # one per u, image
        np.add.reduce(prod[:, :nb, :, :, :plan.w_out], axis=0, out=out[n0:n0 + nb])  # sum u; drop j >= W_out
    out += b.reshape(-1, 1, 1)
    return out


def backward(xp, w, stride, padding, dout, need_dx: bool):
    """-> ``dx`` (N, C, H, W) or ``None``, ``dw`` (F, C, KH, KW), ``db`` (F,); ``dout`` already checked."""
    n, dtype = xp.shape[0], dout.dtype
    plan = _Plan(xp.shape, w.shape, stride, dout.shape[2:], dtype.itemsize)
    columns, phases = _Columns(plan, dtype), _phase_views(xp, plan)
    # delta of each image on the Wq-wide grid, after `margin` zeros (for the dx correlation)
    delta = np.zeros((plan.block, plan.f, plan.margin + (plan.rows + 1) * plan.wq), dtype)
    grid = delta[:, :, plan.margin:plan.margin + plan.span].reshape(plan.block, plan.f, plan.h_out, plan.wq)
    dw_stack = np.zeros((plan.group, plan.depth // plan.group, plan.f), dtype)  # rows as in _tap_matrices
    prod = np.empty((plan.group, plan.block) + dw_stack.shape[1:], dtype)
    dx = _InputGradient(xp.shape, w.astype(dtype, copy=False), padding, delta, plan) if need_dx else None
    for n0 in range(0, n, plan.block):
        nb = min(plan.block, n - n0)
        grid[:nb, :, :, :plan.w_out] = dout[n0:n0 + nb]
        delta_t = delta[:nb, :, plan.margin:plan.margin + plan.span].transpose(0, 2, 1)  # (nb, span, F)
        np.matmul(columns.fill(phases, n0, nb), delta_t, out=prod[:, :nb])
        dw_stack += prod[:, :nb].sum(axis=1)
        if dx is not None:
            dx.add_block(n0, nb)
    dw, dw_mat, row = np.empty(w.shape, w.dtype), dw_stack.reshape(-1, plan.f), 0
    for _, rh, rw, ta, tb in plan.phases:  # the inverse of _tap_matrices: rows (phase, a, b, c)
        part = dw_mat[row:row + ta * tb * plan.c].reshape(ta, tb, plan.c, plan.f)
        dw[:, :, rh::plan.sh, rw::plan.sw] = part.transpose(3, 2, 0, 1)
        row += ta * tb * plan.c
    return (dx.dx if dx is not None else None), dw, dout.sum(axis=(0, 2, 3))


class _InputGradient:
    """dx, block by block: per phase, the flipped taps correlated with the zero-padded delta."""

    def __init__(self, xp_shape, w, padding, delta, plan: _Plan):
        n, c, hp, wp = xp_shape
        (ph, pw), (h, wd) = padding, (hp - 2 * padding[0], wp - 2 * padding[1])
        covered = (plan.sh, plan.sw) == (1, 1)  # every pixel is written, else some get no gradient
        self.dx = (np.empty if covered else np.zeros)((n, c, h, wd), delta.dtype)
        self.steps = []
        for _, rh, rw, ta, tb in plan.phases:
            # phase row r holds padded row rh + r * SH: keep the rows and columns inside the image
            r0, c0 = -(-(ph - rh) // plan.sh), -(-(pw - rw) // plan.sw)
            r1, c1 = min(-(-(ph + h - rh) // plan.sh), plan.rows), min(-(-(pw + wd - rw) // plan.sw), plan.wq)
            if r1 <= r0 or c1 <= c0:
                continue
            flipped = w[:, :, rh::plan.sh, rw::plan.sw][:, :, ::-1, ::-1]  # (F, C, ta, tb)
            w_taps = _grouped(flipped.transpose(2, 1, 3, 0).reshape(ta, 1, c, tb * plan.f), plan)
            count = (r1 - r0) * plan.wq
            offset = plan.margin - (ta - 1) * plan.wq - (tb - 1) + r0 * plan.wq
            columns = _TapColumns(delta, ta, tb, count, plan, offset)
            prod = np.empty((len(w_taps), plan.block, c, r1 - r0, plan.wq), delta.dtype)
            out = self.dx[:, :, rh + r0 * plan.sh - ph::plan.sh, rw + c0 * plan.sw - pw::plan.sw]
            self.steps.append((w_taps, columns, prod, (c0, c1), out[:, :, :r1 - r0]))

    def add_block(self, n0: int, nb: int) -> None:
        """Write dx of images ``n0 : n0 + nb`` (``delta`` holds their gradient)."""
        for w_taps, columns, prod, (c0, c1), out in self.steps:
            groups, _, c, rows, wq = prod.shape
            np.matmul(w_taps, columns.fill(nb), out=prod[:, :nb].reshape(groups, nb, c, rows * wq))
            np.add.reduce(prod[:, :nb, :, :, c0:c1], axis=0, out=out[n0:n0 + nb, :, :, :c1 - c0])
