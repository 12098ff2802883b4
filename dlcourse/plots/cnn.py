r"""Figures for the convolutional-networks chapter.

Small matrices drawn with their numbers (a convolution worked by hand, a pooling
example), grids of digit images and of feature maps, and the gradient norms of a
recurrent network through time. Hand-made filters and learned kernels are drawn
by :mod:`dlcourse.filters`; these functions only draw what they are given.
"""

from __future__ import annotations

import numpy as np

from . import PALETTE, color

__all__ = ["show_matrix", "plot_conv_by_hand", "plot_pooling", "plot_images", "plot_maps",
           "plot_gradient_norms"]


def show_matrix(ax, matrix, title: str = "", highlight=None, fmt: str = "{:g}", cmap: str = "Blues"):
    """Draw a small 2-D array as coloured cells with its numbers written in.

    Parameters
    ----------
    ax : matplotlib Axes
    matrix : array_like, shape (H, W)
    title : str
    highlight : (row, col, height, width), optional
        A window to outline (e.g. the patch one output reads).
    fmt : str
        Format of each number.
    cmap : str
        Colour map of the cells (light colours keep the numbers readable).

    Returns
    -------
    matplotlib Axes
    """
    m = np.asarray(matrix, dtype=float)
    ax.imshow(m, cmap=cmap, vmin=m.min() - 0.6 * (np.ptp(m) or 1), vmax=m.max() + 0.6 * (np.ptp(m) or 1))
    for (i, j), value in np.ndenumerate(m):
        ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=10)
    if highlight is not None:
        from matplotlib.patches import Rectangle

        r, c, h, w = highlight
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), w, h, fill=False, edgecolor=color("vermillion"), linewidth=2.5))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set_title(title, fontsize=10)
    return ax


def plot_conv_by_hand(x, w, out, position=(0, 0)):
    """Input, kernel and output of a single-channel cross-correlation, one output explained.

    Parameters
    ----------
    x : array_like, shape (H, W)
    w : array_like, shape (KH, KW)
    out : array_like, shape (H_out, W_out)
        The result (stride 1, no padding).
    position : (int, int)
        The output entry whose window is outlined in the input.

    Returns
    -------
    matplotlib Figure
    """
    from . import new_figure

    x, w, out = (np.asarray(a, dtype=float) for a in (x, w, out))
    i, j = position
    kh, kw = w.shape
    fig, axes = new_figure(1, 3, width=8.0, height=2.8)
    show_matrix(axes[0], x, "input $x$", highlight=(i, j, kh, kw))
    show_matrix(axes[1], w, "kernel $w$", cmap="Oranges")
    show_matrix(axes[2], out, "output", highlight=(i, j, 1, 1), cmap="Greens")
    terms = " + ".join(f"{x[i + u, j + v]:g}·{w[u, v]:g}" for u in range(kh) for v in range(kw))
    fig.suptitle(f"output[{i}, {j}] = {terms} = {out[i, j]:g}", fontsize=10)
    return fig


def plot_pooling(x, max_out, avg_out, size: int = 2):
    """A feature map and its max- and average-pooled versions, with the windows outlined.

    Parameters
    ----------
    x : array_like, shape (H, W)
    max_out, avg_out : array_like, shape (H // size, W // size)
    size : int
        The (square, non-overlapping) window.

    Returns
    -------
    matplotlib Figure
    """
    from matplotlib.patches import Rectangle

    from . import new_figure

    x = np.asarray(x, dtype=float)
    fig, axes = new_figure(1, 3, width=8.0, height=2.9)
    show_matrix(axes[0], x, "feature map")
    for r in range(0, x.shape[0], size):
        for c in range(0, x.shape[1], size):
            axes[0].add_patch(Rectangle((c - 0.5, r - 0.5), size, size, fill=False,
                                        edgecolor=color("black"), linewidth=1.5))
    show_matrix(axes[1], max_out, f"max pooling {size}x{size}", cmap="Greens")
    show_matrix(axes[2], avg_out, f"average pooling {size}x{size}", fmt="{:.2f}", cmap="Purples")
    return fig


def plot_images(images, labels=None, columns: int = 10, cmap: str = "gray_r", size: float = 0.9):
    """A grid of grey-scale images with optional titles.

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, 1, H, W)
    labels : sequence, optional
        One title per image.
    columns : int
    cmap : str
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype=float)
    if images.ndim == 4:
        images = images[:, 0]
    n = len(images)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + 0.3), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < n:
            ax.imshow(images[k], cmap=cmap)
            if labels is not None:
                ax.set_title(str(labels[k]), fontsize=8)
    return fig


def plot_maps(maps, titles=None, columns: int = 8, cmap: str = "gray_r", size: float = 1.2):
    """Feature maps (C, H, W) of one image, one panel each.

    Parameters
    ----------
    maps : array_like, shape (C, H, W)
    titles : sequence of str, optional
    columns : int
    cmap : str
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib Figure
    """
    maps = np.asarray(maps, dtype=float)
    titles = titles if titles is not None else [f"map {k}" for k in range(len(maps))]
    fig = plot_images(maps, titles, columns=columns, cmap=cmap, size=size)
    return fig


def plot_gradient_norms(norms: dict, *, ax=None):
    r"""Norm of :math:`\partial L / \partial h_t` against how many steps back :math:`t` lies.

    Parameters
    ----------
    norms : dict of str to array_like, shape (T,)
        Label to ``norms[t]`` for ``t = 0 .. T-1`` (the last entry is the step the loss reads).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    for i, (label, values) in enumerate(norms.items()):
        values = np.asarray(values, dtype=float)
        back = np.arange(len(values))[::-1]
        ax.semilogy(back, values, "o-", markersize=3, color=PALETTE[i % len(PALETTE)], label=label)
    ax.set_xlabel(r"steps back from the last one ($T - t$)")
    ax.set_ylabel(r"norm of $\partial L / \partial h_t$")
    ax.legend()
    return ax
