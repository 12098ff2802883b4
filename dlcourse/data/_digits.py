"""The 8x8 handwritten digits that scikit-learn ships, vendored here (loaded with NumPy only).

The file ``digits.csv.gz`` is the test set of the UCI "Optical Recognition of
Handwritten Digits" data (E. Alpaydin and C. Kaynak, 1998), as distributed in
scikit-learn's ``sklearn/datasets/data/`` (BSD-3-Clause; see ``LICENSE_digits.txt``).
Each row holds 64 pixel counts in 0..16 (an 8x8 image, row by row) and the label.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["digits", "DIGITS_PATH"]

#: Where the vendored file lives.
DIGITS_PATH = Path(__file__).with_name("digits.csv.gz")


@lru_cache(maxsize=1)
def _load() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(DIGITS_PATH, delimiter=",", dtype=np.float64)
    X, y = table[:, :-1], table[:, -1].astype(np.int64)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def digits(images: bool = False, scale: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Load the 1,797 handwritten digits (10 classes, about 180 each).

    Parameters
    ----------
    images : bool
        Return ``X`` as NCHW images of shape (N, 1, 8, 8) instead of flat rows (N, 64).
    scale : bool
        Divide the pixel counts (0..16) by 16 so that they lie in [0, 1].

    Returns
    -------
    X : ndarray, shape (1797, 64) or (1797, 1, 8, 8), float64
        A fresh copy; pixel values 0..16 (or 0..1 with ``scale=True``).
    y : ndarray, shape (1797,), int64
        The digit, 0..9.
    """
    X, y = _load()
    X = X / 16.0 if scale else X.copy()
    if images:
        X = X.reshape(-1, 1, 8, 8)
    return X, y.copy()
