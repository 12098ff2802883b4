r"""Activation functions and their derivatives.

Every activation is a callable object: ``act(z)`` applies it element-wise (softmax
and log-softmax along an axis) and ``act.derivative(z)`` gives the derivative with
respect to the *same input* ``z``, the pre-activation. (Some notes write
``sigmoid_derivative(a) = a * (1 - a)`` of the *output* ``a``; feeding that the
pre-activation is a classic bug, so this package never takes outputs.)

``act.vjp(z, dout)`` is the vector-Jacobian product that backpropagation needs:
``dout * act.derivative(z)`` for element-wise functions, and the full Jacobian
product for softmax and log-softmax.

All functions are stable by construction: no overflow, invalid-value or
divide-by-zero warnings for :math:`|z|` up to :math:`10^4`, the right limits at
:math:`\pm\infty`, NaN propagates, and float32 input stays float32.

Shapes: any shape ``(...)``; the output has the input's shape. The softmax
Jacobian adds one axis of length ``K`` (the size of the softmax axis).
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array

__all__ = [
    "Activation", "Step", "Linear", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU",
    "Swish", "Softplus", "Softmax", "LogSoftmax",
    "step", "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish",
    "softplus", "softmax", "log_softmax", "get", "ACTIVATIONS",
]


def _finish(out: np.ndarray, original):
    """Return a NumPy scalar for scalar input, else an array (a 0-d array for 0-d array input)."""
    out = np.asarray(out)
    if not isinstance(original, np.ndarray) and out.ndim == 0:
        return out[()]
    return out


def _stable_sigmoid(z: np.ndarray) -> np.ndarray:
    # exp(-|z|) lies in (0, 1], so nothing overflows; NaN stays NaN.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def _replace_inf(z: np.ndarray, value_at_pos, value_at_neg, compute):
    """Evaluate ``compute`` on finite stand-ins for +-inf, then put in the limits."""
    pos, neg = np.isposinf(z), np.isneginf(z)
    if not (pos.any() or neg.any()):
        return compute(z)
    out = compute(np.where(pos | neg, 0, z).astype(z.dtype, copy=False))
    out = np.where(pos, value_at_pos, out)
    return np.where(neg, value_at_neg, out).astype(z.dtype, copy=False)


class Activation:
    """Base class: an element-wise activation with its derivative.

    Subclasses define ``_forward(z)`` and ``_derivative(z)`` on float arrays and
    the LaTeX strings ``formula`` and ``derivative_formula``.
    """

    name = "activation"
    formula = ""
    derivative_formula = ""

    def __call__(self, z):
        """Apply the activation.

        Parameters
        ----------
        z : array_like, shape (...)
            Pre-activations; lists and integers become float64, float32 stays float32.

        Returns
        -------
        ndarray, shape of ``z`` (a NumPy scalar for a Python scalar)
        """
        arr = as_float_array(z, "z")
        return _finish(self._forward(arr), z)

    def derivative(self, z):
        """Derivative with respect to the pre-activation ``z`` (not the output).

        Parameters
        ----------
        z : array_like, shape (...)

        Returns
        -------
        ndarray, shape of ``z`` (softmax: the Jacobian, one more axis of length K)
        """
        arr = as_float_array(z, "z")
        return _finish(self._derivative(arr), z)

    def vjp(self, z, dout):
        """Vector-Jacobian product ``dout * f'(z)``: the gradient that flows back to ``z``.

        Parameters
        ----------
        z : array_like, shape (...)
            The pre-activation of the forward pass.
        dout : array_like, shape of ``z``
            Gradient of the loss with respect to the output.

        Returns
        -------
        ndarray, shape of ``z``
        """
        arr = as_float_array(z, "z")
        g = as_float_array(dout, "dout")
        if g.shape != arr.shape:
            raise ValueError(f"dout must have the shape of z {arr.shape}; got {g.shape}")
        return _finish(g * self._derivative(arr), z)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Step(Activation):
    r"""Heaviside step with the strict rule: :math:`\mathrm{step}(z) = 1` if :math:`z > 0`, else 0.

    At :math:`z = 0` the output is 0 (the perceptron's convention; ``>=`` is a common trap).
    The derivative is 0 wherever it exists, which is why the step cannot be trained by
    gradient descent.
    """

    name = "step"
    formula = r"\mathrm{step}(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}"
    derivative_formula = r"\mathrm{step}'(z) = 0 \quad (z \ne 0)"

    def _forward(self, z):
        return np.where(np.isnan(z), z, (z > 0)).astype(z.dtype, copy=False)

    def _derivative(self, z):
        return np.where(np.isnan(z), z, 0).astype(z.dtype, copy=False)


class Linear(Activation):
    r"""Identity: :math:`f(z) = z`, :math:`f'(z) = 1`. Used for regression outputs."""

    name = "linear"
    formula = r"f(z) = z"
    derivative_formula = r"f'(z) = 1"

    def _forward(self, z):
        return z.copy()

    def _derivative(self, z):
        return np.where(np.isnan(z), z, 1).astype(z.dtype, copy=False)


class Sigmoid(Activation):
    r"""Logistic sigmoid :math:`\sigma(z) = \frac{1}{1 + e^{-z}}`, :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`.

    Computed as :math:`1/(1+e^{-|z|})` or :math:`e^{-|z|}/(1+e^{-|z|})` by sign, so
    :math:`e^{-z}` never overflows for large negative :math:`z`.
    """

    name = "sigmoid"
    formula = r"\sigma(z) = \frac{1}{1 + e^{-z}}"
    derivative_formula = r"\sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr)"

    def _forward(self, z):
        return _stable_sigmoid(z)

    def _derivative(self, z):
        s = _stable_sigmoid(z)
        return s * (1 - s)


class Tanh(Activation):
    r"""Hyperbolic tangent :math:`\tanh(z) = \frac{e^z - e^{-z}}{e^z + e^{-z}} = 2\sigma(2z) - 1`.

    A *scaled and shifted* sigmoid (not merely shifted). Derivative
    :math:`\tanh'(z) = 1 - \tanh^2(z) = \operatorname{sech}^2(z)`.
    """

    name = "tanh"
    formula = r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}"
    derivative_formula = r"\tanh'(z) = 1 - \tanh^2(z)"

    def _forward(self, z):
        return np.tanh(z)

    def _derivative(self, z):
        t = np.tanh(z)
        return 1 - t * t


class ReLU(Activation):
    r"""Rectified linear unit :math:`\mathrm{ReLU}(z) = \max(0, z)`; derivative 1 for :math:`z > 0`, else 0.

    At :math:`z = 0` the derivative is taken as 0, as PyTorch does.
    """

    name = "relu"
    formula = r"\mathrm{ReLU}(z) = \max(0, z)"
    derivative_formula = r"\mathrm{ReLU}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}"

    def _forward(self, z):
        return np.maximum(z, 0).astype(z.dtype, copy=False)

    def _derivative(self, z):
        return np.where(np.isnan(z), z, z > 0).astype(z.dtype, copy=False)


class LeakyReLU(Activation):
    r"""Leaky ReLU :math:`f(z) = z` for :math:`z > 0`, else :math:`\alpha z`.

    The default :math:`\alpha = 0.01` is PyTorch's. Derivative 1 for :math:`z > 0`, else :math:`\alpha`
    (also at 0, as in PyTorch).
    """

    name = "leaky_relu"
    formula = r"f(z) = \begin{cases} z & z > 0 \\ \alpha z & z \le 0 \end{cases}"
    derivative_formula = r"f'(z) = \begin{cases} 1 & z > 0 \\ \alpha & z \le 0 \end{cases}"

    def __init__(self, alpha: float = 0.01):
        if not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0; got {alpha!r}")
        self.alpha = float(alpha)

    def _forward(self, z):
        neg = np.minimum(z, 0)
        if self.alpha == 0:  # 0 * -inf would be NaN; the limit is 0
            neg = np.where(np.isneginf(neg), 0, neg)
        return np.where(z > 0, z, self.alpha * neg).astype(z.dtype, copy=False)

    def _derivative(self, z):
        d = np.where(z > 0, 1.0, self.alpha)
        return np.where(np.isnan(z), z, d).astype(z.dtype, copy=False)

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"


class ELU(Activation):
    r"""Exponential linear unit :math:`f(z) = z` for :math:`z > 0`, else :math:`\alpha (e^z - 1)`.

    Derivative 1 for :math:`z > 0`, else :math:`\alpha e^z`. The exponential only sees
    :math:`\min(z, 0)`, so it cannot overflow.
    """

    name = "elu"
    formula = r"f(z) = \begin{cases} z & z > 0 \\ \alpha (e^{z} - 1) & z \le 0 \end{cases}"
    derivative_formula = r"f'(z) = \begin{cases} 1 & z > 0 \\ \alpha e^{z} & z \le 0 \end{cases}"

    def __init__(self, alpha: float = 1.0):
        if not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0; got {alpha!r}")
        self.alpha = float(alpha)

    def _forward(self, z):
        neg = np.minimum(z, 0)
        return np.where(z > 0, z, self.alpha * np.expm1(neg)).astype(z.dtype, copy=False)

    def _derivative(self, z):
        neg = np.minimum(z, 0)
        d = np.where(z > 0, 1, self.alpha * np.exp(neg))
        return np.where(np.isnan(z), z, d).astype(z.dtype, copy=False)

    def __repr__(self) -> str:
        return f"ELU(alpha={self.alpha})"


class Swish(Activation):
    r"""Swish / SiLU :math:`f(z) = z\,\sigma(z)`, :math:`f'(z) = \sigma(z) + z\,\sigma(z)(1 - \sigma(z))`.

    Limits: :math:`f(-\infty) = 0`, :math:`f(+\infty) = +\infty`,
    :math:`f'(-\infty) = 0`, :math:`f'(+\infty) = 1`.
    """

    name = "swish"
    formula = r"f(z) = z\,\sigma(z)"
    derivative_formula = r"f'(z) = \sigma(z) + z\,\sigma(z)\bigl(1 - \sigma(z)\bigr)"

    def _forward(self, z):
        return _replace_inf(z, np.inf, 0.0, lambda x: x * _stable_sigmoid(x))

    def _derivative(self, z):
        def d(x):
            s = _stable_sigmoid(x)
            return s + x * s * (1 - s)

        return _replace_inf(z, 1.0, 0.0, d)


class Softplus(Activation):
    r"""Softplus :math:`f(z) = \ln(1 + e^{z})`, a smooth ReLU; :math:`f'(z) = \sigma(z)`.

    Computed as :math:`\max(z, 0) + \ln(1 + e^{-|z|})`.
    """

    name = "softplus"
    formula = r"f(z) = \ln\bigl(1 + e^{z}\bigr)"
    derivative_formula = r"f'(z) = \sigma(z)"

    def _forward(self, z):
        return _replace_inf(z, np.inf, 0.0, lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))

    def _derivative(self, z):
        return _stable_sigmoid(z)


def _check_axis(z: np.ndarray, axis: int, name: str = "softmax") -> None:
    if z.ndim == 0:
        raise ValueError(f"{name} needs at least a 1-D array z (it normalises along an axis); got a 0-d array")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(f"axis {axis} is out of range for z of shape {z.shape}")


def _shifted(z: np.ndarray, axis: int) -> np.ndarray:
    """``z - max(z)`` along ``axis``; rows holding +inf become 0 there and -inf elsewhere."""
    m = np.max(z, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        shifted = z - m
    pos_rows = np.isposinf(m)
    if pos_rows.any():
        # The limit of softmax when entries grow to +inf: equal mass on those entries.
        shifted = np.where(pos_rows, np.where(np.isposinf(z), 0, -np.inf), shifted)
    return shifted.astype(z.dtype, copy=False)


class Softmax(Activation):
    r"""Softmax along ``axis`` (default the last: one distribution per sample row).

    .. math:: \mathrm{softmax}(z)_i = \frac{e^{z_i - m}}{\sum_j e^{z_j - m}}, \quad m = \max_j z_j

    Subtracting the row maximum :math:`m` changes nothing mathematically and keeps
    every exponent :math:`\le 0`. Each sample is normalised on its own: normalising
    over the whole batch is a common trap.

    ``derivative(z)`` returns the Jacobian
    :math:`J_{ij} = s_i(\delta_{ij} - s_j)`, shape ``z.shape + (K,)`` with the softmax
    axis moved last; ``vjp(z, dout)`` (equal to ``jvp``, since :math:`J` is
    symmetric) gives :math:`s \odot (v - \langle v, s\rangle)` without forming it.
    """

    name = "softmax"
    formula = r"\mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}"
    derivative_formula = r"\frac{\partial s_i}{\partial z_j} = s_i(\delta_{ij} - s_j)"

    def __init__(self, axis: int = -1):
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"axis must be an integer; got {axis!r}")
        self.axis = int(axis)

    def _forward(self, z):
        _check_axis(z, self.axis)
        if z.size == 0:
            return z.copy()
        e = np.exp(_shifted(z, self.axis))
        with np.errstate(invalid="ignore"):  # a row of all -inf is 0/0: NaN, as in PyTorch
            return e / np.sum(e, axis=self.axis, keepdims=True)

    def _derivative(self, z):
        s = np.moveaxis(self._forward(z), self.axis, -1)
        eye = np.eye(s.shape[-1], dtype=s.dtype)
        return s[..., :, None] * (eye - s[..., None, :])

    def vjp(self, z, dout):
        arr = as_float_array(z, "z")
        g = as_float_array(dout, "dout")
        if g.shape != arr.shape:
            raise ValueError(f"dout must have the shape of z {arr.shape}; got {g.shape}")
        s = self._forward(arr)
        return s * (g - np.sum(g * s, axis=self.axis, keepdims=True))

    jvp = vjp

    def __repr__(self) -> str:
        return f"Softmax(axis={self.axis})"


class LogSoftmax(Softmax):
    r"""Log-softmax along ``axis``: :math:`z_i - m - \ln \sum_j e^{z_j - m}` (log-sum-exp).

    Jacobian :math:`\partial \ell_i / \partial z_j = \delta_{ij} - s_j`; ``vjp`` gives
    :math:`v - s \sum_j v_j` and ``jvp`` gives :math:`v - \langle s, v\rangle`.
    """

    name = "log_softmax"
    formula = r"\log\mathrm{softmax}(z)_i = z_i - \log \sum_j e^{z_j}"
    derivative_formula = r"\frac{\partial \ell_i}{\partial z_j} = \delta_{ij} - s_j"

    def _forward(self, z):
        _check_axis(z, self.axis, self.name)
        if z.size == 0:
            return z.copy()
        shifted = _shifted(z, self.axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            return shifted - np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))

    def _derivative(self, z):
        s = np.moveaxis(Softmax._forward(self, z), self.axis, -1)
        eye = np.eye(s.shape[-1], dtype=s.dtype)
        return np.broadcast_to(eye, s.shape + (s.shape[-1],)) - s[..., None, :]

    def vjp(self, z, dout):
        arr = as_float_array(z, "z")
        g = as_float_array(dout, "dout")
        if g.shape != arr.shape:
            raise ValueError(f"dout must have the shape of z {arr.shape}; got {g.shape}")
        s = Softmax._forward(self, arr)
        return g - s * np.sum(g, axis=self.axis, keepdims=True)

    def jvp(self, z, v):
        r"""Jacobian-vector product :math:`J v = v - \langle s, v\rangle` (``J`` is not symmetric here)."""
        arr = as_float_array(z, "z")
        g = as_float_array(v, "v")
        if g.shape != arr.shape:
            raise ValueError(f"v must have the shape of z {arr.shape}; got {g.shape}")
        s = Softmax._forward(self, arr)
        return g - np.sum(s * g, axis=self.axis, keepdims=True)

    def __repr__(self) -> str:
        return f"LogSoftmax(axis={self.axis})"


step = Step()
linear = Linear()
sigmoid = Sigmoid()
tanh = Tanh()
relu = ReLU()
leaky_relu = LeakyReLU()
elu = ELU()
swish = Swish()
softplus = Softplus()
softmax = Softmax()
log_softmax = LogSoftmax()

#: Every public activation by name (default parameters).
ACTIVATIONS = {a.name: a for a in (step, linear, sigmoid, tanh, relu, leaky_relu, elu,
                                    swish, softplus, softmax, log_softmax)}


def get(name_or_activation) -> Activation:
    """Look an activation up by name (``"relu"``), or return an ``Activation`` unchanged."""
    if isinstance(name_or_activation, Activation):
        return name_or_activation
    if name_or_activation is None:
        return linear
    try:
        return ACTIVATIONS[str(name_or_activation).lower()]
    except KeyError:
        raise ValueError(
            f"unknown activation {name_or_activation!r}; expected one of {sorted(ACTIVATIONS)}"
        ) from None
