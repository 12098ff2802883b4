r"""L2 regularisation, and why an L2 term is not weight decay for Adam.

An L2 penalty adds :math:`\tfrac{\lambda}{2}\lVert\theta\rVert^2` to the loss, so the
gradient gains :math:`\lambda\theta`; that is what ``weight_decay=lam`` does in
:class:`~dlcourse.optim.SGD` and :class:`~dlcourse.optim.Adam` (torch's convention:
the factor :math:`\tfrac12` makes the gradient exactly :math:`\lambda\theta`).
*Decoupled* weight decay (Loshchilov & Hutter, AdamW) instead shrinks the
parameters directly, :math:`\theta \leftarrow (1 - \eta\lambda)\theta`, and gives the
optimizer only the gradient of the loss.

For plain SGD the two are the same update:

.. math::

    \theta - \eta(g + \lambda\theta) = (1 - \eta\lambda)\theta - \eta g .

For Adam they differ: the L2 term :math:`\lambda\theta` passes through
:math:`m` and is divided by :math:`\sqrt{\hat v}`, so coordinates with large
gradients are barely regularised and those with small gradients strongly, while
decoupled decay shrinks every coordinate by the same factor. (With momentum, SGD's
two forms differ too: the L2 term accumulates in the momentum buffer.)
:func:`l2_vs_decoupled` runs both on a test surface to show it.

:func:`regularised_mlp` and :func:`train_regularised` are the over-sized MLP of the
optimizers chapter, trained with one regulariser at a time (L2, dropout, batch norm or
early stopping) so that runs differ only by it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .parameter import Parameter

__all__ = ["l2_penalty", "l2_penalty_gradient", "l2_vs_decoupled", "WeightDecayPaths", "regularised_mlp",
           "train_regularised"]


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
    * ``decoupled``: each step first sets :math:`\theta \leftarrow (1-\eta\lambda)\theta`,
      then the optimizer steps with :math:`g` alone (for Adam, the same as ``AdamW``).

    Parameters
    ----------
    optimizer : str or Optimizer subclass
        E.g. ``"sgd"`` (paths equal) or ``"adam"`` (paths differ).
    weight_decay : float
        :math:`\lambda`.
    lr : float
        :math:`\eta`.
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


def regularised_mlp(n_in: int, n_out: int, hidden: tuple = (64, 64), *, batch_norm: bool = False,
                    dropout: float = 0.0, seed: int = 0):
    """An MLP of Dense-ReLU blocks, with batch norm after each Dense and dropout after each ReLU if asked.

    Parameters
    ----------
    n_in, n_out : int
        Input features and output logits.
    hidden : tuple of int
        Units of each hidden layer.
    batch_norm : bool
        Put a :class:`~dlcourse.layers.BatchNorm` between each hidden Dense and its ReLU.
    dropout : float
        Rate of a :class:`~dlcourse.layers.Dropout` after each hidden ReLU (0: none).
    seed : int
        Hidden layer ``i`` is initialised from seed ``seed + i``, the output layer from
        ``seed + 5``, dropout layer ``i`` draws its masks from ``seed + 10 + i``: the same
        weights with or without a regulariser, so runs differ only by it.

    Returns
    -------
    Sequential
        Input (N, n_in), output (N, n_out) logits.
    """
    from .layers import BatchNorm, Dense, Dropout, ReLU
    from .network import Sequential

    layers, width = [], int(n_in)
    for i, units in enumerate(hidden):
        layers += [Dense(width, units, seed=seed + i)] + ([BatchNorm(units)] if batch_norm else []) + [ReLU()]
        layers += [Dropout(dropout, seed=seed + 10 + i)] if dropout else []
        width = units
    return Sequential(layers + [Dense(width, n_out, seed=seed + 5)])


def train_regularised(X, y, validation_data, *, batch_norm: bool = False, dropout: float = 0.0,
                      weight_decay: float = 0.0, patience: int | None = None, hidden: tuple = (64, 64),
                      epochs: int = 150, lr: float = 0.01, seed: int = 0):
    """Train :func:`regularised_mlp` on ``(X, y)`` with full-batch Adam and cross-entropy from logits.

    Parameters
    ----------
    X, y : ndarray
        Training inputs (N, D) and integer labels (N,).
    validation_data : (ndarray, ndarray)
        Watched every epoch (``val_loss``, ``val_accuracy``); early stopping reads it.
    batch_norm, dropout :
        As in :func:`regularised_mlp`.
    weight_decay : float
        Adam's L2 term ``weight_decay`` (0: none).
    patience : int, optional
        Early stopping on ``val_loss`` with this patience, restoring the best weights (None: off).
    hidden, epochs, lr, seed :
        The network's hidden units, full-batch epochs, Adam's learning rate, the seed of
        :func:`regularised_mlp` and of ``fit``.

    Returns
    -------
    net : Sequential
        As ``fit`` left it: with early stopping, the weights of its best epoch.
    history : History
    stopper : EarlyStopping or None
    """
    from .callbacks import EarlyStopping
    from .optim import Adam

    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],) or not X.shape[0]:
        raise ValueError(f"train_regularised expects X of shape (N, D) with N >= 1 and y of shape (N,); "
                         f"got X {X.shape} and y {y.shape}")
    n_classes = int(max(y.max(), np.max(validation_data[1]))) + 1
    net = regularised_mlp(X.shape[1], n_classes, hidden, batch_norm=batch_norm, dropout=dropout, seed=seed)
    stopper = None if patience is None else EarlyStopping(monitor="val_loss", patience=patience,
                                                          restore_best_weights=True)
    history = net.fit(X, y, loss="cross_entropy", epochs=epochs, batch_size=None,
                      optimizer=Adam(list(net.parameters()), lr=lr, weight_decay=weight_decay),
                      callbacks=[stopper] if stopper else [], validation_data=validation_data, seed=seed,
                      progress=False)
    return net, history, stopper
