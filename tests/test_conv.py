"""Convolution kernels and the Conv2D layer: known answer, loops vs vectorised, gradients, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from central_diff import numerical_gradient

from conftest import TORCH_DEVICES
from dlcourse.layers.conv import (
    Conv2D, conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive,
    conv_output_size,
)

EXACT = dict(rtol=1e-12, atol=1e-12)  # naive vs vectorised in float64: rounding only
GRAD_RTOL = 1e-6  # central differences, eps = 1e-6, float64


def random_config(rng: np.random.Generator) -> dict:
    """A random valid set-up: stride 1-3, padding 0-2 or "same", kernel 1-5, channels 1-4."""
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    padding = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
    if kh % 2 and kw % 2 and rng.random() < 0.3:
        padding = "same"
    ph, pw = ((kh - 1) // 2, (kw - 1) // 2) if padding == "same" else padding
    return dict(x=rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 5)),
                                       int(rng.integers(max(kh - 2 * ph, 1), 9)),
                                       int(rng.integers(max(kw - 2 * pw, 1), 9)))),
                f=int(rng.integers(1, 5)), kernel=(kh, kw),
                stride=(int(rng.integers(1, 4)), int(rng.integers(1, 4))), padding=padding)


def test_known_answer():
    """Does the 3x3 input 0..8 cross-correlated with [[0, 1], [2, 3]] give [[19, 25], [37, 43]]?"""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
    expected = np.array([[19.0, 25.0], [37.0, 43.0]])  # the worked example
    for forward in (conv2d_forward, conv2d_forward_naive):
        out, _ = forward(x, w)
        np.testing.assert_array_equal(out[0, 0], expected, err_msg=forward.__name__)


@pytest.mark.parametrize("case", range(25))
def test_vectorised_equals_naive(case):
    """Do the vectorised forward and backward passes equal the loop versions on a random set-up?"""
    rng = np.random.default_rng(100 + case)
    cfg = random_config(rng)
    x = cfg["x"]
    w = rng.standard_normal((cfg["f"], x.shape[1]) + cfg["kernel"])
    b = rng.standard_normal(cfg["f"])
    fast, fast_cache = conv2d_forward(x, w, b, cfg["stride"], cfg["padding"])
    slow, slow_cache = conv2d_forward_naive(x, w, b, cfg["stride"], cfg["padding"])
    np.testing.assert_allclose(fast, slow, **EXACT, err_msg=f"forward, {cfg['stride']}, {cfg['padding']}")
    dout = rng.standard_normal(fast.shape)
    for got, want in zip(conv2d_backward(dout, fast_cache), conv2d_backward_naive(dout, slow_cache)):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, **EXACT, err_msg=f"backward {x.shape} {w.shape} {cfg}")
    # the caches are interchangeable
    for got, want in zip(conv2d_backward(dout, slow_cache), conv2d_backward_naive(dout, fast_cache)):
        np.testing.assert_allclose(got, want, **EXACT)


@pytest.mark.parametrize("forward, backward", [(conv2d_forward, conv2d_backward),
                                               (conv2d_forward_naive, conv2d_backward_naive)])
@pytest.mark.parametrize("stride, padding, kernel", [(1, 0, (3, 3)), (2, 1, (3, 2)), ((1, 3), "same", (3, 5))])
def test_gradients_match_central_differences(forward, backward, stride, padding, kernel, rng):
    """Are dx, dw and db the central-difference gradients of sum(out * G) in float64?"""
    x = rng.standard_normal((2, 3, 6, 7))
    w = rng.standard_normal((2, 3) + kernel)
    b = rng.standard_normal(2)
    out, cache = forward(x, w, b, stride, padding)
    weights = rng.standard_normal(out.shape)

    def loss():
        return float(np.sum(forward(x, w, b, stride, padding)[0] * weights))

    for name, got, arr in zip(("dx", "dw", "db"), backward(weights, cache), (x, w, b)):
        np.testing.assert_allclose(got, numerical_gradient(loss, arr), rtol=GRAD_RTOL, atol=1e-8, err_msg=name)


def test_output_size_formula_counts_the_windows():
    """Does floor((H + 2P - K)/S) + 1 equal the number of window positions that fit?"""
    for size in range(1, 9):
        for kernel in range(1, 6):
            for stride in range(1, 4):
                for padding in range(0, 3):
                    fits = [start for start in range(size + 2 * padding) if start + kernel <= size + 2 * padding]
                    count = len(fits[::stride])
                    if count == 0:
                        with pytest.raises(ValueError, match="larger than the padded input"):
                            conv_output_size(size, kernel, stride, padding)
                    else:
                        assert conv_output_size(size, kernel, stride, padding) == count


def test_same_padding_keeps_the_size(rng):
    """Does padding="same" keep H and W at stride 1 for odd, non-square kernels?"""
    x = rng.standard_normal((2, 3, 7, 5))
    for kernel in [(1, 1), (3, 3), (5, 3), (3, 5)]:
        out, _ = conv2d_forward(x, rng.standard_normal((4, 3) + kernel), None, 1, "same")
        assert out.shape == (2, 4, 7, 5), kernel


@pytest.mark.parametrize("kwargs, match", [
    (dict(x=(1, 1, 3, 3), w=(1, 1, 4, 4), padding=0), r"larger than the padded input.*x.shape=\(1, 1, 3, 3\)"),
    (dict(x=(1, 1, 3, 3), w=(1, 1, 2, 2), stride=0), "stride must be at least 1"),
    (dict(x=(1, 2, 5, 5), w=(4, 3, 3, 3)), r"channel mismatch.*C=2.*C=3"),
    (dict(x=(1, 1, 5, 5), w=(1, 1, 2, 2), padding="same"), "odd kernel"),
    (dict(x=(1, 1, 5, 5), w=(1, 1, 3, 3), padding="valid"), "'same'"),
    (dict(x=(1, 1, 5, 5), w=(1, 1, 3, 3), padding=-1), "non-negative"),
    (dict(x=(1, 5, 5), w=(1, 1, 3, 3)), r"\(N, C, H, W\)"),
    (dict(x=(1, 1, 5, 5), w=(1, 1, 3, 3), b=(2,)), r"b must have shape \(F,\)"),
])
def test_impossible_configurations_raise(kwargs, match):
    """Is a kernel larger than the padded input, stride 0 or a channel mismatch a clear ValueError?"""
    x, w = np.zeros(kwargs.pop("x")), np.zeros(kwargs.pop("w"))
    b = np.zeros(kwargs.pop("b")) if "b" in kwargs else None
    for forward in (conv2d_forward, conv2d_forward_naive):
        with pytest.raises(ValueError, match=match):
            forward(x, w, b, **kwargs)


def test_bad_types_raise():
    """Are a float stride and string input TypeErrors naming the argument?"""
    with pytest.raises(TypeError, match="stride"):
        conv2d_forward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), stride=1.5)
    with pytest.raises(TypeError, match="x must hold real numbers"):
        conv2d_forward(np.full((1, 1, 4, 4), "a"), np.zeros((1, 1, 2, 2)))


def test_dout_of_the_wrong_shape_raises(rng):
    """Does a backward pass with a dout unlike the forward output name both shapes?"""
    _, cache = conv2d_forward(rng.standard_normal((2, 1, 5, 5)), rng.standard_normal((3, 1, 3, 3)))
    for backward in (conv2d_backward, conv2d_backward_naive):
        with pytest.raises(ValueError, match=r"\(2, 3, 3, 3\).*\(2, 3, 3, 4\)"):
            backward(np.zeros((2, 3, 3, 4)), cache)


def test_float32_stays_float32_and_agrees(rng):
    """Does float32 input give float32 output and gradients close to the float64 ones?"""
    x, w, b = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    out64, cache64 = conv2d_forward(x, w, b, 1, 1)
    out32, cache32 = conv2d_forward(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), 1, 1)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-4)
    dout = rng.standard_normal(out64.shape)
    for g32, g64 in zip(conv2d_backward(dout.astype(np.float32), cache32), conv2d_backward(dout, cache64)):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-3)


def test_large_inputs_raise_no_warnings(rng):
    """Do inputs of +-1e4 pass forward and backward without overflow or invalid-value warnings?"""
    x = rng.choice([-1e4, 1e4], size=(2, 2, 6, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = conv2d_forward(x, rng.standard_normal((3, 2, 3, 3)), None, 2, 1)
        grads = conv2d_backward(np.ones_like(out), cache)
    assert all(np.all(np.isfinite(g)) for g in (out,) + grads)


# --- the layer ----------------------------------------------------------------------------

def test_layer_gradients_match_central_differences(rng):
    """Does Conv2D.backward return dx and fill W.grad, b.grad with the numerical gradients?"""
    layer = Conv2D(2, 3, (3, 2), stride=(2, 1), padding=1, seed=0)
    layer.b.data = rng.standard_normal(3)
    x = rng.standard_normal((2, 2, 5, 6))
    weights = rng.standard_normal((2,) + layer.output_shape((2, 5, 6)))

    def loss():
        return float(np.sum(layer.forward(x) * weights))

    loss()
    dx = layer.backward(weights)
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=GRAD_RTOL, atol=1e-8)
    for p in layer.parameters():
        np.testing.assert_allclose(p.grad, numerical_gradient(loss, p.data), rtol=GRAD_RTOL, atol=1e-8,
                                   err_msg=p.name)


def test_layer_backward_overwrites_grad(rng):
    """Does a second backward pass replace .grad rather than add to it (the Layer convention)?"""
    layer = Conv2D(1, 2, 3, seed=1)
    x = rng.standard_normal((2, 1, 5, 5))
    dout = rng.standard_normal((2, 2, 3, 3))
    layer.forward(x)
    layer.backward(dout)
    first = layer.W.grad.copy()
    layer.forward(x)
    layer.backward(dout)
    np.testing.assert_array_equal(layer.W.grad, first)


def test_layer_shapes_seed_and_naive_switch(rng):
    """Do output_shape, the parameter shapes, the seed and naive=True behave as documented?"""
    fast, slow = Conv2D(3, 5, 3, padding="same", seed=7), Conv2D(3, 5, 3, padding="same", seed=7, naive=True)
    np.testing.assert_array_equal(fast.W.data, slow.W.data)
    assert fast.W.shape == (5, 3, 3, 3) and fast.b.shape == (5,) and fast.num_parameters() == 5 * 27 + 5
    x = rng.standard_normal((2, 3, 6, 4))
    out = fast.forward(x)
    assert out.shape == (2,) + fast.output_shape((3, 6, 4)) == (2, 5, 6, 4)
    np.testing.assert_allclose(out, slow.forward(x), **EXACT)
    with pytest.raises(ValueError, match="channel mismatch"):
        fast.output_shape((2, 6, 4))


def test_layer_backward_before_forward_raises():
    """Is backward without a training forward pass a clear RuntimeError?"""
    layer = Conv2D(1, 1, 3, seed=0)
    layer(np.zeros((1, 1, 4, 4)))  # evaluation mode keeps no cache
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((1, 1, 2, 2)))


@pytest.mark.parametrize("device", TORCH_DEVICES)
def test_matches_torch_on_random_configs(device):
    """Do conv and pooling, forward and backward, match torch.nn.functional in float64 (xcheck rows)?"""
    from dlcourse.xcheck import compare
    from dlcourse.xcheck.conv import comparisons

    rows = [compare("conv", device, c) for c in comparisons(device)]
    assert len(rows) >= 60
    failed = [f"{r.operation}: abs {r.max_abs:.2e} rel {r.max_rel:.2e} {r.detail}" for r in rows if not r.ok]
    assert not failed, "\n".join(failed)


def test_need_dx_false_skips_only_dx(rng):
    """Does need_dx=False return dx=None and the same dw, db (a network's first layer)?"""
    out, cache = conv2d_forward(rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 3, 3)), None, 1, 1)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache, need_dx=False)
    _, dw_full, db_full = conv2d_backward(dout, cache)
    assert dx is None
    np.testing.assert_array_equal(dw, dw_full)
    np.testing.assert_array_equal(db, db_full)


# --- the blocked kernels ------------------------------------------------------------------

@pytest.mark.parametrize("block_bytes", [1, 5_000, None])
@pytest.mark.parametrize("case", range(8))
def test_every_block_size_equals_naive(block_bytes, case, monkeypatch):
    """Do one image per block, a few per block (with a short last one) and the default give the loops' results?"""
    from dlcourse.layers import _conv_kernels

    if block_bytes is not None:
        monkeypatch.setattr(_conv_kernels, "BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(300 + case)
    cfg = random_config(rng)
    x = rng.standard_normal((int(rng.integers(3, 8)),) + cfg["x"].shape[1:])  # several images: several blocks
    w = rng.standard_normal((cfg["f"], x.shape[1]) + cfg["kernel"])
    b = rng.standard_normal(cfg["f"])
    out, cache = conv2d_forward(x, w, b, cfg["stride"], cfg["padding"])
    out_slow, cache_slow = conv2d_forward_naive(x, w, b, cfg["stride"], cfg["padding"])
    np.testing.assert_allclose(out, out_slow, **EXACT, err_msg=f"forward {cfg['stride']} {cfg['padding']}")
    dout = rng.standard_normal(out.shape)
    want = conv2d_backward_naive(dout, cache_slow)
    for name, got, expected in zip(("dx", "dw", "db"), conv2d_backward(dout, cache), want):
        np.testing.assert_allclose(got, expected, **EXACT, err_msg=f"{name} {x.shape} {w.shape} {cfg}")
    dx, dw, db = conv2d_backward(dout, cache, need_dx=False)
    assert dx is None
    np.testing.assert_allclose(dw, want[1], **EXACT)


@pytest.mark.parametrize("stride, padding, kernel", [(1, 1, 3), (2, 1, 3), (1, 2, 5), (3, 0, 2)])
def test_float32_end_to_end(stride, padding, kernel, rng):
    """Are out, dx, dw and db float32 for float32 inputs, and close to the float64 results, at stride 2 and 5x5 too?"""
    x, w, b = rng.standard_normal((5, 3, 11, 10)), rng.standard_normal((4, 3, kernel, kernel)), rng.standard_normal(4)
    out64, cache64 = conv2d_forward(x, w, b, stride, padding)
    out32, cache32 = conv2d_forward(*(a.astype(np.float32) for a in (x, w, b)), stride, padding)
    assert out32.dtype == cache32.x_padded.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-4)
    dout = rng.standard_normal(out64.shape)
    for name, g32, g64 in zip(("dx", "dw", "db"), conv2d_backward(dout.astype(np.float32), cache32),
                              conv2d_backward(dout, cache64)):
        assert g32.dtype == np.float32, name
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-3, err_msg=name)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", [
    ((4, 8, 28, 28), (16, 8, 3, 3), 1, 1), ((4, 8, 28, 28), (16, 8, 3, 3), 2, 1),
    ((4, 8, 28, 28), (16, 8, 5, 5), 1, 2), ((3, 2, 9, 8), (3, 2, 3, 2), (2, 3), 0)])
def test_float32_matches_torch(x_shape, w_shape, stride, padding, rng):
    """Do the float32 forward and backward passes match torch.nn.functional.conv2d in float32 (the benchmark shapes)?"""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (x_shape, w_shape, w_shape[:1]))
    out, cache = conv2d_forward(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    tout.backward(torch.tensor(dout))
    for name, got, want in zip(("out", "dx", "dw", "db"), (out,) + conv2d_backward(dout, cache),
                               (tout, tx.grad, tw.grad, tb.grad)):
        want = want.detach().numpy()
        assert got.dtype == np.float32 and got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3 * float(np.abs(want).max()), err_msg=name)


# --- issue 23: the row-stack kernels' special paths -----------------------------------------

@pytest.mark.parametrize("x_shape, f, kernel, stride, padding", [
    ((3, 8, 9, 10), 16, (3, 3), 1, 1),  # F > C: dx adds the width taps after the product
    ((3, 16, 9, 10), 4, (3, 3), 1, 1),  # F < C: dx copies the width taps
    ((2, 5, 9, 9), 7, (5, 5), 1, 2), ((2, 5, 9, 9), 7, (5, 5), 2, 2),
    ((2, 3, 7, 8), 6, (3, 3), 1, 3),  # padding > K - 1: the padded delta is cut
    ((2, 3, 7, 8), 6, (2, 3), (2, 1), (3, 0)), ((2, 3, 9, 9), 4, (1, 1), 3, 0),  # phases without taps
    ((5, 3, 11, 12), 6, (3, 3), 2, 1)])
def test_special_paths_equal_naive(x_shape, f, kernel, stride, padding, rng):
    """Do both dx variants, cut padded deltas, empty stride phases and a naive-made cache give the loops' results?"""
    x = rng.standard_normal(x_shape)
    w, b = rng.standard_normal((f, x_shape[1]) + kernel), rng.standard_normal(f)
    out, cache = conv2d_forward(x, w, b, stride, padding)
    out_slow, cache_slow = conv2d_forward_naive(x, w, b, stride, padding)
    np.testing.assert_allclose(out, out_slow, **EXACT)
    dout = rng.standard_normal(out.shape)
    want = conv2d_backward_naive(dout, cache_slow)
    for c in (cache, cache_slow):  # the forward's (H, C, N, W)-ordered x_pad, and a plain C-ordered one
        for name, got, expected in zip(("dx", "dw", "db"), conv2d_backward(dout, c), want):
            np.testing.assert_allclose(got, expected, **EXACT, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_inputs(dtype, rng):
    """Do strided, transposed views of x, w and dout give the same results as contiguous copies, in their dtype?"""
    x = rng.standard_normal((7, 4, 12, 3)).astype(dtype).transpose(0, 3, 1, 2)[::2, :, ::2, ::-1]  # (4, 3, 6, 4)
    w = rng.standard_normal((3, 5, 3, 3)).astype(dtype).transpose(1, 0, 3, 2)  # (5, 3, 3, 3)
    b = rng.standard_normal(10).astype(dtype)[::2]
    out, cache = conv2d_forward(x, w, b, 1, 1)
    ref, ref_cache = conv2d_forward(np.ascontiguousarray(x), np.ascontiguousarray(w), np.ascontiguousarray(b), 1, 1)
    assert out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_array_equal(out, ref)
    dout = rng.standard_normal(out.shape[::-1]).astype(dtype).T  # a transposed, F-ordered gradient
    for got, expected in zip(conv2d_backward(dout, cache), conv2d_backward(np.ascontiguousarray(dout), ref_cache)):
        assert got.dtype == dtype  # equal up to the summation order of db (NumPy sums a view pairwise differently)
        np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=1e-6)
    slow = conv2d_backward_naive(dout, conv2d_forward_naive(x, w, b, 1, 1)[1])
    for got, expected in zip(conv2d_backward(dout, cache), slow):
        np.testing.assert_allclose(got, expected, rtol=1e-4 if dtype == np.float32 else 1e-12,
                                   atol=1e-4 if dtype == np.float32 else 1e-12)


def test_x_padded_holds_the_padded_input(rng):
    """Is the cache's x_pad, whatever its memory order, the zero-padded input of shape (N, C, H + 2P, W + 2P)?"""
    x = rng.standard_normal((3, 2, 5, 4))
    _, cache = conv2d_forward(x, rng.standard_normal((4, 2, 3, 3)), None, 1, (1, 2))
    np.testing.assert_array_equal(cache.x_padded, np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2))))


@pytest.mark.parametrize("block_bytes", [1, 20_000, None])
@pytest.mark.parametrize("x_shape, f, kernel, stride, padding", [
    ((7, 3, 9, 10), 6, (3, 3), 1, 1),  # "same" padding, F > C: dw reads dx's padded delta (width taps on the product)
    ((7, 6, 9, 10), 3, (3, 3), 1, 1),  # "same" padding, F < C: dx copies the width taps, dw still shares the delta
    ((5, 2, 8, 9), 4, (1, 3), 1, (0, 1)), ((5, 2, 8, 9), 4, (5, 3), 1, (2, 1)),  # a 1-row kernel, non-square
    ((7, 3, 9, 10), 6, (3, 3), 1, 2),  # not "same": dw copies dout itself
    ((7, 3, 11, 12), 6, (3, 3), 2, 1), ((7, 3, 11, 12), 5, (5, 5), 2, 2),  # stride 2: every phase in one product
    ((5, 2, 10, 11), 4, (3, 2), 3, 1), ((5, 2, 10, 11), 4, (3, 5), (2, 3), (1, 2))])  # stride 3: phases without taps
def test_shared_delta_and_phase_products_equal_naive(block_bytes, x_shape, f, kernel, stride, padding, monkeypatch):
    """Do dw from dx's padded delta and dx with all stride phases in one product match the loops, blocks of any size?"""
    from dlcourse.layers import _conv_kernels

    if block_bytes is not None:  # 1: one image per block; 20 kB: a few, N not a multiple of the block
        monkeypatch.setattr(_conv_kernels, "BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(sum(x_shape) + f)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((f, x_shape[1]) + kernel), rng.standard_normal(f)
    out, cache = conv2d_forward(x, w, b, stride, padding)
    out_slow, cache_slow = conv2d_forward_naive(x, w, b, stride, padding)
    dout = rng.standard_normal(out.shape)
    want = conv2d_backward_naive(dout, cache_slow)
    for c in (cache, cache_slow):
        for name, got, expected in zip(("dx", "dw", "db"), conv2d_backward(dout, c), want):
            np.testing.assert_allclose(got, expected, **EXACT, err_msg=name)
    np.testing.assert_allclose(conv2d_backward(dout, cache, need_dx=False)[1], want[1], **EXACT)
    # float32 end to end, relative 1e-5 of the float64 reference
    _, cache32 = conv2d_forward(*(a.astype(np.float32) for a in (x, w, b)), stride, padding)
    for name, got, expected in zip(("dx", "dw", "db"), conv2d_backward(dout.astype(np.float32), cache32), want):
        assert got.dtype == np.float32, name
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * float(np.abs(expected).max()), err_msg=name)
