"""The ``Parameter``: a learnable array and its gradient, as in PyTorch.

The layers keep the weights they create in :func:`aligned` arrays, whose data starts on
a 64-byte boundary (a cache line; PyTorch's CPU allocator aligns every tensor the same
way). NumPy's own arrays start wherever ``malloc`` puts them (16-byte boundaries): a
matrix product or update over a weight matrix that straddles cache lines runs up to
about 5 % slower, and by how much depends on where the process's heap happened to land.
"""

from __future__ import annotations

import numpy as np

#: Bytes of a cache line: where :func:`aligned` arrays start.
ALIGNMENT = 64


def aligned(values, dtype=None) -> np.ndarray:
    """A C-contiguous copy of ``values`` (in ``dtype``, if given) whose data starts on a 64-byte boundary."""
    src = np.asarray(values, dtype=dtype)
    nbytes = src.size * src.itemsize
    raw = np.empty(nbytes + ALIGNMENT, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    out = raw[start:start + nbytes].view(src.dtype).reshape(src.shape)
    out[...] = src
    return out


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
