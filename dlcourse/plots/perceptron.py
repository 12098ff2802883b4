"""The perceptron's training run as an animation: one frame per update of the Rosenblatt rule.

This is the static (HTML) form of :func:`dlcourse.widgets.perceptron_explorer`:
the book cannot run sliders, but it can replay how each mistake turned and
slid the decision boundary :math:`w_1 x_1 + w_2 x_2 + b = 0`.
"""

from __future__ import annotations

import numpy as np

from . import OKABE_ITO
from .animation import DEFAULT_MAX_FRAMES, animate
from .boundary import plot_line_boundary, plot_points

__all__ = ["training_frames", "animate_training"]


def training_frames(perceptron) -> list:
    """The states to show: the initial zeros, then the trace step after every update.

    Parameters
    ----------
    perceptron : dlcourse.perceptron.Perceptron
        A fitted perceptron (it has ``trace_``).

    Returns
    -------
    list of dict
        Each with ``weights`` (2,), ``bias``, ``epoch``, ``x`` (the sample that caused the
        update, or None for the start) and ``error``.
    """
    if not hasattr(perceptron, "trace_"):
        raise ValueError("perceptron must be fitted (it has no trace_); call fit(X, y) first")
    updates = [s for s in perceptron.trace_ if s.error != 0]
    first = perceptron.trace_[0]
    start_w = first.weights - perceptron.lr * first.error * first.x
    start_b = first.bias - perceptron.lr * first.error
    frames = [{"weights": start_w, "bias": start_b, "epoch": 0, "x": None, "error": 0}]
    frames += [{"weights": s.weights, "bias": s.bias, "epoch": s.epoch, "x": s.x, "error": s.error}
               for s in updates]
    return frames


def animate_training(perceptron, X, y, *, title: str = "Rosenblatt rule",
                     max_frames: int = DEFAULT_MAX_FRAMES, interval: int = 700, alt: str | None = None):
    """Animate a fitted two-input perceptron's boundary after each update.

    Parameters
    ----------
    perceptron : dlcourse.perceptron.Perceptron
        Fitted on ``X`` and ``y``.
    X : array_like, shape (N, 2)
    y : array_like, shape (N,)
    alt : str, optional
        Alt text; by default a description of what the animation shows.

    Returns
    -------
    IPython.display.HTML
        The JavaScript animation (at most ``max_frames`` frames).
    """
    import matplotlib.pyplot as plt

    frames = training_frames(perceptron)
    fig, ax = plt.subplots(figsize=(4.4, 4.0))

    def update(frame):
        ax.clear()
        plot_line_boundary(ax, frame["weights"], frame["bias"], label=None)
        plot_points(ax, X, y, size=90)
        if frame["x"] is not None:
            ax.scatter([frame["x"][0]], [frame["x"][1]], s=420, facecolors="none",
                       edgecolors=OKABE_ITO["vermillion"], linewidths=2.5, zorder=4)
        w = np.round(frame["weights"], 2)
        what = "start" if frame["x"] is None else f"epoch {frame['epoch']}, error {frame['error']:+d}"
        ax.set_title(f"{title}\n{what}: w = {w.tolist()}, b = {frame['bias']:.2f}", fontsize=10)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")

    if alt is None:
        alt = (f"Animation of the perceptron's decision line on the unit square, one frame per "
               f"update of the Rosenblatt rule ({len(frames) - 1} updates), with the sample that "
               "caused each update circled; the line turns and slides until it separates the classes.")
    return animate(fig, update, frames, interval=interval, max_frames=max_frames, alt=alt)
