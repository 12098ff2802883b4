"""Tests of dlcourse.optim: torch step for step, hand-computed steps, edge cases, training."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from conftest import TORCH_DEVICES

from dlcourse import optim
from dlcourse.parameter import Parameter

ALL = [optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adadelta, optim.Adam, optim.AdamW,
       optim.NAdam]
EXACT = dict(rtol=1e-12, atol=1e-15)  # hand-computed formulas: only round-off may differ


def _param(rng, shape=(3, 4), dtype=np.float64):
    return Parameter(rng.standard_normal(shape).astype(dtype), "w")


@pytest.mark.parametrize("device", TORCH_DEVICES)
def test_xcheck_optimizer_rows_all_ok(device):
    """Does every optimizer setting match torch.optim for 100 float64 steps, state included?"""
    pytest.importorskip("torch")
    from dlcourse.xcheck.core import compare
    from dlcourse.xcheck.optim import OPTIMIZER_CASES, optimizer_comparisons

    rows = [compare("optim", device, c) for c in optimizer_comparisons(device)]
    assert len(rows) >= len(OPTIMIZER_CASES)
    failed = [f"{r.operation}: abs {r.max_abs:.2e} rel {r.max_rel:.2e} {r.detail}"
              for r in rows if not r.ok]
    assert not failed, "rows that differ from torch:\n" + "\n".join(failed)


class _TextbookRMSprop(optim.RMSprop):
    """A plausible bug: the textbooks' decay 0.9 where torch's default is 0.99."""

    def __init__(self, params, lr=1e-2, alpha=0.99, **kwargs):
        super().__init__(params, lr, alpha=0.9 if alpha == 0.99 else alpha, **kwargs)


class _DampedFirstStepSGD(optim.SGD):
    """A plausible bug: dampening the first momentum step (torch sets b_1 = g)."""

    def _update(self, theta, g, state):
        if state["t"] == 1:
            state["t"] = 2
        super()._update(theta, g, state)


@pytest.mark.parametrize("name, broken, kwargs", [
    ("RMSprop", _TextbookRMSprop, dict(lr=0.002)),
    ("SGD", _DampedFirstStepSGD, dict(lr=0.01, momentum=0.9, dampening=0.5)),
])
def test_xcheck_catches_a_subtly_wrong_optimizer(monkeypatch, name, broken, kwargs):
    """Would the cross-check fail an optimizer with a textbook-sized deviation from torch?"""
    pytest.importorskip("torch")
    from dlcourse.xcheck.core import compare
    from dlcourse.xcheck.optim import _float64_default, optimizer_comparison

    with _float64_default():
        assert compare("optim", "cpu", optimizer_comparison(name, kwargs, "cpu")).ok
        monkeypatch.setattr(optim, name, broken)
        assert not compare("optim", "cpu", optimizer_comparison(name, kwargs, "cpu")).ok


def test_xcheck_covers_every_option_alone_and_combined():
    """Is every non-default constructor option of every optimizer in some xcheck row, and in a row with others?"""
    from dlcourse.xcheck.optim import OPTIMIZER_CASES

    # options that mean nothing without another one
    needs = {"dampening": {"momentum"}, "nesterov": {"momentum"},
             "decoupled_weight_decay": {"weight_decay"}}
    for cls in ALL:
        options = set(inspect.signature(cls).parameters) - {"params", "lr"}
        cases = [kw for name, kw in OPTIMIZER_CASES if name == cls.__name__]
        alone = {k for kw in cases for k in kw if set(kw) - {"lr"} - needs.get(k, set()) == {k}}
        combined = {k for kw in cases for k in kw if len(set(kw) - {"lr"}) >= 3}
        missing = options - {"maximize"} - alone
        assert not missing, f"{cls.__name__}: no row for {missing} alone"
        assert options <= combined, f"{cls.__name__}: {options - combined} never combined"


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_defaults_equal_torch(cls):
    """Does every hyper-parameter default equal torch.optim's (e.g. AdamW weight_decay 1e-2, Adadelta lr 1.0)?"""
    torch = pytest.importorskip("torch")
    ours = inspect.signature(cls).parameters
    theirs = inspect.signature(getattr(torch.optim, cls.__name__)).parameters
    for name, p in ours.items():
        if name == "params":
            continue
        assert name in theirs, f"{cls.__name__}: torch has no argument {name}"
        assert p.default == theirs[name].default, (
            f"{cls.__name__}({name}=...) default {p.default!r} != torch's {theirs[name].default!r}")


def test_adam_first_step_moves_each_coordinate_by_lr_times_sign(rng):
    """At t = 1 does bias correction make Adam move every coordinate by lr * sign(g), whatever |g|?"""
    p = _param(rng)
    theta0 = p.data.copy()
    g = rng.standard_normal(p.shape) * np.logspace(-3, 3, p.size).reshape(p.shape)
    opt = optim.Adam([p], lr=0.1)
    p.grad = g
    opt.step()
    # m1 = (1-b1) g, v1 = (1-b2) g^2, so m1/(1-b1) / (sqrt(v1/(1-b2)) + eps) = g / (|g| + eps)
    np.testing.assert_allclose(p.data, theta0 - 0.1 * g / (np.abs(g) + 1e-8), **EXACT)
    # |step - lr sign(g)| = lr eps / (|g| + eps): tiny even for |g| = 1e-3
    bound = 0.1 * 1e-8 / np.abs(g).min()
    np.testing.assert_allclose(p.data, theta0 - 0.1 * np.sign(g), rtol=0, atol=bound)
    np.testing.assert_allclose(opt.state[0]["m"], 0.1 * g, **EXACT)
    np.testing.assert_allclose(opt.state[0]["v"], 0.001 * g**2, **EXACT)
    assert opt.state[0]["t"] == 1


def test_adam_second_step_by_hand(rng):
    """Does Adam's second step equal the paper's formula with bias corrections 1-0.9^2 and 1-0.999^2?"""
    p = _param(rng, (5,))
    g1, g2 = rng.standard_normal(5), rng.standard_normal(5)
    opt = optim.Adam([p], lr=0.01, betas=(0.9, 0.999))
    theta = p.data.copy()
    for g in (g1, g2):
        p.grad = g
        opt.step()
    m = 0.9 * 0.1 * g1 + 0.1 * g2
    v = 0.999 * 0.001 * g1**2 + 0.001 * g2**2
    theta = theta - 0.01 * g1 / (np.abs(g1) + 1e-8)
    theta = theta - 0.01 * (m / (1 - 0.9**2)) / (np.sqrt(v / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(p.data, theta, **EXACT)


@pytest.mark.parametrize("kwargs, displacements", [
    (dict(momentum=0.9), [1.0, 1.9, 2.71]),                    # b = 1, 1.9, 2.71 (times g)
    (dict(momentum=0.9, dampening=0.5), [1.0, 1.4, 1.76]),     # first step undamped
    (dict(momentum=0.9, nesterov=True), [1.9, 2.71, 3.439]),   # g + mu b
    (dict(), [1.0, 1.0, 1.0]),
])
def test_sgd_momentum_steps_by_hand(kwargs, displacements):
    """With a constant gradient g, does each SGD step move theta by lr * (the hand-computed multiple of g)?"""
    g = np.array([1.0, -2.0, 0.5])
    p = Parameter(np.zeros(3))
    opt = optim.SGD([p], lr=0.1, **kwargs)
    for factor in displacements:
        before = p.data.copy()
        p.grad = g
        opt.step()
        np.testing.assert_allclose(before - p.data, 0.1 * factor * g, **EXACT)


def test_sgd_weight_decay_is_l2_gradient(rng):
    """Does SGD(weight_decay=lam) step exactly like SGD on the gradient g + lam * theta?"""
    p, q = _param(rng), _param(rng)
    q.data[...] = p.data
    a, b = optim.SGD([p], lr=0.1, weight_decay=0.3), optim.SGD([q], lr=0.1)
    g = rng.standard_normal(p.shape)
    p.grad, q.grad = g, g + 0.3 * q.data
    a.step()
    b.step()
    np.testing.assert_allclose(p.data, q.data, **EXACT)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_zero_gradients_give_no_nan(cls, rng):
    """Do ten steps with all-zero gradients keep parameters and state finite, without warnings?"""
    p = _param(rng)
    opt = cls([p])
    with np.errstate(all="raise"):
        for _ in range(10):
            p.grad = np.zeros_like(p.data)
            opt.step()
    assert np.all(np.isfinite(p.data))
    for key, value in opt.state[0].items():
        assert np.all(np.isfinite(value)), f"state {key} is not finite"


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_zero_learning_rate_changes_nothing(cls, rng):
    """With lr = 0 (even with weight decay) do the parameters stay exactly as they were?"""
    p = _param(rng)
    theta0 = p.data.copy()
    opt = cls([p], lr=0.0, weight_decay=0.1)
    for _ in range(5):
        p.grad = rng.standard_normal(p.shape)
        opt.step()
    np.testing.assert_array_equal(p.data, theta0)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_state_keeps_float32(cls, rng):
    """Do float32 parameters stay float32, with float32 state, even when given float64 gradients?"""
    p = _param(rng, dtype=np.float32)
    q = Parameter(p.data.astype(np.float64))
    opt32, opt64 = cls([p], lr=0.01), cls([q], lr=0.01)
    for _ in range(5):
        g = rng.standard_normal(p.shape)
        p.grad, q.grad = g, g.copy()
        opt32.step()
        opt64.step()
    assert p.data.dtype == np.float32
    for key, value in opt32.state[0].items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, f"state {key} has dtype {value.dtype}"
    np.testing.assert_allclose(p.data, q.data, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_parameter_without_grad_is_skipped(cls, rng):
    """Is a parameter whose grad is None left alone, with no state and no step count (as torch)?"""
    p, q = _param(rng), _param(rng, (4,))
    q0 = q.data.copy()
    opt = cls([p, q])
    p.grad = rng.standard_normal(p.shape)
    opt.step()
    np.testing.assert_array_equal(q.data, q0)
    assert opt.state[1] == {} and opt.state[0]["t"] == 1


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_step_leaves_the_gradient_untouched(cls, rng):
    """Does step() read p.grad without changing it (so a caller may reuse it), even with weight decay?"""
    p = _param(rng)
    opt = cls([p], weight_decay=0.1)
    for _ in range(3):
        g = rng.standard_normal(p.shape)
        p.grad = g.copy()
        opt.step()
        np.testing.assert_array_equal(p.grad, g)


BAD = [
    (optim.SGD, dict(lr=-0.1), "lr"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), "momentum"),
    (optim.SGD, dict(lr=0.1, weight_decay=-1.0), "weight_decay"),
    (optim.SGD, dict(lr=0.1, nesterov=True), "nesterov"),
    (optim.SGD, dict(lr=0.1, nesterov=True, momentum=0.9, dampening=0.1), "dampening"),
    (optim.Adagrad, dict(lr_decay=-0.1), "lr_decay"),
    (optim.Adagrad, dict(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    (optim.Adagrad, dict(eps=-1e-10), "eps"),
    (optim.RMSprop, dict(alpha=-0.9), "alpha"),
    (optim.RMSprop, dict(momentum=-0.9), "momentum"),
    (optim.Adadelta, dict(rho=1.5), "rho"),
    (optim.Adadelta, dict(lr=-1.0), "lr"),
    (optim.Adam, dict(betas=(1.0, 0.999)), r"betas\[0\]"),
    (optim.Adam, dict(betas=(0.9, -0.1)), r"betas\[1\]"),
    (optim.Adam, dict(eps=-1e-8), "eps"),
    (optim.AdamW, dict(weight_decay=-0.01), "weight_decay"),
    (optim.NAdam, dict(momentum_decay=-0.004), "momentum_decay"),
    (optim.NAdam, dict(betas=(0.9, 1.0)), r"betas\[1\]"),
]


@pytest.mark.parametrize("cls, kwargs, name", BAD, ids=lambda x: str(x))
def test_bad_hyperparameters_raise_value_error_like_torch(cls, kwargs, name, rng):
    """Does a bad hyper-parameter raise a ValueError naming it, where torch.optim raises one too?"""
    with pytest.raises(ValueError, match=name):
        cls([_param(rng)], **kwargs)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        getattr(torch.optim, cls.__name__)([torch.zeros(2, requires_grad=True)], **kwargs)


def test_lr_is_settable_and_validated(rng):
    """Can a schedule set opt.lr, and is a negative rate refused with a message naming lr?"""
    opt = optim.Adam([_param(rng)])
    opt.lr = 0.5
    assert opt.lr == 0.5
    with pytest.raises(ValueError, match="lr"):
        opt.lr = -0.5


def test_params_checks(rng):
    """Are a bare Parameter, an empty list, a non-Parameter and a wrongly shaped grad refused?"""
    with pytest.raises(TypeError, match="params"):
        optim.SGD(_param(rng), lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[0\]"):
        optim.SGD([np.zeros(3)], lr=0.1)
    p = _param(rng)
    opt = optim.SGD([p], lr=0.1)
    p.grad = np.zeros((4, 3))
    with pytest.raises(ValueError, match="grad of shape"):
        opt.step()


def test_zero_grad(rng):
    """Does zero_grad() set grads to None (torch's default) and zero_grad(set_to_none=False) to zeros?"""
    p = _param(rng)
    opt = optim.SGD([p], lr=0.1)
    p.grad = np.ones_like(p.data)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, np.zeros_like(p.data))
    opt.zero_grad()
    assert p.grad is None


def test_get_by_name(rng):
    """Does get('adam', params) build an Adam with torch's defaults, and an unknown name raise ValueError?"""
    opt = optim.get("Adam", [_param(rng)])
    assert isinstance(opt, optim.Adam) and opt.lr == 1e-3 and opt.betas == (0.9, 0.999)
    assert isinstance(optim.get(optim.NAdam, [_param(rng)], lr=0.1), optim.NAdam)
    assert set(optim.OPTIMIZERS) == {c.__name__.lower() for c in ALL}
    with pytest.raises(ValueError, match="adamm"):
        optim.get("adamm", [_param(rng)])


#: Learning rates tuned for the digits MLP (30 epochs, batch 32, standardised pixels).
DIGITS_LR = {"SGD": dict(lr=0.05, momentum=0.9), "Adagrad": dict(lr=0.05),
             "RMSprop": dict(lr=0.001), "Adadelta": dict(lr=1.0), "Adam": dict(lr=0.002),
             "AdamW": dict(lr=0.002), "NAdam": dict(lr=0.002)}


@pytest.mark.parametrize("name", list(DIGITS_LR))
def test_fit_trains_digits_mlp_to_97_percent(name):
    """Does Sequential.fit with this optimizer train a 64-128-10 MLP to >= 97% test accuracy on digits?"""
    network = pytest.importorskip("dlcourse.network", reason="needs helper B's Sequential")
    from dlcourse import layers
    from dlcourse.data import digits, standardize, train_test_split

    X, y = digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    X_train, X_test = standardize(X_train, X_test)
    net = network.Sequential([layers.Dense(64, 128, seed=0), layers.ReLU(),
                              layers.Dense(128, 10, seed=10)])
    opt = getattr(optim, name)(list(net.parameters()), **DIGITS_LR[name])
    net.fit(X_train, y_train, loss="cross_entropy_with_logits", optimizer=opt, epochs=30,
            batch_size=32, seed=0, progress=False)
    accuracy = net.evaluate(X_test, y_test)["accuracy"]
    assert accuracy >= 0.97, f"{name}{DIGITS_LR[name]}: test accuracy {accuracy:.4f} < 0.97"


@pytest.mark.parametrize("maximize", [False, True])
def test_plain_sgd_steps_are_theta_minus_lr_g_bit_for_bit(maximize, rng):
    """Is a plain SGD step (no momentum, no weight decay) exactly theta - lr g (+ for maximize),
    also for a float64 gradient of a float32 parameter and a list gradient, with one count per step?"""
    lr, sign = 0.037, (-1 if maximize else 1)
    p64, p32, plist, idle = _param(rng), _param(rng, (5,), np.float32), _param(rng, (2,)), _param(rng, (3,))
    idle0 = idle.data.copy()
    opt = optim.SGD([p64, p32, plist, idle], lr=lr, maximize=maximize)
    for t in (1, 2):
        want = []
        for p in (p64, p32, plist):
            g = rng.standard_normal(p.shape)  # float64: converted to float32 for p32
            want.append(p.data - lr * (sign * g.astype(p.data.dtype)))
            p.grad = g.tolist() if p is plist else g
        opt.step()
        for p, w in zip((p64, p32, plist), want):
            assert p.data.dtype == w.dtype
            np.testing.assert_array_equal(p.data, w)
        assert [s.get("t") for s in opt.state] == [t, t, t, None]
    np.testing.assert_array_equal(idle.data, idle0)
    p64.grad = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"params\[0\] \(w\) has data of shape \(3, 4\) but grad of shape \(4, 3\)"):
        opt.step()
