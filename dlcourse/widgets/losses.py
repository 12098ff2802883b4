r"""The loss explorer: how one outlier pulls the best constant under MSE, MAE and Huber.

A handful of targets, the last of which is moved up by ``outlier``; the explorer
finds the constant prediction :math:`c` that minimises each loss (the mean for
MSE, a median for MAE, something in between for Huber with threshold
:math:`\delta`) and draws them over the targets. The static form in the book is
:func:`dlcourse.plots.losses.plot_outlier_grid`.
"""

from __future__ import annotations

import numpy as np

from ._base import Explorer

__all__ = ["DEFAULT_TARGETS", "LossExplorer", "loss_explorer", "targets_with_outlier"]

#: The targets without an outlier (seven values near 1).
DEFAULT_TARGETS = (1.0, 1.3, 0.8, 1.1, 0.9, 1.2, 1.0)


def targets_with_outlier(outlier: float, targets=DEFAULT_TARGETS) -> np.ndarray:
    """``targets`` as a float array (N,) with the last one moved up by ``outlier``."""
    y = np.array(targets, dtype=float)
    if y.ndim != 1 or y.size < 2:
        raise ValueError(f"targets must be a 1-D sequence of at least 2 numbers; got shape {y.shape}")
    y[-1] += float(outlier)
    return y


class LossExplorer(Explorer):
    """Controls ``outlier`` (how far the last target moves) and ``delta`` (Huber's threshold).

    ``state`` holds ``targets`` (N,), ``best`` (loss name to its best constant),
    ``mean`` and ``median`` of the targets.
    """

    figsize = (5.4, 3.6)

    def __init__(self, outlier: float = 4.0, delta: float = 1.0, targets=DEFAULT_TARGETS):
        if not delta > 0:
            raise ValueError(f"delta must be positive; got {delta!r}")
        self._initial = {"outlier": float(outlier), "delta": float(delta)}
        self._targets = tuple(float(t) for t in targets)
        super().__init__()

    def _make_controls(self) -> dict:
        import ipywidgets as w

        return {
            "outlier": w.FloatSlider(value=self._initial["outlier"], min=0.0, max=20.0, step=0.5,
                                     description="outlier"),
            "delta": w.FloatSlider(value=self._initial["delta"], min=0.1, max=5.0, step=0.1,
                                   description="Huber δ"),
        }

    def _compute(self) -> dict:
        from .. import losses
        from ..plots.losses import best_constant

        v = self.values()
        y = targets_with_outlier(v["outlier"], self._targets)
        best = {"MSE": best_constant(losses.mse, y), "MAE": best_constant(losses.mae, y),
                "Huber": best_constant(losses.Huber(delta=v["delta"]), y)}
        return {"targets": y, "best": best, "delta": float(v["delta"]),
                "mean": float(y.mean()), "median": float(np.median(y))}

    def _draw(self) -> None:
        from ..plots.losses import plot_outlier_fit

        ax = self.figure.add_subplot()
        plot_outlier_fit(self.state["targets"], self.state["delta"], ax=ax)
        ax.set_title("best constant prediction under each loss")

    def _readout(self) -> str:
        s = self.state
        parts = " &nbsp; ".join(f"{name}: {c:.3f}" for name, c in s["best"].items())
        return f"{parts} &nbsp; (mean {s['mean']:.3f}, median {s['median']:.3f})"


def loss_explorer(outlier: float = 4.0, delta: float = 1.0) -> LossExplorer:
    """Build (and, as the last line of a cell, display) a :class:`LossExplorer`."""
    return LossExplorer(outlier=outlier, delta=delta)
