"""Data augmentation for images: shifted copies, the simplest label-preserving change.

A digit moved by a pixel is still the same digit. :func:`shift_images` moves every image
of a batch by ``(dx, dy)`` pixels and fills what comes in from the border with zeros
(the background of the scaled digits); :func:`random_shifts` adds copies of a training
set, each image moved by a shift drawn at random, so that a network sees the classes at
more than one position.
"""

from __future__ import annotations

import numpy as np

from ..init import as_generator

__all__ = ["shift_images", "random_shifts"]


def _images(X) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim < 2 or X.shape[-1] == 0 or X.shape[-2] == 0:
        raise ValueError(f"expected images with height and width as the last two axes, e.g. (N, C, H, W); "
                         f"got an array of shape {X.shape}")
    return X


def shift_images(X, dx: int, dy: int) -> np.ndarray:
    """``X`` moved ``dx`` pixels right and ``dy`` pixels down (negative: left, up), zeros coming in.

    Parameters
    ----------
    X : ndarray, shape (..., H, W)
        Images; the last two axes are height and width.
    dx, dy : int
        The shift in pixels, ``|dx| < W`` and ``|dy| < H``.

    Returns
    -------
    ndarray
        A new array of ``X``'s shape and dtype.
    """
    X = _images(X)
    H, W = X.shape[-2:]
    if int(dx) != dx or int(dy) != dy or abs(dx) >= W or abs(dy) >= H:
        raise ValueError(f"shifts must be whole pixels smaller than the image ({H}x{W}); got dx={dx}, dy={dy}")
    dx, dy = int(dx), int(dy)
    out = np.zeros_like(X)
    out[..., max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \
        X[..., max(-dy, 0):H + min(-dy, 0), max(-dx, 0):W + min(-dx, 0)]
    return out


def random_shifts(X, y, max_shift: int = 1, copies: int = 2, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """The training set followed by ``copies`` shifted copies of it, and the labels to match.

    Each image of each copy is moved by ``(dx, dy)`` drawn uniformly from
    ``-max_shift..max_shift`` in each direction (``(0, 0)`` included), independently.

    Parameters
    ----------
    X : ndarray, shape (N, ..., H, W)
    y : ndarray, shape (N,)
    max_shift : int
        The largest shift, in pixels, in each direction (>= 0).
    copies : int
        How many shifted copies to add (>= 0).
    seed : int or numpy.random.Generator

    Returns
    -------
    X_augmented : ndarray, shape ((copies + 1) * N, ..., H, W)
    y_augmented : ndarray, shape ((copies + 1) * N,)
    """
    X, y = _images(X), np.asarray(y)
    if y.shape != X.shape[:1]:
        raise ValueError(f"y must have one label per image: X has {X.shape[0]} images, y has shape {y.shape}")
    if int(max_shift) != max_shift or max_shift < 0 or int(copies) != copies or copies < 0:
        raise ValueError(f"max_shift and copies must be whole numbers >= 0; got {max_shift} and {copies}")
    rng = as_generator(seed)
    parts = [X]
    for _ in range(int(copies)):
        d = rng.integers(-max_shift, max_shift + 1, size=(len(X), 2))
        copy = np.empty_like(X)
        for (dx, dy) in {tuple(p) for p in d.tolist()}:
            sel = (d[:, 0] == dx) & (d[:, 1] == dy)
            copy[sel] = shift_images(X[sel], dx, dy)
        parts.append(copy)
    return np.concatenate(parts), np.concatenate([y] * (int(copies) + 1))
