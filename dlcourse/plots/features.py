"""Hand-made features versus learned ones, drawn on a handwritten digit.

A classical machine-learning pipeline describes a nine with features a person
chose ("a closed loop at the top", "a vertical stroke on the right"); a deep
network learns its own, edges first and shapes later. :func:`plot_digit_features`
shows both views of one 8x8 digit image.
"""

from __future__ import annotations

import numpy as np

from . import OKABE_ITO

__all__ = ["edge_maps", "plot_digit_features"]


def edge_maps(image):
    """Horizontal and vertical intensity changes of an image (H, W), as a first layer might see them.

    Returns
    -------
    horizontal, vertical : ndarray, shape (H, W)
        Absolute differences between vertical neighbours (horizontal edges) and
        between horizontal neighbours (vertical edges), zero-padded to (H, W).
    """
    img = np.asarray(image, dtype=float)
    if img.ndim != 2:
        raise ValueError(f"image must have shape (H, W); got {img.shape}")
    horizontal = np.zeros_like(img)
    vertical = np.zeros_like(img)
    horizontal[1:, :] = np.abs(np.diff(img, axis=0))
    vertical[:, 1:] = np.abs(np.diff(img, axis=1))
    return horizontal, vertical


def plot_digit_features(image, *, loop_rows=slice(0, 5), stroke_cols=slice(5, 8)):
    """Five panels: the digit, two hand-chosen parts (loop, stroke), and two edge maps.

    Parameters
    ----------
    image : array_like, shape (H, W)
        One grey-scale digit (8x8 in the course data).
    loop_rows : slice
        Rows that hold the loop of a nine.
    stroke_cols : slice
        Columns that hold its vertical stroke.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    img = np.asarray(image, dtype=float)
    horizontal, vertical = edge_maps(img)
    fig, axes = plt.subplots(1, 5, figsize=(11, 2.6))
    h, w = img.shape
    panels = [
        (img, "the digit"),
        (img, "hand-made feature:\nloop at the top"),
        (img, "hand-made feature:\nvertical stroke"),
        (horizontal, "learned, layer 1:\nhorizontal edges"),
        (vertical, "learned, layer 1:\nvertical edges"),
    ]
    for ax, (data, title) in zip(axes, panels):
        ax.imshow(data, cmap="gray_r")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    r0, r1 = loop_rows.start or 0, loop_rows.stop or h
    c0, c1 = stroke_cols.start or 0, stroke_cols.stop or w
    axes[1].add_patch(Rectangle((-0.5, r0 - 0.5), w, r1 - r0, fill=False,
                                edgecolor=OKABE_ITO["orange"], lw=3))
    axes[2].add_patch(Rectangle((c0 - 0.5, -0.5), c1 - c0, h, fill=False,
                                edgecolor=OKABE_ITO["bluish_green"], lw=3))
    return fig
