r"""Activation functions and their derivatives: one declaration per activation.

Every activation is a callable object: ``act(z)`` applies it element-wise (softmax
and log-softmax along an axis) and ``act.derivative(z)`` gives the derivative with
respect to the *same input* ``z``, the pre-activation. (Some notes write
``sigmoid_derivative(a) = a * (1 - a)`` of the *output* ``a``; feeding that the
pre-activation is a classic bug, so this package never takes outputs.)

``act.vjp(z, dout)`` is the vector-Jacobian product that backpropagation needs:
``dout * act.derivative(z)`` for element-wise functions, and the full Jacobian
product for softmax and log-softmax.

**One place per activation.** Each class below is the whole description of its
activation: forward and derivative (NumPy), LaTeX (``formula``,
``derivative_formula``), the SymPy expression (:meth:`~ActivationFunction.sympy`),
the PyTorch equivalent by *name* (``torch``, ``torch_kwargs()``; this module never
imports torch), the limits at :math:`\pm\infty` and the name of its layer.
``@register`` puts it in :data:`ACTIVATIONS`, and from there the layer classes of
:mod:`dlcourse.layers`, the SymPy table of :mod:`dlcourse.calculus`, the rows of
:mod:`dlcourse.xcheck` and the generic tests follow. Adding an activation is adding
one class here.

All functions are stable by construction: no overflow, invalid-value or
divide-by-zero warnings for :math:`|z|` up to :math:`10^4`, the right limits at
:math:`\pm\infty`, NaN propagates, and float32 input stays float32.

Shapes: any shape ``(...)``; the output has the input's shape. The softmax
Jacobian adds one axis of length ``K`` (the size of the softmax axis).
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import as_float_array

INF = float("inf")


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


def _zero(dtype) -> np.ndarray:
    """A read-only 0-d zero of ``dtype``: comparing or clipping against it keeps the dtype
    and is faster than against the Python int 0, which NumPy converts on every call."""
    zero = _ZEROS.get(dtype)
    if zero is None:
        zero = _ZEROS[dtype] = np.zeros((), dtype)
        zero.flags.writeable = False
    return zero


_ZEROS: dict = {}


def _keep_nan(z: np.ndarray, values) -> np.ndarray:
    """``values`` (broadcast to ``z``) with NaN wherever ``z`` is NaN, in ``z``'s dtype."""
    return np.where(np.isnan(z), z, values).astype(z.dtype, copy=False)


def _check_alpha(alpha) -> float:
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0; got {alpha!r}")
    return float(alpha)


class ActivationFunction:
    """Base class: an activation with its derivative and everything that describes it.

    A subclass defines ``_forward(z)`` and ``_derivative(z)`` on float arrays and the
    class attributes below; parametrised ones store their parameters under the names
    of their ``__init__`` arguments and list them in ``params``.

    Attributes
    ----------
    name : str
        Registry key and the name of the module-level instance (``"relu"``).
    layer : str
        Name of the layer class generated in :mod:`dlcourse.layers` (``"ReLU"``).
    formula, derivative_formula : str
        LaTeX of :math:`f(z)` and :math:`f'(z)`.
    torch : str or None
        Dotted name of the PyTorch function computing the same thing, called as
        ``torch_fn(t, **torch_kwargs())``; ``torch_autograd = False`` when PyTorch
        has no gradient for it (the cross-check then compares the forward pass only).
    params : tuple of str
        Names of the constructor parameters (``("alpha",)``).
    variants : tuple of dict
        Non-default parameters the cross-check and the generic tests also run.
    elementwise : bool
        False for softmax-like functions (a Jacobian, not an element-wise derivative).
    """

    name = "activation"
    layer = None
    formula = ""
    derivative_formula = ""
    torch = None
    torch_autograd = True
    params: tuple = ()
    variants: tuple = ()
    elementwise = True

    # ---------------------------------------------------------------- the description
    def torch_kwargs(self) -> dict:
        """Keyword arguments for the PyTorch function (its names for our parameters)."""
        return {}

    def limits(self):
        """``(f(-inf), f(+inf), f'(-inf), f'(+inf))``, or None where they do not apply."""
        return None

    def sympy(self, x):
        """The activation as a SymPy expression of the symbol ``x`` (None: no scalar form)."""
        return None

    def param_values(self) -> dict:
        """The parameters as given to the constructor, e.g. ``{"alpha": 0.01}``."""
        return {p: getattr(self, p) for p in self.params}

    @property
    def label(self) -> str:
        """``name``, with the parameters where they differ from the default (or matter, as an axis)."""
        values = self.param_values()
        default = type(self)().param_values()
        if values == default and self.elementwise:
            return self.name
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in values.items())})"

    # ---------------------------------------------------------------- the maths
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
        arr, g = self._check_dout(z, dout)
        return _finish(g * self._derivative(arr), z)

    def vjp_from_output(self, z: np.ndarray, a: np.ndarray, dout: np.ndarray) -> np.ndarray:
        """The same product, given also the output ``a = f(z)`` of the forward pass.

        A layer calls this in its backward pass: sigmoid, tanh, ReLU and the softmaxes
        reuse ``a`` instead of recomputing :math:`f(z)`. Arrays must be float and of one shape.
        """
        return self.vjp(z, dout)

    def _check_dout(self, z, dout, name: str = "dout"):
        arr = as_float_array(z, "z")
        g = as_float_array(dout, name)
        if g.shape != arr.shape:
            raise ValueError(f"{name} must have the shape of z {arr.shape}; got {g.shape}")
        return arr, g

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.param_values().items())
        return f"{self.layer or type(self).__name__}({args})"


#: Every registered activation by name (the instance with default parameters).
ACTIVATIONS: dict[str, ActivationFunction] = {}


def register(cls):
    """Class decorator: add an instance of ``cls`` (default parameters) to :data:`ACTIVATIONS`.

    The layer (:func:`dlcourse.layers.activation.layer_class`), the SymPy table
    (:func:`dlcourse.calculus.activation_exprs`), the cross-check and the generic tests
    find it there.
    """
    if not (isinstance(cls, type) and issubclass(cls, ActivationFunction)):
        raise TypeError(f"register expects an ActivationFunction subclass; got {cls!r}")
    if cls.name in ACTIVATIONS and type(ACTIVATIONS[cls.name]) is not cls:
        raise ValueError(f"an activation named {cls.name!r} is already registered")
    ACTIVATIONS[cls.name] = cls()
    return cls


def unregister(name: str) -> None:
    """Remove the activation ``name`` from :data:`ACTIVATIONS` (for throw-away test activations)."""
    del ACTIVATIONS[name]


# ==================================================================== the activations


@register
class StepFunction(ActivationFunction):
    r"""Heaviside step with the strict rule: :math:`\mathrm{step}(z) = 1` if :math:`z > 0`, else 0.

    At :math:`z = 0` the output is 0 (the perceptron's convention; ``>=`` is a common trap).
    The derivative is 0 wherever it exists, which is why the step cannot be trained by
    gradient descent.
    """

    name, layer = "step", "Step"
    formula = r"\mathrm{step}(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}"
    derivative_formula = r"\mathrm{step}'(z) = 0 \quad (z \ne 0)"
    torch, torch_autograd = "torch.heaviside", False

    def torch_kwargs(self):
        return {"values": 0.0}  # the value at 0; torch.heaviside wants it as a tensor

    def limits(self):
        return (0, 1, 0, 0)

    def sympy(self, x):
        import sympy as sp

        return sp.Piecewise((1, x > 0), (0, True))

    def _forward(self, z):
        return _keep_nan(z, z > 0)

    def _derivative(self, z):
        return _keep_nan(z, 0)


@register
class LinearFunction(ActivationFunction):
    r"""Identity: :math:`f(z) = z`, :math:`f'(z) = 1`. Used for regression outputs.

    Its layer is :class:`dlcourse.layers.Identity` (PyTorch's ``nn.Identity``). The layer that
    PyTorch calls ``nn.Linear`` (an affine map :math:`XW + b`) is :class:`dlcourse.layers.Dense`.
    """

    name, layer = "linear", "Identity"
    formula = r"f(z) = z"
    derivative_formula = r"f'(z) = 1"
    torch = "torch.clone"

    def limits(self):
        return (-INF, INF, 1, 1)

    def sympy(self, x):
        return x

    def _forward(self, z):
        return z.copy()

    def _derivative(self, z):
        return _keep_nan(z, 1)


@register
class SigmoidFunction(ActivationFunction):
    r"""Logistic sigmoid :math:`\sigma(z) = \frac{1}{1 + e^{-z}}`, :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`.

    Computed as :math:`1/(1+e^{-|z|})` or :math:`e^{-|z|}/(1+e^{-|z|})` by sign, so
    :math:`e^{-z}` never overflows for large negative :math:`z`.
    """

    name, layer = "sigmoid", "Sigmoid"
    formula = r"\sigma(z) = \frac{1}{1 + e^{-z}}"
    derivative_formula = r"\sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr)"
    torch = "torch.sigmoid"

    def limits(self):
        return (0, 1, 0, 0)

    def sympy(self, x):
        import sympy as sp

        return 1 / (1 + sp.exp(-x))

    def _forward(self, z):
        return _stable_sigmoid(z)

    def _derivative(self, z):
        s = _stable_sigmoid(z)
        return s * (1 - s)

    def vjp_from_output(self, z, a, dout):
        return dout * a * (1 - a)


@register
class TanhFunction(ActivationFunction):
    r"""Hyperbolic tangent :math:`\tanh(z) = \frac{e^z - e^{-z}}{e^z + e^{-z}} = 2\sigma(2z) - 1`.

    A *scaled and shifted* sigmoid (not merely shifted). Derivative
    :math:`\tanh'(z) = 1 - \tanh^2(z) = \operatorname{sech}^2(z)`.
    """

    name, layer = "tanh", "Tanh"
    formula = r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}"
    derivative_formula = r"\tanh'(z) = 1 - \tanh^2(z)"
    torch = "torch.tanh"

    def limits(self):
        return (-1, 1, 0, 0)

    def sympy(self, x):
        import sympy as sp

        return sp.tanh(x)

    def _forward(self, z):
        return np.tanh(z)

    def _derivative(self, z):
        t = np.tanh(z)
        return 1 - t * t

    def vjp_from_output(self, z, a, dout):
        return dout * (1 - a * a)


@register
class ReLUFunction(ActivationFunction):
    r"""Rectified linear unit :math:`\mathrm{ReLU}(z) = \max(0, z)`; derivative 1 for :math:`z > 0`, else 0.

    At :math:`z = 0` the derivative is taken as 0, as PyTorch does.
    """

    name, layer = "relu", "ReLU"
    formula = r"\mathrm{ReLU}(z) = \max(0, z)"
    derivative_formula = r"\mathrm{ReLU}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}"
    torch = "torch.relu"

    def limits(self):
        return (0, INF, 0, 1)

    def sympy(self, x):
        import sympy as sp

        return sp.Piecewise((x, x > 0), (0, True))

    def _forward(self, z):
        return np.maximum(z, _zero(z.dtype))  # NaN stays NaN

    def _derivative(self, z):
        return _keep_nan(z, z > 0)

    def vjp_from_output(self, z, a, dout):
        # dout * (z > 0), bit for bit (0 where z is NaN), with the mask as numbers first:
        # a product of two float arrays is faster than one of a float and a bool array,
        # and writing it into the mask's own memory saves allocating a third array.
        mask = np.greater(z, _zero(z.dtype)).astype(dout.dtype)
        if mask.shape != dout.shape:  # dout broadcasts against z: a new array of the joint shape
            return dout * mask
        return np.multiply(dout, mask, out=mask)


@register
class LeakyReLUFunction(ActivationFunction):
    r"""Leaky ReLU :math:`f(z) = z` for :math:`z > 0`, else :math:`\alpha z`.

    The default :math:`\alpha = 0.01` is PyTorch's. Derivative 1 for :math:`z > 0`, else :math:`\alpha`
    (also at 0, as in PyTorch).
    """

    name, layer = "leaky_relu", "LeakyReLU"
    formula = r"f(z) = \begin{cases} z & z > 0 \\ \alpha z & z \le 0 \end{cases}"
    derivative_formula = r"f'(z) = \begin{cases} 1 & z > 0 \\ \alpha & z \le 0 \end{cases}"
    torch = "torch.nn.functional.leaky_relu"
    params, variants = ("alpha",), ({"alpha": 0.2},)

    def __init__(self, alpha: float = 0.01):
        self.alpha = _check_alpha(alpha)

    def torch_kwargs(self):
        return {"negative_slope": self.alpha}

    def limits(self):
        return (-INF if self.alpha > 0 else 0, INF, self.alpha, 1)

    def sympy(self, x):
        import sympy as sp

        return sp.Piecewise((x, x > 0), (sp.nsimplify(self.alpha) * x, True))

    def _forward(self, z):
        neg = np.minimum(z, 0)
        if self.alpha == 0:  # 0 * -inf would be NaN; the limit is 0
            neg = np.where(np.isneginf(neg), 0, neg)
        return np.where(z > 0, z, self.alpha * neg).astype(z.dtype, copy=False)

    def _derivative(self, z):
        return _keep_nan(z, np.where(z > 0, 1.0, self.alpha))


@register
class ELUFunction(ActivationFunction):
    r"""Exponential linear unit :math:`f(z) = z` for :math:`z > 0`, else :math:`\alpha (e^z - 1)`.

    Derivative 1 for :math:`z > 0`, else :math:`\alpha e^z`. The exponential only sees
    :math:`\min(z, 0)`, so it cannot overflow.
    """

    name, layer = "elu", "ELU"
    formula = r"f(z) = \begin{cases} z & z > 0 \\ \alpha (e^{z} - 1) & z \le 0 \end{cases}"
    derivative_formula = r"f'(z) = \begin{cases} 1 & z > 0 \\ \alpha e^{z} & z \le 0 \end{cases}"
    torch = "torch.nn.functional.elu"
    params, variants = ("alpha",), ({"alpha": 0.5},)

    def __init__(self, alpha: float = 1.0):
        self.alpha = _check_alpha(alpha)

    def torch_kwargs(self):
        return {"alpha": self.alpha}

    def limits(self):
        return (-self.alpha, INF, 0, 1)

    def sympy(self, x):
        import sympy as sp

        return sp.Piecewise((x, x > 0), (sp.nsimplify(self.alpha) * (sp.exp(x) - 1), True))

    def _forward(self, z):
        neg = np.minimum(z, 0)
        return np.where(z > 0, z, self.alpha * np.expm1(neg)).astype(z.dtype, copy=False)

    def _derivative(self, z):
        neg = np.minimum(z, 0)
        return _keep_nan(z, np.where(z > 0, 1, self.alpha * np.exp(neg)))


@register
class SwishFunction(ActivationFunction):
    r"""Swish / SiLU :math:`f(z) = z\,\sigma(z)`, :math:`f'(z) = \sigma(z) + z\,\sigma(z)(1 - \sigma(z))`.

    Limits: :math:`f(-\infty) = 0`, :math:`f(+\infty) = +\infty`,
    :math:`f'(-\infty) = 0`, :math:`f'(+\infty) = 1`.
    """

    name, layer = "swish", "Swish"
    formula = r"f(z) = z\,\sigma(z)"
    derivative_formula = r"f'(z) = \sigma(z) + z\,\sigma(z)\bigl(1 - \sigma(z)\bigr)"
    torch = "torch.nn.functional.silu"

    def limits(self):
        return (0, INF, 0, 1)

    def sympy(self, x):
        import sympy as sp

        return x / (1 + sp.exp(-x))

    def _forward(self, z):
        return _replace_inf(z, np.inf, 0.0, lambda x: x * _stable_sigmoid(x))

    def _derivative(self, z):
        def d(x):
            s = _stable_sigmoid(x)
            return s + x * s * (1 - s)

        return _replace_inf(z, 1.0, 0.0, d)


@register
class SoftplusFunction(ActivationFunction):
    r"""Softplus :math:`f(z) = \ln(1 + e^{z})`, a smooth ReLU; :math:`f'(z) = \sigma(z)`.

    Computed as :math:`\max(z, 0) + \ln(1 + e^{-|z|})`.
    """

    name, layer = "softplus", "Softplus"
    formula = r"f(z) = \ln\bigl(1 + e^{z}\bigr)"
    derivative_formula = r"f'(z) = \sigma(z)"
    torch = "torch.nn.functional.softplus"

    def limits(self):
        return (0, INF, 0, 1)

    def sympy(self, x):
        import sympy as sp

        return sp.log(1 + sp.exp(x))

    def _forward(self, z):
        return _replace_inf(z, np.inf, 0.0, lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))

    def _derivative(self, z):
        return _stable_sigmoid(z)


_erf = np.vectorize(math.erf, otypes=[np.float64])
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715


@register
class GELUFunction(ActivationFunction):
    r"""Gaussian error linear unit :math:`f(z) = z\,\Phi(z) = \frac{z}{2}\bigl(1 + \operatorname{erf}(z/\sqrt2)\bigr)`.

    :math:`\Phi` is the standard normal CDF; :math:`f'(z) = \Phi(z) + z\,\varphi(z)` with the
    density :math:`\varphi(z) = e^{-z^2/2}/\sqrt{2\pi}`. ``approximate="tanh"`` is the
    approximation of Hendrycks and Gimpel (and of GPT-2, and PyTorch's ``approximate="tanh"``):
    :math:`\frac{z}{2}\bigl(1 + \tanh(\sqrt{2/\pi}\,(z + 0.044715 z^3))\bigr)`.
    ``erf`` comes from Python's :func:`math.erf`, one element at a time: exact, not fast.
    """

    name, layer = "gelu", "GELU"
    formula = r"f(z) = z\,\Phi(z) = \frac{z}{2}\Bigl(1 + \operatorname{erf}\bigl(z/\sqrt{2}\bigr)\Bigr)"
    derivative_formula = r"f'(z) = \Phi(z) + z\,\frac{e^{-z^2/2}}{\sqrt{2\pi}}"
    torch = "torch.nn.functional.gelu"
    params, variants = ("approximate",), ({"approximate": "tanh"},)

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh'; got {approximate!r}")
        self.approximate = approximate

    def torch_kwargs(self):
        return {"approximate": self.approximate}

    def limits(self):
        return (0, INF, 0, 1)

    def sympy(self, x):
        import sympy as sp

        if self.approximate == "tanh":
            inner = sp.sqrt(2 / sp.pi) * (x + sp.Rational(44715, 10 ** 6) * x ** 3)
            return x / 2 * (1 + sp.tanh(inner))
        return x / 2 * (1 + sp.erf(x / sp.sqrt(2)))

    def _tanh_inner(self, x):
        return np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x ** 3))

    def _forward(self, z):
        return _replace_inf(z, np.inf, 0.0, self._value)

    def _value(self, x):
        if self.approximate == "tanh":
            return (0.5 * x * (1 + self._tanh_inner(x))).astype(x.dtype, copy=False)
        return (0.5 * x * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype, copy=False)

    def _slope(self, x):
        if self.approximate == "tanh":
            t = self._tanh_inner(x)
            d_inner = _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
            return (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner).astype(x.dtype, copy=False)
        cdf = 0.5 * (1 + _erf(x / math.sqrt(2)))
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return (cdf + x * pdf).astype(x.dtype, copy=False)

    def _derivative(self, z):
        return _replace_inf(z, 1.0, 0.0, self._slope)


# ---------------------------------------------------------------- softmax and log-softmax

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


@register
class SoftmaxFunction(ActivationFunction):
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

    name, layer = "softmax", "Softmax"
    formula = r"\mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}"
    derivative_formula = r"\frac{\partial s_i}{\partial z_j} = s_i(\delta_{ij} - s_j)"
    torch = "torch.nn.functional.softmax"
    params, variants, elementwise = ("axis",), ({"axis": 0},), False

    def __init__(self, axis: int = -1):
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"axis must be an integer; got {axis!r}")
        self.axis = int(axis)

    def torch_kwargs(self):
        return {"dim": self.axis}

    def _forward(self, z):
        _check_axis(z, self.axis)
        if z.size == 0:
            return z.copy()
        m = z.max(axis=self.axis, keepdims=True)
        if np.all(np.isfinite(m)):  # the common case: no +-inf or NaN bookkeeping
            e = np.exp(z - m)
        else:
            e = np.exp(_shifted(z, self.axis))
        with np.errstate(invalid="ignore"):  # a row of all -inf is 0/0: NaN, as in PyTorch
            e /= e.sum(axis=self.axis, keepdims=True)
        return e

    def _derivative(self, z):
        s = np.moveaxis(self._forward(z), self.axis, -1)
        eye = np.eye(s.shape[-1], dtype=s.dtype)
        return s[..., :, None] * (eye - s[..., None, :])

    def vjp(self, z, dout):
        arr, g = self._check_dout(z, dout)
        return self.vjp_from_output(arr, self._forward(arr), g)

    def vjp_from_output(self, z, a, dout):
        return a * (dout - np.sum(dout * a, axis=self.axis, keepdims=True))

    jvp = vjp


@register
class LogSoftmaxFunction(SoftmaxFunction):
    r"""Log-softmax along ``axis``: :math:`z_i - m - \ln \sum_j e^{z_j - m}` (log-sum-exp).

    Jacobian :math:`\partial \ell_i / \partial z_j = \delta_{ij} - s_j`; ``vjp`` gives
    :math:`v - s \sum_j v_j` and ``jvp`` gives :math:`v - \langle s, v\rangle`.
    """

    name, layer = "log_softmax", "LogSoftmax"
    formula = r"\log\mathrm{softmax}(z)_i = z_i - \log \sum_j e^{z_j}"
    derivative_formula = r"\frac{\partial \ell_i}{\partial z_j} = \delta_{ij} - s_j"
    torch = "torch.nn.functional.log_softmax"

    def _forward(self, z):
        _check_axis(z, self.axis, self.name)
        if z.size == 0:
            return z.copy()
        shifted = _shifted(z, self.axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            return shifted - np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))

    def _derivative(self, z):
        s = np.moveaxis(SoftmaxFunction._forward(self, z), self.axis, -1)
        eye = np.eye(s.shape[-1], dtype=s.dtype)
        return np.broadcast_to(eye, s.shape + (s.shape[-1],)) - s[..., None, :]

    def vjp(self, z, dout):
        arr, g = self._check_dout(z, dout)
        return g - SoftmaxFunction._forward(self, arr) * np.sum(g, axis=self.axis, keepdims=True)

    def vjp_from_output(self, z, a, dout):
        return dout - np.exp(a) * np.sum(dout, axis=self.axis, keepdims=True)

    def jvp(self, z, v):
        r"""Jacobian-vector product :math:`J v = v - \langle s, v\rangle` (``J`` is not symmetric here)."""
        arr, g = self._check_dout(z, v, "v")
        s = SoftmaxFunction._forward(self, arr)
        return g - np.sum(s * g, axis=self.axis, keepdims=True)


# The module-level functions (default parameters), as the chapters and exercises call them.
step = ACTIVATIONS["step"]
linear = ACTIVATIONS["linear"]
sigmoid = ACTIVATIONS["sigmoid"]
tanh = ACTIVATIONS["tanh"]
relu = ACTIVATIONS["relu"]
leaky_relu = ACTIVATIONS["leaky_relu"]
elu = ACTIVATIONS["elu"]
swish = ACTIVATIONS["swish"]
softplus = ACTIVATIONS["softplus"]
gelu = ACTIVATIONS["gelu"]
softmax = ACTIVATIONS["softmax"]
log_softmax = ACTIVATIONS["log_softmax"]


def get(name_or_activation, **params) -> ActivationFunction:
    """Look an activation up by name (``"relu"``), or return an ``ActivationFunction`` unchanged.

    ``params`` (e.g. ``alpha=0.2``) give a new instance with those parameters.
    """
    if isinstance(name_or_activation, ActivationFunction):
        act = name_or_activation
    elif name_or_activation is None:
        act = linear
    else:
        try:
            act = ACTIVATIONS[str(name_or_activation).lower()]
        except KeyError:
            raise ValueError(
                f"unknown activation {name_or_activation!r}; expected one of {sorted(ACTIVATIONS)}"
            ) from None
    return type(act)(**{**act.param_values(), **params}) if params else act


# The public names: the machinery, then every registered class and its instance.
__all__ = ["ActivationFunction", "register", "unregister", "get", "ACTIVATIONS",
           *[type(act).__name__ for act in ACTIVATIONS.values()], *ACTIVATIONS]
