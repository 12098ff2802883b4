r"""A scalar autograd engine: every number remembers how it was made, and ``backward()`` runs the chain rule.

A :class:`Value` wraps one float (``data``) and the derivative of the final output
with respect to it (``grad``). Every operation on Values returns a new Value that
records its inputs, the operation's name and a small closure, ``_backward``, which
applies the operation's *local* derivative:

.. math::

    \frac{\partial L}{\partial a} \mathrel{+}= \frac{\partial L}{\partial out}\,
    \frac{\partial out}{\partial a}

for each input :math:`a` of :math:`out = f(a, \dots)`. :meth:`Value.backward` visits
the graph in reverse topological order (every node after all the nodes computed from
it), so each node's ``grad`` is complete before it is passed on. The ``+=`` is the
multivariable chain rule: a node used twice (``x * x``, ``a + a``) receives the sum of
both contributions.

Gradients, as in PyTorch: ``backward()`` zeroes the ``grad`` of every intermediate
node of the graph, seeds the output with 1 and *adds* into the leaves (the Values
you created yourself). A leaf's ``grad`` therefore accumulates over several
``backward()`` calls; reset it with :func:`zero_grad` before the next step of a
training loop.

This is micrograd (Karpathy, 2020) with its errors spelled out: operands must be
Values or real numbers, exponents numbers, ``log`` a positive argument, and ``exp``
that overflows float64 raises instead of returning ``inf``.
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable

__all__ = ["Value", "zero_grad"]

#: ``exp(x)`` overflows float64 above this (``math.log(sys.float_info.max)``).
EXP_LIMIT = 709.782712893384


def _check_number(x, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a real number (int or float); got {x!r} of type {type(x).__name__}")
    return float(x)


class Value:
    """One scalar node of a computational graph.

    Parameters
    ----------
    data : int or float
        The number.
    label : str, optional
        A name shown by :func:`dlcourse.plots.graph.draw_graph`.

    Attributes
    ----------
    data : float
        The forward value.
    grad : float
        dL/d(this value) after ``L.backward()``; 0 before.
    inputs : tuple of Value
        The Values this one was computed from (empty for a leaf).
    op : str
        The operation that made it (``""`` for a leaf).
    """

    def __init__(self, data, label: str = "", *, _inputs: tuple = (), _op: str = ""):
        self.data = _check_number(data, "Value(data)")
        self.grad = 0.0
        self.label = label
        self.inputs = tuple(_inputs)
        self.op = _op
        self._backward = lambda: None

    def __repr__(self) -> str:
        name = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{name})"

    @staticmethod
    def _coerce(other, symbol: str) -> "Value":
        """``other`` as a Value: Values pass, numbers become constant leaves, the rest is a TypeError."""
        if isinstance(other, Value):
            return other
        if isinstance(other, bool) or not isinstance(other, numbers.Real):
            raise TypeError(f"Value {symbol} {type(other).__name__}: the other operand must be a Value or a "
                            f"real number (int or float); got {other!r}")
        return Value(other)

    # ---- binary operations: out = self (op) other ------------------------------------

    def __add__(self, other) -> "Value":
        other = self._coerce(other, "+")
        out = Value(self.data + other.data, _inputs=(self, other), _op="+")

        def _backward():  # d(a + b)/da = 1, d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __sub__(self, other) -> "Value":
        other = self._coerce(other, "-")
        out = Value(self.data - other.data, _inputs=(self, other), _op="-")

        def _backward():  # d(a - b)/da = 1, d(a - b)/db = -1
            self.grad += out.grad
            other.grad -= out.grad
        out._backward = _backward
        return out

    def __mul__(self, other) -> "Value":
        other = self._coerce(other, "*")
        out = Value(self.data * other.data, _inputs=(self, other), _op="*")

        def _backward():  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __truediv__(self, other) -> "Value":
        other = self._coerce(other, "/")
        if other.data == 0.0:
            raise ZeroDivisionError(f"division by zero: {self.data!r} / {other!r}")
        out = Value(self.data / other.data, _inputs=(self, other), _op="/")

        def _backward():  # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
            self.grad += out.grad / other.data
            other.grad -= out.grad * self.data / other.data ** 2
        out._backward = _backward
        return out

    def __pow__(self, exponent) -> "Value":
        if isinstance(exponent, Value) or isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            raise TypeError(f"Value ** {type(exponent).__name__}: only a number exponent (int or float) is "
                            "supported; for a Value exponent b write (b * a.log()).exp()")
        p = float(exponent)
        if self.data == 0.0 and p < 0:
            raise ZeroDivisionError(f"({self.data!r}) ** {exponent!r}: zero to a negative power")
        if self.data < 0.0 and not p.is_integer():
            raise ValueError(f"({self.data!r}) ** {exponent!r}: a negative base needs an integer exponent "
                             "(the result would be complex)")
        out = Value(self.data ** p, _inputs=(self,), _op=f"**{exponent:g}")

        def _backward():  # d(a^p)/da = p a^(p-1); infinite at a = 0 for 0 < p < 1, as in PyTorch
            if p == 0.0:
                local = 0.0
            elif self.data == 0.0 and p < 1.0:
                local = math.inf
            else:
                local = p * self.data ** (p - 1)
            self.grad += local * out.grad
        out._backward = _backward
        return out

    # ---- a Python number on the left: 2 + v, 3 - v, 2 * v, 3 / v ---------------------

    def __radd__(self, other) -> "Value":
        return self._coerce(other, "+") + self

    def __rsub__(self, other) -> "Value":
        return self._coerce(other, "-") - self

    def __rmul__(self, other) -> "Value":
        return self._coerce(other, "*") * self

    def __rtruediv__(self, other) -> "Value":
        return self._coerce(other, "/") / self

    def __rpow__(self, base):
        raise TypeError(f"{type(base).__name__} ** Value: only a number exponent is supported; for b ** v "
                        "with b > 0 write (v * math.log(b)).exp()")

    # ---- unary operations: out = f(self) ---------------------------------------------

    def _unary(self, data: float, op: str, local_derivative: float) -> "Value":
        """A new node ``f(self)`` whose backward multiplies by ``local_derivative`` = f'(self.data)."""
        out = Value(data, _inputs=(self,), _op=op)

        def _backward():
            self.grad += local_derivative * out.grad
        out._backward = _backward
        return out

    def __neg__(self) -> "Value":
        r"""$-a$; derivative $-1$."""
        return self._unary(-self.data, "neg", -1.0)

    def exp(self) -> "Value":
        r"""$e^a$; derivative $e^a$. Raises OverflowError above ``EXP_LIMIT`` (about 709.78)."""
        if self.data > EXP_LIMIT:
            raise OverflowError(f"exp({self.data!r}) overflows float64 (the largest finite is exp({EXP_LIMIT:.2f}))")
        e = math.exp(self.data)
        return self._unary(e, "exp", e)

    def log(self) -> "Value":
        r"""$\ln a$ for $a > 0$; derivative $1/a$."""
        if self.data <= 0.0:
            raise ValueError(f"log is defined for positive values only; got log({self.data!r})")
        return self._unary(math.log(self.data), "log", 1.0 / self.data)

    def tanh(self) -> "Value":
        r"""$\tanh a$; derivative $1 - \tanh^2 a$ (``math.tanh``, stable for any $a$)."""
        t = math.tanh(self.data)
        return self._unary(t, "tanh", 1.0 - t * t)

    def sigmoid(self) -> "Value":
        r"""$\sigma(a) = 1 / (1 + e^{-a})$; derivative $\sigma(a)(1 - \sigma(a))$. Never overflows."""
        if self.data >= 0:
            s = 1.0 / (1.0 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            s = e / (1.0 + e)
        return self._unary(s, "sigmoid", s * (1.0 - s))

    def relu(self) -> "Value":
        r"""$\max(0, a)$; derivative 1 for $a > 0$, else 0 (0 at $a = 0$, as in PyTorch)."""
        return self._unary(max(0.0, self.data), "relu", 1.0 if self.data > 0 else 0.0)

    # ---- the backward pass -----------------------------------------------------------

    def topological_order(self) -> list["Value"]:
        """Every node of the graph that ends here, each after all of its inputs (self last).

        Iterative depth-first search, so a chain of any length fits in memory without
        reaching Python's recursion limit.
        """
        order: list[Value] = []
        visited: set[Value] = set()
        stack = [(self, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:  # all of node's inputs are already in order
                order.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node.inputs if child not in visited)
        return order

    def backward(self) -> None:
        """Fill ``grad`` of every node with d(self)/d(node), by the chain rule in reverse topological order.

        Intermediate nodes are reset to 0 first; leaves accumulate (see the module docstring).
        """
        order = self.topological_order()
        for node in order:
            if node.inputs:
                node.grad = 0.0
        self.grad += 1.0  # d(self)/d(self)
        for node in reversed(order):
            node._backward()


def zero_grad(values: Iterable[Value]) -> None:
    """Set ``grad = 0`` on each Value (the parameters), before the next ``backward()``."""
    for v in values:
        v.grad = 0.0
