r"""The activation explorer: a function, its derivative, and the tangent at a point :math:`z_0`.

The tangent :math:`f(z_0) + f'(z_0)(z - z_0)` makes the derivative visible: where it
is flat, a unit passes back (almost) no gradient.
"""

from __future__ import annotations

import numpy as np

from ._base import Explorer

__all__ = ["ActivationExplorer", "ELEMENTWISE", "activation_for"]

def _elementwise() -> tuple:
    from .. import activations

    return tuple(name for name, act in activations.ACTIVATIONS.items() if act.elementwise)


#: The element-wise activations the explorer offers, from the registry (softmax maps
#: vectors, so it is left out).
ELEMENTWISE = _elementwise()


def activation_for(name: str, alpha: float):
    """The activation object for ``name``, with ``alpha`` for those that take one (leaky ReLU, ELU)."""
    from .. import activations

    if name not in ELEMENTWISE:
        raise ValueError(f"name must be one of {ELEMENTWISE}; got {name!r}")
    act = activations.get(name)
    return activations.get(act, alpha=alpha) if "alpha" in act.params else act


class ActivationExplorer(Explorer):
    """Controls ``name`` (dropdown), ``alpha`` (leaky ReLU / ELU) and ``z0`` (the tangent point).

    ``state`` holds ``activation`` (the object), ``z0``, ``value`` :math:`f(z_0)` and
    ``slope`` :math:`f'(z_0)`.
    """

    figsize = (5.2, 3.6)
    z = np.linspace(-5.0, 5.0, 401)

    def __init__(self, name: str = "sigmoid", z0: float = 0.0, alpha: float = 0.1):
        if name not in ELEMENTWISE:
            raise ValueError(f"name must be one of {ELEMENTWISE}; got {name!r}")
        self._initial = {"name": name, "z0": float(z0), "alpha": float(alpha)}
        super().__init__()

    def _make_controls(self) -> dict:
        import ipywidgets as w

        return {
            "name": w.Dropdown(options=list(ELEMENTWISE), value=self._initial["name"], description="f"),
            "alpha": w.FloatSlider(value=self._initial["alpha"], min=0.0, max=1.0, step=0.01,
                                   description="alpha"),
            "z0": w.FloatSlider(value=self._initial["z0"], min=-5.0, max=5.0, step=0.1, description="z0"),
        }

    def _compute(self) -> dict:
        v = self.values()
        act = activation_for(v["name"], v["alpha"])
        self.controls["alpha"].disabled = v["name"] not in ("leaky_relu", "elu")
        z0 = float(v["z0"])
        return {"name": v["name"], "activation": act, "z0": z0,
                "value": float(act(z0)), "slope": float(act.derivative(z0))}

    def _draw(self) -> None:
        from ..plots.activations import plot_activation

        s = self.state
        ax = self.figure.add_subplot()
        plot_activation(s["activation"], ax=ax, z=self.z, title=s["name"])
        near = np.abs(self.z - s["z0"]) <= 1.5
        ax.plot(self.z[near], s["value"] + s["slope"] * (self.z[near] - s["z0"]), color="black",
                lw=1.2, ls=":", label="tangent at $z_0$")
        ax.scatter([s["z0"]], [s["value"]], color="black", zorder=5)
        ax.legend(loc="upper left", fontsize=8)

    def _readout(self) -> str:
        s = self.state
        return f"f({s['z0']:.1f}) = {s['value']:.4f} &nbsp;&nbsp; f'({s['z0']:.1f}) = {s['slope']:.4f}"
