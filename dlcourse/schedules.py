r"""Learning-rate schedules that follow ``torch.optim.lr_scheduler`` number for number.

A schedule wraps an optimizer from :mod:`dlcourse.optim`, remembers its starting
rate :math:`\gamma_0` (``base_lr``) and, on each ``step()``, advances its epoch
counter ``last_epoch`` and writes the new rate into ``optimizer.lr``.
``Sequential.fit(scheduler=...)`` calls ``step()`` once per epoch, after the
epoch's updates, as torch expects. ``lr_at(epoch)`` gives the closed form, for
plots, without touching the optimizer.

Usage::

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = schedules.CosineAnnealingLR(opt, T_max=20)
    for epoch in range(20):
        ...  # one epoch of opt.step() calls
        sched.step()

Torch computes some rates recursively from the optimizer's current rate (for
example :math:`\gamma_e = \gamma_{e-1}\cdot\text{gamma}`); these classes use the
closed forms, which are equal up to round-off (checked in
:mod:`dlcourse.xcheck.optim`), except that torch's recursive form would build on a
rate you set by hand between steps, while the closed form ignores it.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "SCHEDULES"]


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _check_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number; got {value!r}")
    return float(value)


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()`` and the epoch counter.

    Parameters
    ----------
    optimizer : Optimizer
        Anything with a settable float attribute ``lr``; its rate at construction
        is ``base_lr``.

    Attributes
    ----------
    base_lr : float
    last_epoch : int
        The number of ``step()`` calls so far (0 right after construction).
    """

    def __init__(self, optimizer):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"optimizer must have a learning rate attribute lr (a dlcourse.optim "
                            f"optimizer); got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_epoch = 0
        self._last_lr = self.base_lr

    def lr_at(self, epoch: int) -> float:
        """The learning rate after ``epoch`` calls of ``step()`` (closed form)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set ``optimizer.lr`` to the schedule's rate."""
        self.last_epoch += 1
        self._last_lr = self.lr_at(self.last_epoch)
        self.optimizer.lr = self._last_lr

    def get_last_lr(self) -> list[float]:
        """The rate last set, as a one-element list (torch returns one per parameter group)."""
        return [self._last_lr]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                         if k not in ("optimizer", "base_lr", "last_epoch", "_last_lr"))
        return f"{type(self).__name__}({args})"


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs.

    .. math:: \gamma_e = \gamma_0 \cdot \text{gamma}^{\lfloor e / \text{step\_size} \rfloor}

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Epochs between drops (>= 1).
    gamma : float, default 0.1
        Factor of each drop.
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        self.step_size = _check_int(step_size, "step_size", 1)
        self.gamma = _check_real(gamma, "gamma")

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every epoch.

    .. math:: \gamma_e = \gamma_0 \cdot \text{gamma}^{e}

    Parameters
    ----------
    optimizer : Optimizer
    gamma : float
        Factor per epoch (e.g. 0.95).
    """

    def __init__(self, optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = _check_real(gamma, "gamma")

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    r"""Anneal the rate from :math:`\gamma_0` to ``eta_min`` along half a cosine in ``T_max`` epochs.

    .. math::

        \gamma_e = \eta_{\min} + \tfrac12 (\gamma_0 - \eta_{\min})
                   \left(1 + \cos\frac{\pi e}{T_{\max}}\right)

    Past ``T_max`` the cosine continues, so the rate climbs back to :math:`\gamma_0`
    at :math:`2T_{\max}` (torch does the same; use :class:`CosineAnnealingWarmRestarts`
    for a jump back instead). Torch computes the same numbers recursively,
    :math:`\gamma_e = \eta_{\min} + (\gamma_{e-1} - \eta_{\min})
    \frac{1 + \cos(\pi e / T_{\max})}{1 + \cos(\pi (e-1) / T_{\max})}`, with a special
    case one epoch after each minimum where that ratio would divide by zero.

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        Epochs of the half cosine (>= 1).
    eta_min : float, default 0
        The smallest rate.
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer)
        self.T_max = _check_int(T_max, "T_max", 1)
        self.eta_min = _check_real(eta_min, "eta_min")

    def lr_at(self, epoch: int) -> float:
        cosine = 1 + math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * cosine / 2


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing that restarts at :math:`\gamma_0`; each cycle ``T_mult`` times longer.

    SGDR (Loshchilov & Hutter, 2017). With :math:`T_{cur}` the epochs since the last
    restart and :math:`T_i` the current cycle length (:math:`T_0, T_0 T_{mult},
    T_0 T_{mult}^2, \ldots`):

    .. math::

        \gamma_e = \eta_{\min} + \tfrac12 (\gamma_0 - \eta_{\min})
                   \left(1 + \cos\frac{\pi T_{cur}}{T_i}\right)

    Parameters
    ----------
    optimizer : Optimizer
    T_0 : int
        Length of the first cycle in epochs (>= 1).
    T_mult : int, default 1
        Growth factor of the cycle length (>= 1).
    eta_min : float, default 0
    """

    def __init__(self, optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0):
        super().__init__(optimizer)
        self.T_0 = _check_int(T_0, "T_0", 1)
        self.T_mult = _check_int(T_mult, "T_mult", 1)
        self.eta_min = _check_real(eta_min, "eta_min")

    def cycle_position(self, epoch: int) -> tuple[int, int]:
        """``(T_cur, T_i)``: epochs since the last restart and the current cycle's length."""
        t_cur, t_i = epoch, self.T_0
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= self.T_mult
        return t_cur, t_i

    def lr_at(self, epoch: int) -> float:
        t_cur, t_i = self.cycle_position(epoch)
        cosine = 1 + math.cos(math.pi * t_cur / t_i)
        return self.eta_min + (self.base_lr - self.eta_min) * cosine / 2


#: The schedules by name.
SCHEDULES = {cls.__name__: cls for cls in (StepLR, ExponentialLR, CosineAnnealingLR,
                                           CosineAnnealingWarmRestarts)}
