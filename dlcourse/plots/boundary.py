"""Decision boundaries of two-feature classifiers, and the data they separate.

A classifier with two inputs splits the plane into regions, one per predicted
class. :func:`plot_decision_boundary` evaluates the classifier on a grid,
colours each region in the class's palette colour and draws the samples on top
(colour *and* marker per class, so the figure reads without colour).
:func:`plot_line_boundary` draws the straight line :math:`w_1 x_1 + w_2 x_2 + b = 0`
of a single perceptron, which needs no grid at all.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import CLASS_COLORS, CLASS_MARKERS, OKABE_ITO

__all__ = ["grid_for", "plot_points", "plot_decision_boundary", "line_points", "plot_line_boundary"]


def _check_2d_features(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2) (two features to plot); got {X.shape}")
    return X


def grid_for(X, resolution: int = 200, padding: float = 0.5):
    """A regular grid covering the samples ``X`` (N, 2) plus ``padding`` on each side.

    Returns
    -------
    xx, yy : ndarray, shape (resolution, resolution)
        The grid coordinates (``numpy.meshgrid`` order).
    points : ndarray, shape (resolution * resolution, 2)
        The same points as rows, ready for a classifier.
    """
    X = _check_2d_features(X)
    lo = X.min(axis=0) - padding
    hi = X.max(axis=0) + padding
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def plot_points(ax, X, y, *, labels=None, size: float = 40, edgecolor: str = "white"):
    """Scatter the samples ``X`` (N, 2) with integer labels ``y`` (N,), one colour and marker per class."""
    X = _check_2d_features(X)
    y = np.asarray(y).reshape(-1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one label per row of X ({X.shape[0]}); got shape {y.shape}")
    for k in np.unique(y):
        k = int(k)
        mask = y == k
        label = labels[k] if labels is not None else f"class {k}"
        ax.scatter(X[mask, 0], X[mask, 1], s=size, c=CLASS_COLORS[k % len(CLASS_COLORS)],
                   marker=CLASS_MARKERS[k % len(CLASS_MARKERS)], edgecolors=edgecolor,
                   linewidths=0.8, label=label, zorder=3)
    return ax


def _labels_from(output: np.ndarray, n_points: int) -> np.ndarray:
    """Turn a classifier's output on the grid into integer labels of shape (M,)."""
    out = np.asarray(output)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    out = out.reshape(-1)
    if out.shape[0] != n_points:
        raise ValueError(f"the classifier returned {out.shape[0]} values for {n_points} grid points")
    if out.dtype.kind == "f" and np.all((out >= 0) & (out <= 1)) and not np.all(np.isin(out, (0, 1))):
        return (out > 0.5).astype(int)   # probabilities of class 1
    return out.astype(int)


def plot_decision_boundary(predict: Callable, X, y, *, ax=None, resolution: int = 200,
                           padding: float = 0.5, title: str | None = None, labels=None,
                           alpha: float = 0.25, legend: bool = True):
    """Colour the regions a classifier assigns to each class, with the samples on top.

    Parameters
    ----------
    predict : callable
        ``predict(points)`` for ``points`` of shape (M, 2); returns labels (M,),
        probabilities of class 1 (M,) or (M, 1), or class scores (M, K) (argmax taken).
    X : array_like, shape (N, 2)
        The samples to draw.
    y : array_like, shape (N,)
        Their integer labels.
    ax : matplotlib Axes, optional
        Where to draw (a new figure when omitted).
    resolution : int
        Grid points per axis.
    padding : float
        Margin around the samples.

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.colors import ListedColormap

    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(4.2, 3.8))
    xx, yy, points = grid_for(X, resolution, padding)
    regions = _labels_from(predict(points), points.shape[0]).reshape(xx.shape)
    n_classes = int(max(regions.max(), np.max(y))) + 1
    cmap = ListedColormap([CLASS_COLORS[k % len(CLASS_COLORS)] for k in range(n_classes)])
    ax.contourf(xx, yy, regions, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=alpha)
    ax.contour(xx, yy, regions, levels=np.arange(n_classes) + 0.5, colors=OKABE_ITO["black"],
               linewidths=1.0)
    plot_points(ax, X, y, labels=labels)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(False)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc="best", fontsize=8)
    return ax


def line_points(weights, bias, xlim):
    r"""Two points on the line :math:`w_1 x_1 + w_2 x_2 + b = 0` spanning ``xlim``.

    Returns ``None`` when both weights are zero (then there is no line: the
    perceptron says the same thing everywhere). A vertical line (:math:`w_2 = 0`)
    is returned as two points with equal :math:`x_1`.

    Returns
    -------
    ndarray, shape (2, 2) or None
        Rows are the points :math:`(x_1, x_2)`.
    """
    w = np.asarray(weights, dtype=float).reshape(-1)
    if w.shape != (2,):
        raise ValueError(f"weights must hold two numbers (w1, w2); got shape {w.shape}")
    w1, w2 = w
    b = float(bias)
    if w1 == 0 and w2 == 0:
        return None
    if abs(w2) < 1e-12:
        x1 = -b / w1
        return np.array([[x1, -1e3], [x1, 1e3]])
    x1 = np.asarray(xlim, dtype=float)
    return np.column_stack([x1, -(w1 * x1 + b) / w2])


def plot_line_boundary(ax, weights, bias, *, xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), shade: bool = True,
                       color: str = OKABE_ITO["black"], label: str | None = "boundary"):
    r"""Draw a perceptron's boundary :math:`w \cdot x + b = 0` and shade the side where it fires.

    Returns
    -------
    dict
        ``{"line": Line2D or None, "fill": the shaded region's artist or None}`` so an
        explorer or animation can update them.
    """
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    artists = {"line": None, "fill": None}
    if shade:
        xx, yy = np.meshgrid(np.linspace(*xlim, 120), np.linspace(*ylim, 120))
        w = np.asarray(weights, dtype=float).reshape(-1)
        fires = (w[0] * xx + w[1] * yy + float(bias)) > 0
        artists["fill"] = ax.contourf(xx, yy, fires.astype(float), levels=[-0.5, 0.5, 1.5],
                                      colors=[CLASS_COLORS[0], CLASS_COLORS[1]], alpha=0.18)
    pts = line_points(weights, bias, xlim)
    if pts is not None:
        (artists["line"],) = ax.plot(pts[:, 0], pts[:, 1], color=color, lw=2, label=label)
    return artists
