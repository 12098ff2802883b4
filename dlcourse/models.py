"""Ready-made networks for the chapters: the small CNN for the 8x8 digits.

The architecture (per-sample shapes, :math:`H_\\text{out} = \\lfloor (H + 2P - K)/S \\rfloor + 1`)::

    input              (1, 8, 8)
    Conv2D(1, 8, 3, padding="same")  -> (8, 8, 8)     80 parameters
    ReLU, MaxPool2D(2)               -> (8, 4, 4)
    Conv2D(8, 16, 3, padding="same") -> (16, 4, 4)  1,168 parameters
    ReLU, MaxPool2D(2)               -> (16, 2, 2)
    Flatten                          -> (64,)
    Dense(64, 10), Softmax           -> (10,)         650 parameters

:func:`dlcourse.torch_models.digits_cnn_torch` builds the same network in PyTorch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import init as _init
from .layers.conv import Conv2D
from .layers.flatten import Flatten
from .layers.pool import MaxPool2D

__all__ = ["DIGITS_CNN_CHANNELS", "DIGITS_CNN_RECIPE", "DigitsSplits", "digits_cnn", "digits_cnn_data",
           "digits_cnn_splits", "train_digits_cnn"]

#: Channels of the two convolution layers of :func:`digits_cnn`.
DIGITS_CNN_CHANNELS = (8, 16)

#: The training recipe the chapter and the tests use (Adam with torch's defaults but this lr).
DIGITS_CNN_RECIPE = dict(epochs=20, batch_size=32, lr=0.01)


def digits_cnn(seed=0, channels: tuple = DIGITS_CNN_CHANNELS, dtype=np.float64, naive: bool = False):
    """The digits CNN: conv-ReLU-pool-conv-ReLU-pool-flatten-dense-softmax.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        Source of all initial weights (He normal for the convolutions, Xavier uniform for Dense).
    channels : (int, int)
        Filters ``F`` of the two convolution layers.
    dtype : numpy dtype
        float64 (default) or float32.
    naive : bool
        Use the loop kernels in the convolution and pooling layers (slow; for comparison).

    Returns
    -------
    Sequential
        Input (N, 1, 8, 8) images, output (N, 10) class probabilities.
    """
    from .layers import Dense, ReLU, Softmax
    from .network import Sequential

    rng = _init.as_generator(seed)
    c1, c2 = channels
    return Sequential([
        Conv2D(1, c1, 3, padding="same", rng=rng, dtype=dtype, naive=naive), ReLU(),
        MaxPool2D(2, naive=naive),
        Conv2D(c1, c2, 3, padding="same", rng=rng, dtype=dtype, naive=naive), ReLU(),
        MaxPool2D(2, naive=naive),
        Flatten(),
        Dense(c2 * 2 * 2, 10, rng=rng, dtype=dtype), Softmax(),
    ])


def digits_cnn_data(seed=0, test_size: float = 0.25, dtype=np.float64):
    """The 8x8 digits as images scaled to [0, 1], split into training and test sets.

    Returns
    -------
    X_train : ndarray, shape (N_train, 1, 8, 8)
    X_test : ndarray, shape (N_test, 1, 8, 8)
    y_train : ndarray, shape (N_train,), int
    y_test : ndarray, shape (N_test,), int
        A stratified split (:func:`dlcourse.data.train_test_split`) drawn from ``seed``.
    """
    from .data import digits, train_test_split

    X, y = digits(images=True, scale=True)
    return train_test_split(X.astype(dtype, copy=False), y, test_size=test_size, seed=seed, stratify=True)


class DigitsSplits(NamedTuple):
    """The digits images split three ways (see :func:`digits_cnn_splits`)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def digits_cnn_splits(seed=0, test_size: float = 0.25, validation_size: float = 0.2,
                      dtype=np.float64) -> DigitsSplits:
    """The 8x8 digits as images in [0, 1], split into training, validation and test sets.

    The test split is :func:`digits_cnn_data`'s (the same images for the same ``seed``);
    the validation split is ``validation_size`` of the rest, drawn stratified from ``seed``.
    Training learns from the training split, ``validation_data`` watches the validation
    split, and the test split is read once, at the end.

    Returns
    -------
    DigitsSplits
        ``X_*`` of shape (N_split, 1, 8, 8) and ``y_*`` of shape (N_split,).
    """
    from .data import train_test_split

    if not 0 < validation_size < 1:
        raise ValueError(f"validation_size must be a fraction in (0, 1); got {validation_size!r}")
    X_rest, X_test, y_rest, y_test = digits_cnn_data(seed, test_size=test_size, dtype=dtype)
    X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=validation_size, seed=seed,
                                                      stratify=True)
    return DigitsSplits(X_train, y_train, X_val, y_val, X_test, y_test)


def train_digits_cnn(seed=0, epochs: int | None = None, progress: bool = True, dtype=np.float64,
                     naive: bool = False):
    """Build :func:`digits_cnn`, train it with Adam on :func:`digits_cnn_splits` and evaluate it.

    The network learns from the training split while ``fit`` watches the validation split;
    the test split is read once, after training, for the accuracy returned.

    Parameters
    ----------
    seed : int
        Seeds the split, the initial weights and the shuffling.
    epochs : int, optional
        Defaults to ``DIGITS_CNN_RECIPE["epochs"]``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    net : Sequential
    history : History
        Per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` (on the validation
        split) and ``fit_time`` in seconds.
    test_accuracy : float
    """
    from .optim import Adam

    splits = digits_cnn_splits(seed, dtype=dtype)
    net = digits_cnn(seed, dtype=dtype, naive=naive)
    recipe = DIGITS_CNN_RECIPE
    history = net.fit(splits.X_train, splits.y_train, loss="sparse_categorical_cross_entropy",
                      optimizer=Adam(list(net.parameters()), lr=recipe["lr"]),
                      epochs=recipe["epochs"] if epochs is None else epochs,
                      batch_size=recipe["batch_size"], validation_data=(splits.X_val, splits.y_val),
                      seed=seed, progress=progress)
    test_accuracy = float(np.mean(net.predict(splits.X_test) == splits.y_test))
    return net, history, test_accuracy
