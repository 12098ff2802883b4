"""Tests of dlcourse.schedules: torch's numbers, closed forms, validation, use from fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import TORCH_DEVICES

from dlcourse import optim, schedules
from dlcourse.parameter import Parameter


def _opt(lr=0.1):
    return optim.SGD([Parameter(np.zeros(3))], lr=lr)


def _rates(sched, epochs):
    rates = [sched.get_last_lr()[0]]
    for _ in range(epochs):
        sched.step()
        rates.append(sched.get_last_lr()[0])
    return np.array(rates)


@pytest.mark.parametrize("device", TORCH_DEVICES)
def test_xcheck_schedule_rows_all_ok(device):
    """Does every schedule give torch.optim.lr_scheduler's rate after each of 60 epochs?"""
    pytest.importorskip("torch")
    from dlcourse.xcheck.core import compare
    from dlcourse.xcheck.optim import SCHEDULE_CASES, schedule_comparisons

    rows = [compare("optim", device, c) for c in schedule_comparisons(device)]
    assert len(rows) == len(SCHEDULE_CASES)
    assert {name for name, _, _ in SCHEDULE_CASES} == set(schedules.SCHEDULES)
    failed = [f"{r.operation}: abs {r.max_abs:.2e}" for r in rows if not r.ok]
    assert not failed, "schedules that differ from torch:\n" + "\n".join(failed)


def test_step_lr_by_hand():
    """Does StepLR(step_size=3, gamma=0.1) give 1, 1, 1, 0.1, 0.1, 0.1, 0.01 and write opt.lr?"""
    opt = _opt(1.0)
    sched = schedules.StepLR(opt, step_size=3, gamma=0.1)
    np.testing.assert_allclose(_rates(sched, 6), [1, 1, 1, 0.1, 0.1, 0.1, 0.01], rtol=1e-15)
    assert opt.lr == sched.get_last_lr()[0]


def test_exponential_lr_by_hand():
    """Does ExponentialLR(gamma=0.5) halve the rate every epoch?"""
    np.testing.assert_allclose(_rates(schedules.ExponentialLR(_opt(0.8), gamma=0.5), 4),
                               [0.8, 0.4, 0.2, 0.1, 0.05], rtol=1e-15)


def test_cosine_annealing_landmarks():
    """Does CosineAnnealingLR reach the mean at T_max/2, eta_min at T_max, and climb back by 2 T_max?"""
    sched = schedules.CosineAnnealingLR(_opt(0.1), T_max=10, eta_min=0.02)
    rates = _rates(sched, 20)
    assert rates[5] == pytest.approx(0.06, rel=1e-12)
    assert rates[10] == pytest.approx(0.02, rel=1e-12)
    assert rates[20] == pytest.approx(0.1, rel=1e-12)
    assert np.all(np.diff(rates[:11]) < 0) and np.all(np.diff(rates[10:]) > 0)


def test_warm_restarts_restart_at_the_cycle_ends():
    """With T_0=2, T_mult=2 do the restarts (back to the base rate) fall on epochs 2, 6 and 14?"""
    sched = schedules.CosineAnnealingWarmRestarts(_opt(0.1), T_0=2, T_mult=2, eta_min=0.0)
    rates = _rates(sched, 15)
    restarts = [e for e in range(1, 16) if rates[e] == pytest.approx(0.1)]
    assert restarts == [2, 6, 14]
    assert sched.cycle_position(10) == (4, 8)
    assert rates[4] == pytest.approx(0.05)  # half way through the 4-epoch cycle


@pytest.mark.parametrize("cls, kwargs, name", [
    (schedules.StepLR, dict(step_size=0), "step_size"),
    (schedules.StepLR, dict(step_size=2.5), "step_size"),
    (schedules.ExponentialLR, dict(gamma=math.nan), "gamma"),
    (schedules.CosineAnnealingLR, dict(T_max=0), "T_max"),
    (schedules.CosineAnnealingWarmRestarts, dict(T_0=0), "T_0"),
    (schedules.CosineAnnealingWarmRestarts, dict(T_0=3, T_mult=0), "T_mult"),
])
def test_bad_arguments_raise(cls, kwargs, name):
    """Does a bad schedule argument raise a ValueError naming it?"""
    with pytest.raises(ValueError, match=name):
        cls(_opt(), **kwargs)


def test_optimizer_without_lr_is_refused():
    """Is an object without an lr attribute refused with a TypeError naming optimizer?"""
    with pytest.raises(TypeError, match="optimizer"):
        schedules.StepLR(object(), step_size=1)


def test_fit_steps_the_schedule_once_per_epoch(rng):
    """Does Sequential.fit(scheduler=...) step the schedule once per epoch, as History's lr shows?"""
    network = pytest.importorskip("dlcourse.network", reason="needs helper B's Sequential")
    from dlcourse import layers

    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    net = network.Sequential([layers.Dense(3, 2, seed=0)])
    opt = optim.SGD(list(net.parameters()), lr=0.4)
    sched = schedules.StepLR(opt, step_size=1, gamma=0.5)
    history = net.fit(X, y, loss="cross_entropy_with_logits", optimizer=opt, epochs=4,
                      batch_size=10, seed=0, progress=False, scheduler=sched)
    np.testing.assert_allclose(history["lr"], [0.4, 0.2, 0.1, 0.05])
    assert opt.lr == pytest.approx(0.025) and sched.last_epoch == 4
