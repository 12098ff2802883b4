r"""Weight initialisers: each returns a fresh array of ``shape`` drawn from an explicit generator.

For a dense weight of shape ``(n_in, n_out)`` (``y = X @ W + b``) the *fan-in* is
``n_in`` and the *fan-out* ``n_out``. For a convolution kernel ``(F, C, KH, KW)``
the fan-in is ``C * KH * KW`` and the fan-out ``F * KH * KW``, as in PyTorch.

Which variance keeps the signal's scale steady from layer to layer:

* **Xavier / Glorot** (Glorot and Bengio, 2010), for tanh and sigmoid layers:
  :math:`\operatorname{Var}(w) = \frac{2}{n_\text{in} + n_\text{out}}`
  (its simpler forward-only form is :math:`1 / n_\text{in}`).
* **He / Kaiming** (He et al., 2015), for ReLU layers:
  :math:`\operatorname{Var}(w) = \frac{2}{n_\text{in}}`.

Some lecture notes label ``randn * sqrt(2 / n_in)`` as Xavier; that is He
initialisation.

Every function takes ``rng``: a :class:`numpy.random.Generator`, an integer seed,
or ``None`` (a fresh, unseeded generator: avoid it where results must repeat).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_generator", "fans", "zeros", "ones", "normal", "uniform",
    "xavier_normal", "xavier_uniform", "glorot_normal", "glorot_uniform",
    "he_normal", "he_uniform", "INITIALIZERS", "get",
]


def as_generator(rng=None) -> np.random.Generator:
    """Return ``rng`` if it is a Generator; make one from an int seed or ``None``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng/seed must be a numpy.random.Generator, an int seed or None; got {type(rng).__name__}"
    )


def _shape(shape) -> tuple:
    shp = (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shp):
        raise ValueError(f"shape must hold non-negative sizes; got {shp}")
    return shp


def fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape``.

    ``(n_in, n_out)`` for a dense weight (rows are inputs, as in ``X @ W``);
    ``(C * KH * KW, F * KH * KW)`` for a kernel ``(F, C, KH, KW)``; ``(n, n)`` for 1-D.
    """
    shp = _shape(shape)
    if len(shp) == 0:
        return 1, 1
    if len(shp) == 1:
        return shp[0], shp[0]
    if len(shp) == 2:
        return shp[0], shp[1]
    receptive = int(np.prod(shp[2:]))
    return shp[1] * receptive, shp[0] * receptive


def zeros(shape, rng=None, dtype=np.float64) -> np.ndarray:
    """All zeros. Fine for biases; for weights it makes every unit of a layer identical."""
    return np.zeros(_shape(shape), dtype=dtype)


def ones(shape, rng=None, dtype=np.float64) -> np.ndarray:
    """All ones (the batch-norm scale :math:`w`, attribute ``gamma``)."""
    return np.ones(_shape(shape), dtype=dtype)


def normal(shape, rng=None, std: float = 0.01, mean: float = 0.0, dtype=np.float64) -> np.ndarray:
    r"""Gaussian :math:`w \sim \mathcal{N}(\text{mean}, \text{std}^2)`."""
    return (as_generator(rng).normal(mean, std, size=_shape(shape))).astype(dtype, copy=False)


def uniform(shape, rng=None, low: float = -0.05, high: float = 0.05, dtype=np.float64) -> np.ndarray:
    r"""Uniform :math:`w \sim U(\text{low}, \text{high})`."""
    return as_generator(rng).uniform(low, high, size=_shape(shape)).astype(dtype, copy=False)


def xavier_normal(shape, rng=None, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    r"""Xavier/Glorot normal: :math:`w \sim \mathcal{N}\bigl(0, \tfrac{2\,g^2}{n_\text{in} + n_\text{out}}\bigr)`."""
    fan_in, fan_out = fans(shape)
    std = gain * np.sqrt(2.0 / max(fan_in + fan_out, 1))
    return normal(shape, rng, std=std, dtype=dtype)


def xavier_uniform(shape, rng=None, gain: float = 1.0, dtype=np.float64) -> np.ndarray:
    r"""Xavier/Glorot uniform: :math:`w \sim U(-a, a)`, :math:`a = g\sqrt{6 / (n_\text{in} + n_\text{out})}`.

    The variance :math:`a^2/3 = 2 g^2 / (n_\text{in} + n_\text{out})` matches :func:`xavier_normal`.
    """
    fan_in, fan_out = fans(shape)
    a = gain * np.sqrt(6.0 / max(fan_in + fan_out, 1))
    return uniform(shape, rng, low=-a, high=a, dtype=dtype)


def he_normal(shape, rng=None, dtype=np.float64) -> np.ndarray:
    r"""He/Kaiming normal for ReLU: :math:`w \sim \mathcal{N}(0, 2 / n_\text{in})`."""
    fan_in, _ = fans(shape)
    return normal(shape, rng, std=np.sqrt(2.0 / max(fan_in, 1)), dtype=dtype)


def he_uniform(shape, rng=None, dtype=np.float64) -> np.ndarray:
    r"""He/Kaiming uniform: :math:`w \sim U(-a, a)`, :math:`a = \sqrt{6 / n_\text{in}}` (variance :math:`2/n_\text{in}`)."""
    fan_in, _ = fans(shape)
    a = np.sqrt(6.0 / max(fan_in, 1))
    return uniform(shape, rng, low=-a, high=a, dtype=dtype)


glorot_normal = xavier_normal
glorot_uniform = xavier_uniform

#: Initialisers by name (``"glorot_*"`` are aliases of ``"xavier_*"``, ``"kaiming_*"`` of ``"he_*"``).
INITIALIZERS = {
    "zeros": zeros, "ones": ones, "normal": normal, "uniform": uniform,
    "xavier_normal": xavier_normal, "xavier_uniform": xavier_uniform,
    "glorot_normal": xavier_normal, "glorot_uniform": xavier_uniform,
    "he_normal": he_normal, "he_uniform": he_uniform,
    "kaiming_normal": he_normal, "kaiming_uniform": he_uniform,
}


def get(name_or_fn):
    """Look an initialiser up by name, or return a callable ``f(shape, rng, dtype=)`` unchanged."""
    if callable(name_or_fn):
        return name_or_fn
    try:
        return INITIALIZERS[str(name_or_fn).lower()]
    except KeyError:
        raise ValueError(
            f"unknown init {name_or_fn!r}; expected one of {sorted(INITIALIZERS)} or a callable"
        ) from None
