"""ex06_cnn: conv output size, a naive conv2d forward, max pooling forward and backward, dW of a conv.

Images are NCHW, kernels (F, C, KH, KW). References: :func:`dlcourse.layers.conv.conv_output_size`,
:func:`~dlcourse.layers.conv.conv2d_forward` / ``conv2d_backward`` and
:func:`dlcourse.layers.pool.max_pool2d_forward` / ``max_pool2d_backward``.
"""

from __future__ import annotations

import math

import numpy as np

from ..spec import Mistake, Part, case

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


# ---- inputs ------------------------------------------------------------------------------
def _size_fixed():
    return [case(5, 3, 1, 0, kind="5 pixels, kernel 3"), case(5, 3, 1, 1, kind="'same' padding"),
            case(7, 3, 2, 0, kind="stride 2"), case(6, 3, 2, 1, kind="stride 2 that does not divide evenly"),
            case(28, 5, 1, 2, kind="28 pixels, kernel 5, padding 2")]


def _size_draw(rng):
    k = int(rng.integers(1, 6))
    return case(int(rng.integers(k, 40)), k, int(rng.integers(1, 4)), int(rng.integers(0, 3)), kind="random sizes")


def _conv_draw(rng):
    n, c, f = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 4))
    k, s, p = int(rng.integers(2, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
    h = int(rng.integers(k + 1, 8))
    return case(rng.normal(size=(n, c, h, h + 1)), rng.normal(size=(f, c, k, k)), rng.normal(size=f), s, p,
                kind=f"x {(n, c, h, h + 1)}, w {(f, c, k, k)}, stride {s}, padding {p}")


def _conv_fixed():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    return [case(x, w, np.array([0.5]), 1, 0, kind="a 4x4 ramp and a diagonal-difference kernel"),
            case(x, np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), np.zeros(1), 2, 1, kind="stride 2, padding 1")]


def _pool_fixed():
    x = np.array([[[[1.0, 3.0, 2.0, 0.5], [4.0, -1.0, 0.0, 6.0], [7.0, 8.0, -3.0, 1.5], [0.2, 9.0, 2.5, -2.0]]]])
    return [case(x, 2, 2, kind="one 4x4 channel, 2x2 windows")]


def _pool_draw(rng):
    n, c, h, w = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(4, 7)), int(rng.integers(4, 7))
    size = int(rng.choice([2, 3]))
    stride = int(rng.choice([size, 1]))
    return case(rng.normal(size=(n, c, h, w)), size, stride, kind=f"x {(n, c, h, w)}, window {size}, stride {stride}")


def _pool_back_fixed():
    (x, size, stride), = (c.args for c in _pool_fixed())
    return [case(np.array([[[[1.0, -2.0], [0.5, 3.0]]]]), x, size, stride, kind="one 4x4 channel, 2x2 windows")]


def _pool_back_draw(rng):
    x, size, stride = _pool_draw(rng).args
    ho, wo = (x.shape[2] - size) // stride + 1, (x.shape[3] - size) // stride + 1
    return case(rng.normal(size=x.shape[:2] + (ho, wo)), x, size, stride,
                kind=f"x {x.shape}, window {size}, stride {stride}")


def _dw_draw(rng):
    x, w, _, s, p = _conv_draw(rng).args
    ho = (x.shape[2] + 2 * p - w.shape[2]) // s + 1
    wo = (x.shape[3] + 2 * p - w.shape[3]) // s + 1
    dout = rng.normal(size=(x.shape[0], w.shape[0], ho, wo))
    return case(dout, x, w.shape, s, p, kind=f"x {x.shape}, w {w.shape}, stride {s}, padding {p}")


def _dw_fixed():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    return [case(np.ones((1, 1, 3, 3)), x, (1, 1, 2, 2), 1, 0, kind="dout of ones on a 4x4 ramp"),
            case(np.arange(8.0).reshape(2, 1, 2, 2), np.stack([x[0], -x[0]]), (1, 1, 3, 3), 1, 0,
                 kind="a batch of two")]


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
         mistakes=(Mistake.calls("spread evenly", "the gradient goes only to the position of each window's "
                                 "maximum (the others did not affect the output)", _avg_pool_backward),),
         title="route each dout entry to its window's maximum (added where windows overlap)"),
    Part(A, "conv_backward_weights_matches_reference", "conv2d_backward_weights",
         ("dout", "x", "w_shape", "stride", "padding"), ref_conv_dw, 2, _dw_fixed, _dw_draw, 3, dtype="float",
         mistakes=(Mistake.calls("kernel flipped", FLIPPED,
                                 lambda d, x, ws, s=1, p=0: ref_conv_dw(d, x, ws, s, p)[:, :, ::-1, ::-1]),),
         title="dL/dw[f, c, u, v] = sum over n, i, j of dout[n, f, i, j] x_pad[n, c, i S + u, j S + v]"),
]
