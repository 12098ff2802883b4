"""gradcheck: central differences, relative error, and checks that catch wrong derivatives."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import activations as A
from dlcourse.gradcheck import (check_gradient, check_layer, numerical_derivative, numerical_gradient,
                                relative_error)
from dlcourse.parameter import Parameter


def test_numerical_gradient_of_a_quadratic_form(rng):
    """Is the numerical gradient of x^T M x equal to (M + M^T) x, with x left untouched?"""
    M = rng.normal(size=(4, 4))
    x = rng.normal(size=4)
    before = x.copy()
    grad = numerical_gradient(lambda v: v @ M @ v, x)
    np.testing.assert_allclose(grad, (M + M.T) @ x, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_computes_in_float64(rng):
    """Does a float32 point still give a float64 gradient accurate to float64 precision?"""
    x = rng.normal(size=(2, 3)).astype(np.float32)
    grad = numerical_gradient(lambda v: np.sum(np.sin(v)), x)
    assert grad.dtype == np.float64 and grad.shape == x.shape
    np.testing.assert_allclose(grad, np.cos(x.astype(np.float64)), rtol=1e-8)
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(np.sum, x, eps=0)


def test_numerical_derivative_is_elementwise(rng):
    """Is numerical_derivative the element-wise derivative (here of exp)?"""
    z = rng.normal(size=(3, 2))
    np.testing.assert_allclose(numerical_derivative(np.exp, z), np.exp(z), rtol=1e-8)


def test_relative_error():
    """Is the relative error |a - b| / max(|a| + |b|, floor), maximised, with clear edge cases?"""
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1.0, 10.0], [1.1, 10.0]) == pytest.approx(0.1 / 2.1)
    assert relative_error([0.0], [1e-12]) == pytest.approx(1e-12 / 1e-8)  # the floor
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0
    assert np.isnan(relative_error([np.nan], [1.0]))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        relative_error(np.ones(2), np.ones(3))


def test_check_gradient_passes_a_correct_gradient(rng):
    """Does a correct analytic gradient pass with a tiny relative error?"""
    x = rng.normal(size=5)
    result = check_gradient(lambda v: np.sum(A.sigmoid(v)), A.sigmoid.derivative, x)
    assert result.ok and result.max_rel_error < 1e-8, result.max_rel_error


def test_check_gradient_catches_wrong_derivatives(rng):
    """Are the classic mistakes caught: s(1 - s) applied to the input z instead of s, and a lost sign?"""
    x = rng.normal(size=5)
    f = lambda v: np.sum(A.sigmoid(v))  # noqa: E731
    on_input = check_gradient(f, lambda z: z * (1 - z), x)  # the notes' sigmoid_derivative(x) misuse
    lost_sign = check_gradient(lambda v: np.sum(np.exp(-v)), lambda v: np.exp(-v), x)
    assert not on_input and on_input.max_rel_error > 1e-2
    assert not lost_sign and lost_sign.max_rel_error > 0.5
    with pytest.raises(ValueError, match="shape"):
        check_gradient(f, lambda v: v[:2], x)


class TinyDense:
    """A minimal layer following the Layer protocol, written here as the oracle-free subject."""

    def __init__(self, rng, d_in=3, d_out=2, bug=None):
        self.W = Parameter(rng.normal(size=(d_in, d_out)), "W")
        self.b = Parameter(rng.normal(size=d_out), "b")
        self.bug = bug

    def parameters(self):
        yield self.W
        yield self.b

    def forward(self, x, training=True):
        self.x = x
        return np.tanh(x @ self.W.data + self.b.data)

    def backward(self, dout):
        dz = dout * (1 - np.tanh(self.x @ self.W.data + self.b.data) ** 2)
        self.W.grad = self.x.T @ dz * (2 if self.bug == "dW" else 1)
        self.b.grad = dz.sum(axis=0) if self.bug != "db" else dz.mean(axis=0)
        if self.bug == "no grad":
            self.b.grad = None
        dx = dz @ self.W.data.T
        return -dx if self.bug == "dx" else dx


def test_check_layer_passes_a_correct_layer(rng):
    """Does a correct layer pass, with an error reported for dx and for each parameter?"""
    result = check_layer(TinyDense(rng), rng.normal(size=(4, 3)), seed=1)
    assert result.ok, str(result)
    assert set(result.param_errors) == {"W", "b"} and result.max_error < 1e-7
    assert "ok" in str(result)


@pytest.mark.parametrize("bug,where", [("dW", "W"), ("db", "b"), ("dx", "dx")])
def test_check_layer_catches_a_wrong_backward(bug, where, rng):
    """Is a wrong dW, db or dx caught, and attributed to the right gradient?"""
    result = check_layer(TinyDense(rng, bug=bug), rng.normal(size=(4, 3)), seed=1)
    assert not result.ok and "FAILED" in str(result)
    errors = {"dx": result.dx_error, **result.param_errors}
    assert errors[where] > 1e-3 and all(e < 1e-7 for k, e in errors.items() if k != where), errors


def test_check_layer_requires_every_grad(rng):
    """Does a backward that leaves a parameter's grad as None get a clear error?"""
    with pytest.raises(ValueError, match="b.grad as None"):
        check_layer(TinyDense(rng, bug="no grad"), rng.normal(size=(4, 3)))


def test_check_layer_leaves_parameters_unchanged(rng):
    """Are the parameters restored exactly after the perturbations?"""
    layer = TinyDense(rng)
    before = [p.data.copy() for p in layer.parameters()]
    check_layer(layer, rng.normal(size=(2, 3)))
    for p, old in zip(layer.parameters(), before):
        np.testing.assert_array_equal(p.data, old)
