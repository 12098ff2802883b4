"""Diagnostics: per-layer statistics agree with direct computation and show vanishing gradients."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import data
from dlcourse import layers as L
from dlcourse.diagnostics import deep_mlp, format_statistics, layer_statistics
from dlcourse.network import Sequential


def _first_last_dense_grad(net, X, y):
    rows = [r for r in layer_statistics(net, X, y) if r.name.startswith("Dense")]
    return rows[0].weight_grad_mean_abs, rows[-1].weight_grad_mean_abs


def test_deep_sigmoid_stack_shows_vanishing_gradients():
    """In a 10-layer sigmoid stack, is the first layer's weight gradient >1000x smaller than the last's?"""
    X, y = data.spirals(200, seed=0)
    first, last = _first_last_dense_grad(deep_mlp(10, 32, 2, 3, "sigmoid", "xavier_normal", seed=0), X, y)
    assert first < 1e-3 * last, (first, last)


def test_relu_with_he_init_keeps_gradients_in_scale():
    """With ReLU and He initialisation, do the first and last weight gradients stay within 10x?"""
    X, y = data.spirals(200, seed=0)
    first, last = _first_last_dense_grad(deep_mlp(10, 32, 2, 3, "relu", "he_normal", seed=0), X, y)
    assert 0.1 < first / last < 10, (first, last)


def test_statistics_agree_with_a_manual_pass(rng):
    """Do the reported output and gradient statistics equal a hand-run forward and backward pass?"""
    net = Sequential([L.Dense(3, 5, seed=0), L.Sigmoid(), L.Dense(5, 2, seed=1), L.Softmax()])
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    rows = layer_statistics(net, X, y, loss="categorical_cross_entropy")
    a1 = net.layers[1].forward(net.layers[0].forward(X))
    assert rows[1].output_mean == pytest.approx(a1.mean()) and rows[1].output_std == pytest.approx(a1.std())
    assert rows[1].fraction_saturated == pytest.approx(np.mean((a1 < 0.01) | (a1 > 0.99)))
    # the gradient reaching the last Dense output is (p - onehot)/N (softmax + cross-entropy)
    logits_grad = (net.forward(X) - data.one_hot(y, 2)) / 6
    dW2 = a1.T @ logits_grad
    assert rows[2].weight_grad_norm == pytest.approx(np.linalg.norm(dW2))
    assert rows[2].grad_output_std == pytest.approx(np.std(logits_grad))
    assert np.isnan(rows[3].grad_output_std)  # folded into the loss
    assert "out mean" in format_statistics(rows) and len(format_statistics(rows, dense_only=True).splitlines()) == 4


def test_without_targets_the_probe_gradient_is_used(rng):
    """Without y, does the backward pass start from the gradient of the mean output?"""
    net = deep_mlp(2, 4, 3, 2, "tanh", seed=0)
    X = rng.normal(size=(5, 3))
    rows = layer_statistics(net, X)
    assert rows[-1].grad_output_mean_abs == pytest.approx(1 / 10)
    assert all(np.isfinite(r.output_std) for r in rows)
