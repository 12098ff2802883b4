r"""Numerical gradient checking by central differences.

The central difference

.. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2\varepsilon}

has error :math:`O(\varepsilon^2)`, so in float64 with :math:`\varepsilon = 10^{-6}` a correct
analytic gradient typically agrees to a relative error near :math:`10^{-9}` (somewhat worse,
up to about :math:`10^{-7}`, where gradients are tiny and the differences' own rounding,
about :math:`10^{-16}/\varepsilon`, dominates); a wrong one is off by orders of magnitude more. Everything here computes in float64.

* :func:`numerical_gradient` -- gradient of a scalar function of an array;
* :func:`numerical_derivative` -- element-wise derivative of an element-wise function;
* :func:`relative_error` -- the usual :math:`\max |a - b| / \max(|a| + |b|, \text{floor})`;
* :func:`check_gradient` -- compare an analytic gradient with central differences;
* :func:`check_layer` -- check ``backward`` of any layer (input and every parameter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._checks import as_float_array

__all__ = ["numerical_gradient", "numerical_derivative", "relative_error", "GradientCheck",
           "check_gradient", "LayerCheck", "check_layer"]

#: Default tolerance on the relative error for a float64 check.
DEFAULT_TOL = 1e-6


def numerical_gradient(f: Callable[[np.ndarray], float], x, eps: float = 1e-6) -> np.ndarray:
    r"""Gradient of the scalar function ``f`` at ``x`` by central differences (float64).

    Parameters
    ----------
    f : callable
        Maps an array of ``x``'s shape to a scalar. It receives one float64 array that is
        perturbed in place, one entry at a time, and restored afterwards.
    x : array_like, shape (...)
        The point; it is copied to float64 and never modified.
    eps : float
        The step :math:`\varepsilon`.

    Returns
    -------
    ndarray, shape of ``x``, float64
        :math:`(f(x + \varepsilon e_i) - f(x - \varepsilon e_i)) / 2\varepsilon` for every index ``i``.
    """
    if not eps > 0:
        raise ValueError(f"eps must be > 0; got {eps!r}")
    xc = np.array(as_float_array(x, "x"), dtype=np.float64)
    grad = np.zeros_like(xc)
    for idx in np.ndindex(xc.shape):
        old = xc[idx]
        xc[idx] = old + eps
        f_plus = float(f(xc))
        xc[idx] = old - eps
        f_minus = float(f(xc))
        xc[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad


def numerical_derivative(f: Callable[[np.ndarray], np.ndarray], x, eps: float = 1e-6) -> np.ndarray:
    r"""Element-wise derivative :math:`(f(x + \varepsilon) - f(x - \varepsilon)) / 2\varepsilon` (float64).

    For element-wise functions (activations) this is the whole Jacobian's diagonal in two calls.

    Parameters
    ----------
    f : callable
        An element-wise function: output shape equals input shape.
    x : array_like, shape (...)

    Returns
    -------
    ndarray, shape of ``x``, float64
    """
    xc = np.asarray(as_float_array(x, "x"), dtype=np.float64)
    return (np.asarray(f(xc + eps), dtype=np.float64) - np.asarray(f(xc - eps), dtype=np.float64)) / (2 * eps)


def relative_error(a, b, floor: float = 1e-8) -> float:
    r"""Largest element-wise relative error :math:`|a - b| / \max(|a| + |b|, \text{floor})`.

    ``floor`` keeps entries where both are (nearly) zero from dividing by zero. Returns
    0.0 for empty arrays and ``nan`` if either holds NaN. Shapes must match.
    """
    a = np.asarray(as_float_array(a, "a"), dtype=np.float64)
    b = np.asarray(as_float_array(b, "b"), dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got a.shape={a.shape} and b.shape={b.shape}")
    if a.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        rel = np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)
    return float(np.nan if np.isnan(rel).any() else rel.max())


@dataclass
class GradientCheck:
    """Result of :func:`check_gradient`: the errors, the two gradients, and ``ok``."""

    max_rel_error: float
    max_abs_error: float
    analytic: np.ndarray
    numeric: np.ndarray
    tol: float

    @property
    def ok(self) -> bool:
        return bool(self.max_rel_error <= self.tol)

    def __bool__(self) -> bool:
        return self.ok


def check_gradient(f: Callable, df: Callable, x, eps: float = 1e-6, tol: float = DEFAULT_TOL) -> GradientCheck:
    """Compare the analytic gradient ``df(x)`` of a scalar function ``f`` with central differences.

    Parameters
    ----------
    f : callable
        Array of ``x``'s shape -> scalar.
    df : callable
        Array of ``x``'s shape -> its gradient, same shape.
    x : array_like, shape (...)
    eps, tol : float
        Finite-difference step; largest relative error accepted.

    Returns
    -------
    GradientCheck
        ``.max_rel_error``, ``.max_abs_error``, ``.ok`` (truthy when ok).
    """
    xc = np.array(as_float_array(x, "x"), dtype=np.float64)
    analytic = np.asarray(df(xc.copy()), dtype=np.float64)
    if analytic.shape != xc.shape:
        raise ValueError(f"df(x) must have the shape of x {xc.shape}; got {analytic.shape}")
    numeric = numerical_gradient(f, xc, eps)
    abs_err = float(np.max(np.abs(analytic - numeric))) if xc.size else 0.0
    return GradientCheck(relative_error(analytic, numeric), abs_err, analytic, numeric, tol)


@dataclass
class LayerCheck:
    """Result of :func:`check_layer`: relative errors of ``dx`` and of each parameter's grad."""

    dx_error: float
    param_errors: dict = field(default_factory=dict)
    tol: float = DEFAULT_TOL

    @property
    def max_error(self) -> float:
        return max([self.dx_error, *self.param_errors.values()])

    @property
    def ok(self) -> bool:
        return bool(self.max_error <= self.tol)  # NaN is never ok

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        parts = [f"dx: {self.dx_error:.2e}"] + [f"{k}: {v:.2e}" for k, v in self.param_errors.items()]
        return f"{'ok' if self.ok else 'FAILED'} (tol {self.tol:g}): " + ", ".join(parts)


def _param_names(params) -> list[str]:
    names = []
    for i, p in enumerate(params):
        name = getattr(p, "name", None) or f"param{i}"
        names.append(name if name not in names else f"{name}_{i}")
    return names


def check_layer(layer, x, seed: int = 0, eps: float = 1e-6, tol: float = DEFAULT_TOL,
                training: bool = True) -> LayerCheck:
    r"""Check a layer's ``backward`` against central differences.

    With a random upstream gradient ``dout`` (standard normal, from ``seed``) the scalar
    :math:`f = \sum(\mathrm{forward}(x) \odot \mathrm{dout})` has gradient ``backward(dout)``
    with respect to ``x`` and ``p.grad`` with respect to each parameter ``p``. Each is
    compared with central differences of ``f``.

    Parameters
    ----------
    layer : Layer
        Any object with ``forward(x, training)``, ``backward(dout) -> dx`` and
        ``parameters()`` yielding objects with ``.data`` and ``.grad``. Use float64
        parameters; the forward pass must be deterministic (for dropout, check with
        ``training=False`` or a layer whose mask is fixed).
    x : array_like, shape (N, ...)
        The input; copied to float64.
    seed : int
        Seed of the upstream gradient ``dout``.
    eps, tol : float
        Finite-difference step; largest relative error accepted.
    training : bool
        Passed to every ``forward`` call.

    Returns
    -------
    LayerCheck
        ``.dx_error``, ``.param_errors`` (name -> error), ``.max_error``, ``.ok``.
    """
    xc = np.array(as_float_array(x, "x"), dtype=np.float64)
    params = list(layer.parameters())
    out = np.asarray(layer.forward(xc.copy(), training=training))
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    dx = np.asarray(layer.backward(dout.copy()))
    if dx.shape != xc.shape:
        raise ValueError(f"backward returned dx of shape {dx.shape}; expected the input's shape {xc.shape}")
    grads = [None if p.grad is None else np.array(p.grad, dtype=np.float64) for p in params]

    def objective(v):
        return float(np.sum(np.asarray(layer.forward(v.copy(), training=training)) * dout))

    dx_num = numerical_gradient(objective, xc, eps)
    result = LayerCheck(relative_error(dx, dx_num), {}, tol)
    for name, p, g in zip(_param_names(params), params, grads):
        if g is None:
            raise ValueError(f"backward left {name}.grad as None; it must set the gradient of every parameter")
        num = _param_gradient(p, lambda: objective(xc), eps)
        result.param_errors[name] = relative_error(g, num)
    layer.forward(xc.copy(), training=training)  # leave the cache of the unperturbed input
    return result


def _param_gradient(p, f: Callable, eps: float) -> np.ndarray:
    """Central differences of ``f`` with respect to ``p.data``, perturbed in place and restored."""
    grad = np.zeros(p.data.shape, dtype=np.float64)
    for idx in np.ndindex(p.data.shape):
        old = p.data[idx]
        p.data[idx] = old + eps
        f_plus = f()
        p.data[idx] = old - eps
        f_minus = f()
        p.data[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
