r"""Figures for the loss-functions chapter.

Every curve is computed by calling the loss objects of :mod:`dlcourse.losses` on
one element at a time, so what is drawn is exactly what the package computes:
the per-element loss :math:`\ell(r)` and its derivative as functions of the
residual :math:`r = \hat{y} - y`, the two branches of binary cross-entropy, and
the constant that each regression loss picks for data with an outlier.
"""

from __future__ import annotations

import numpy as np

from . import PALETTE, color

__all__ = ["DEFAULT_RESIDUALS", "elementwise", "best_constant", "plot_regression_losses",
           "plot_loss_gradients", "plot_bce_branches", "plot_outlier_fit", "plot_outlier_grid"]

#: Residuals :math:`\hat{y} - y` at which the regression curves are drawn.
DEFAULT_RESIDUALS = np.linspace(-3.0, 3.0, 241)


def _regression_losses(delta: float) -> dict:
    from .. import losses

    return {"MSE": losses.MSE(), "MAE": losses.MAE(), rf"Huber ($\delta$={delta:g})": losses.Huber(delta=delta)}


def elementwise(loss, y_true, y_pred, gradient: bool = False) -> np.ndarray:
    """Evaluate ``loss`` (or its gradient) on each pair of one-element arrays.

    Parameters
    ----------
    loss : dlcourse.losses loss object
    y_true, y_pred : array_like, shape (M,)
        Pairs of targets and predictions; a scalar ``y_true`` is used for every pair.
    gradient : bool
        Return ``loss.gradient`` instead of the loss.

    Returns
    -------
    ndarray, shape (M,)
    """
    y_pred = np.asarray(y_pred, dtype=float)
    y_true = np.broadcast_to(np.asarray(y_true, dtype=float), y_pred.shape)
    fn = loss.gradient if gradient else loss
    return np.array([float(np.ravel(fn(np.array([t]), np.array([p])))[0]) for t, p in zip(y_true, y_pred)])


def best_constant(loss, y, grid=None) -> float:
    r"""The constant prediction :math:`c` that minimises ``loss(y, c)`` over a grid.

    Parameters
    ----------
    loss : dlcourse.losses loss object
    y : array_like, shape (N,)
        Targets.
    grid : array_like, shape (M,), optional
        Candidate constants; 2001 points spanning the targets by default.

    Returns
    -------
    float
        The best candidate: the mean for MSE, a median for MAE.
    """
    y = np.asarray(y, dtype=float)
    if grid is None:
        grid = np.linspace(y.min(), y.max(), 2001)
    values = [loss(y, np.full_like(y, c)) for c in grid]
    return float(grid[int(np.argmin(values))])


def plot_regression_losses(delta: float = 1.0, *, ax=None, r=None, gradient: bool = False):
    r"""Draw MSE, MAE and Huber per element against the residual :math:`r = \hat{y} - y`.

    Parameters
    ----------
    delta : float
        Huber's threshold; dotted vertical lines mark :math:`\pm\delta`.
    ax : matplotlib Axes, optional
    r : array_like, shape (M,), optional
        Residuals (default :data:`DEFAULT_RESIDUALS`).
    gradient : bool
        Draw :math:`\partial \ell / \partial \hat{y}` instead of :math:`\ell`.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    r = DEFAULT_RESIDUALS if r is None else np.asarray(r, dtype=float)
    if ax is None:
        _, ax = plt.subplots()
    for i, (name, loss) in enumerate(_regression_losses(delta).items()):
        ax.plot(r, elementwise(loss, 0.0, r, gradient=gradient), color=PALETTE[i], label=name)
    for x in (-delta, delta):
        ax.axvline(x, color=color("black"), linestyle=":", linewidth=1)
    ax.set_xlabel(r"residual $r = \hat{y} - y$")
    ax.set_ylabel(r"$\partial \ell / \partial \hat{y}$" if gradient else r"loss $\ell(r)$")
    ax.legend()
    return ax


def plot_loss_gradients(delta: float = 1.0, *, ax=None, r=None):
    """:func:`plot_regression_losses` with ``gradient=True``."""
    return plot_regression_losses(delta, ax=ax, r=r, gradient=True)


def plot_bce_branches(*, ax=None, points=(0.001, 0.999)):
    r"""Binary cross-entropy of one prediction :math:`p` when :math:`y = 1` and when :math:`y = 0`.

    Parameters
    ----------
    ax : matplotlib Axes, optional
    points : sequence of float
        Predictions to mark on both branches (the confident scenarios).

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    from .. import losses

    if ax is None:
        _, ax = plt.subplots()
    p = np.linspace(0.001, 0.999, 400)
    for i, y in enumerate((1.0, 0.0)):
        values = elementwise(losses.binary_cross_entropy, y, p)
        ax.plot(p, values, color=PALETTE[i], label=rf"$y = {y:g}$: $-\ln {'p' if y else '(1-p)'}$")
        marks = np.asarray(points, dtype=float)
        ax.plot(marks, elementwise(losses.binary_cross_entropy, y, marks), "o", color=PALETTE[i])
    ax.set_xlabel(r"predicted probability $p = \hat{y}$ of class 1")
    ax.set_ylabel("loss (natural log)")
    ax.legend()
    return ax


def plot_outlier_fit(y, delta: float = 1.0, *, ax=None):
    """Targets as dots and, as horizontal lines, the best constant under MSE, MAE and Huber.

    Parameters
    ----------
    y : array_like, shape (N,)
        Targets (one of them, typically, an outlier).
    delta : float
        Huber's threshold.
    ax : matplotlib Axes, optional

    Returns
    -------
    dict
        ``{"ax": ax, "best": {loss name: constant}}``.
    """
    import matplotlib.pyplot as plt

    y = np.asarray(y, dtype=float)
    if ax is None:
        _, ax = plt.subplots()
    ax.plot(np.arange(len(y)), y, "o", color=color("black"), label="targets")
    best = {}
    for i, (name, loss) in enumerate(_regression_losses(delta).items()):
        best[name] = best_constant(loss, y)
        ax.axhline(best[name], color=PALETTE[i], label=f"{name}: {best[name]:.2f}",
                   linestyle=("-", "--", "-.")[i])
    ax.set_xlabel("sample")
    ax.set_ylabel("target / constant prediction")
    ax.legend(fontsize=8)
    return {"ax": ax, "best": best}


def plot_outlier_grid(y_clean, outliers=(0.0, 4.0, 16.0), delta: float = 1.0):
    """Small multiples of :func:`plot_outlier_fit`: the last target moved up by each outlier size.

    Parameters
    ----------
    y_clean : array_like, shape (N,)
        Targets without an outlier.
    outliers : sequence of float
        How far the last target is moved, one panel each.
    delta : float
        Huber's threshold.

    Returns
    -------
    fig, dict
        The figure and ``{outlier: {loss name: best constant}}``.
    """
    from . import new_figure

    fig, axes = new_figure(1, len(outliers), sharey=True)
    results = {}
    for ax, shift in zip(np.atleast_1d(axes), outliers):
        y = np.array(y_clean, dtype=float)
        y[-1] += shift
        results[shift] = plot_outlier_fit(y, delta, ax=ax)["best"]
        ax.set_title(f"last target moved by {shift:g}")
    return fig, results
