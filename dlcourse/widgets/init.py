r"""The initialisation explorer: how the spread of activations changes with depth.

For a chosen activation, initialiser and depth it builds a deep stack with
:func:`dlcourse.diagnostics.deep_mlp`, sends a fixed batch of standard-normal
inputs through it and plots each hidden layer's output standard deviation (from
:func:`dlcourse.diagnostics.layer_statistics`) and the last hidden layer's histogram.
"""

from __future__ import annotations

import numpy as np

from ._base import Explorer

__all__ = ["InitExplorer", "INITS", "ACTIVATIONS"]

INITS = ("zeros", "normal", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform")
ACTIVATIONS = ("tanh", "sigmoid", "relu", "leaky_relu")


class InitExplorer(Explorer):
    """Controls ``activation``, ``init``, ``depth`` and ``width``.

    ``state`` holds ``stds`` (one output standard deviation per hidden layer) and
    ``last`` (the last hidden layer's outputs, shape (N, width)).
    """

    figsize = (7.6, 3.2)

    def __init__(self, activation: str = "tanh", init: str = "xavier_normal", depth: int = 10,
                 width: int = 100, n_samples: int = 300, seed: int = 0):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}; got {init!r}")
        self._initial = {"activation": activation, "init": init, "depth": int(depth), "width": int(width)}
        self._n_samples, self._seed = int(n_samples), seed
        super().__init__()

    def _make_controls(self) -> dict:
        import ipywidgets as w

        return {
            "activation": w.Dropdown(options=list(ACTIVATIONS), value=self._initial["activation"],
                                     description="activation"),
            "init": w.Dropdown(options=list(INITS), value=self._initial["init"], description="init"),
            "depth": w.IntSlider(value=self._initial["depth"], min=1, max=30, description="depth"),
            "width": w.IntSlider(value=self._initial["width"], min=10, max=300, step=10, description="width"),
        }

    def _compute(self) -> dict:
        from .. import diagnostics

        v = self.values()
        X = np.random.default_rng(self._seed).normal(size=(self._n_samples, v["width"]))
        net = diagnostics.deep_mlp(v["depth"], v["width"], v["width"], 1, activation=v["activation"],
                                   init=v["init"], seed=self._seed)
        rows = [r for r in diagnostics.layer_statistics(net, X) if r.name.startswith("Activation")]
        a = X
        for layer in net.layers[:-1]:
            a = layer.forward(a, training=False)
        return {**v, "stds": [r.output_std for r in rows], "last": a}

    def _draw(self) -> None:
        from ..plots import PALETTE

        s = self.state
        left, right = self.figure.subplots(1, 2)
        stds = np.asarray(s["stds"])
        left.plot(np.arange(1, len(stds) + 1), np.maximum(stds, 1e-300), marker="o", color=PALETTE[0])
        left.set_yscale("log")
        left.set_xlabel("hidden layer")
        left.set_ylabel("std of activations")
        left.set_title(f"{s['activation']}, {s['init']}")
        right.hist(s["last"].ravel(), bins=40, color=PALETTE[1])
        right.set_title(f"layer {s['depth']}: std {stds[-1]:.2g}")
        right.set_yticks([])

    def _readout(self) -> str:
        stds = self.state["stds"]
        return f"std of layer 1: {stds[0]:.3g} &nbsp;&nbsp; std of layer {len(stds)}: {stds[-1]:.3g}"
