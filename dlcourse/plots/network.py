r"""Diagrams: a single artificial neuron, and a fully connected network drawn layer by layer.

These are drawings, not computations: :func:`draw_neuron` labels the inputs
:math:`x_j`, the weights :math:`w_j`, the sum :math:`z = \sum_j w_j x_j + b` and
the activation :math:`a = f(z)`; :func:`draw_network` draws every unit of every
layer and every connection between neighbouring layers.
"""

from __future__ import annotations

import numpy as np

from . import OKABE_ITO, PALETTE

__all__ = ["draw_neuron", "draw_network"]


def draw_neuron(inputs=None, weights=None, bias=None, *, ax=None, activation_label: str = "f"):
    r"""Draw one neuron: inputs, weighted connections, a summing cell body, and its output.

    Parameters
    ----------
    inputs, weights : array_like, shape (D,), optional
        Numbers to print next to each input and connection (symbols when omitted).
    bias : float, optional
        The bias to print in the cell body.

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 3.2))
    n = len(inputs) if inputs is not None else 3
    ys = np.linspace(0.85, 0.15, n)
    body = np.array([0.55, 0.5])
    for j, yj in enumerate(ys):
        x_label = f"$x_{j + 1} = {inputs[j]:g}$" if inputs is not None else f"$x_{j + 1}$"
        w_label = f"$w_{j + 1} = {weights[j]:g}$" if weights is not None else f"$w_{j + 1}$"
        start = np.array([0.17, yj])
        ax.annotate("", xy=body - [0.07, 0], xytext=start,
                    arrowprops=dict(arrowstyle="->", color=PALETTE[0], lw=1.5))
        ax.text(0.02, yj, x_label, va="center", fontsize=10)
        label_at = start + 0.3 * (body - start)
        ax.text(label_at[0], label_at[1] + 0.04, w_label, fontsize=9, color=PALETTE[0],
                ha="center", va="bottom", bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
    ax.scatter([body[0]], [body[1]], s=2600, c=OKABE_ITO["sky_blue"], edgecolors=OKABE_ITO["black"],
               alpha=0.7, zorder=3)
    ax.text(body[0], body[1], "$\\Sigma + b$", ha="center", va="center", fontsize=11, zorder=4)
    if bias is not None:
        ax.text(body[0], body[1] - 0.16, f"$b = {bias:g}$", ha="center", va="top", fontsize=9)
    ax.annotate("", xy=(0.85, 0.5), xytext=(body[0] + 0.07, 0.5),
                arrowprops=dict(arrowstyle="->", color=PALETTE[1], lw=2))
    ax.text(0.71, 0.53, "$z$", fontsize=11)
    ax.text(0.86, 0.5, f"$a = {activation_label}(z)$", va="center", fontsize=11)
    ax.text(0.02, 0.98, "inputs (dendrites)", fontsize=8, alpha=0.7)
    ax.text(body[0], 0.08, "cell body: sum and activation", fontsize=8, alpha=0.7, ha="center")
    ax.text(0.74, 0.40, "output (axon)", fontsize=8, alpha=0.7)
    ax.text(0.28, 0.98, "weights (synapses)", fontsize=8, color=PALETTE[0], alpha=0.9)
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.02)
    ax.axis("off")
    return ax


def draw_network(layer_sizes, *, ax=None, layer_labels=None, max_units: int = 10):
    """Draw a fully connected network with ``layer_sizes[i]`` units in layer ``i``.

    Layers wider than ``max_units`` are drawn with ``max_units`` circles and a
    note of the true size.

    Returns
    -------
    matplotlib Axes
    """
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"layer_sizes must list at least two positive sizes; got {list(layer_sizes)}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(1.6 * len(sizes) + 1, 3.4))
    if layer_labels is None:
        layer_labels = ["input"] + [f"hidden {i}" for i in range(1, len(sizes) - 1)] + ["output"]
    xs = np.linspace(0.1, 0.9, len(sizes))
    positions = []
    for i, (x, size) in enumerate(zip(xs, sizes)):
        shown = min(size, max_units)
        ys = np.linspace(0.85, 0.15, shown) if shown > 1 else np.array([0.5])
        positions.append([(x, y) for y in ys])
        colour = PALETTE[0] if i == 0 else (PALETTE[1] if i == len(sizes) - 1 else PALETTE[2])
        ax.scatter([x] * shown, ys, s=220, c=colour, edgecolors=OKABE_ITO["black"], zorder=3)
        label = layer_labels[i] + f"\n{size} unit{'s' if size != 1 else ''}"
        ax.text(x, 0.06, label, ha="center", va="top", fontsize=8)
        if size > shown:
            ax.text(x + 0.03, 0.5, "...", fontsize=12)
    for left, right in zip(positions[:-1], positions[1:]):
        for (x0, y0) in left:
            for (x1, y1) in right:
                ax.plot([x0, x1], [y0, y1], color=OKABE_ITO["black"], lw=0.5, alpha=0.35, zorder=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.08, 0.95)
    ax.axis("off")
    return ax
