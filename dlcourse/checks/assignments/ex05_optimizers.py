"""ex05_optimizers: one update step of SGD, momentum, RMSprop and Adam, and a cosine schedule.

Each learner function is pure: it takes the parameter, its gradient and the
optimizer's state and returns new arrays. References: :mod:`dlcourse.optim`
(``torch.optim`` semantics) with the given state put into the optimizer, and
:meth:`dlcourse.schedules.CosineAnnealingLR.lr_at`.
"""

from __future__ import annotations

import math

import numpy as np

from ..spec import Mistake, Part, case

A = "ex05_optimizers"


def _one_step(make, w, grad, state: dict):
    """Run one ``step()`` of the optimizer ``make(params)`` from ``state``; return (w, state)."""
    from dlcourse.parameter import Parameter

    p = Parameter(np.array(w, dtype=np.float64, copy=True), "w")
    p.grad = np.array(grad, dtype=np.float64, copy=True)
    opt = make([p])
    opt.state[0] = {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v) for k, v in state.items()}
    opt.step()
    return p.data, opt.state[0]


def ref_sgd(w, grad, lr):
    from dlcourse.optim import SGD

    return _one_step(lambda ps: SGD(ps, lr=lr), w, grad, {})[0]


def ref_momentum(w, grad, velocity, lr, momentum):
    from dlcourse.optim import SGD

    # t >= 1 so that the buffer b is used as given (torch copies g into b only at t = 1)
    w_new, state = _one_step(lambda ps: SGD(ps, lr=lr, momentum=momentum), w, grad, {"t": 1, "b": velocity})
    return w_new, state["b"]


def ref_rmsprop(w, grad, sq_avg, lr, alpha=0.99, eps=1e-8):
    from dlcourse.optim import RMSprop

    w_new, state = _one_step(lambda ps: RMSprop(ps, lr=lr, alpha=alpha, eps=eps), w, grad, {"t": 1, "v": sq_avg})
    return w_new, state["v"]


def ref_adam(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    from dlcourse.optim import Adam

    w_new, state = _one_step(lambda ps: Adam(ps, lr=lr, betas=(beta1, beta2), eps=eps), w, grad,
                             {"t": t - 1, "m": m, "v": v})
    return w_new, state["m"], state["v"]


def ref_cosine_lr(epoch, lr_max, lr_min, T_max):
    from dlcourse.optim import SGD
    from dlcourse.parameter import Parameter
    from dlcourse.schedules import CosineAnnealingLR

    opt = SGD([Parameter(np.zeros(1), "w")], lr=lr_max)
    return float(CosineAnnealingLR(opt, T_max=T_max, eta_min=lr_min).lr_at(epoch))


# ---- mistaken versions (for diagnoses) ------------------------------------------------------
def _rmsprop_eps_inside(w, g, s, lr, alpha=0.99, eps=1e-8):
    s = alpha * s + (1 - alpha) * g * g
    return w - lr * g / np.sqrt(s + eps), s


def _adam_no_bias(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * m / (np.sqrt(v) + eps), m, v


def _adam_efficient(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * math.sqrt(1 - beta2**t) / (1 - beta1**t) * m / (np.sqrt(v) + eps), m, v


def _adam_eps_inside(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps), m, v


# ---- inputs ------------------------------------------------------------------------------
def _flags(*pairs) -> set:
    """The tags whose condition holds: ``_flags(("t > 1", t > 1))``."""
    return {tag for tag, holds in pairs if holds}


def _vec(rng, d, scale=1.0):
    return rng.normal(scale=scale, size=d)


def _sgd_fixed():
    return [case(np.array([1.0, -2.0, 0.5]), np.array([0.5, 0.5, -1.0]), 0.1, kind="three weights, lr 0.1")]


def _sgd_draw(rng):
    shape = (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
    return case(rng.normal(size=shape), rng.normal(size=shape), float(rng.choice([0.01, 0.1, 1.0])),
                kind=f"a random {shape} weight matrix", tags={"2-D"})


def _momentum_fixed():
    return [case(np.array([1.0, 2.0]), np.array([0.5, -0.5]), np.zeros(2), 0.1, 0.9, kind="first step (velocity 0)"),
            case(np.array([1.0, 2.0]), np.array([0.5, -0.5]), np.array([1.0, -2.0]), 0.1, 0.9,
                 kind="a later step (velocity != 0)")]


def _momentum_draw(rng):
    d = int(rng.integers(2, 6))
    return case(_vec(rng, d), _vec(rng, d), _vec(rng, d), float(rng.choice([0.01, 0.1])),
                float(rng.choice([0.5, 0.9, 0.99])), kind=f"random state, {d} weights")


def _rmsprop_fixed():
    return [case(np.array([1.0, -1.0]), np.array([0.2, -0.1]), np.zeros(2), 0.01, 0.99, 1e-8,
                 kind="first step (square average 0)"),
            case(np.array([0.5, 0.5, 0.5]), np.array([1e-3, -2e-3, 0.0]), np.array([1e-6, 4e-6, 0.0]), 0.1, 0.9, 1e-2,
                 kind="tiny gradients with a large eps (1e-2)", tags={"large eps"})]


def _rmsprop_draw(rng):
    d = int(rng.integers(2, 6))
    eps = float(rng.choice([1e-8, 1e-3, 1e-2]))
    return case(_vec(rng, d), _vec(rng, d, 0.01), rng.uniform(0, 1e-4, d), float(rng.choice([0.01, 0.001])),
                float(rng.choice([0.9, 0.99])), eps, kind=f"random state, {d} weights",
                tags={"large eps"} if eps >= 1e-3 else set())


def _adam_fixed():
    return [case(np.array([1.0, -1.0]), np.array([0.1, -0.2]), np.zeros(2), np.zeros(2), 1, 0.001, 0.9, 0.999, 1e-8,
                 kind="first step (t = 1)"),
            case(np.array([0.5, 0.5]), np.array([0.01, -0.02]), np.array([0.02, 0.0]), np.array([1e-4, 1e-4]), 3,
                 0.01, 0.9, 0.999, 1e-3, kind="third step, eps 1e-3", tags={"large eps", "t > 1"}),
            case(np.array([1.0, 2.0]), np.array([1e-3, -1e-3]), np.zeros(2), np.zeros(2), 1, 0.1, 0.9, 0.999, 0.1,
                 kind="tiny gradients with a large eps (0.1)", tags={"large eps"})]


def _adam_draw(rng):
    d = int(rng.integers(2, 6))
    t, eps = int(rng.choice([1, 2, 5, 50])), float(rng.choice([1e-8, 1e-3, 0.1]))
    return case(_vec(rng, d), _vec(rng, d, 0.1), _vec(rng, d, 0.05), rng.uniform(0, 0.01, d),
                t, float(rng.choice([1e-3, 1e-2])), 0.9, float(rng.choice([0.99, 0.999])),
                eps, kind=f"random state, {d} weights", tags=_flags(("large eps", eps >= 1e-3), ("t > 1", t > 1)))


def _cosine_fixed():
    return [case(e, 0.1, 0.0, 10, kind=f"epoch {e} of T_max = 10") for e in (0, 3, 5, 10)] + \
        [case(4, 0.5, 0.01, 8, kind="lr_min > 0", tags={"lr_min > 0"}),
         case(13, 0.1, 0.001, 10, kind="past T_max (epoch 13 of 10; the cosine goes on)", tags={"past T_max", "lr_min > 0"})]


def _cosine_draw(rng):
    T = int(rng.integers(2, 30))
    epoch, lr_min = int(rng.integers(0, 2 * T + 1)), float(rng.choice([0.0, 0.001]))
    return case(epoch, float(rng.choice([0.1, 1.0, 0.05])), lr_min, T, kind="random epoch (possibly past T_max)",
                tags=_flags(("past T_max", epoch > T), ("lr_min > 0", lr_min > 0)))


EPS_INSIDE = ("epsilon inside the square root: PyTorch adds eps outside, sqrt(v) + eps "
              "(the two differ when v is small)")
PARTS = [
    Part(A, "sgd_step_matches_reference", "sgd_step", ("w", "grad", "lr"), ref_sgd, 1, _sgd_fixed, _sgd_draw, 3,
         dtype="float",
         mistakes=(Mistake.calls("wrong direction", "gradient *descent* subtracts: w - lr * grad",
                                 lambda w, g, lr: w + lr * g),),
         title="w - lr * grad, a new array"),
    Part(A, "momentum_step_matches_reference", "momentum_step", ("w", "grad", "velocity", "lr", "momentum"),
         ref_momentum, 2, _momentum_fixed, _momentum_draw, 3, dtype="float",
         outputs=("w", "velocity"), partial=True,
         mistakes=(Mistake.calls("lr inside the velocity", "PyTorch keeps v = momentum * v + grad and applies "
                                 "lr in the update w - lr * v (not v = momentum * v - lr * grad)",
                                 lambda w, g, v, lr, mu: (w - lr * (mu * v + g), mu * v + lr * g)),
                   Mistake.calls("dampening", "no (1 - momentum) factor on the gradient: v = momentum * v + grad",
                                 lambda w, g, v, lr, mu: (w - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g))),
         title="heavy-ball momentum as torch.optim.SGD(momentum=...)"),
    Part(A, "rmsprop_step_matches_reference", "rmsprop_step", ("w", "grad", "sq_avg", "lr", "alpha", "eps"),
         ref_rmsprop, 2, _rmsprop_fixed, _rmsprop_draw, 3, dtype="float",
         outputs=("w", "sq_avg"), partial=True,
         mistakes=(Mistake.calls("epsilon inside the square root", EPS_INSIDE, _rmsprop_eps_inside),
                   Mistake.calls("(1 - alpha) missing", "the square average is alpha * s + (1 - alpha) * grad**2",
                                 lambda w, g, s, lr, a=0.99, eps=1e-8: (w - lr * g / (np.sqrt(a * s + g * g) + eps),
                                                                        a * s + g * g))),
         title="RMSprop step as torch.optim.RMSprop"),
    Part(A, "adam_step_matches_reference", "adam_step", ("w", "grad", "m", "v", "t", "lr", "beta1", "beta2", "eps"),
         ref_adam, 3, _adam_fixed, _adam_draw, 3, dtype="float", outputs=("w", "m", "v"),
         partial=True,
         mistakes=(Mistake.calls("bias correction missing", "divide m by (1 - beta1**t) and v by (1 - beta2**t) "
                                 "before the update (the moments start at 0)", _adam_no_bias),
                   Mistake.calls("efficient form, eps not rescaled", "that is the paper's 'efficient' form "
                                 "lr_t = lr sqrt(1 - beta2**t) / (1 - beta1**t) with eps added to sqrt(v); to match "
                                 "torch, add eps to sqrt(v_hat), or use eps * sqrt(1 - beta2**t) in that form",
                                 _adam_efficient),
                   Mistake.calls("epsilon inside the square root", EPS_INSIDE, _adam_eps_inside)),
         title="Adam step with bias correction, as torch.optim.Adam"),
    Part(A, "cosine_schedule_matches_reference", "cosine_lr", ("epoch", "lr_max", "lr_min", "T_max"), ref_cosine_lr,
         1, _cosine_fixed, _cosine_draw, 3, dtype="float",
         mistakes=(Mistake.calls("half missing", "lr_min + (lr_max - lr_min) * (1 + cos(pi * epoch / T_max)) / 2",
                                 lambda e, hi, lo, T: lo + (hi - lo) * (1 + math.cos(math.pi * e / T))),
                   Mistake.calls("pi missing", "the cosine's argument is pi * epoch / T_max (radians)",
                                 lambda e, hi, lo, T: lo + (hi - lo) * (1 + math.cos(e / T)) / 2)),
         title="cosine annealing from lr_max to lr_min over T_max epochs"),
]
