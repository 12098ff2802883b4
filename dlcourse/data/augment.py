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

__all__ = ["shift_images", "random_shifts", "flip_horizontal", "random_flips", "random_crops",
           "jitter_brightness_contrast", "augment_colour"]


def _images(X) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim < 2 or X.shape[-1] == 0 or X.shape[-2] == 0:
        raise ValueError(f"expected images with height and width as the last two axes, e.g. (N, C, H, W); "
                         f"got an array of shape {X.shape}")
    return X


def shift_images(X, dx: int, dy: int, mode: str = "zeros") -> np.ndarray:
    """``X`` moved ``dx`` pixels right and ``dy`` pixels down (negative: left, up), zeros coming in.

    Parameters
    ----------
    X : ndarray, shape (..., H, W)
        Images; the last two axes are height and width.
    dx, dy : int
        The shift in pixels, ``|dx| < W`` and ``|dy| < H``.
    mode : {"zeros", "edge"}
        What comes in from the border: zeros (the digits' background) or copies of the
        border pixels (for colour images, whose background is not black).

    Returns
    -------
    ndarray
        A new array of ``X``'s shape and dtype.
    """
    X = _images(X)
    H, W = X.shape[-2:]
    if int(dx) != dx or int(dy) != dy or abs(dx) >= W or abs(dy) >= H:
        raise ValueError(f"shifts must be whole pixels smaller than the image ({H}x{W}); got dx={dx}, dy={dy}")
    if mode not in ("zeros", "edge"):
        raise ValueError(f"mode must be 'zeros' or 'edge'; got {mode!r}")
    dx, dy = int(dx), int(dy)
    if mode == "edge":
        pad = [(0, 0)] * (X.ndim - 2) + [(max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0))]
        padded = np.pad(X, pad, mode="edge")
        return np.ascontiguousarray(padded[..., max(-dy, 0):max(-dy, 0) + H, max(-dx, 0):max(-dx, 0) + W])
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


def flip_horizontal(X) -> np.ndarray:
    """``X`` mirrored left to right (the last axis reversed); a new array."""
    return np.ascontiguousarray(_images(X)[..., ::-1])


def random_flips(X, p: float = 0.5, seed=0) -> np.ndarray:
    """Each image mirrored left to right with probability ``p`` (independently); a new array."""
    X = _images(X)
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1]; got {p}")
    flip = as_generator(seed).random(len(X)) < p
    out = X.copy()
    out[flip] = X[flip][..., ::-1]
    return out


def random_crops(X, max_shift: int = 2, seed=0, mode: str = "edge") -> np.ndarray:
    """Each image moved by ``(dx, dy)`` drawn from ``-max_shift..max_shift``: a random crop of the
    image padded by ``max_shift`` pixels (:func:`shift_images`, ``mode="edge"`` by default)."""
    X = _images(X)
    if int(max_shift) != max_shift or max_shift < 0:
        raise ValueError(f"max_shift must be a whole number >= 0; got {max_shift}")
    d = as_generator(seed).integers(-max_shift, max_shift + 1, size=(len(X), 2))
    out = np.empty_like(X)
    for (dx, dy) in sorted({tuple(q) for q in d.tolist()}):
        sel = (d[:, 0] == dx) & (d[:, 1] == dy)
        out[sel] = shift_images(X[sel], dx, dy, mode=mode)
    return out


def jitter_brightness_contrast(X, brightness: float = 0.1, contrast: float = 0.2, seed=0,
                               clip=(0.0, 1.0)) -> np.ndarray:
    """Per image, ``x' = (x - m) * c + m + b``: contrast ``c`` uniform in ``[1 - contrast, 1 + contrast]``
    about the image's mean ``m``, brightness ``b`` uniform in ``[-brightness, brightness]``.

    Meant for images in [0, 1] before normalisation; the result is clipped to ``clip``
    (None: no clipping). Returns a new array of ``X``'s dtype (float).
    """
    X = _images(X)
    if brightness < 0 or not 0 <= contrast < 1:
        raise ValueError(f"need brightness >= 0 and 0 <= contrast < 1; got {brightness}, {contrast}")
    rng = as_generator(seed)
    shape = (len(X),) + (1,) * (X.ndim - 1)
    c = rng.uniform(1 - contrast, 1 + contrast, len(X)).reshape(shape)
    b = rng.uniform(-brightness, brightness, len(X)).reshape(shape)
    mean = X.mean(axis=tuple(range(1, X.ndim)), keepdims=True)
    out = (X - mean) * c + mean + b
    if clip is not None:
        out = np.clip(out, *clip)
    return out.astype(X.dtype if X.dtype.kind == "f" else np.float64, copy=False)


def augment_colour(X, seed=0, flip: bool = True, max_shift: int = 2, brightness: float = 0.1,
                   contrast: float = 0.2) -> np.ndarray:
    """One augmented copy of colour images (N, C, H, W) in [0, 1]: random horizontal flips, random
    shifts (edge-padded crops) and brightness/contrast jitter, in that order, all drawn from ``seed``."""
    rng = as_generator(seed)
    out = random_flips(X, 0.5 if flip else 0.0, rng)
    out = random_crops(out, max_shift, rng) if max_shift else out
    if brightness or contrast:
        out = jitter_brightness_contrast(out, brightness, contrast, rng)
    return out
