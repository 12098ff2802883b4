r"""L2 regularisation, and why an L2 term is not weight decay for Adam.

An L2 penalty adds :math:`\tfrac{\lambda}{2}\lVert\theta\rVert^2` to the loss, so the
gradient gains :math:`\lambda\theta`; that is what ``weight_decay=lam`` does in
:class:`~dlcourse.optim.SGD` and :class:`~dlcourse.optim.Adam` (torch's convention:
the factor :math:`\tfrac12` makes the gradient exactly :math:`\lambda\theta`).
*Decoupled* weight decay (Loshchilov & Hutter, AdamW) instead shrinks the
parameters directly, :math:`\theta \leftarrow (1 - \gamma\lambda)\theta`, and gives the
optimizer only the gradient of the loss.

For plain SGD the two are the same update:

.. math::

    \theta - \gamma(g + \lambda\theta) = (1 - \gamma\lambda)\theta - \gamma g .

For Adam they differ: the L2 term :math:`\lambda\theta` passes through
:math:`m` and is divided by :math:`\sqrt{\hat v}`, so coordinates with large
gradients are barely regularised and those with small gradients strongly, while
decoupled decay shrinks every coordinate by the same factor. (With momentum, SGD's
two forms differ too: the L2 term accumulates in the momentum buffer.)
:func:`l2_vs_decoupled` runs both on a test surface to show it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .parameter import Parameter

__all__ = ["l2_penalty", "l2_penalty_gradient", "l2_vs_decoupled", "WeightDecayPaths"]


def _arrays(params) -> list[np.ndarray]:
    if isinstance(params, (Parameter, np.ndarray)):
        params = [params]
    return [p.data if isinstance(p, Parameter) else np.asarray(p) for p in params]


def _check_lam(lam) -> float:
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.floating)) or not lam >= 0:
        raise ValueError(f"lam must be a real number >= 0; got {lam!r}")
    return float(lam)


def l2_penalty(params, lam: float) -> float:
    r"""The L2 penalty :math:`\tfrac{\lambda}{2} \sum_{\theta} \lVert\theta\rVert^2`.

    Parameters
    ----------
    params : iterable of Parameter or ndarray
        The weights to penalise (often only the ``W`` of each layer, not the biases).
    lam : float
        :math:`\lambda \ge 0`, the same number as an optimizer's ``weight_decay``.

    Returns
    -------
    float
    """
    lam = _check_lam(lam)
    return 0.5 * lam * float(sum(np.sum(a * a) for a in _arrays(params)))


def l2_penalty_gradient(params, lam: float) -> list[np.ndarray]:
    r"""The gradient of :func:`l2_penalty`: :math:`\lambda\theta` for each array.

    Parameters
    ----------
    params : iterable of Parameter or ndarray
    lam : float

    Returns
    -------
    list of ndarray
        One array per parameter, each of that parameter's shape and dtype.
    """
    lam = _check_lam(lam)
    return [lam * a for a in _arrays(params)]


class WeightDecayPaths(NamedTuple):
    """Two paths (steps + 1, 2) from the same start: with an L2 term, with decoupled decay."""

    l2: np.ndarray
    decoupled: np.ndarray


def _path(opt, theta: Parameter, grad_fn, steps: int, shrink: float) -> np.ndarray:
    path = [theta.data.copy()]
    for _ in range(steps):
        theta.grad = grad_fn(theta.data)
        theta.data *= shrink
        opt.step()
        path.append(theta.data.copy())
    return np.array(path)


def l2_vs_decoupled(optimizer: str = "adam", weight_decay: float = 0.1, lr: float = 0.05,
                    steps: int = 100, surface="valley", start=None, **kwargs) -> WeightDecayPaths:
    r"""Run ``optimizer`` twice on ``surface``: with an L2 term, and with decoupled decay.

    * ``l2``: the optimizer gets the gradient of
      :math:`f(\theta) + \tfrac{\lambda}{2}\lVert\theta\rVert^2`, i.e. :math:`g + \lambda\theta`
      (the same as passing ``weight_decay=lam``);
    * ``decoupled``: each step first sets :math:`\theta \leftarrow (1-\gamma\lambda)\theta`,
      then the optimizer steps with :math:`g` alone (for Adam, the same as ``AdamW``).

    Parameters
    ----------
    optimizer : str or Optimizer subclass
        E.g. ``"sgd"`` (paths equal) or ``"adam"`` (paths differ).
    weight_decay : float
        :math:`\lambda`.
    lr : float
        :math:`\gamma`.
    steps : int
    surface : Surface or str
        From :mod:`dlcourse.surfaces`; default the elongated valley.
    start : (float, float), optional
        Defaults to the surface's start point.
    **kwargs
        Other hyper-parameters of the optimizer (e.g. ``momentum=0.9``).

    Returns
    -------
    WeightDecayPaths
        ``l2`` and ``decoupled``, each of shape (steps + 1, 2).
    """
    from . import optim, surfaces

    lam = _check_lam(weight_decay)
    surface = surfaces.get(surface)
    point = np.array(surface.start if start is None else start, dtype=np.float64)
    paths = []
    for decoupled in (False, True):
        theta = Parameter(point.copy(), "xy")
        opt = optim.get(optimizer, [theta], lr=lr, **kwargs)
        penalty = 0.0 if decoupled else lam

        def grad_fn(xy, penalty=penalty):
            return np.array(surface.gradient(*xy)) + penalty * xy

        paths.append(_path(opt, theta, grad_fn, steps, 1 - lr * lam if decoupled else 1.0))
    return WeightDecayPaths(*paths)
