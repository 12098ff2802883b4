r"""Hand-made 3x3 filters, the feature maps they produce, and plots of maps and learned filters.

Before networks learned their kernels, image processing designed them by hand. Each
filter here is cross-correlated with an image exactly as a :class:`~dlcourse.layers.conv.Conv2D`
layer does (no flip), so a large response means "this patch looks like the filter":

* ``vertical_edge`` / ``horizontal_edge``: a column (row) of -1 against a column (row) of +1;
  positive where brightness grows from left to right (top to bottom), negative where it
  falls. Entries sum to 0, so flat regions give 0.
* ``sobel_x`` / ``sobel_y``: the same idea with the centre row (column) weighted 2, a
  smoothed derivative :math:`\partial I/\partial x` (:math:`\partial I/\partial y`).
* ``blur``: the 3x3 mean (entries 1/9, sum 1): keeps flat regions, softens edges.
* ``sharpen``: 5 at the centre, -1 at its four neighbours (sum 1): the image plus its
  negative Laplacian, which boosts edges.

``x`` points right (columns) and ``y`` points down (rows), as image arrays are indexed.
matplotlib loads only inside the plotting functions.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array
from .layers.conv import conv2d_forward

__all__ = ["FILTERS", "get_filter", "filter_bank", "feature_maps", "plot_feature_maps", "plot_filters"]

#: The hand-made filters by name, each of shape (3, 3). Use :func:`get_filter` for a copy.
FILTERS = {
    "vertical_edge": np.array([[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]]),
    "horizontal_edge": np.array([[-1.0, -1.0, -1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]),
    "sobel_x": np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]),
    "sobel_y": np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]),
    "blur": np.full((3, 3), 1.0 / 9.0),
    "sharpen": np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]),
}
for _f in FILTERS.values():
    _f.flags.writeable = False


def get_filter(name: str) -> np.ndarray:
    """A fresh copy of the filter ``name`` (a key of :data:`FILTERS`), shape (3, 3)."""
    try:
        return FILTERS[name].copy()
    except (KeyError, TypeError):
        raise ValueError(f"unknown filter name={name!r}; expected one of {sorted(FILTERS)}") from None


def filter_bank(filters=None) -> tuple[list, np.ndarray]:
    """Names and a stack of kernels (F, KH, KW) from names, a dict, an array or None (all).

    Parameters
    ----------
    filters : None, str, list of str, dict of str to ndarray, or ndarray (F, KH, KW) / (KH, KW)

    Returns
    -------
    names : list of str
    kernels : ndarray, shape (F, KH, KW)
    """
    if filters is None:
        filters = list(FILTERS)
    if isinstance(filters, str):
        filters = [filters]
    if isinstance(filters, dict):
        names, kernels = list(filters), [as_float_array(k, f"filters[{k!r}]") for k in filters.values()]
    elif isinstance(filters, (list, tuple)) and all(isinstance(f, str) for f in filters):
        names, kernels = list(filters), [get_filter(f) for f in filters]
    else:
        stack = as_float_array(filters, "filters")
        stack = stack[None] if stack.ndim == 2 else stack
        if stack.ndim != 3:
            raise ValueError(f"filters must have shape (F, KH, KW) or (KH, KW); got shape {stack.shape}")
        names, kernels = [f"filter {i}" for i in range(len(stack))], list(stack)
    shapes = {np.shape(k) for k in kernels}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"filters must all be 2-D of one shape (KH, KW); got shapes {sorted(shapes)}")
    return names, np.stack(kernels)


def feature_maps(image, filters=None, padding="same", relu: bool = False) -> np.ndarray:
    r"""Cross-correlate a grey-scale image with each filter: one feature map per filter.

    Parameters
    ----------
    image : ndarray, shape (H, W)
    filters : see :func:`filter_bank`
        ``F`` kernels of shape (KH, KW); None means every filter of :data:`FILTERS`.
    padding : int or "same"
        Zero padding; ``"same"`` (odd kernels) keeps the image's size.
    relu : bool
        Apply :math:`\max(0, \cdot)` to the maps, as a convolution layer followed by ReLU would.

    Returns
    -------
    ndarray, shape (F, H_out, W_out)
        :math:`H_\text{out} = \lfloor (H + 2P - K_H) / 1 \rfloor + 1` (stride 1).
    """
    image = as_float_array(image, "image")
    if image.ndim != 2:
        raise ValueError(f"image must be grey-scale with shape (H, W); got shape {image.shape}")
    _, kernels = filter_bank(filters)
    maps, _ = conv2d_forward(image[None, None], kernels[:, None], None, 1, padding)
    return np.maximum(maps[0], 0.0) if relu else maps[0]


def _grid(n: int, columns: int):
    import matplotlib.pyplot as plt

    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.9 * columns, 1.9 * rows + 0.2), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _show(ax, array, title: str, cmap: str, symmetric: bool, limit: float | None = None):
    if symmetric and limit is None:
        limit = float(np.max(np.abs(array))) or 1.0
    kwargs = dict(vmin=-limit, vmax=limit) if symmetric else {}
    image = ax.imshow(array, cmap=cmap, **kwargs)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    return image


def plot_feature_maps(image, filters=None, relu: bool = False, columns: int = 4, cmap: str = "gray_r"):
    """Plot an image (H, W) and its feature maps, one panel per filter (grey scale by default).

    Returns the matplotlib ``Figure``; the first panel is the input image.
    """
    names, kernels = filter_bank(filters)
    maps = feature_maps(image, kernels, relu=relu)
    fig, axes = _grid(len(names) + 1, columns)
    _show(axes[0], as_float_array(image, "image"), "input", cmap, symmetric=False)
    for ax, name, fmap in zip(axes[1:], names, maps):
        _show(ax, fmap, name, cmap, symmetric=False)
    return fig


def plot_filters(weights, channel: int | None = None, columns: int = 8, cmap: str = "cividis"):
    """Plot kernels: a Conv2D layer, an array (F, C, KH, KW) or (F, KH, KW), or filter names.

    Each panel is one filter; with several input channels, ``channel`` picks one (default:
    the mean over channels). The colour scale is symmetric about 0 (cividis: colour-blind safe).
    Returns the matplotlib ``Figure``.
    """
    if hasattr(weights, "W"):  # a Conv2D layer
        weights = weights.W.data
    if isinstance(weights, (str, dict, list, tuple)):
        names, kernels = filter_bank(weights)
    else:
        w = as_float_array(weights, "weights")
        if w.ndim == 4:
            w = w.mean(axis=1) if channel is None else w[:, channel]
        names, kernels = filter_bank(w)
    fig, axes = _grid(len(kernels), columns)
    limit = max((float(np.max(np.abs(k))) for k in kernels), default=0.0) or 1.0
    image = None
    for ax, name, kernel in zip(axes, names, kernels):
        image = _show(ax, kernel, name, cmap, symmetric=True, limit=limit)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    return fig
