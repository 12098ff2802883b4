"""The ``Parameter``: a learnable array and its gradient, as in PyTorch."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A learnable array with a gradient slot.

    Attributes
    ----------
    data : ndarray
        The values; optimizers update them in place.
    grad : ndarray or None
        The gradient of the loss with respect to ``data`` (same shape), filled
        by a layer's ``backward``; ``None`` until the first backward pass.
    name : str
        A label for summaries and error messages (``"W"``, ``"b"``, ...).
    """

    __slots__ = ("data", "grad", "name")

    def __init__(self, data, name: str = "param"):
        arr = np.asarray(data)
        if arr.dtype.kind != "f":
            arr = arr.astype(np.float64)
        self.data = arr
        self.grad = None
        self.name = name

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def size(self) -> int:
        return self.data.size

    def zero_grad(self) -> None:
        """Set the gradient to zeros of the parameter's shape and dtype."""
        self.grad = np.zeros_like(self.data)

    def __repr__(self) -> str:
        return f"Parameter({self.name}, shape={self.data.shape}, dtype={self.data.dtype})"
