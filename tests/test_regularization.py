"""Tests of dlcourse.regularization: the L2 penalty, and L2 term vs decoupled weight decay."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import optim, regularization, surfaces
from dlcourse.parameter import Parameter


def test_l2_penalty_value_and_gradient(rng):
    """Is the penalty lam/2 * sum of squares, and its gradient lam * theta by central differences?"""
    params = [Parameter(rng.standard_normal((3, 4))), Parameter(rng.standard_normal(5))]
    lam = 0.3
    expected = 0.5 * lam * (np.sum(params[0].data ** 2) + np.sum(params[1].data ** 2))
    assert regularization.l2_penalty(params, lam) == pytest.approx(expected, rel=1e-14)
    grads = regularization.l2_penalty_gradient(params, lam)
    h = 1e-6
    for p, g in zip(params, grads):
        assert g.shape == p.shape
        for idx in np.ndindex(p.shape):
            old = p.data[idx]
            p.data[idx] = old + h
            up = regularization.l2_penalty(params, lam)
            p.data[idx] = old - h
            down = regularization.l2_penalty(params, lam)
            p.data[idx] = old
            assert g[idx] == pytest.approx((up - down) / (2 * h), abs=1e-7)


def test_l2_penalty_checks_lam(rng):
    """Is a negative or non-numeric lam refused with a ValueError naming lam?"""
    for bad in (-0.1, "0.1", float("nan")):
        with pytest.raises(ValueError, match="lam"):
            regularization.l2_penalty([np.ones(3)], bad)


def test_sgd_l2_term_equals_decoupled_decay():
    """For plain SGD, do the L2-term path and the decoupled-decay path coincide (up to round-off)?"""
    paths = regularization.l2_vs_decoupled("sgd", weight_decay=0.1, lr=0.05, steps=100)
    np.testing.assert_allclose(paths.l2, paths.decoupled, rtol=1e-12, atol=1e-12)
    assert paths.l2.shape == (101, 2)


@pytest.mark.parametrize("name, kwargs", [("adam", {}), ("sgd", {"momentum": 0.9})])
def test_l2_term_differs_from_decoupled_decay(name, kwargs):
    """For Adam (and for SGD with momentum) do the two forms of weight decay take different paths?"""
    paths = regularization.l2_vs_decoupled(name, weight_decay=0.1, lr=0.05, steps=100, **kwargs)
    assert np.abs(paths.l2 - paths.decoupled).max() > 0.1


def test_paths_equal_adam_weight_decay_and_adamw():
    """Is the L2 path Adam(weight_decay=lam) and the decoupled path AdamW(weight_decay=lam)?"""
    paths = regularization.l2_vs_decoupled("adam", weight_decay=0.1, lr=0.05, steps=100)
    adam = surfaces.run_optimizer("valley", optim.Adam, steps=100, lr=0.05, weight_decay=0.1)
    adamw = surfaces.run_optimizer("valley", optim.AdamW, steps=100, lr=0.05, weight_decay=0.1)
    np.testing.assert_allclose(paths.l2, adam.points, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(paths.decoupled, adamw.points, rtol=1e-12, atol=1e-12)


def test_adamw_matches_torch_decoupled_formula():
    """Does one AdamW step equal torch.optim.AdamW's: shrink by (1 - lr*lam), then the Adam step?"""
    torch = pytest.importorskip("torch")
    theta = np.array([2.0, -3.0, 0.5])
    g = np.array([0.1, 4.0, -0.01])
    p = Parameter(theta.copy())
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = g
    opt.step()
    t = torch.tensor(theta, requires_grad=True)
    topt = torch.optim.AdamW([t], lr=0.1, weight_decay=0.5)
    t.grad = torch.tensor(g)
    topt.step()
    np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(p.data, theta * (1 - 0.05) - 0.1 * np.sign(g), atol=1e-6)


def _moons_split():
    from dlcourse import data

    X, y = data.moons(n_samples=260, noise=0.45, seed=3)
    return X[:60], y[:60], X[60:], y[60:]


def test_regularised_mlp_blocks_and_shared_initial_weights():
    """Does regularised_mlp put BatchNorm between Dense and ReLU and Dropout after ReLU, and start every
    variant from the same weights (so runs differ only by the regulariser)?"""
    from dlcourse.layers import BatchNorm, Dense, Dropout, ReLU

    plain = regularization.regularised_mlp(2, 2)
    both = regularization.regularised_mlp(2, 2, batch_norm=True, dropout=0.3)
    assert [type(layer) for layer in plain.layers] == [Dense, ReLU, Dense, ReLU, Dense]
    assert [type(layer) for layer in both.layers] == [Dense, BatchNorm, ReLU, Dropout] * 2 + [Dense]
    dense = lambda net: [layer for layer in net.layers if isinstance(layer, Dense)]  # noqa: E731
    for a, b in zip(dense(plain), dense(both)):
        np.testing.assert_array_equal(a.W.data, b.W.data)
    assert sum(p.data.size for p in plain.parameters()) == 2 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2


def test_train_regularised_returns_the_best_epoch_with_early_stopping():
    """With patience, is the returned network the one of the best validation epoch, as fit recorded it?"""

    X, y, X_val, y_val = _moons_split()
    net, history, stopper = regularization.train_regularised(X, y, (X_val, y_val), patience=10, epochs=150)
    assert stopper is not None and len(history["val_loss"]) < 150
    best = int(np.argmin(history["val_loss"]))
    assert stopper.best_epoch == best
    assert net.evaluate(X_val, y_val)["loss"] == pytest.approx(min(history["val_loss"]), rel=1e-9)


def test_train_regularised_weight_decay_shrinks_the_weights_and_bad_shapes_are_named():
    """Does weight_decay reach Adam (smaller weights than without), and is a 1-D X refused by name?"""

    X, y, X_val, y_val = _moons_split()
    norm = lambda net: sum(float(np.sum(p.data ** 2)) for p in net.parameters())  # noqa: E731
    plain = regularization.train_regularised(X, y, (X_val, y_val), epochs=60)[0]
    decayed = regularization.train_regularised(X, y, (X_val, y_val), weight_decay=3e-2, epochs=60)[0]
    assert norm(decayed) < 0.9 * norm(plain)
    with pytest.raises(ValueError, match=r"X of shape \(N, D\)"):
        regularization.train_regularised(X[:, 0], y, (X_val, y_val))
    with pytest.raises(ValueError, match=r"y of shape \(N,\)"):
        regularization.train_regularised(X, y[:-1], (X_val, y_val))
