r"""Activation functions drawn with their derivatives.

Each panel shows :math:`f(z)` as a solid line and :math:`f'(z)` (from the
activation's own ``derivative``, never re-derived here) as a dashed line, so the
reader sees where a function is flat and its gradient vanishes.
"""

from __future__ import annotations

import numpy as np

from . import OKABE_ITO, PALETTE

__all__ = ["DEFAULT_Z", "plot_activation", "plot_activation_grid", "plot_softmax_bars",
           "plot_vanishing_region", "small_derivative_intervals"]

#: The inputs every activation panel uses unless told otherwise.
DEFAULT_Z = np.linspace(-5.0, 5.0, 401)


def _resolve(activation):
    from .. import activations

    return activations.get(activation)


def plot_activation(activation, *, ax=None, z=None, derivative: bool = True, title: str | None = None,
                    legend: bool = True):
    r"""Plot one activation and (dashed) its derivative with respect to :math:`z`.

    Parameters
    ----------
    activation : str or dlcourse.activations.ActivationFunction
        The activation, by name (``"relu"``) or object (``LeakyReLUFunction(alpha=0.1)``).
    ax : matplotlib Axes, optional
    z : array_like, shape (M,), optional
        The inputs (default :data:`DEFAULT_Z`).
    derivative : bool
        Also draw :math:`f'(z)`.

    Returns
    -------
    dict
        ``{"ax": ax, "f": Line2D, "df": Line2D or None}``.
    """
    act = _resolve(activation)
    if act.name in ("softmax", "log_softmax"):
        raise ValueError(f"activation: {act.name} maps a vector to a vector; use plot_softmax_bars instead")
    z = DEFAULT_Z if z is None else np.asarray(z, dtype=float)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(3.4, 2.8))
    (f_line,) = ax.plot(z, act(z), color=PALETTE[0], label="$f(z)$")
    df_line = None
    if derivative:
        (df_line,) = ax.plot(z, act.derivative(z), color=PALETTE[1], ls="--", label="$f'(z)$")
    ax.axhline(0, color=OKABE_ITO["black"], lw=0.6, alpha=0.5)
    ax.axvline(0, color=OKABE_ITO["black"], lw=0.6, alpha=0.5)
    ax.set_title(title if title is not None else act.name)
    ax.set_xlabel("$z$")
    if legend:
        ax.legend(loc="upper left", fontsize=8)
    return {"ax": ax, "f": f_line, "df": df_line}


def plot_activation_grid(names, *, ncols: int = 3, z=None, derivative: bool = True):
    """Small multiples: one :func:`plot_activation` panel per activation in ``names``.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    names = list(names)
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 2.6 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < len(names):
            plot_activation(names[i], ax=ax, z=z, derivative=derivative, legend=(i == 0))
        else:
            ax.set_visible(False)
    return fig


def plot_softmax_bars(scores, *, ax=None, class_names=None):
    """Bar chart of the softmax probabilities of one score vector ``scores`` (K,)."""
    from .. import activations

    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1:
        raise ValueError(f"scores must be one vector of shape (K,); got {scores.shape}")
    probs = activations.softmax(scores)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(3.4, 2.8))
    names = class_names or [f"class {k}" for k in range(scores.shape[0])]
    bars = ax.bar(names, probs, color=PALETTE[: len(names)])
    for bar, s, p in zip(bars, scores, probs):
        ax.annotate(f"z={s:g}\np={p:.2f}", (bar.get_x() + bar.get_width() / 2, p),
                    ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("probability")
    ax.set_title("softmax")
    return ax


def small_derivative_intervals(activation, threshold: float, z=None):
    r"""The intervals of ``z`` where :math:`|f'(z)| <` ``threshold`` (the flat, vanishing-gradient parts).

    Returns
    -------
    list of (float, float)
        Each interval as (start, end) on the grid ``z``.
    """
    act = _resolve(activation)
    z = DEFAULT_Z if z is None else np.asarray(z, dtype=float)
    small = np.abs(act.derivative(z)) < threshold
    intervals, start = [], None
    for zi, flag in zip(z, small):
        if flag and start is None:
            start = zi
        if not flag and start is not None:
            intervals.append((float(start), float(prev)))
            start = None
        prev = zi
    if start is not None:
        intervals.append((float(start), float(z[-1])))
    return intervals


def plot_vanishing_region(activation="sigmoid", threshold: float = 0.05, *, ax=None, z=None):
    r"""Plot an activation and its derivative, shading where :math:`f'(z) <` ``threshold``.

    Returns
    -------
    matplotlib Axes
    """
    z = np.linspace(-10, 10, 801) if z is None else np.asarray(z, dtype=float)
    out = plot_activation(activation, ax=ax, z=z, legend=False)
    ax = out["ax"]
    for i, (lo, hi) in enumerate(small_derivative_intervals(activation, threshold, z)):
        ax.axvspan(lo, hi, color=OKABE_ITO["vermillion"], alpha=0.15,
                   label=f"$f'(z) < {threshold:g}$" if i == 0 else None)
    ax.legend(loc="center left", fontsize=8)
    return ax
