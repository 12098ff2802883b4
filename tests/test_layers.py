"""Layers: gradients by central differences, PyTorch cross-checks, shapes, modes and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conftest import TORCH_DEVICES
from dlcourse import layers as L
from dlcourse.gradcheck import check_layer, numerical_gradient
from dlcourse.xcheck.activations import instances

GRAD_TOL = 1e-6

def _layer_maker(act):
    def make():
        return L.layer_class(act.name)(**act.param_values())
    make.__name__ = repr(make())
    return make


#: A generated layer for every registered activation and variant (the step's gradient is 0: tested apart).
ACTIVATION_LAYERS = [_layer_maker(act) for act in instances() if act.name != "step"] + [lambda: L.Activation("tanh")]


def _away_from_kinks(rng, shape):
    """Inputs with |z| >= 0.1, so ReLU-like kinks at 0 do not spoil central differences."""
    z = rng.normal(0, 2, size=shape)
    return np.where(np.abs(z) < 0.1, 0.5, z)


#: Absolute floor of the comparison: where the true gradient is ~0 (GELU's minimum at
#: z = -0.75), a purely relative error measures the round-off of central differences.
GRAD_ATOL = 1e-9


@pytest.mark.parametrize("make", ACTIVATION_LAYERS)
def test_activation_layer_gradient_matches_central_differences(make, rng):
    """Does every activation layer's backward equal central differences of its forward?"""
    layer = make()
    x, dout = _away_from_kinks(rng, (5, 4)), rng.normal(size=(5, 4))
    layer.forward(x)
    dx = layer.backward(dout)
    numeric = numerical_gradient(lambda v: np.sum(layer.forward(v) * dout), x)
    np.testing.assert_allclose(dx, numeric, rtol=GRAD_TOL, atol=GRAD_ATOL, err_msg=repr(layer))


@pytest.mark.parametrize("make", ACTIVATION_LAYERS)
def test_activation_layer_backward_equals_the_function_vjp(make, rng):
    """Do the cached-output backward shortcuts agree with the activation's own vjp?"""
    layer = make()
    z, dout = _away_from_kinks(rng, (6, 3)), rng.normal(size=(6, 3))
    layer.forward(z)
    np.testing.assert_allclose(layer.backward(dout), layer.fn.vjp(z, dout), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make", ACTIVATION_LAYERS + [L.Step])
def test_activation_layers_are_stable_at_extremes(make):
    """Do forward and backward stay finite and warning-free for inputs of +-1e4?"""
    z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]])
    layer = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = layer.forward(z)
        dx = layer.backward(np.ones_like(z))
    assert np.all(np.isfinite(out)) or isinstance(layer, (L.LogSoftmax,)), out
    assert np.all(np.isfinite(dx)), dx


def test_step_layer_passes_zero_gradient():
    """Does the step layer output the strict step and pass back a zero gradient?"""
    layer = L.Step()
    out = layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(out, [[0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), np.zeros((1, 3)))


def _unit_normal(shape, rng, dtype=np.float64):
    return rng.normal(size=shape).astype(dtype)


# (tiny weights such as init="normal" (std 0.01) make dx tiny, and the element-wise
# relative error then measures round-off, not the gradient)
@pytest.mark.parametrize("init", ["xavier_uniform", "xavier_normal", "he_normal", "he_uniform", _unit_normal])
def test_dense_gradient_matches_central_differences(init, rng):
    """Are dx, dW and db of Dense equal to central differences for every initialiser?"""
    layer = L.Dense(4, 3, init=init, seed=1)
    layer.b.data[:] = rng.normal(size=3)
    result = check_layer(layer, rng.normal(size=(5, 4)), tol=GRAD_TOL)
    assert result.ok, str(result)


def test_dense_computes_x_at_w_plus_b(rng):
    """Is Dense's output X @ W + b with W of shape (in, out)?"""
    layer = L.Dense(3, 2, seed=0)
    layer.b.data[:] = [1.0, -2.0]
    x = rng.normal(size=(4, 3))
    assert layer.W.data.shape == (3, 2) and layer.b.data.shape == (2,)
    np.testing.assert_allclose(layer.forward(x), x @ layer.W.data + layer.b.data)
    assert layer.num_parameters() == 3 * 2 + 2
    assert layer.output_shape((3,)) == (2,)


def test_dense_same_seed_same_weights_and_generator_accepted():
    """Does the same seed give the same weights, and does a Generator work as seed?"""
    a, b = L.Dense(5, 4, seed=3), L.Dense(5, 4, seed=3)
    np.testing.assert_array_equal(a.W.data, b.W.data)
    c = L.Dense(5, 4, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(a.W.data, c.W.data)
    assert not np.array_equal(a.W.data, L.Dense(5, 4, seed=4).W.data)


def test_dense_float32_stays_float32(rng):
    """Does a float32 Dense layer give float32 outputs and gradients?"""
    layer = L.Dense(3, 2, seed=0, dtype=np.float32)
    out = layer.forward(rng.normal(size=(4, 3)).astype(np.float32))
    layer.backward(np.ones_like(out))
    assert out.dtype == np.float32 and layer.W.grad.dtype == np.float32


@pytest.mark.parametrize("bad_args, match", [
    (dict(in_features=0, out_features=2), "in_features"),
    (dict(in_features=2, out_features=2.5), "out_features"),
    (dict(in_features=2, out_features=2, init="glorious"), "init"),
    (dict(in_features=2, out_features=2, dtype=np.int64), "dtype"),
])
def test_dense_rejects_bad_arguments(bad_args, match):
    """Does Dense name the bad argument?"""
    with pytest.raises((ValueError, TypeError), match=match):
        L.Dense(**bad_args)


def test_dense_rejects_wrong_feature_count(rng):
    """Does Dense refuse an input with the wrong number of features instead of broadcasting?"""
    with pytest.raises(ValueError, match=r"\(N, 3\).*\(4, 2\)"):
        L.Dense(3, 2).forward(rng.normal(size=(4, 2)))


def test_backward_before_forward_is_an_error():
    """Does backward before forward raise a clear error?"""
    for layer in (L.Dense(2, 2), L.ReLU(), L.Dropout(0.5), L.BatchNorm(2)):
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward(np.ones((2, 2)))


class _FixedMaskDropout(L.Dropout):
    """Dropout that draws the same mask on every forward pass (for central differences)."""

    def forward(self, x, training=True):
        self.rng = np.random.default_rng(7)
        return super().forward(x, training)


@pytest.mark.parametrize("training", [True, False])
def test_dropout_gradient_matches_central_differences(training, rng):
    """With its mask held fixed, is dropout's backward equal to central differences?"""
    result = check_layer(_FixedMaskDropout(0.4), rng.normal(size=(6, 5)), training=training, tol=GRAD_TOL)
    assert result.ok, str(result)


def test_dropout_is_inverted_and_only_in_training(rng):
    """Does dropout zero about p of the inputs, scale the rest by 1/(1-p), and do nothing in eval?"""
    p = 0.3
    x = rng.normal(size=(200, 100)) + 3.0
    layer = L.Dropout(p, seed=0)
    out = layer.forward(x, training=True)
    kept = out != 0
    assert abs(1 - kept.mean() - p) < 0.01, kept.mean()
    np.testing.assert_allclose(out[kept], x[kept] / (1 - p))
    assert abs(out.mean() - x.mean()) < 0.02 * abs(x.mean())  # E[out] = x
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(layer(x), x)  # __call__ is evaluation mode


def test_dropout_seeded_and_validated(rng):
    """Does the same seed give the same mask, and are p outside [0, 1] refused?"""
    x = rng.normal(size=(10, 10))
    np.testing.assert_array_equal(L.Dropout(0.5, seed=1).forward(x), L.Dropout(0.5, seed=1).forward(x))
    np.testing.assert_array_equal(L.Dropout(1.0).forward(x), np.zeros_like(x))
    for bad in (-0.1, 1.5, "half"):
        with pytest.raises(ValueError, match="p must be"):
            L.Dropout(bad)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradient_matches_central_differences(shape, training, rng):
    """Are dx, dgamma and dbeta of batch norm equal to central differences (train and eval)?"""
    layer = L.BatchNorm(3)
    layer.gamma.data[:] = rng.normal(1, 0.3, size=3)
    layer.beta.data[:] = rng.normal(size=3)
    layer.running_mean[:] = rng.normal(size=3)
    layer.running_var[:] = rng.uniform(0.5, 2, size=3)
    result = check_layer(layer, rng.normal(1, 2, size=shape), training=training, tol=GRAD_TOL)
    assert result.ok, str(result)


def test_batchnorm_normalises_with_batch_statistics_in_training(rng):
    """In training, does each output feature have mean beta and std gamma (up to eps)?"""
    layer = L.BatchNorm(4, eps=1e-12)
    layer.gamma.data[:] = [1, 2, 3, 4]
    layer.beta.data[:] = [0, 1, -1, 5]
    out = layer.forward(rng.normal(5, 3, size=(50, 4)), training=True)
    np.testing.assert_allclose(out.mean(axis=0), layer.beta.data, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), layer.gamma.data, rtol=1e-8)


def test_batchnorm_running_statistics(rng):
    """Do running mean/var follow (1-m) old + m new with the unbiased batch variance?"""
    layer = L.BatchNorm(2, momentum=0.25)
    x = rng.normal(3, 2, size=(10, 2))
    layer.forward(x, training=True)
    np.testing.assert_allclose(layer.running_mean, 0.75 * 0 + 0.25 * x.mean(axis=0))
    np.testing.assert_allclose(layer.running_var, 0.75 * 1 + 0.25 * x.var(axis=0, ddof=1))
    before = layer.running_mean.copy()
    out = layer.forward(x, training=False)
    np.testing.assert_array_equal(layer.running_mean, before)  # eval does not update
    np.testing.assert_allclose(out, (x - layer.running_mean) / np.sqrt(layer.running_var + layer.eps))


def test_batchnorm_rejects_bad_input(rng):
    """Does batch norm refuse a wrong feature count and a single-sample training batch?"""
    layer = L.BatchNorm(3)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        layer.forward(rng.normal(size=(4, 2)))
    with pytest.raises(ValueError, match="more than 1"):
        layer.forward(rng.normal(size=(1, 3)), training=True)


@pytest.mark.parametrize("device", TORCH_DEVICES)
def test_layers_match_pytorch(device):
    """Do Dense, every activation layer, dropout and batch norm match torch.nn in float64?"""
    from dlcourse.xcheck import layers as xl
    from dlcourse.xcheck.core import _configure_torch, compare

    _configure_torch()
    rows = [compare("layers", device, c) for c in xl.comparisons(device)]
    assert len(rows) >= 15
    bad = [f"{r.operation}: abs {r.max_abs:.2e} rel {r.max_rel:.2e} {r.detail}" for r in rows if not r.ok]
    assert not bad, "\n".join(bad)


def test_softmax_layer_matches_the_function_with_infinities():
    """Does the softmax layer's fast path give the function's limits for rows holding +-inf?"""
    from dlcourse.activations import softmax

    z = np.array([[np.inf, 1.0, np.inf], [-np.inf, 0.0, 1.0], [1e4, -1e4, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(L.Softmax().forward(z), softmax(z))
