r"""Splitting, scaling, encoding and batching: the steps between raw data and ``fit``.

Statistics for scaling are *fitted on the training split only* and then applied to
the test split, so no information leaks from test to train.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from .._checks import as_float_array
from ..init import as_generator

__all__ = ["train_test_split", "one_hot", "Standardizer", "standardize", "minibatches"]


def _n_test(test_size, n: int) -> int:
    if isinstance(test_size, (float, np.floating)):
        if not 0 < test_size < 1:
            raise ValueError(f"test_size as a fraction must lie in (0, 1); got {test_size!r}")
        k = int(np.ceil(test_size * n))
    elif isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        k = int(test_size)
    else:
        raise TypeError(f"test_size must be a fraction or a count; got {test_size!r}")
    if not 0 < k < n:
        raise ValueError(f"test_size={test_size!r} leaves an empty split of {n} samples")
    return k


def train_test_split(X, y, test_size=0.2, seed=None, stratify: bool = False, shuffle: bool = True):
    """Split ``(X, y)`` into training and test parts.

    Parameters
    ----------
    X : ndarray, shape (N, ...)
    y : ndarray, shape (N, ...)
    test_size : float or int
        Fraction (rounded up, as scikit-learn) or number of test samples.
    seed : int or numpy.random.Generator, optional
    stratify : bool
        Keep each class's share of ``y`` (integer labels) in both parts.
    shuffle : bool
        If False the last ``test_size`` samples form the test part.

    Returns
    -------
    X_train, X_test, y_train, y_test
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of samples; got {len(X)} and {len(y)}")
    n = len(y)
    k = _n_test(test_size, n)
    rng = as_generator(seed)
    if stratify:
        test = []
        classes, counts = np.unique(y, return_counts=True)
        share = np.floor(counts * k / n).astype(int)
        extra = rng.permutation(np.flatnonzero(share < counts))[: k - share.sum()]
        share[extra] += 1
        for c, m in zip(classes, share):
            test.append(rng.permutation(np.flatnonzero(y == c))[:m])
        test = rng.permutation(np.concatenate(test))
        train = rng.permutation(np.setdiff1d(np.arange(n), test))
    else:
        order = rng.permutation(n) if shuffle else np.arange(n)
        train, test = order[: n - k], order[n - k:]
    return X[train], X[test], y[train], y[test]


def one_hot(y, num_classes: int | None = None, dtype=np.float64) -> np.ndarray:
    """Integer labels (N,) to one-hot rows (N, K): row ``n`` has a 1 in column ``y[n]``.

    ``num_classes`` defaults to ``max(y) + 1``.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be integer labels of shape (N,); got shape {y.shape}")
    if y.dtype.kind not in "iub" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise TypeError(f"y must hold integer labels; got dtype {y.dtype}")
    y = y.astype(np.intp)
    k = int(y.max()) + 1 if num_classes is None and y.size else int(num_classes or 0)
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"labels must lie in [0, {k}); got values from {y.min()} to {y.max()}")
    out = np.zeros((y.size, k), dtype=dtype)
    out[np.arange(y.size), y] = 1
    return out


class Standardizer:
    r"""Feature scaling :math:`x' = (x - \mu)/\sigma` with :math:`\mu, \sigma` from the training data.

    Features with :math:`\sigma = 0` keep scale 1 (as scikit-learn's ``StandardScaler``).

    Attributes
    ----------
    mean_, scale_ : ndarray, shape (D,)
    """

    def fit(self, X) -> "Standardizer":
        X = as_float_array(X, "X")
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise RuntimeError("Standardizer.transform called before fit")
        X = as_float_array(X, "X")
        if X.shape[1:] != self.mean_.shape:
            raise ValueError(f"X must have per-sample shape {self.mean_.shape}; got {X.shape[1:]}")
        return (X - self.mean_) / self.scale_

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X) -> np.ndarray:
        return as_float_array(X, "X") * self.scale_ + self.mean_


def standardize(X_train, *X_others):
    """Standardise ``X_train`` with its own statistics and ``X_others`` with the same ones.

    Returns the scaled ``X_train`` alone, or a tuple ``(X_train, *X_others)`` when
    others are given. Use :class:`Standardizer` to keep the statistics.
    """
    s = Standardizer().fit(X_train)
    if not X_others:
        return s.transform(X_train)
    return (s.transform(X_train),) + tuple(s.transform(X) for X in X_others)


def minibatches(X, y=None, batch_size: int = 32, shuffle: bool = True, seed=None,
                drop_last: bool = False) -> Iterator:
    """Yield mini-batches ``(X_batch, y_batch)`` (or ``X_batch`` when ``y`` is None).

    Every sample appears exactly once per pass; the order is a seeded permutation
    when ``shuffle`` is true. The last batch is smaller unless ``drop_last``.
    """
    X = np.asarray(X)
    if y is not None and len(y) != len(X):
        raise ValueError(f"X and y must have the same number of samples; got {len(X)} and {len(y)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    n = len(X)
    order = as_generator(seed).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx] if y is None else (X[idx], np.asarray(y)[idx])
