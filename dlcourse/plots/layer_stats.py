"""What happens inside a deep network: activation histograms and gradient sizes per layer.

:func:`plot_activation_histograms` shows, for several networks, how the
activations of chosen hidden layers are spread (the effect of weight
initialisation); :func:`plot_gradient_norms` shows how large each layer's weight
gradient is (vanishing gradients). The numbers come from forward passes of the
networks themselves and from :mod:`dlcourse.diagnostics`.
"""

from __future__ import annotations

import numpy as np

from . import PALETTE

__all__ = ["hidden_activations", "plot_activation_histograms", "plot_gradient_norms"]


def hidden_activations(net, X) -> list[np.ndarray]:
    """The outputs of every activation layer of ``net`` for the batch ``X`` (N, D), in order.

    Returns
    -------
    list of ndarray, each shape (N, units)
    """
    from ..layers import Activation

    outputs, a = [], np.asarray(X, dtype=float)
    for layer in net.layers:
        a = layer.forward(a, training=False)
        if isinstance(layer, Activation):
            outputs.append(a)
    return outputs


def plot_activation_histograms(nets: dict, X, *, layers=(1, 4, 7, 10), bins: int = 40):
    """A grid of histograms: one row per network, one column per hidden layer in ``layers`` (from 1).

    The panels of a row share their horizontal axis and their bins, so a signal that
    shrinks from layer to layer shows as a histogram that narrows to a spike at zero.

    Parameters
    ----------
    nets : dict of str to Sequential
        Row label -> network.
    X : array_like, shape (N, D)
        The batch sent through every network.
    layers : tuple of int
        Which hidden (activation) layers to show, counted from 1.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(nets), len(layers), figsize=(2.3 * len(layers) + 1, 1.45 * len(nets) + 0.6),
                             squeeze=False, sharex="row")
    for row, (label, net) in enumerate(nets.items()):
        acts = hidden_activations(net, X)
        shown = [acts[layer_no - 1].ravel() for layer_no in layers]
        lo = min(v.min() for v in shown)
        hi = max(v.max() for v in shown)
        edges = np.linspace(lo, hi, bins + 1) if hi > lo else np.linspace(lo - 0.5, hi + 0.5, bins + 1)
        for col, (layer_no, values) in enumerate(zip(layers, shown)):
            ax = axes[row, col]
            ax.hist(values, bins=edges, color=PALETTE[row % len(PALETTE)], alpha=0.85)
            ax.text(0.97, 0.9, f"std {values.std():.2g}", transform=ax.transAxes, ha="right", fontsize=8)
            ax.set_yticks([])
            ax.tick_params(labelsize=7)
            if row == 0:
                ax.set_title(f"hidden layer {layer_no}", fontsize=9)
            if col == 0:
                ax.set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    return fig


def plot_gradient_norms(norms: dict, *, ax=None):
    """Line plot, log scale: the weight-gradient norm of each hidden layer, one line per network.

    Parameters
    ----------
    norms : dict of str to sequence of float
        Network label -> gradient norm of hidden layers 1, 2, ...

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.0, 3.6))
    markers = ("o", "s", "^", "D")
    for i, (label, values) in enumerate(norms.items()):
        values = np.asarray(values, dtype=float)
        ax.semilogy(np.arange(1, len(values) + 1), values, marker=markers[i % 4],
                    color=PALETTE[i % len(PALETTE)], label=label)
    ax.set_xlabel("hidden layer (1 = nearest the input)")
    ax.set_ylabel(r"$\|\partial L / \partial W\|$")
    ax.legend()
    return ax
