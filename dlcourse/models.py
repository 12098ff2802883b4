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

import numpy as np

from . import init as _init
from .layers.conv import Conv2D
from .layers.flatten import Flatten
from .layers.pool import MaxPool2D

__all__ = ["DIGITS_CNN_CHANNELS", "DIGITS_CNN_RECIPE", "digits_cnn", "digits_cnn_data", "train_digits_cnn"]

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


def train_digits_cnn(seed=0, epochs: int | None = None, progress: bool = True, dtype=np.float64,
                     naive: bool = False):
    """Build :func:`digits_cnn`, train it with Adam on :func:`digits_cnn_data` and evaluate it.

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
        Per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` (on the test set)
        and ``fit_time`` in seconds.
    test_accuracy : float
    """
    from .optim import Adam

    X_train, X_test, y_train, y_test = digits_cnn_data(seed, dtype=dtype)
    net = digits_cnn(seed, dtype=dtype, naive=naive)
    recipe = DIGITS_CNN_RECIPE
    history = net.fit(X_train, y_train, loss="sparse_categorical_cross_entropy",
                      optimizer=Adam(list(net.parameters()), lr=recipe["lr"]),
                      epochs=recipe["epochs"] if epochs is None else epochs,
                      batch_size=recipe["batch_size"], validation_data=(X_test, y_test),
                      seed=seed, progress=progress)
    test_accuracy = float(np.mean(net.predict(X_test) == y_test))
    return net, history, test_accuracy
