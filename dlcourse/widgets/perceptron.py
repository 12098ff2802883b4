r"""The perceptron explorer: move :math:`w_1`, :math:`w_2` and :math:`b` and watch the boundary.

The perceptron outputs :math:`\operatorname{step}(w_1 x_1 + w_2 x_2 + b)` with the
strict step of :mod:`dlcourse.activations`; the explorer draws the line
:math:`w_1 x_1 + w_2 x_2 + b = 0`, shades the side where it fires, and reports
the predictions and the accuracy on the chosen logic gate.
"""

from __future__ import annotations

import numpy as np

from ._base import Explorer

__all__ = ["PerceptronExplorer"]


class PerceptronExplorer(Explorer):
    """Sliders ``w1``, ``w2``, ``b`` and a ``gate`` dropdown over the four logic-gate inputs.

    ``state`` holds ``weights`` (2,), ``bias``, ``z`` (4,), ``predictions`` (4,),
    ``targets`` (4,) and ``accuracy``.
    """

    figsize = (4.4, 4.0)

    def __init__(self, gate: str = "AND", w1: float = 1.0, w2: float = 1.0, b: float = -0.5):
        from ..data import GATES

        if str(gate).upper() not in GATES:
            raise ValueError(f"gate must be one of {sorted(GATES)}; got {gate!r}")
        self._initial = {"gate": str(gate).upper(), "w1": float(w1), "w2": float(w2), "b": float(b)}
        super().__init__()

    def _make_controls(self) -> dict:
        import ipywidgets as w

        from ..data import GATES

        slider = dict(min=-2.0, max=2.0, step=0.1, continuous_update=True, readout_format=".1f")
        return {
            "gate": w.Dropdown(options=sorted(GATES), value=self._initial["gate"], description="gate"),
            "w1": w.FloatSlider(value=self._initial["w1"], description="w1", **slider),
            "w2": w.FloatSlider(value=self._initial["w2"], description="w2", **slider),
            "b": w.FloatSlider(value=self._initial["b"], description="b", **slider),
        }

    def _compute(self) -> dict:
        from .. import activations, data

        v = self.values()
        X, y = data.logic_gate(v["gate"])
        weights = np.array([v["w1"], v["w2"]], dtype=float)
        z = X @ weights + v["b"]
        predictions = activations.step(z).astype(int)
        return {"gate": v["gate"], "X": X, "targets": y, "weights": weights, "bias": float(v["b"]),
                "z": z, "predictions": predictions, "accuracy": float(np.mean(predictions == y))}

    def _draw(self) -> None:
        from ..plots.boundary import plot_line_boundary, plot_points

        s = self.state
        ax = self.figure.add_subplot()
        plot_line_boundary(ax, s["weights"], s["bias"], label=None)
        plot_points(ax, s["X"], s["targets"], size=90)
        ax.set_title(f"{s['gate']}: {s['accuracy']:.0%} correct")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")

    def _readout(self) -> str:
        s = self.state
        rows = "".join(f"<tr><td>{x.astype(int).tolist()}</td><td>{z:+.2f}</td><td>{p}</td><td>{t}</td></tr>"
                       for x, z, p, t in zip(s["X"], s["z"], s["predictions"], s["targets"]))
        return ("<table><tr><th>x</th><th>z = w.x + b</th><th>output</th><th>target</th></tr>"
                f"{rows}</table>")
