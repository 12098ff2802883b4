"""Max and average pooling: loops vs vectorised, overlapping windows, ties, gradients, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from central_diff import numerical_gradient

from dlcourse.layers.pool import (
    AvgPool2D, MaxPool2D, avg_pool2d_backward, avg_pool2d_backward_naive, avg_pool2d_forward,
    avg_pool2d_forward_naive, max_pool2d_backward, max_pool2d_backward_naive, max_pool2d_forward,
    max_pool2d_forward_naive,
)

EXACT = dict(rtol=1e-12, atol=1e-12)
GRAD_RTOL = 1e-6

KERNELS = {
    "max": (max_pool2d_forward, max_pool2d_backward, max_pool2d_forward_naive, max_pool2d_backward_naive),
    "avg": (avg_pool2d_forward, avg_pool2d_backward, avg_pool2d_forward_naive, avg_pool2d_backward_naive),
}


def test_known_answers():
    """Does 2x2 pooling of the 4x4 input 0..15 give [[5, 7], [13, 15]] (max) and [[2.5, 4.5], [10.5, 12.5]] (avg)?"""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    expected = {"max": [[5.0, 7.0], [13.0, 15.0]], "avg": [[2.5, 4.5], [10.5, 12.5]]}
    for kind, (fast, _, slow, _) in KERNELS.items():
        for forward in (fast, slow):
            np.testing.assert_array_equal(forward(x, 2)[0][0, 0], expected[kind], err_msg=forward.__name__)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", range(15))
def test_vectorised_equals_naive(kind, case):
    """Do the strided-view kernels equal the loops, forward and backward, overlapping windows and ties included?"""
    rng = np.random.default_rng(200 + case)
    kernel = tuple(int(k) for k in rng.integers(1, 5, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    x = rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                             int(rng.integers(kernel[0], 10)), int(rng.integers(kernel[1], 10))))
    if case % 3 == 0:
        x = np.round(x)  # ties
    fast_fwd, fast_bwd, slow_fwd, slow_bwd = KERNELS[kind]
    out, cache = fast_fwd(x, kernel, stride)
    out_slow, cache_slow = slow_fwd(x, kernel, stride)
    np.testing.assert_allclose(out, out_slow, **EXACT)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(fast_bwd(dout, cache), slow_bwd(dout, cache_slow), **EXACT,
                               err_msg=f"{x.shape} kernel={kernel} stride={stride}")


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 1), ((3, 2), (1, 2))])
def test_gradients_match_central_differences(kind, kernel, stride, rng):
    """Is dx the central-difference gradient of sum(out * G), also when windows overlap?"""
    x = rng.permutation(np.linspace(-3.0, 3.0, 2 * 2 * 6 * 7)).reshape(2, 2, 6, 7)  # distinct: no ties
    fast_fwd, fast_bwd, slow_fwd, slow_bwd = KERNELS[kind]
    out, cache = fast_fwd(x, kernel, stride)
    weights = rng.standard_normal(out.shape)

    def loss():
        return float(np.sum(fast_fwd(x, kernel, stride)[0] * weights))

    expected = numerical_gradient(loss, x)
    np.testing.assert_allclose(fast_bwd(weights, cache), expected, rtol=GRAD_RTOL, atol=1e-8)
    np.testing.assert_allclose(slow_bwd(weights, slow_fwd(x, kernel, stride)[1]), expected,
                               rtol=GRAD_RTOL, atol=1e-8)


def test_overlapping_windows_add_their_gradients():
    """With 2x2 windows at stride 1, does the centre of a 3x3 input get the gradient of all 4 windows?"""
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0  # the maximum of every window
    for forward, backward in [(max_pool2d_forward, max_pool2d_backward),
                              (max_pool2d_forward_naive, max_pool2d_backward_naive)]:
        _, cache = forward(x, 2, 1)
        dx = backward(np.ones((1, 1, 2, 2)), cache)
        assert dx[0, 0, 1, 1] == 4.0 and dx.sum() == 4.0
    _, cache = avg_pool2d_forward(x, 2, 1)
    np.testing.assert_allclose(avg_pool2d_backward(np.ones((1, 1, 2, 2)), cache)[0, 0],
                               [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]])


def test_ties_send_the_gradient_to_the_first_maximum():
    """In a window of equal values, does only the first pixel in row-major order get the gradient (as torch)?"""
    x = np.ones((1, 1, 2, 3))
    x[0, 0, 1, 0] = 1.0
    expected = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    for forward, backward in [(max_pool2d_forward, max_pool2d_backward),
                              (max_pool2d_forward_naive, max_pool2d_backward_naive)]:
        _, cache = forward(x, (2, 3))
        np.testing.assert_array_equal(backward(np.ones((1, 1, 1, 1)), cache)[0, 0], expected)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_errors_name_the_shapes(kind):
    """Are a kernel larger than the input, stride 0, a 3-D input and a wrong dout clear errors?"""
    forward, backward = KERNELS[kind][:2]
    with pytest.raises(ValueError, match=r"larger than the padded input.*x.shape=\(1, 1, 3, 3\)"):
        forward(np.zeros((1, 1, 3, 3)), 4)
    with pytest.raises(ValueError, match="stride must be at least 1"):
        forward(np.zeros((1, 1, 4, 4)), 2, 0)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        forward(np.zeros((1, 4, 4)), 2)
    _, cache = forward(np.zeros((1, 1, 4, 4)), 2)
    with pytest.raises(ValueError, match=r"\(1, 1, 2, 2\).*\(1, 1, 3, 3\)"):
        backward(np.zeros((1, 1, 3, 3)), cache)


def test_float32_and_large_inputs(rng):
    """Do float32 inputs stay float32, and do +-1e4 inputs raise no warnings?"""
    x = rng.choice([-1e4, 1e4], size=(2, 3, 6, 6)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for forward, backward in [KERNELS["max"][:2], KERNELS["avg"][:2]]:
            out, cache = forward(x, 3, 2)
            dx = backward(np.ones_like(out), cache)
            assert out.dtype == dx.dtype == np.float32


@pytest.mark.parametrize("layer_cls", [MaxPool2D, AvgPool2D])
def test_layers(layer_cls, rng):
    """Do the pooling layers report output_shape, have no parameters and match their kernels?"""
    layer, slow = layer_cls(3, stride=2), layer_cls(3, stride=2, naive=True)
    x = rng.standard_normal((2, 3, 7, 8))
    out = layer.forward(x)
    assert out.shape == (2,) + layer.output_shape((3, 7, 8)) == (2, 3, 3, 3)
    assert list(layer.parameters()) == [] and layer.num_parameters() == 0
    np.testing.assert_allclose(out, slow.forward(x), **EXACT)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(layer.backward(dout), slow.backward(dout), **EXACT)
    assert layer_cls(2).stride == (2, 2)
    fresh = layer_cls(2)
    with pytest.raises(RuntimeError, match="before forward"):
        fresh.backward(dout)


# --- PyTorch's tie and NaN rules, the tiled fast path ---------------------------------------

POOL_CASES = [(2, 2, (2, 3, 8, 8)), (2, 2, (2, 3, 7, 9)), ((2, 3), (2, 3), (1, 2, 6, 9)), (3, 2, (2, 2, 7, 8)),
              (3, 1, (1, 2, 5, 6))]


@pytest.mark.parametrize("kernel, stride, shape", POOL_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_follows_torch_on_ties_nan_and_inf(kernel, stride, shape, dtype, rng):
    """With ties, NaNs and -inf in the windows, do the fast and loop kernels give torch's output and gradient?"""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    x = np.round(rng.standard_normal(shape))  # many ties
    x[rng.random(shape) < 0.15] = np.nan
    x[rng.random(shape) < 0.15] = -np.inf
    x = x.astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    tout = torch.nn.functional.max_pool2d(tx, kernel, stride)
    dout = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    tout.backward(torch.tensor(dout))
    assert np.isnan(tout.detach().numpy()).any(), "the case should hold a window with a NaN"
    for forward, backward in [(max_pool2d_forward, max_pool2d_backward),
                              (max_pool2d_forward_naive, max_pool2d_backward_naive)]:
        out, cache = forward(x, kernel, stride)
        dx = backward(dout, cache)
        assert out.dtype == dx.dtype == dtype
        np.testing.assert_array_equal(out, tout.detach().numpy(), err_msg=forward.__name__)
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-6, atol=1e-6, err_msg=backward.__name__)


def test_nan_window_sends_the_gradient_to_its_last_nan():
    """Does a window holding NaNs output NaN and route its gradient to the last NaN (torch's rule), in both kernels?"""
    x = np.array([[1.0, np.nan, 5.0, 0.0], [np.nan, 0.0, 2.0, 5.0]]).reshape(1, 1, 2, 4)
    for forward, backward in [(max_pool2d_forward, max_pool2d_backward),
                              (max_pool2d_forward_naive, max_pool2d_backward_naive)]:
        out, cache = forward(x, 2)
        assert np.isnan(out[0, 0, 0, 0]) and out[0, 0, 0, 1] == 5.0, forward.__name__
        dx = backward(np.ones((1, 1, 1, 2)), cache)[0, 0]
        np.testing.assert_array_equal(dx, [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]], err_msg=backward.__name__)


@pytest.mark.parametrize("kernel, stride, shape", POOL_CASES)
def test_fast_max_pool_equals_naive_with_leftover_pixels(kernel, stride, shape, rng):
    """Do the strided-slice kernels equal the loops, also when the windows leave rows and columns uncovered?"""
    x = np.round(rng.standard_normal(shape) * 2)
    out, cache = max_pool2d_forward(x, kernel, stride)
    out_slow, cache_slow = max_pool2d_forward_naive(x, kernel, stride)
    np.testing.assert_array_equal(out, out_slow)
    np.testing.assert_array_equal(cache.argmax, cache_slow.argmax)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(max_pool2d_backward(dout, cache), max_pool2d_backward_naive(dout, cache_slow), **EXACT)


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 1)])
def test_non_finite_dout_reaches_only_the_maximum(kernel, stride, rng):
    """Does an inf or NaN in dout reach only its window's maximum, the other pixels getting exactly 0 (as the loops)?"""
    x = rng.permutation(np.linspace(-1.0, 1.0, 2 * 6 * 6)).reshape(1, 2, 6, 6)
    out, cache = max_pool2d_forward(x, kernel, stride)
    dout = rng.standard_normal(out.shape)
    dout[0, 0, 0, 0], dout[0, 1, 1, 1] = np.inf, np.nan
    dx = max_pool2d_backward(dout, cache)
    want = max_pool2d_backward_naive(dout, max_pool2d_forward_naive(x, kernel, stride)[1])
    np.testing.assert_allclose(dx, want, **EXACT)  # inf and NaN at the same places, the rest equal
    assert np.isinf(dx).sum() == 1 and np.isnan(dx).sum() == 1
