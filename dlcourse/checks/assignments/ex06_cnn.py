"""ex06_cnn: conv output size, a naive conv2d forward, max pooling forward and backward, dW of a conv.

Images are NCHW, kernels (F, C, KH, KW). References: :func:`dlcourse.layers.conv.conv_output_size`,
:func:`~dlcourse.layers.conv.conv2d_forward` / ``conv2d_backward`` and
:func:`dlcourse.layers.pool.max_pool2d_forward` / ``max_pool2d_backward``.
"""

from __future__ import annotations

import math

import numpy as np

from ..spec import EXACT, Mistake, Part, case

A = "ex06_cnn"


def ref_output_size(n, k, stride=1, padding=0):
    from dlcourse.layers.conv import conv_output_size

    return conv_output_size(n, k, stride, padding)


def ref_conv2d(x, w, b, stride=1, padding=0):
    from dlcourse.layers.conv import conv2d_forward

    return conv2d_forward(x, w, b, stride=stride, padding=padding)[0]


def ref_max_pool(x, size=2, stride=2):
    from dlcourse.layers.pool import max_pool2d_forward

    return max_pool2d_forward(x, size, stride)[0]


def ref_max_pool_backward(dout, x, size=2, stride=2):
    from dlcourse.layers.pool import max_pool2d_backward, max_pool2d_forward

    return max_pool2d_backward(dout, max_pool2d_forward(x, size, stride)[1])


def ref_conv_dw(dout, x, w_shape, stride=1, padding=0):
    from dlcourse.layers.conv import conv2d_backward, conv2d_forward

    w = np.zeros(tuple(w_shape), dtype=x.dtype)
    _, cache = conv2d_forward(x, w, np.zeros(w_shape[0], dtype=x.dtype), stride=stride, padding=padding)
    return conv2d_backward(dout, cache)[1]


def _avg_pool(x, size=2, stride=2):
    n, c, h, w = x.shape
    ho, wo = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size].mean(axis=(2, 3))
    return out


def _avg_pool_backward(dout, x, size=2, stride=2):
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * stride:i * stride + size, j * stride:j * stride + size] += \
                dout[:, :, i:i + 1, j:j + 1] / (size * size)
    return dx


def _pool_backward_assign(dout, x, size=2, stride=2):
    dx = np.zeros_like(x)
    n, c = x.shape[:2]
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size].reshape(n, c, -1)
            k = win.argmax(axis=2)
            for a in range(n):
                for b in range(c):
                    u, v = divmod(int(k[a, b]), size)
                    dx[a, b, i * stride + u, j * stride + v] = dout[a, b, i, j]
    return dx


# ---- inputs ------------------------------------------------------------------------------
def _flags(*pairs) -> set:
    return {tag for tag, holds in pairs if holds}


def size_tags(n, k, s, p) -> set:
    return _flags(("padding", p > 0), ("stride > 1", s > 1), ("uneven", (n + 2 * p - k) % s != 0))


def conv_tags(x_shape, w_shape, s, p) -> set:
    """Traits of a convolution input that code can get wrong."""
    (n, c, h, w), (f, _, kh, kw) = x_shape, w_shape
    return _flags(("N > 1", n > 1), ("C > 1", c > 1), ("F > 1", f > 1), ("KH != KW", kh != kw), ("H != W", h != w),
                  ("stride > 1", s > 1), ("padding", p > 0))


def pool_tags(x_shape, size, stride) -> set:
    """Traits of a pooling input: overlapping windows, stride != size, pixels left over, batch and channels."""
    n, c, h, w = x_shape
    return _flags(("N > 1", n > 1), ("C > 1", c > 1), ("overlapping windows", stride < size),
                  ("stride != size", stride != size), ("H != W", h != w),
                  ("pixels left over", (h - size) % stride != 0 or (w - size) % stride != 0))


def _size_case(n, k, s, p, kind):
    return case(n, k, s, p, kind=kind, tags=size_tags(n, k, s, p))


def _conv_case(x, w, b, s, p, kind):
    return case(x, w, b, s, p, kind=kind, tags=conv_tags(x.shape, w.shape, s, p))


def _pool_case(x, size, stride, kind):
    return case(x, size, stride, kind=kind, tags=pool_tags(x.shape, size, stride))


def _size_fixed():
    return [_size_case(5, 3, 1, 0, kind="5 pixels, kernel 3"), _size_case(5, 3, 1, 1, kind="'same' padding"),
            _size_case(7, 3, 2, 0, kind="stride 2"), _size_case(6, 3, 2, 1, kind="stride 2 that does not divide evenly"),
            _size_case(28, 5, 1, 2, kind="28 pixels, kernel 5, padding 2")]


def _size_draw(rng):
    k = int(rng.integers(1, 6))
    return _size_case(int(rng.integers(k, 40)), k, int(rng.integers(1, 4)), int(rng.integers(0, 3)), kind="random sizes")


def _conv_draw(rng):
    n, c, f = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    kh, kw, s, p = int(rng.integers(2, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
    h = int(rng.integers(max(kh, kw) + 1, 8))
    x, w = rng.normal(size=(n, c, h, h + 1)), rng.normal(size=(f, c, kh, kw))
    return _conv_case(x, w, rng.normal(size=f), s, p, kind=f"x {x.shape}, w {w.shape}, stride {s}, padding {p}")


def _conv_fixed():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    rng = np.random.default_rng(6)
    x2, w2 = rng.normal(size=(2, 2, 5, 6)).round(2), rng.normal(size=(3, 2, 2, 3)).round(2)
    return [_conv_case(x, w, np.array([0.5]), 1, 0, kind="a 4x4 ramp and a diagonal-difference kernel"),
            _conv_case(x, np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), np.zeros(1), 2, 1, kind="stride 2, padding 1"),
            _conv_case(x[:, :, :, :3], np.array([[[[1.0, -1.0, 2.0]]]]), np.array([0.25]), 1, 0,
                       kind="a 1x3 kernel on a 4x3 image (KH != KW, H != W)"),
            _conv_case(x2, w2, np.array([0.5, -1.0, 0.0]), 2, 1,
                       kind="N=2, C=2, F=3, a 2x3 kernel on 5x6 images, stride 2, padding 1")]


def _pool_fixed():
    x = np.array([[[[1.0, 3.0, 2.0, 0.5], [4.0, -1.0, 0.0, 6.0], [7.0, 8.0, -3.0, 1.5], [0.2, 9.0, 2.5, -2.0]]]])
    x2 = np.random.default_rng(8).normal(size=(2, 2, 6, 7)).round(2)
    return [_pool_case(x, 2, 2, kind="one 4x4 channel, 2x2 windows"),
            _pool_case(x2, 3, 2, kind="N=2, C=2, 6x7 images, 3x3 windows, stride 2 (windows overlap)"),
            _pool_case(x2[:1, :1, :5, :5], 2, 3, kind="a 5x5 image, 2x2 windows, stride 3 (gaps between windows)")]


def _pool_draw(rng):
    n, c, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(4, 7)), int(rng.integers(4, 7))
    size = int(rng.choice([2, 3]))
    stride = int(rng.choice([size, 1]))
    return _pool_case(rng.normal(size=(n, c, h, w)), size, stride,
                      kind=f"x {(n, c, h, w)}, window {size}, stride {stride}")


def _pool_back_case(rng, x, size, stride, kind):
    ho, wo = (x.shape[2] - size) // stride + 1, (x.shape[3] - size) // stride + 1
    return case(rng.normal(size=x.shape[:2] + (ho, wo)).round(2), x, size, stride, kind=kind,
                tags=pool_tags(x.shape, size, stride))


def _pool_back_fixed():
    first, *others = _pool_fixed()
    x, size, stride = first.args
    rng = np.random.default_rng(9)
    return [case(np.array([[[[1.0, -2.0], [0.5, 3.0]]]]), x, size, stride, kind=first.kind, tags=first.tags)] + \
        [_pool_back_case(rng, *c.args, kind=c.kind) for c in others]


def _pool_back_draw(rng):
    x, size, stride = _pool_draw(rng).args
    return _pool_back_case(rng, x, size, stride, kind=f"x {x.shape}, window {size}, stride {stride}")


def _dw_case(rng, x, w_shape, s, p, kind, dout=None):
    ho = (x.shape[2] + 2 * p - w_shape[2]) // s + 1
    wo = (x.shape[3] + 2 * p - w_shape[3]) // s + 1
    dout = rng.normal(size=(x.shape[0], w_shape[0], ho, wo)) if dout is None else dout
    return case(dout, x, tuple(w_shape), s, p, kind=kind, tags=conv_tags(x.shape, w_shape, s, p))


def _dw_draw(rng):
    x, w, _, s, p = _conv_draw(rng).args
    return _dw_case(rng, x, w.shape, s, p, kind=f"x {x.shape}, w {w.shape}, stride {s}, padding {p}")


def _dw_fixed():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    rng = np.random.default_rng(10)
    return [_dw_case(rng, x, (1, 1, 2, 2), 1, 0, kind="dout of ones on a 4x4 ramp", dout=np.ones((1, 1, 3, 3))),
            _dw_case(rng, np.stack([x[0], -x[0]]), (1, 1, 3, 3), 1, 0, kind="a batch of two",
                     dout=np.arange(8.0).reshape(2, 1, 2, 2))] + \
        [_dw_case(rng, c.args[0], c.args[1].shape, c.args[3], c.args[4], kind=c.kind) for c in _conv_fixed()[2:]]


def _flipped_conv(x, w, b, stride=1, padding=0):
    return ref_conv2d(x, w[:, :, ::-1, ::-1].copy(), b, stride, padding)


FLIPPED = ("kernel flipped: a CNN's 'convolution' is a cross-correlation: out[i, j] = sum x[i*S + u, j*S + v] "
           "* w[u, v], with no flip of the kernel")
PARTS = [
    Part(A, "conv_output_size_matches_reference", "conv_output_size", ("n", "k", "stride", "padding"),
         ref_output_size, 1, _size_fixed, _size_draw, 4, dtype="int",
         mistakes=(Mistake.calls("+1 missing", "the count of positions is floor((n + 2p - k) / s) + 1",
                                 lambda n, k, s=1, p=0: (n + 2 * p - k) // s),
                   Mistake.calls("padding once", "padding adds p pixels on *both* sides: n + 2p",
                                 lambda n, k, s=1, p=0: (n + p - k) // s + 1),
                   Mistake.calls("rounded up", "round down (floor, //): a window that does not fit is dropped",
                                 lambda n, k, s=1, p=0: math.ceil((n + 2 * p - k) / s) + 1)),
         title="floor((n + 2 padding - k) / stride) + 1, an int"),
    Part(A, "conv2d_forward_matches_reference", "conv2d_forward", ("x", "w", "b", "stride", "padding"), ref_conv2d, 2,
         _conv_fixed, _conv_draw, 3, dtype="float",
         mistakes=(Mistake.calls("kernel flipped", FLIPPED, _flipped_conv),
                   Mistake.calls("bias missing", "add b[f] to every output position of filter f",
                                 lambda x, w, b, s=1, p=0: ref_conv2d(x, w, np.zeros_like(b), s, p))),
         depends_on=("conv_output_size",), title="naive NCHW cross-correlation with stride and zero padding"),
    Part(A, "max_pool_forward_matches_reference", "max_pool_forward", ("x", "size", "stride"), ref_max_pool, 1,
         _pool_fixed, _pool_draw, 3, dtype="float",
         mistakes=(Mistake.calls("average pooling", "max pooling keeps each window's maximum, not its mean",
                                 _avg_pool),),
         title="the maximum of each window, per sample and channel"),
    Part(A, "max_pool_backward_matches_reference", "max_pool_backward", ("dout", "x", "size", "stride"),
         ref_max_pool_backward, 2, _pool_back_fixed, _pool_back_draw, 3, dtype="float",
         tolerance=EXACT, analytic=True,
         mistakes=(Mistake.calls("spread evenly", "the gradient goes only to the position of each window's "
                                 "maximum (the others did not affect the output)", _avg_pool_backward),
                   Mistake.calls("overwritten where windows overlap", "where windows overlap, one input position "
                                 "gets gradient from several windows: add (dx[...] += ...), do not assign (=)",
                                 _pool_backward_assign)),
         title="route each dout entry to its window's maximum (added where windows overlap)"),
    Part(A, "conv_backward_weights_matches_reference", "conv2d_backward_weights",
         ("dout", "x", "w_shape", "stride", "padding"), ref_conv_dw, 2, _dw_fixed, _dw_draw, 3, dtype="float",
         tolerance=EXACT, analytic=True,
         mistakes=(Mistake.calls("kernel flipped", FLIPPED,
                                 lambda d, x, ws, s=1, p=0: ref_conv_dw(d, x, ws, s, p)[:, :, ::-1, ::-1]),),
         title="dL/dw[f, c, u, v] = sum over n, i, j of dout[n, f, i, j] x_pad[n, c, i S + u, j S + v]"),
]
