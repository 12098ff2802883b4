r"""Two-dimensional test surfaces for watching optimizers move, and a runner.

Each surface :math:`f(x, y)` is a :class:`Surface` with its value and gradient
(both vectorised: ``x`` and ``y`` may be arrays of any broadcastable shapes, e.g.
a contour-plot grid), the location of its minimum, a plotting box and a suggested
start point. :func:`run_optimizer` runs any :mod:`dlcourse.optim` optimizer from a
start point and returns the path.

======================= ================================================ =================
surface                 :math:`f(x, y)`                                  minimum
======================= ================================================ =================
``bowl``                :math:`x^2 + y^2`                                 :math:`(0, 0)`
``valley``              :math:`0.1 x^2 + 2 y^2` (condition number 20)     :math:`(0, 0)`
``rosenbrock``          :math:`(1 - x)^2 + 100 (y - x^2)^2`               :math:`(1, 1)`
``beale``               see :func:`beale_value`                           :math:`(3, 0.5)`
``saddle``              :math:`x^2 - y^2 + y^4/4`, saddle at the origin   :math:`(0, \pm\sqrt2)`
======================= ================================================ =================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

__all__ = ["Surface", "Trajectory", "bowl", "valley", "rosenbrock", "beale", "saddle",
           "SURFACES", "get", "run_optimizer"]


@dataclass(frozen=True)
class Surface:
    """A function of two variables with its gradient and plotting hints.

    Attributes
    ----------
    name : str
    formula : str
        :math:`f(x, y)` in LaTeX.
    value : callable
        ``value(x, y) -> f``, element-wise over broadcastable arrays.
    gradient : callable
        ``gradient(x, y) -> (df/dx, df/dy)``, each shaped like ``f``.
    minimum : tuple of float
        A global minimiser (the one a run from ``start`` is meant to reach).
    box : ((float, float), (float, float))
        ``((x_min, x_max), (y_min, y_max))`` for plots.
    start : tuple of float
        A start point that shows the surface's difficulty.
    """

    name: str
    formula: str
    value: Callable
    gradient: Callable
    minimum: tuple
    box: tuple
    start: tuple

    def __call__(self, x, y):
        return self.value(x, y)

    def grid(self, n: int = 201):
        """``(X, Y, Z)`` on an ``n`` by ``n`` grid over :attr:`box`, for ``plt.contour``."""
        (x0, x1), (y0, y1) = self.box
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, self.value(X, Y)


def _bowl(x, y):
    return x**2 + y**2


def _bowl_gradient(x, y):
    return np.broadcast_arrays(2.0 * x, 2.0 * y)


def _valley(x, y):
    return 0.1 * x**2 + 2.0 * y**2


def _valley_gradient(x, y):
    return np.broadcast_arrays(0.2 * x, 4.0 * y)


def _rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _rosenbrock_gradient(x, y):
    r = y - x**2
    return np.broadcast_arrays(-2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r)


def _beale_terms(x, y):
    return 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3


def beale_value(x, y):
    r"""Beale's function :math:`\sum_{k=1}^{3} (c_k - x + x y^k)^2`, :math:`c = (1.5, 2.25, 2.625)`."""
    t1, t2, t3 = _beale_terms(x, y)
    return t1**2 + t2**2 + t3**2


def _beale_gradient(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    dx = 2 * t1 * (y - 1) + 2 * t2 * (y**2 - 1) + 2 * t3 * (y**3 - 1)
    dy = 2 * t1 * x + 4 * t2 * x * y + 6 * t3 * x * y**2
    return np.broadcast_arrays(dx, dy)


def _saddle(x, y):
    return x**2 - y**2 + 0.25 * y**4


def _saddle_gradient(x, y):
    return np.broadcast_arrays(2.0 * x, -2.0 * y + y**3)


bowl = Surface("bowl", r"x^2 + y^2", _bowl, _bowl_gradient, (0.0, 0.0),
               ((-2.0, 2.0), (-2.0, 2.0)), (-1.5, 1.7))
valley = Surface("valley", r"0.1 x^2 + 2 y^2", _valley, _valley_gradient, (0.0, 0.0),
                 ((-8.0, 8.0), (-2.5, 2.5)), (-7.0, 2.0))
rosenbrock = Surface("rosenbrock", r"(1 - x)^2 + 100 (y - x^2)^2", _rosenbrock,
                     _rosenbrock_gradient, (1.0, 1.0), ((-2.0, 2.0), (-1.0, 3.0)), (-1.5, 2.0))
beale = Surface("beale", r"(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
                beale_value, _beale_gradient, (3.0, 0.5), ((-4.5, 4.5), (-4.5, 4.5)), (1.0, 1.5))
#: A saddle at the origin between two minima at (0, +-sqrt 2); from ``start`` just above
#: the x axis, gradient descent slows down near the saddle before it escapes upwards.
saddle = Surface("saddle", r"x^2 - y^2 + \tfrac14 y^4", _saddle, _saddle_gradient,
                 (0.0, math.sqrt(2.0)), ((-2.0, 2.0), (-2.0, 2.0)), (-1.8, 1e-3))

#: The surfaces by name.
SURFACES = {s.name: s for s in (bowl, valley, rosenbrock, beale, saddle)}


def get(name_or_surface) -> Surface:
    """The surface called ``name`` (a key of :data:`SURFACES`), or a :class:`Surface` as is."""
    if isinstance(name_or_surface, Surface):
        return name_or_surface
    if name_or_surface not in SURFACES:
        raise ValueError(f"unknown surface {name_or_surface!r}; expected one of {sorted(SURFACES)}")
    return SURFACES[name_or_surface]


class Trajectory(NamedTuple):
    """The path of a run: ``points`` (steps + 1, 2) and ``values`` (steps + 1,).

    A run that leaves the radius ``10**8`` stops there; its remaining rows are NaN
    and ``diverged`` is True.
    """

    points: np.ndarray
    values: np.ndarray
    diverged: bool


def _make_optimizer(optimizer, params, kwargs):
    from . import optim

    if isinstance(optimizer, str) or (isinstance(optimizer, type)
                                      and issubclass(optimizer, optim.Optimizer)):
        return optim.get(optimizer, params, **kwargs)
    if callable(optimizer):
        if kwargs:
            raise TypeError(f"keyword arguments {sorted(kwargs)} need an optimizer class or name, "
                            "not a factory")
        return optimizer(params)
    raise TypeError("optimizer must be an optimizer class, a name like 'adam' or a factory "
                    f"params -> optimizer; got {type(optimizer).__name__}")


def run_optimizer(surface, optimizer, start=None, steps: int = 100, **kwargs) -> Trajectory:
    """Run ``optimizer`` on ``surface`` for ``steps`` steps from ``start``.

    Parameters
    ----------
    surface : Surface or str
    optimizer : Optimizer subclass, str or callable
        A class (``optim.Adam``), a name (``"adam"``) built with ``**kwargs``, or a
        factory ``params -> optimizer`` (e.g. a ``lambda`` that adds a schedule).
    start : (float, float), optional
        Defaults to ``surface.start``.
    steps : int
    **kwargs
        Hyper-parameters for the optimizer, e.g. ``lr=0.01, momentum=0.9``.

    Returns
    -------
    Trajectory
        ``points`` of shape (steps + 1, 2), starting with ``start``, ``values`` of
        shape (steps + 1,), and ``diverged``.
    """
    from .parameter import Parameter

    surface = get(surface)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer; got {steps!r}")
    point = np.array(surface.start if start is None else start, dtype=np.float64)
    if point.shape != (2,):
        raise ValueError(f"start must be a point (x, y) of shape (2,); got shape {point.shape}")
    theta = Parameter(point, "xy")
    opt = _make_optimizer(optimizer, [theta], kwargs)
    points = np.full((steps + 1, 2), np.nan)
    points[0] = theta.data
    diverged = False
    for k in range(1, steps + 1):
        theta.grad = np.array(surface.gradient(*theta.data))
        opt.step()
        if not np.all(np.abs(theta.data) < 1e8):
            diverged = True
            break
        points[k] = theta.data
    return Trajectory(points, surface.value(points[:, 0], points[:, 1]), diverged)
