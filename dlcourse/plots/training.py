"""Training curves from a :class:`dlcourse.callbacks.History`, and predictions on images."""

from __future__ import annotations

import numpy as np

from . import OKABE_ITO, PALETTE

__all__ = ["plot_history", "plot_image_predictions"]


def plot_history(history, metrics=("loss", "accuracy")):
    """One panel per metric: the training curve (solid) and the validation curve (dashed) by epoch.

    Parameters
    ----------
    history : dlcourse.callbacks.History or dict
        Per-epoch lists under ``"loss"``, ``"accuracy"``, ``"val_loss"``, ``"val_accuracy"``.
    metrics : sequence of str
        The metrics to draw (those absent from the history are skipped).

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    record = getattr(history, "history", history)
    shown = [m for m in metrics if m in record]
    if not shown:
        raise ValueError(f"history holds none of {list(metrics)}; it records {sorted(record)}")
    fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], shown):
        epochs = np.arange(1, len(record[metric]) + 1)
        ax.plot(epochs, record[metric], color=PALETTE[0], label="training")
        if f"val_{metric}" in record:
            ax.plot(epochs, record[f"val_{metric}"], color=PALETTE[1], ls="--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    return fig


def plot_image_predictions(images, y_true, y_pred, *, ncols: int = 6):
    """Small grey-scale images titled "true / predicted"; wrong predictions in vermillion.

    Parameters
    ----------
    images : array_like, shape (N, H, W)
    y_true, y_pred : array_like, shape (N,)

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W); got {images.shape}")
    n = images.shape[0]
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.4 * ncols, 1.6 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r")
        wrong = int(y_true[i]) != int(y_pred[i])
        ax.set_title(f"{int(y_true[i])} / {int(y_pred[i])}" + (" (wrong)" if wrong else ""), fontsize=9,
                     color=OKABE_ITO["vermillion"] if wrong else OKABE_ITO["black"])
    fig.suptitle("true / predicted", fontsize=10)
    return fig
