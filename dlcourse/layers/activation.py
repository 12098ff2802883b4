r"""Activation layers, generated: one layer class per activation of :mod:`dlcourse.activations`.

``Activation("relu")`` wraps any registered activation; the named classes
(``ReLU()``, ``Sigmoid()``, ``GELU(approximate="tanh")``, ...) are made here from the
registry, one per entry, named by its ``layer`` attribute and taking its parameters.
Forward applies :math:`a = f(z)` and keeps :class:`ActivationCache` ``(z, a)``;
backward returns

.. math:: \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot f'(z)

through ``fn.vjp_from_output(z, a, dout)`` (for softmax the full vector-Jacobian
product :math:`s \odot (g - \langle g, s\rangle)`; sigmoid, tanh, ReLU and the
softmaxes reuse the cached output). Shapes: any ``(N, ...)``; the output has the
input's shape.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import activations as _act
from .._checks import as_float_array
from .base import Layer, check_forward_called, keeps_methods

__all__ = ["Activation", "ActivationCache", "layer_class", "LAYER_CLASSES"]


class ActivationCache(NamedTuple):
    """What the backward pass needs: the input ``z`` and the output ``a = f(z)``, both (N, ...)."""

    z: np.ndarray
    a: np.ndarray


class Activation(Layer):
    r"""A layer that applies an activation function element-wise (softmax: along an axis).

    Parameters
    ----------
    fn : str or dlcourse.activations.ActivationFunction
        The function, by name (``"relu"``, ``"sigmoid"``, ...) or as an object.

    Attributes
    ----------
    fn : dlcourse.activations.ActivationFunction
    """

    def __init__(self, fn="relu"):
        self.fn = _act.get(fn)
        self._cache: ActivationCache | None = None

    @property
    def name(self) -> str:
        return self.fn.name

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Apply the function; shape ``(N, ...)`` in and out."""
        z = x if type(x) is np.ndarray and x.dtype.kind == "f" else as_float_array(x, "x")
        fn = self.fn
        if type(fn).__call__ is _PLAIN_CALL:  # fn(z) without checking z again
            a = np.asarray(fn._forward(z))
        else:
            a = fn(z)
        self._cache = tuple.__new__(ActivationCache, (z, a))  # ActivationCache(z, a), without its Python __new__
        return a

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        """Return :math:`\\partial L/\\partial z` (shape of the input); nothing is learned."""
        cache = self._cache
        if cache is None:
            check_forward_called(cache, self)
        z = cache.z
        if dout.shape != z.shape:
            raise ValueError(f"dout must have the shape of the layer's output {z.shape}; got {dout.shape}")
        return self.fn.vjp_from_output(z, cache.a, dout)

    def _unchecked_parts(self) -> list | None:
        """``[("activation", self)]`` for :func:`dlcourse.layers._unchecked.passes`, or None.

        Only for a function of :mod:`dlcourse.activations` itself (element-wise, or softmax
        along an axis: the output has the input's shape on every step) that keeps the plain
        ``__call__``, in a layer that keeps this class's methods; the step then calls
        ``fn._forward`` and ``fn.vjp_from_output`` directly.
        """
        fn = self.fn
        if (not keeps_methods(self, Activation) or type(fn).__call__ is not _PLAIN_CALL
                or type(fn).__module__ != _act.__name__ or {"_forward", "vjp_from_output"} & vars(fn).keys()):
            return None
        return [("activation", self)]

    def __repr__(self) -> str:
        if type(self) is Activation:
            return f"Activation({self.fn.name!r})"
        return repr(self.fn)


#: ``ActivationFunction.__call__``: for a function that keeps it, the layer (whose input is
#: already a float array) calls ``fn._forward`` directly, as that method would.
_PLAIN_CALL = _act.ActivationFunction.__call__

#: The generated layer classes by activation name (``"relu"`` -> ``ReLU``).
LAYER_CLASSES: dict[str, type] = {}


def _make_layer_class(fn: _act.ActivationFunction) -> type:
    """A subclass of :class:`Activation` named ``fn.layer`` whose constructor takes ``fn``'s parameters."""
    import inspect

    fn_cls = type(fn)

    def __init__(self, *args, **kwargs):
        Activation.__init__(self, fn_cls(*args, **kwargs))

    __init__.__signature__ = inspect.signature(fn_cls.__init__) if fn.params else inspect.signature(lambda self: None)
    doc = (f"Layer of :class:`dlcourse.activations.{fn_cls.__name__}` (``{fn.name}``), "
           f"generated from the registry.\n\n    " + (fn_cls.__doc__ or "").strip())
    return type(fn.layer, (Activation,), {"__init__": __init__, "__doc__": doc, "__module__": __name__,
                                          "function_class": fn_cls})


def layer_class(name: str) -> type:
    """The layer class of the registered activation ``name`` (made on first use for new entries)."""
    fn = _act.get(name)
    cls = LAYER_CLASSES.get(fn.name)
    if cls is None or cls.function_class is not type(fn):
        cls = LAYER_CLASSES[fn.name] = _make_layer_class(fn)
    return cls


for _fn in _act.ACTIVATIONS.values():
    globals()[_fn.layer] = layer_class(_fn.name)
    __all__.append(_fn.layer)
del _fn
