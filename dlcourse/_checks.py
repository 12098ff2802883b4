"""Input validation shared by the package: clear errors, never a silent broadcast."""

from __future__ import annotations

import numpy as np

_FLOAT_KINDS = "f"


def as_float_array(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as a floating-point ndarray, keeping float32/float64.

    Integers, booleans and Python lists become float64. Complex, object and
    string input is rejected with a ``TypeError`` that names ``name``.
    """
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like of numbers; got {type(x).__name__}: {exc}") from None
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(
            f"{name} must hold real numbers (float32 or float64); got dtype {arr.dtype}"
        )
    if arr.dtype.itemsize < 4:  # float16: compute in float32
        return arr.astype(np.float32)
    return arr


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` naming both shapes unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape; got {name_a}.shape={a.shape} "
            f"and {name_b}.shape={b.shape}"
        )


def check_ndim(x: np.ndarray, ndim: int, name: str, letters: str) -> None:
    """Raise ``ValueError`` unless ``x.ndim == ndim``; ``letters`` spells the expected shape, e.g. "(N, D)"."""
    if x.ndim != ndim:
        raise ValueError(f"{name} must have shape {letters} ({ndim}-D); got shape {x.shape}")


def check_finite(x: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` if ``x`` holds NaN or infinity."""
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{name} must be finite; found {x[tuple(bad)]} at index {tuple(int(i) for i in bad)}")


def result_dtype(*arrays: np.ndarray) -> np.dtype:
    """The floating dtype that the arrays promote to."""
    return np.result_type(*arrays)
