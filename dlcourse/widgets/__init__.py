"""Interactive explorers for Jupyter (ipywidgets), one module per chapter topic.

Each explorer is an object with named ``controls`` (sliders, dropdowns), a
``state`` dict that its callback recomputes whenever a control changes, and a
``widget`` to display. The figure is drawn off-screen and shown as a PNG image
widget, so the same code runs in Jupyter, in JupyterLab and headless in tests.

The built HTML book cannot run Python: each chapter shows a static form of its
explorer instead (small multiples or an animation from :mod:`dlcourse.plots`).

ipywidgets and matplotlib are imported only when an explorer is built, so that
``import dlcourse.widgets`` is cheap and ``import dlcourse`` never loads them.
Other chapters add their own modules here.
"""

from __future__ import annotations

__all__ = ["perceptron_explorer", "activation_explorer", "init_explorer"]


def perceptron_explorer(gate: str = "AND", w1: float = 1.0, w2: float = 1.0, b: float = -0.5):
    """Sliders for a perceptron's :math:`w_1, w_2, b` on a logic gate; see :class:`PerceptronExplorer`."""
    from .perceptron import PerceptronExplorer

    return PerceptronExplorer(gate=gate, w1=w1, w2=w2, b=b)


def activation_explorer(name: str = "sigmoid", z0: float = 0.0, alpha: float = 0.1):
    """An activation, its derivative and its tangent at ``z0``; see :class:`ActivationExplorer`."""
    from .activations import ActivationExplorer

    return ActivationExplorer(name=name, z0=z0, alpha=alpha)


def init_explorer(activation: str = "tanh", init: str = "xavier_normal", depth: int = 10):
    """Activation spread through a deep network per initialisation; see :class:`InitExplorer`."""
    from .init import InitExplorer

    return InitExplorer(activation=activation, init=init, depth=depth)
