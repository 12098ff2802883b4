r"""Networks and training helpers for chapter 10: colour images, augmentation, residual connections.

The CNN for 3-channel :math:`16 \times 16` images (per-sample shapes, :math:`K` classes)::

    input                               (3, 16, 16)
    Conv2D(3, 8, 3, padding="same")  -> (8, 16, 16)     224 parameters
    ReLU, MaxPool2D(2)               -> (8, 8, 8)
    Conv2D(8, 16, 3, padding="same") -> (16, 8, 8)    1,168 parameters
    ReLU, MaxPool2D(2)               -> (16, 4, 4)
    Flatten                          -> (256,)
    Dense(256, K), Softmax           -> (K,)

:func:`train_image_cnn` trains it epoch by epoch, drawing a fresh augmented copy of the
training images every epoch when asked (:func:`dlcourse.data.augment.augment_colour`), and
normalising with statistics of the training split only. :func:`deep_mlp` builds a deep stack
of dense + ReLU layers with or without skip connections (:class:`dlcourse.layers.Residual`)
from the same initial weights, and :func:`first_layer_gradient_norm` measures how much
gradient reaches its first layer.
"""

from __future__ import annotations

import functools

import numpy as np

from . import init as _init
from . import optim, train
from .data.augment import augment_colour
from .layers import Dense, ReLU, Softmax
from .layers.conv import Conv2D
from .layers.flatten import Flatten
from .layers.pool import MaxPool2D
from .layers.residual import Residual
from .network import Sequential

__all__ = ["IMAGE_CNN_CHANNELS", "image_cnn", "train_image_cnn", "deep_mlp", "first_layer_gradient_norm"]

#: Filters of the two convolution layers of :func:`image_cnn`.
IMAGE_CNN_CHANNELS = (8, 16)


def image_cnn(num_classes: int, size=(16, 16), channels: tuple = IMAGE_CNN_CHANNELS, in_channels: int = 3,
              seed=0, dtype=np.float32) -> Sequential:
    """conv-ReLU-pool-conv-ReLU-pool-flatten-dense-softmax for (N, 3, H, W) images.

    Parameters
    ----------
    num_classes : int
        ``K``, the number of classes (outputs).
    size : (int, int)
        ``(H, W)`` of the input images; both divisible by 4.
    channels : (int, int)
        Filters of the two convolution layers.
    in_channels : int
        3 for colour images.
    seed : int or numpy.random.Generator
        Source of all initial weights (He normal for the convolutions, Xavier uniform for Dense).
    dtype : numpy dtype
        float32 (default, faster) or float64.
    """
    h, w = size
    if h % 4 or w % 4:
        raise ValueError(f"image height and width must be divisible by 4 (two 2x2 poolings); got {size}")
    rng = _init.as_generator(seed)
    c1, c2 = channels
    return Sequential([
        Conv2D(in_channels, c1, 3, padding="same", rng=rng, dtype=dtype), ReLU(), MaxPool2D(2),
        Conv2D(c1, c2, 3, padding="same", rng=rng, dtype=dtype), ReLU(), MaxPool2D(2),
        Flatten(),
        Dense(c2 * (h // 4) * (w // 4), int(num_classes), rng=rng, dtype=dtype), Softmax(),
    ])


def train_image_cnn(net: Sequential, X_train, y_train, normalizer, validation_data, epochs: int = 15,
                    lr: float = 0.01, batch_size: int = 32, seed=0, augment: dict | None = None) -> dict:
    """Train ``net`` with Adam, one epoch at a time, on images in [0, 1].

    Parameters
    ----------
    net : Sequential
        Softmax output, trained with sparse categorical cross-entropy.
    X_train : ndarray, shape (N, 3, H, W)
        Training images in [0, 1] (not normalised: augmentation works on pixel values).
    y_train : ndarray, shape (N,)
    normalizer : ChannelNormalizer
        Fitted on the training split; applied to every batch the network sees.
    validation_data : (X_val, y_val)
        Raw validation images in [0, 1] and labels, evaluated after every epoch.
    epochs, lr, batch_size : training recipe
    seed : int
        Shuffling order of epoch ``e`` is ``seed + e``, the same with and without augmentation;
        augmented copies come from ``seed + 1000 + e``.
    augment : dict, optional
        Keyword arguments of :func:`~dlcourse.data.augment.augment_colour` (``{}`` for its
        defaults); None trains on the images as they are.

    Returns
    -------
    dict
        Lists per epoch: ``loss`` (training, on what the network saw), ``val_loss``, ``val_accuracy``.
    """
    X_val, y_val = validation_data
    X_val = normalizer.transform(X_val)
    opt = optim.Adam(list(net.parameters()), lr=lr)
    history = {"loss": [], "val_loss": [], "val_accuracy": []}
    for epoch in range(int(epochs)):
        X_epoch = X_train if augment is None else augment_colour(X_train, seed=seed + 1000 + epoch, **augment)
        h = net.fit(normalizer.transform(X_epoch), y_train, loss="sparse_categorical_cross_entropy",
                    optimizer=opt, epochs=1, batch_size=batch_size, seed=seed + epoch, progress=False)
        scores = net.evaluate(X_val, y_val)
        history["loss"].append(float(h["loss"][-1]))
        history["val_loss"].append(float(scores["loss"]))
        history["val_accuracy"].append(float(scores["accuracy"]))
    return history


def deep_mlp(depth: int, width: int, in_features: int, num_classes: int, residual: bool, seed=0,
             gain: float = 1.0, dtype=np.float64) -> Sequential:
    """``Dense(in, width)``, ``depth`` hidden blocks of ``Dense(width, width)`` + ReLU, ``Dense(width, K)``, Softmax.

    With ``residual=True`` each hidden block is wrapped in :class:`~dlcourse.layers.Residual`
    (``x + ReLU(x W + b)``). The weights are drawn from ``seed`` in the same order either way,
    so the plain and the residual network start from identical weights. Every ``Dense`` is
    Xavier uniform with ``gain`` (:func:`dlcourse.init.xavier_uniform`); biases start at 0.
    """
    if int(depth) != depth or depth < 1 or int(width) != width or width < 1:
        raise ValueError(f"depth and width must be positive ints; got {depth}, {width}")
    rng = _init.as_generator(seed)
    init = functools.partial(_init.xavier_uniform, gain=float(gain))
    layers = [Dense(in_features, width, init=init, rng=rng, dtype=dtype), ReLU()]
    for _ in range(int(depth)):
        block = [Dense(width, width, init=init, rng=rng, dtype=dtype), ReLU()]
        layers += [Residual(block)] if residual else block
    layers += [Dense(width, num_classes, init=init, rng=rng, dtype=dtype), Softmax()]
    return Sequential(layers)


def first_layer_gradient_norm(net: Sequential, X, y, loss="sparse_categorical_cross_entropy") -> float:
    """The Frobenius norm of the loss gradient with respect to the first layer's weights, on ``(X, y)``.

    One forward and backward pass in training mode on the whole of ``X``; the network's
    ``.grad`` fields are overwritten, its weights are not changed.
    """
    network, loss_fn = train.fold_output_layer(net, loss)
    y = train.check_targets(loss_fn, y, len(X), net.output_shape(np.shape(X)[1:])[0])
    out = network.forward(np.asarray(X, dtype=net._dtype()), training=True)
    network.backward(loss_fn.gradient(y, out), need_dx=False)
    first = next(iter(net.parameters()))
    return float(np.linalg.norm(first.grad))
