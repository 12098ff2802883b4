r"""Figures for the optimizers chapter.

Gradient descent on a parabola (one panel per learning rate), learning-rate
schedules, training curves, and optimizer trajectories over the contour lines of
a test surface from :mod:`dlcourse.surfaces`, including the animated optimizer
race (embedded as JavaScript with a capped number of frames, see
:mod:`dlcourse.plots.animation`). The functions only draw: every trajectory and
every number comes from the package's optimizers and surfaces.
"""

from __future__ import annotations

import numpy as np

from . import PALETTE, color

#: Line styles cycled with the palette, so that paths differ in more than colour.
LINESTYLES = ("-", "--", "-.", ":")

__all__ = ["LINESTYLES", "plot_descent_1d", "plot_learning_rate_grid", "plot_schedules", "plot_curves",
           "surface_grid", "plot_contours", "plot_trajectories", "plot_trajectory_grid",
           "race_animation"]


def plot_descent_1d(trace, *, f=np.square, ax=None, title: str | None = None, span: float | None = None):
    r"""A 1-D function and the iterates of gradient descent on it, joined by arrows.

    Parameters
    ----------
    trace : array_like, shape (S,)
        The iterates :math:`x_0, x_1, \dots` (non-finite values are dropped).
    f : callable
        The function, vectorised (default :math:`x^2`).
    ax : matplotlib Axes, optional
    title : str, optional
    span : float, optional
        Half-width of the x-axis; by default the largest finite :math:`|x|` (at least 1).

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    trace = np.asarray(trace, dtype=float)
    trace = trace[np.isfinite(trace)]
    if ax is None:
        _, ax = plt.subplots()
    span = span or max(1.0, float(np.abs(trace).max()) * 1.1)
    grid = np.linspace(-span, span, 301)
    ax.plot(grid, f(grid), color=color("black"), linewidth=1)
    ys = f(trace)
    ax.plot(trace, ys, "o", color=PALETTE[1], markersize=3)
    for x0, y0, x1, y1 in zip(trace[:-1], ys[:-1], trace[1:], ys[1:]):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "->", "color": PALETTE[0], "lw": 0.8})
    ax.set_xlabel("$x$")
    if title:
        ax.set_title(title)
    return ax


def plot_learning_rate_grid(traces: dict, *, f=np.square, span: float = 12.0):
    """Small multiples of :func:`plot_descent_1d`, one panel per learning rate.

    Parameters
    ----------
    traces : dict of float to array_like
        Learning rate to its iterates.
    f : callable
        The function.
    span : float
        Half-width of every panel's x-axis (diverging traces leave the panel).

    Returns
    -------
    matplotlib Figure
    """
    from . import new_figure

    fig, axes = new_figure(1, len(traces), width=min(2.6 * len(traces), 13), height=2.8, sharey=True)
    for ax, (lr, trace) in zip(np.atleast_1d(axes), traces.items()):
        trace = np.asarray(trace, dtype=float)
        shown = trace[: int(np.argmax(np.abs(trace) > span * 1.25)) or len(trace)]
        plot_descent_1d(shown, f=f, ax=ax, span=span, title=rf"$\eta$ = {lr:g}")
        ax.set_xlim(-span * 1.3, span * 1.3)
        ax.set_ylim(-0.05 * f(span), f(span) * 1.45)
        ax.text(0.5, 0.9, f"after {len(trace) - 1} steps:\n$x$ = {trace[-1]:.3g}", transform=ax.transAxes,
                ha="center", va="top", fontsize=8)
    return fig


def plot_schedules(rates: dict, *, ax=None):
    """Learning rate against epoch for several schedules.

    Parameters
    ----------
    rates : dict of str to array_like, shape (E,)
        Schedule name to its learning rate at each epoch.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    for i, (name, lrs) in enumerate(rates.items()):
        ax.step(np.arange(len(lrs)), lrs, where="post", color=PALETTE[i % len(PALETTE)], label=name,
                linestyle=LINESTYLES[i % len(LINESTYLES)])
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    # beside the axes: inside, any corner covers one of the curves
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False, borderaxespad=0.0)
    return ax


def plot_curves(histories: dict, key: str = "val_loss", *, ax=None, x: str = "epoch", logy: bool = False):
    """One curve per training run: ``history[key]`` against the epoch (or ``x`` values).

    Parameters
    ----------
    histories : dict of str to History or array_like
        Run name to a :class:`~dlcourse.callbacks.History` (``history[key]`` is read)
        or directly to the values.
    key : str
        Which number to draw, e.g. ``"loss"`` or ``"val_loss"``.
    ax : matplotlib Axes, optional
    x : str
        Label of the x-axis.
    logy : bool
        Logarithmic y-axis.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    for i, (name, hist) in enumerate(histories.items()):
        values = np.asarray(hist[key] if hasattr(hist, "history") else hist, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, color=PALETTE[i % len(PALETTE)], label=name)
    ax.set_xlabel(x)
    ax.set_ylabel(key)
    if logy:
        from . import log_y

        log_y(ax)
    ax.legend()
    return ax


def surface_grid(surface, resolution: int = 160):
    """Evaluate a test surface on a grid over its plotting box.

    Parameters
    ----------
    surface : dlcourse.surfaces.Surface
        Has ``box`` ``((x_min, x_max), (y_min, y_max))`` and ``value(x, y)``.
    resolution : int
        Grid points per axis.

    Returns
    -------
    X, Y, Z : ndarray, shape (resolution, resolution)
    """
    X, Y, Z = surface.grid(resolution)
    return X, Y, np.asarray(Z, dtype=float)


def plot_contours(surface, *, ax=None, levels: int = 25, resolution: int = 120):
    """Contour lines of a surface (log-spaced above its minimum) and its minimum as a star.

    Parameters
    ----------
    surface : dlcourse.surfaces.Surface
        See :func:`surface_grid`; ``surface.minimum`` (x, y) is marked with a star.
    ax : matplotlib Axes, optional
    levels : int
        Number of contour levels.
    resolution : int
        Grid points per axis.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    X, Y, Z = surface_grid(surface, resolution)
    low = Z.min()
    shifted = Z - low + 1e-3
    lv = np.geomspace(shifted.min() * 1.5, shifted.max(), levels) + low - 1e-3
    ax.contour(X, Y, Z, levels=np.unique(lv), colors=color("black"), linewidths=0.4, alpha=0.45,
               negative_linestyles="solid")
    minimum = getattr(surface, "minimum", None)
    if minimum is not None:
        # white-edged and above every path, so that no path hides where the minimum is
        ax.plot(*np.asarray(minimum, dtype=float), "*", color=color("black"), markersize=13,
                markeredgecolor="white", markeredgewidth=1.0, zorder=10)
    (x0, x1), (y0, y1) = surface.box
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.grid(False)
    return ax


def plot_trajectories(surface, paths: dict, *, ax=None, upto: int | None = None, legend: bool = True,
                      levels: int = 25, resolution: int = 120):
    """Optimizer paths over the contours of ``surface``.

    Parameters
    ----------
    surface : dlcourse.surfaces.Surface
    paths : dict of str to array_like, shape (S, 2)
        Optimizer name to its iterates (the start first).
    ax : matplotlib Axes, optional
    upto : int, optional
        Draw only the first ``upto`` points of each path (for animation frames).
    legend : bool
    levels, resolution : int
        Passed to :func:`plot_contours`.

    Returns
    -------
    dict
        ``{"ax": ax, "lines": {name: Line2D}}``.
    """
    ax = plot_contours(surface, ax=ax, levels=levels, resolution=resolution)
    lines = {}
    for i, (name, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=float)[: upto]
        (line,) = ax.plot(path[:, 0], path[:, 1], LINESTYLES[i % len(LINESTYLES)], label=name,
                          color=PALETTE[i % len(PALETTE)], linewidth=1.5, marker="o", markersize=4,
                          markevery=[len(path) - 1])
        lines[name] = line
    if paths:
        start = np.asarray(next(iter(paths.values())), dtype=float)[0]
        ax.plot(*start, "o", color=color("black"), markersize=5)
    if legend:
        ax.legend(loc="upper left", fontsize=7, framealpha=0.8, frameon=True)
    return {"ax": ax, "lines": lines}


def plot_trajectory_grid(runs: dict, *, ncols: int = 2):
    """Small multiples: one panel per surface with every optimizer's path.

    Parameters
    ----------
    runs : dict of str to (surface, dict of str to ndarray)
        Panel title to the surface and its paths.
    ncols : int

    Returns
    -------
    matplotlib Figure
    """
    from . import new_figure

    nrows = -(-len(runs) // ncols)
    fig, axes = new_figure(nrows, ncols, width=10, height=4.0 * nrows)
    axes = np.atleast_1d(axes).ravel()
    drawn = None
    for ax, (title, (surface, paths)) in zip(axes, runs.items()):
        drawn = plot_trajectories(surface, paths, ax=ax, legend=False)
        ax.set_title(title)
    for ax in axes[len(runs):]:
        ax.set_visible(False)
    if drawn is not None and drawn["lines"]:
        # one legend for all panels, below them, where it covers no path
        fig.legend(list(drawn["lines"].values()), list(drawn["lines"]), loc="outside lower center",
                   ncol=min(4, len(drawn["lines"])), fontsize=9, frameon=False)
    return fig


def race_animation(surface, paths: dict, *, alt: str | None = None, max_frames: int = 16,
                   interval: int = 250, title: str = "", size=(7.0, 4.2), dpi: int = 64):
    """The optimizer race: every path grows step by step over the contours.

    Parameters
    ----------
    surface : dlcourse.surfaces.Surface
    paths : dict of str to array_like, shape (S, 2)
        All paths should have the same number of steps S.
    alt : str, optional
        Alt text of the animation (what it shows); by default it names the optimizers.
    max_frames : int
        Cap on stored frames (see :func:`dlcourse.plots.animation.cap_frames`).
    interval : int
        Milliseconds between frames.
    title : str
    size : tuple of float
        Figure size in inches.
    dpi : int
        Resolution of the stored frames (lower keeps the page light).

    Returns
    -------
    IPython.display.HTML
        The animation with its JavaScript player.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from .animation import animate

    fig, ax = plt.subplots(figsize=size)
    drawn = plot_trajectories(surface, paths, ax=ax, upto=1, levels=15, resolution=70, legend=False)
    # the legend sits beside the plot in a readable size, not over the paths
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, frameon=False, borderaxespad=0.0)
    arrays = {name: np.asarray(p, dtype=float) for name, p in paths.items()}
    steps = max(len(p) for p in arrays.values())

    def update(frame):
        for name, line in drawn["lines"].items():
            part = arrays[name][: frame + 1]
            line.set_data(part[:, 0], part[:, 1])
            line.set_markevery([len(part) - 1])
        ax.set_title(f"{title} step {frame}".strip())

    if alt is None:
        alt = (f"Animation of {len(arrays)} optimizer paths ({', '.join(arrays)}) growing step by step "
               f"over the contour lines of the {getattr(surface, 'name', 'test')} surface.")
    with mpl.rc_context({"savefig.dpi": dpi}):
        return animate(fig, update, list(range(steps)), alt=alt, interval=interval, max_frames=max_frames,
                       default_mode="once")
