"""An oracle for the kernel tests: central differences of a closure over an array.

Independent of ``dlcourse.gradcheck`` on purpose, so that the kernels are not checked
only by the package's own checker. ``f()`` reads ``x``, which is perturbed in place one
entry at a time and restored.
"""

from __future__ import annotations

import numpy as np


def numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to ``x`` (changed in place, restored)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        saved = x[idx]
        x[idx] = saved + eps
        plus = f()
        x[idx] = saved - eps
        minus = f()
        x[idx] = saved
        grad[idx] = (plus - minus) / (2 * eps)
    return grad
