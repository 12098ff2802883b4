"""Optimizers and schedules against ``torch.optim``, step for step, in float64.

Each optimizer row runs ours and torch's for :data:`NUM_STEPS` steps on three
parameter tensors of different shapes. At every step each framework computes the
gradient of the same test objective (:func:`objective_gradient`: an elongated bowl plus
Rosenbrock-like couplings) at *its own* current parameters, so any difference
compounds. The row compares the whole trajectory of every tensor and the final
optimizer state (``m`` vs torch's ``exp_avg`` and so on). Schedule rows compare
the learning rate after every ``step()`` for :data:`NUM_EPOCHS` epochs.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

from .core import Comparison

NUM_STEPS = 100
NUM_EPOCHS = 60
SHAPES = ((3, 4), (5,), (2, 1, 3))
COUPLING = 0.1

#: (optimizer name, keyword arguments): every non-default option alone and combined.
OPTIMIZER_CASES = (
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.01, weight_decay=0.01)),
    ("SGD", dict(lr=0.01, maximize=True)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1, eps=1e-3)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1,
                     eps=1e-6, maximize=True)),
    # a fixed-rate RMSprop that reaches a coordinate's minimum is chaotic: keep lr small
    ("RMSprop", dict(lr=0.002)),
    ("RMSprop", dict(lr=0.002, alpha=0.9)),
    ("RMSprop", dict(lr=0.002, eps=1e-3)),
    ("RMSprop", dict(lr=0.002, centered=True)),
    ("RMSprop", dict(lr=0.002, momentum=0.9)),
    ("RMSprop", dict(lr=0.002, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.002, centered=True, momentum=0.9)),
    ("RMSprop", dict(lr=0.002, alpha=0.9, eps=1e-6, centered=True, momentum=0.5,
                     weight_decay=0.01, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5)),
    ("Adadelta", dict(rho=0.95)),
    ("Adadelta", dict(eps=1e-4)),
    ("Adadelta", dict(weight_decay=0.01)),
    ("Adadelta", dict(lr=2.0, rho=0.8, eps=1e-5, weight_decay=0.01, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99))),
    ("Adam", dict(lr=0.01, eps=1e-3)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.01, amsgrad=True,
                  maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True,
                  decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, betas=(0.8, 0.99))),
    ("AdamW", dict(lr=0.01, eps=1e-3)),
    ("AdamW", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True,
                   maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, momentum_decay=0.04)),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99))),
    ("NAdam", dict(lr=0.01, eps=1e-3)),
    ("NAdam", dict(lr=0.01, weight_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, momentum_decay=0.01, weight_decay=0.01,
                   decoupled_weight_decay=True, maximize=True)),
)

#: (schedule name, keyword arguments, optimizer learning rate).
SCHEDULE_CASES = (
    ("StepLR", dict(step_size=7), 0.1),
    ("StepLR", dict(step_size=10, gamma=0.5), 0.3),
    ("ExponentialLR", dict(gamma=0.95), 0.1),
    ("CosineAnnealingLR", dict(T_max=60), 0.1),
    ("CosineAnnealingLR", dict(T_max=15, eta_min=0.001), 0.1),
    ("CosineAnnealingWarmRestarts", dict(T_0=10), 0.1),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=2, eta_min=0.01), 0.2),
)

#: Our state names and torch's, per optimizer.
STATE_NAMES = {
    "SGD": {"b": "momentum_buffer"},
    "Adagrad": {"G": "sum"},
    "RMSprop": {"v": "square_avg", "g_avg": "grad_avg", "b": "momentum_buffer"},
    "Adadelta": {"v": "square_avg", "u": "acc_delta"},
    "Adam": {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"},
    "AdamW": {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"},
    "NAdam": {"m": "exp_avg", "v": "exp_avg_sq", "mu_product": "mu_product"},
}


def describe(name: str, kwargs: dict, suffix: str = "") -> str:
    """A row name that states the settings, e.g. ``Adam(amsgrad=True, lr=0.01) x100``."""
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{name}({args}){suffix}"


def objective_gradient(xs: list[np.ndarray], sign: float = 1.0) -> list[np.ndarray]:
    r"""The gradient of the test objective, by hand (the NumPy side).

    .. math:: f = \sum_j \tfrac12 s_j (x_j - c_j)^2 + \tfrac{k}{2} (x_{j+1} - x_j^2)^2

    over each tensor flattened, with scales :math:`s_j` from 0.2 to 5 (an elongated
    bowl), centres :math:`c_j` from 2 to 4 and Rosenbrock-like couplings of weight
    :math:`k = 0.1`; times ``sign`` (-1 for the ``maximize=True`` rows, which then
    climb :math:`-f`). The parameters start in [-1, 1], far enough from the minimum
    that no run reaches it in 100 steps: at the minimum of a fixed-rate RMSprop or
    Adadelta the iteration is chaotic (the sign of a gradient that is mostly
    round-off decides the next step), which would amplify round-off, not a bug.
    """
    grads = []
    for x in xs:
        flat = x.reshape(-1)
        s, c = _scales_and_centres(flat.size)
        r = flat[1:] - flat[:-1] ** 2
        g = s * (flat - c)
        g[1:] += COUPLING * r
        g[:-1] -= COUPLING * 2 * flat[:-1] * r
        grads.append(sign * g.reshape(x.shape))
    return grads


def _torch_gradients(tensors, sign: float = 1.0):
    """The same gradient by torch autograd at torch's own parameters (the torch side)."""
    import torch

    total = 0.0
    for t in tensors:
        flat = t.reshape(-1)
        s, c = (torch.as_tensor(a, dtype=t.dtype, device=t.device)
                for a in _scales_and_centres(flat.numel()))
        r = flat[1:] - flat[:-1] ** 2
        total = total + 0.5 * (s * (flat - c) ** 2).sum() + 0.5 * COUPLING * (r * r).sum()
    return torch.autograd.grad(sign * total, tensors)


def _scales_and_centres(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(0.2, 5.0, n), np.linspace(2.0, 4.0, n)


def _start(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.0, 1.0, size=shape) for shape in SHAPES]


def run_pair(name: str, kwargs: dict, device: str, num_steps: int = NUM_STEPS,
             skip_odd: bool = False, schedule=None):
    """Run ours and torch's optimizer side by side; return both trajectories and states.

    ``skip_odd`` leaves ``params[1]`` without a gradient on odd steps (both skip it);
    ``schedule`` is ``(name, kwargs, every)``: step that schedule every ``every`` steps.
    """
    import torch

    from .. import optim, schedules
    from ..parameter import Parameter

    sign = -1.0 if kwargs.get("maximize") else 1.0
    ours = [Parameter(x.copy(), f"x{i}") for i, x in enumerate(_start())]
    theirs = [torch.tensor(x, dtype=torch.float64, device=device, requires_grad=True)
              for x in _start()]
    opt, topt = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    sched = tsched = None
    if schedule is not None:
        sname, skw, every = schedule
        sched = getattr(schedules, sname)(opt, **skw)
        tsched = getattr(torch.optim.lr_scheduler, sname)(topt, **skw)
    traj, ttraj = [], []
    for k in range(num_steps):
        grads = objective_gradient([p.data for p in ours], sign)
        tgrads = _torch_gradients(theirs, sign)
        for i, (p, t, g, tg) in enumerate(zip(ours, theirs, grads, tgrads)):
            skip = skip_odd and i == 1 and k % 2 == 1
            p.grad, t.grad = (None, None) if skip else (g, tg.detach().clone())
        opt.step()
        topt.step()
        if sched is not None and (k + 1) % every == 0:
            sched.step()
            tsched.step()
        traj.append([p.data.copy() for p in ours])
        ttraj.append([t.detach().clone() for t in theirs])
    return opt, topt, theirs, traj, ttraj


def _state_pairs(name: str, opt, topt, theirs):
    ours, ref = [], []
    for i, t in enumerate(theirs):
        tstate = topt.state[t]
        for mine, torch_name in STATE_NAMES[name].items():
            if mine in opt.state[i]:
                ours.append(np.asarray(opt.state[i][mine], dtype=np.float64))
                ref.append(tstate[torch_name])
        ours.append(np.asarray(float(opt.state[i]["t"])))
        ref.append(tstate["step"] if "step" in tstate else np.asarray(float(opt.state[i]["t"])))
    return ours, ref


def optimizer_comparison(name: str, kwargs: dict, device: str, label: str = "",
                         **run_kwargs) -> Comparison:
    """One row: every step of every tensor, then the final state, ours vs torch."""
    opt, topt, theirs, traj, ttraj = run_pair(name, kwargs, device, **run_kwargs)
    ours = [np.stack([step[i] for step in traj]) for i in range(len(SHAPES))]
    ref = [np.stack([step[i].cpu().numpy() for step in ttraj]) for i in range(len(SHAPES))]
    state_ours, state_ref = _state_pairs(name, opt, topt, theirs)
    return Comparison(describe(name, kwargs, f" x{NUM_STEPS}{label}"), ours + state_ours,
                      ref + state_ref, rtol=1e-9, atol=1e-11)


def schedule_comparison(name: str, kwargs: dict, lr: float) -> Comparison:
    """One row: the learning rate after each of :data:`NUM_EPOCHS` epochs, ours vs torch."""
    import torch

    from .. import optim, schedules
    from ..parameter import Parameter

    sched = getattr(schedules, name)(optim.SGD([Parameter(np.zeros(1))], lr=lr), **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr), **kwargs)
    ours, ref = [sched.get_last_lr()[0]], [tsched.get_last_lr()[0]]
    with warnings.catch_warnings():  # no optimizer steps here: torch's order warning is moot
        warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler")
        for _ in range(NUM_EPOCHS):
            sched.step()
            tsched.step()
            ours.append(sched.get_last_lr()[0])
            ref.append(tsched.get_last_lr()[0])
    return Comparison(describe(name, dict(lr=lr, **kwargs), f" x{NUM_EPOCHS}"), np.array(ours),
                      np.array(ref, dtype=np.float64), rtol=1e-12, atol=1e-15)


#: Rows with a parameter that has no gradient on odd steps (per-parameter ``t``).
SKIP_CASES = (("SGD", dict(lr=0.01, momentum=0.9)), ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
              ("Adam", dict(lr=0.01)), ("NAdam", dict(lr=0.01)))

#: Rows with a schedule stepped every 10 optimizer steps (torch's buffers see the new rate).
SCHEDULED_CASES = (
    ("SGD", dict(lr=0.05, momentum=0.9), ("StepLR", dict(step_size=3, gamma=0.5), 10)),
    ("RMSprop", dict(momentum=0.5), ("ExponentialLR", dict(gamma=0.8), 10)),
    ("Adam", dict(lr=0.05), ("CosineAnnealingLR", dict(T_max=5, eta_min=1e-3), 10)),
)


@contextlib.contextmanager
def _float64_default():
    """Torch's step counts and NAdam's ``mu_product`` use the default dtype: make it float64."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def optimizer_comparisons(device: str) -> list[Comparison]:
    """Every optimizer case, skip case and scheduled case on ``device``."""
    with _float64_default():
        rows = [optimizer_comparison(name, kw, device) for name, kw in OPTIMIZER_CASES]
        rows += [optimizer_comparison(name, kw, device, ", params[1] without grad on odd steps",
                                      skip_odd=True) for name, kw in SKIP_CASES]
        rows += [optimizer_comparison(name, kw, device, f" + {describe(s, skw)} every {every}",
                                      schedule=(s, skw, every))
                 for name, kw, (s, skw, every) in SCHEDULED_CASES]
    return rows


def schedule_comparisons(device: str) -> list[Comparison]:
    """Every schedule case (the rates do not depend on the device)."""
    with _float64_default():
        return [schedule_comparison(name, kw, lr) for name, kw, lr in SCHEDULE_CASES]


def comparisons(device: str) -> list[Comparison]:
    """All rows of this area: optimizers, then schedules."""
    return optimizer_comparisons(device) + schedule_comparisons(device)
