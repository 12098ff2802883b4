"""Small seeded toy data sets for classification, all generated offline with NumPy.

Every generator returns ``X`` of shape ``(N, D)`` (float64) and integer labels ``y``
of shape ``(N,)``, and draws its randomness from ``seed`` (an int or a
:class:`numpy.random.Generator`): the same seed gives the same data.
"""

from __future__ import annotations

import numpy as np

from ..init import as_generator

__all__ = ["logic_gate", "moons", "circles", "spirals", "blobs", "make_classification", "GATES"]

#: Truth tables of the two-input logic gates, for inputs [0,0], [0,1], [1,0], [1,1].
GATES = {
    "AND": (0, 0, 0, 1), "OR": (0, 1, 1, 1), "NAND": (1, 1, 1, 0),
    "NOR": (1, 0, 0, 0), "XOR": (0, 1, 1, 0), "XNOR": (1, 0, 0, 1),
}


def logic_gate(name: str = "AND") -> tuple[np.ndarray, np.ndarray]:
    """The four input pairs and the gate's outputs.

    Parameters
    ----------
    name : {"AND", "OR", "NAND", "NOR", "XOR", "XNOR"}

    Returns
    -------
    X : ndarray, shape (4, 2)
        ``[[0, 0], [0, 1], [1, 0], [1, 1]]`` (float64).
    y : ndarray, shape (4,)
        0/1 outputs (int64). AND, OR and NAND are linearly separable; XOR is not.
    """
    key = str(name).upper()
    if key not in GATES:
        raise ValueError(f"name must be one of {sorted(GATES)}; got {name!r}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, np.array(GATES[key], dtype=np.int64)


def _check_n(n_samples, minimum: int = 1) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < minimum:
        raise ValueError(f"n_samples must be an int >= {minimum}; got {n_samples!r}")
    return int(n_samples)


def _check_noise(noise) -> float:
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
    return float(noise)


def _shuffled(X, y, rng):
    order = rng.permutation(len(y))
    return X[order], y[order]


def moons(n_samples: int = 200, noise: float = 0.1, seed=None):
    """Two interleaving half circles (two classes), plus Gaussian noise of std ``noise``.

    Returns ``X`` (N, 2) and ``y`` (N,) in {0, 1}; class 0 has ``N // 2`` points.
    """
    n = _check_n(n_samples, 2)
    noise, rng = _check_noise(noise), as_generator(seed)
    n0 = n // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n - n0)
    X = np.vstack([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    y = np.r_[np.zeros(n0, np.int64), np.ones(n - n0, np.int64)]
    X = X + rng.normal(0, noise, X.shape)
    return _shuffled(X, y, rng)


def circles(n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, seed=None):
    """A small circle (class 1, radius ``factor``) inside a unit circle (class 0).

    Returns ``X`` (N, 2) and ``y`` (N,) in {0, 1}.
    """
    n = _check_n(n_samples, 2)
    noise, rng = _check_noise(noise), as_generator(seed)
    if not 0 < factor < 1:
        raise ValueError(f"factor must lie in (0, 1); got {factor!r}")
    n0 = n // 2
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n - n0, endpoint=False)
    X = np.vstack([np.c_[np.cos(t0), np.sin(t0)], factor * np.c_[np.cos(t1), np.sin(t1)]])
    y = np.r_[np.zeros(n0, np.int64), np.ones(n - n0, np.int64)]
    X = X + rng.normal(0, noise, X.shape)
    return _shuffled(X, y, rng)


def spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed=None):
    """Interleaved spiral arms, one per class (the classic non-linear benchmark).

    Arm ``k`` has radius growing from 0 to 1 while its angle sweeps 4 radians from
    ``4k``, with Gaussian noise of std ``noise`` on the angle.
    Returns ``X`` (N, 2) and ``y`` (N,) in {0, ..., n_classes - 1}.
    """
    n = _check_n(n_samples, 1)
    noise, rng = _check_noise(noise), as_generator(seed)
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2; got {n_classes!r}")
    counts = [n // n_classes + (k < n % n_classes) for k in range(n_classes)]
    Xs, ys = [], []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(4.0 * k, 4.0 * (k + 1), m) + rng.normal(0, noise, m)
        Xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(m, k, dtype=np.int64))
    return _shuffled(np.vstack(Xs), np.concatenate(ys), rng)


def blobs(n_samples: int = 300, centers=3, n_features: int = 2, cluster_std: float = 1.0,
          center_box=(-10.0, 10.0), seed=None):
    """Gaussian clusters, one class per centre.

    Parameters
    ----------
    centers : int or array-like, shape (K, D)
        The number of centres (drawn uniformly in ``center_box``) or the centres themselves.
    cluster_std : float
        Standard deviation of every cluster.

    Returns ``X`` (N, D) and ``y`` (N,) in {0, ..., K - 1}.
    """
    n = _check_n(n_samples)
    rng = as_generator(seed)
    if np.isscalar(centers):
        k = int(centers)
        if k < 1:
            raise ValueError(f"centers must be >= 1; got {centers!r}")
        c = rng.uniform(center_box[0], center_box[1], size=(k, int(n_features)))
    else:
        c = np.asarray(centers, dtype=np.float64)
        if c.ndim != 2:
            raise ValueError(f"centers must have shape (K, D); got shape {c.shape}")
    k = c.shape[0]
    y = np.repeat(np.arange(k, dtype=np.int64), [n // k + (i < n % k) for i in range(k)])
    X = c[y] + rng.normal(0, _check_noise(cluster_std), (n, c.shape[1]))
    return _shuffled(X, y, rng)


def make_classification(n_samples: int = 200, n_features: int = 20, n_informative: int = 2,
                        n_redundant: int = 2, n_classes: int = 2, class_sep: float = 1.0,
                        flip_y: float = 0.01, seed=None):
    """A simplified version of scikit-learn's generator of the same name.

    Each class is a Gaussian cluster (unit std) around a vertex of a hypercube of side
    ``2 * class_sep`` in the ``n_informative`` dimensions; ``n_redundant`` features are
    random linear mixtures of the informative ones; the rest are pure noise; a fraction
    ``flip_y`` of labels is reassigned at random. Returns ``X`` (N, D) and ``y`` (N,).
    """
    n = _check_n(n_samples)
    rng = as_generator(seed)
    if n_informative + n_redundant > n_features or n_informative < 1:
        raise ValueError(f"need 1 <= n_informative and n_informative + n_redundant <= n_features; got "
                         f"{n_informative} + {n_redundant} > {n_features}")
    if n_classes > 2 ** n_informative:
        raise ValueError(f"n_classes={n_classes} needs n_informative >= log2(n_classes); got {n_informative}")
    vertices = rng.permutation(2 ** n_informative)[:n_classes]
    bits = (vertices[:, None] >> np.arange(n_informative)) & 1
    centroids = (2.0 * bits - 1.0) * class_sep
    y = np.repeat(np.arange(n_classes, dtype=np.int64),
                  [n // n_classes + (i < n % n_classes) for i in range(n_classes)])
    informative = centroids[y] + rng.normal(size=(n, n_informative))
    redundant = informative @ rng.uniform(-1, 1, size=(n_informative, n_redundant))
    noise = rng.normal(size=(n, n_features - n_informative - n_redundant))
    X = np.hstack([informative, redundant, noise])
    flip = rng.random(n) < flip_y
    y[flip] = rng.integers(0, n_classes, size=int(flip.sum()))
    return _shuffled(X, y, rng)
