r"""Explorers for the optimizers chapter: the learning rate, and optimizers on test surfaces.

:class:`LearningRateExplorer` runs :class:`~dlcourse.optim.SGD` on
:math:`f(x) = x^2` (each step multiplies :math:`x` by :math:`1 - 2\eta`) and
draws the iterates; :class:`OptimizerExplorer` runs any optimizer of
:mod:`dlcourse.optim` on a surface of :mod:`dlcourse.surfaces` and draws its path.
Their static forms in the book are
:func:`dlcourse.plots.optim.plot_learning_rate_grid` and the optimizer race
(:func:`dlcourse.plots.optim.race_animation`).
"""

from __future__ import annotations

import numpy as np

from ._base import Explorer

__all__ = ["gradient_descent_trace", "classify_learning_rate", "LearningRateExplorer",
           "OptimizerExplorer", "learning_rate_explorer", "optimizer_explorer", "MOMENTUM_OPTIMIZERS"]

#: Optimizers of :mod:`dlcourse.optim` that take a ``momentum`` argument.
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")


def gradient_descent_trace(lr: float, steps: int, x0: float = 10.0) -> np.ndarray:
    r"""Iterates of :class:`~dlcourse.optim.SGD` on :math:`f(x) = x^2` from ``x0``.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\eta \ge 0`.
    steps : int
        Number of updates.
    x0 : float
        Start.

    Returns
    -------
    ndarray, shape (steps + 1,)
        :math:`x_0, \dots, x_{\text{steps}}`, equal to :math:`x_0 (1 - 2\eta)^k`.
    """
    from .. import optim
    from ..parameter import Parameter

    x = Parameter(np.array(float(x0)), "x")
    opt = optim.SGD([x], lr=lr)
    trace = [float(x.data)]
    for _ in range(int(steps)):
        x.grad = 2.0 * x.data
        opt.step()
        trace.append(float(x.data))
    return np.array(trace)


def classify_learning_rate(lr: float) -> str:
    r"""What gradient descent on :math:`x^2` does at rate :math:`\eta`: one of four words.

    ``"too small"`` below 0.05 (fewer than a tenth of the distance per step), ``"converges"``
    for :math:`\eta < 0.5`, ``"oscillates"`` for :math:`0.5 < \eta < 1` (and ``"converges"``
    at exactly 0.5), ``"diverges"`` for :math:`\eta > 1` (``"oscillates"`` forever at 1).
    """
    if lr < 0:
        raise ValueError(f"lr must be >= 0; got {lr!r}")
    if lr < 0.05:
        return "too small"
    if lr <= 0.5:
        return "converges"
    if lr <= 1.0:
        return "oscillates"
    return "diverges"


class LearningRateExplorer(Explorer):
    """Controls ``lr`` and ``steps``; ``state`` holds ``trace``, ``final`` and ``behaviour``."""

    figsize = (5.4, 3.6)

    def __init__(self, lr: float = 0.1, steps: int = 20, x0: float = 10.0):
        self._initial = {"lr": float(lr), "steps": int(steps)}
        self.x0 = float(x0)
        super().__init__()

    def _make_controls(self) -> dict:
        import ipywidgets as w

        return {
            "lr": w.FloatSlider(value=self._initial["lr"], min=0.0, max=1.1, step=0.01,
                                description="η", readout_format=".2f"),
            "steps": w.IntSlider(value=self._initial["steps"], min=1, max=50, description="steps"),
        }

    def _compute(self) -> dict:
        v = self.values()
        trace = gradient_descent_trace(v["lr"], v["steps"], self.x0)
        return {"lr": float(v["lr"]), "trace": trace, "final": float(trace[-1]),
                "behaviour": classify_learning_rate(v["lr"])}

    def _draw(self) -> None:
        from ..plots.optim import plot_descent_1d

        ax = self.figure.add_subplot()
        span = abs(self.x0) * 1.3
        trace = self.state["trace"]
        shown = trace[np.abs(trace) <= span]
        plot_descent_1d(shown, ax=ax, span=span,
                        title=f"η = {self.state['lr']:.2f}: {self.state['behaviour']}")
        ax.set_xlim(-span, span)

    def _readout(self) -> str:
        s = self.state
        return f"x after {len(s['trace']) - 1} steps: {s['final']:.4g} &nbsp; f(x) = {s['final'] ** 2:.4g}"


class OptimizerExplorer(Explorer):
    """Controls ``surface``, ``optimizer``, ``lr`` (log scale), ``momentum`` and ``steps``.

    ``state`` holds the :class:`~dlcourse.surfaces.Trajectory` (``trajectory``), the
    ``surface`` object, the ``final`` value and its ``gap`` above the minimum.
    """

    figsize = (5.4, 4.2)

    def __init__(self, surface: str = "rosenbrock", optimizer: str = "adam", lr: float = 0.1,
                 momentum: float = 0.9, steps: int = 200):
        from .. import optim, surfaces

        if surface not in surfaces.SURFACES:
            raise ValueError(f"surface must be one of {sorted(surfaces.SURFACES)}; got {surface!r}")
        if optimizer not in optim.OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(optim.OPTIMIZERS)}; got {optimizer!r}")
        self._initial = {"surface": surface, "optimizer": optimizer, "lr": float(lr),
                         "momentum": float(momentum), "steps": int(steps)}
        super().__init__()

    def _make_controls(self) -> dict:
        import ipywidgets as w

        from .. import optim, surfaces

        i = self._initial
        return {
            "surface": w.Dropdown(options=list(surfaces.SURFACES), value=i["surface"], description="surface"),
            "optimizer": w.Dropdown(options=list(optim.OPTIMIZERS), value=i["optimizer"],
                                    description="optimizer"),
            "lr": w.FloatLogSlider(value=i["lr"], base=10, min=-4, max=1.5, step=0.1, description="lr"),
            "momentum": w.FloatSlider(value=i["momentum"], min=0.0, max=0.99, step=0.01,
                                      description="momentum"),
            "steps": w.IntSlider(value=i["steps"], min=10, max=500, step=10, description="steps"),
        }

    def _compute(self) -> dict:
        from .. import surfaces

        v = self.values()
        surface = surfaces.get(v["surface"])
        uses_momentum = v["optimizer"] in MOMENTUM_OPTIMIZERS
        self.controls["momentum"].disabled = not uses_momentum
        extra = {"momentum": float(v["momentum"])} if uses_momentum else {}
        run = surfaces.run_optimizer(surface, v["optimizer"], steps=int(v["steps"]), lr=float(v["lr"]), **extra)
        finite = run.values[np.isfinite(run.values)]
        final = float(finite[-1]) if finite.size else float("nan")
        return {"surface": surface, "optimizer": v["optimizer"], "trajectory": run, "final": final,
                "gap": final - float(surface(*surface.minimum)), "diverged": bool(run.diverged)}

    def _draw(self) -> None:
        from ..plots.optim import plot_trajectories

        s = self.state
        ax = self.figure.add_subplot()
        points = s["trajectory"].points
        plot_trajectories(s["surface"], {s["optimizer"]: points[np.all(np.isfinite(points), axis=1)]}, ax=ax)
        ax.set_title(f"{s['optimizer']} on {s['surface'].name}")

    def _readout(self) -> str:
        s = self.state
        if s["diverged"]:
            return "diverged: lower the learning rate"
        return f"final f = {s['final']:.4g} &nbsp; above the minimum by {s['gap']:.3g}"


def learning_rate_explorer(lr: float = 0.1, steps: int = 20) -> LearningRateExplorer:
    """Build (and, as the last line of a cell, display) a :class:`LearningRateExplorer`."""
    return LearningRateExplorer(lr=lr, steps=steps)


def optimizer_explorer(surface: str = "rosenbrock", optimizer: str = "adam", lr: float = 0.1) -> OptimizerExplorer:
    """Build (and, as the last line of a cell, display) an :class:`OptimizerExplorer`."""
    return OptimizerExplorer(surface=surface, optimizer=optimizer, lr=lr)
