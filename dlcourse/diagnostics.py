r"""Per-layer activation and gradient statistics: vanishing gradients as numbers.

Backpropagation multiplies one local derivative per layer. A sigmoid's derivative is
at most :math:`\sigma'(0) = 1/4`, so through :math:`L` sigmoid layers the gradient
can shrink like :math:`4^{-L}`; ReLU layers (derivative 1 where active) with He
initialisation keep its scale. :func:`layer_statistics` runs one forward and one
backward pass and reports, layer by layer, how large the activations and the
gradients are, so a chapter can print or plot the decay.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .layers import Activation, Dense
from .network import Sequential

__all__ = ["LayerStats", "layer_statistics", "format_statistics", "deep_mlp"]


class LayerStats(NamedTuple):
    """Numbers about one layer after a forward and a backward pass (NaN where they do not apply)."""

    index: int                 #: position in the network
    name: str                  #: the layer's repr
    output_mean: float         #: mean of the layer's output
    output_std: float          #: standard deviation of the output
    fraction_zero: float       #: share of outputs exactly 0 (inactive ReLUs)
    fraction_saturated: float  #: share of sigmoid/tanh outputs within 1% of their limits
    grad_output_std: float     #: std of dL/d(output), the gradient arriving from above
    grad_output_mean_abs: float  #: mean of the absolute values of dL/d(output)
    weight_grad_norm: float    #: Frobenius norm of dL/dW (Dense layers)
    weight_grad_mean_abs: float  #: mean of the absolute values of dL/dW (Dense layers)


def _saturation(layer, out) -> float:
    name = getattr(getattr(layer, "fn", None), "name", None)
    if name == "sigmoid":
        return float(np.mean((out < 0.01) | (out > 0.99)))
    if name == "tanh":
        return float(np.mean(np.abs(out) > 0.99))
    return float("nan")


def _start_gradient(net, outputs, X, y, loss):
    """The gradient that starts the backward pass, and how many output layers the loss folds in."""
    if y is None:
        # no targets: backpropagate d(mean of outputs)/d(output), a neutral probe
        return np.full_like(outputs[-1], 1.0 / outputs[-1].size), 0
    from . import train

    network, loss_fn = train.fold_output_layer(net, loss)
    skip = len(net.layers) - len(network.layers)
    out = outputs[-1 - skip]
    y = train.check_targets(loss_fn, y, X.shape[0], int(np.prod(out.shape[1:])))
    return loss_fn.gradient(y, out), skip


def layer_statistics(net: Sequential, X, y=None, loss="cross_entropy_with_logits",
                     training: bool = True) -> list[LayerStats]:
    """Statistics of every layer's output and gradient for one batch.

    Parameters
    ----------
    net : Sequential
    X : ndarray, shape (N, D)
    y : ndarray, optional
        Targets; with ``loss`` they start the backward pass. Without them the backward
        pass starts from the gradient of the mean output.
    loss : str or loss object
    training : bool
        Forward mode (batch statistics and dropout masks when True).

    Returns
    -------
    list of LayerStats, one per layer, input side first.
    """
    X, _ = net._check_X(X)
    outputs, a = [], X
    for layer in net.layers:
        a = layer.forward(a, training)
        outputs.append(a)
    grad, skip = _start_gradient(net, outputs, X, y, loss)
    grads = [None] * len(net.layers)
    if skip:
        grads[-1] = np.full_like(a, np.nan)  # folded into the loss
    for i in range(len(net.layers) - 1 - skip, -1, -1):
        grads[i] = grad
        grad = net.layers[i].backward(grad, need_dx=True)
    rows = []
    for i, (layer, out, g) in enumerate(zip(net.layers, outputs, grads)):
        w = getattr(layer, "W", None)
        wg = w.grad if isinstance(layer, Dense) and w.grad is not None else None
        rows.append(LayerStats(
            i, repr(layer), float(out.mean()), float(out.std()), float(np.mean(out == 0)),
            _saturation(layer, out), float(np.std(g)), float(np.mean(np.abs(g))),
            float(np.linalg.norm(wg)) if wg is not None else float("nan"),
            float(np.mean(np.abs(wg))) if wg is not None else float("nan"),
        ))
    return rows


def format_statistics(rows: list[LayerStats], dense_only: bool = False) -> str:
    """A text table of :func:`layer_statistics` (optionally only the Dense layers)."""
    head = f"{'#':>3} {'layer':<36}{'out mean':>10}{'out std':>10}{'zero':>7}{'sat':>7}{'|dL/dW| mean':>14}"
    lines = [head, "-" * len(head)]
    for r in rows:
        if dense_only and not r.name.startswith("Dense"):
            continue
        lines.append(f"{r.index:>3} {r.name[:35]:<36}{r.output_mean:>10.3g}{r.output_std:>10.3g}"
                     f"{r.fraction_zero:>7.2f}{r.fraction_saturated:>7.2f}{r.weight_grad_mean_abs:>14.3e}")
    return "\n".join(lines)


def deep_mlp(depth: int, width: int, in_features: int, out_features: int, activation="sigmoid",
             init="xavier_normal", seed=None) -> Sequential:
    """A stack of ``depth`` hidden Dense+activation layers of ``width`` units and a linear output.

    For the vanishing-gradient demo: ``deep_mlp(10, 32, 2, 2, "sigmoid", "normal")`` against
    ``deep_mlp(10, 32, 2, 2, "relu", "he_normal")``.
    """
    if depth < 1 or width < 1:
        raise ValueError(f"depth and width must be >= 1; got depth={depth!r}, width={width!r}")
    from .init import as_generator

    rng = as_generator(seed)
    layers, d = [], in_features
    for _ in range(depth):
        layers += [Dense(d, width, init=init, rng=rng), Activation(activation)]
        d = width
    layers.append(Dense(d, out_features, init=init, rng=rng))
    return Sequential(layers)
