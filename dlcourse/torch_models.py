"""PyTorch twins of :mod:`dlcourse.models`, for the chapter's side-by-side comparison.

PyTorch is imported inside the functions, so ``import dlcourse.torch_models`` works
without it. Layouts agree: images are NCHW in both, a kernel is ``(F, C, KH, KW)``
in both, and ``nn.Flatten`` flattens channel, row, column as :class:`~dlcourse.layers.flatten.Flatten`.
One difference: our ``Dense`` stores ``W`` as ``(D, K)`` (``y = X W + b``) while
``nn.Linear`` stores ``weight`` as ``(K, D)`` (``y = x W^T + b``); :func:`copy_weights`
transposes it. The torch network ends in logits: ``nn.CrossEntropyLoss`` folds the
softmax into the loss, as our fused softmax-plus-cross-entropy does.
"""

from __future__ import annotations

import time

import numpy as np

from .callbacks import History
from .models import DIGITS_CNN_CHANNELS, DIGITS_CNN_RECIPE, digits_cnn_splits

__all__ = ["digits_cnn_torch", "copy_weights", "predict", "train_torch", "train_digits_cnn_torch"]


def digits_cnn_torch(seed: int = 0, channels: tuple = DIGITS_CNN_CHANNELS, dtype=None, device="cpu"):
    """The digits CNN of :func:`dlcourse.models.digits_cnn` as a ``torch.nn.Sequential``.

    Parameters
    ----------
    seed : int
        Seeds PyTorch's default initialisation (the global torch RNG is left untouched).
    channels : (int, int)
        Filters of the two convolution layers.
    dtype : torch.dtype, optional
        ``torch.float32`` (default) or ``torch.float64``.
    device : str

    Returns
    -------
    torch.nn.Sequential
        Input (N, 1, 8, 8), output (N, 10) logits.
    """
    import torch
    from torch import nn

    c1, c2 = channels
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * 2 * 2, 10),
        )
    return model.to(device=device, dtype=dtype or torch.float32)


def copy_weights(net, model) -> None:
    """Copy the parameters of our network ``net`` into the torch ``model``, in order.

    ``Dense.W`` (D, K) becomes ``Linear.weight`` (K, D); kernels (F, C, KH, KW) and
    biases copy as they are. A ``ValueError`` names the first pair whose shapes differ.
    """
    import torch

    ours = list(net.parameters())
    theirs = list(model.parameters())
    if len(ours) != len(theirs):
        raise ValueError(f"net has {len(ours)} parameters but model has {len(theirs)}")
    with torch.no_grad():
        for i, (p, t) in enumerate(zip(ours, theirs)):
            data = p.data.T if p.data.ndim == 2 else p.data  # Dense (D, K) -> Linear (K, D)
            if tuple(data.shape) != tuple(t.shape):
                raise ValueError(f"parameter {i} ({p.name}): ours {p.data.shape} does not fit torch "
                                 f"{tuple(t.shape)}")
            t.copy_(torch.as_tensor(np.ascontiguousarray(data), dtype=t.dtype, device=t.device))


def predict(model, X) -> np.ndarray:
    """Class labels (N,) of the torch ``model`` for images ``X`` (N, C, H, W), in eval mode."""
    import torch

    param = next(model.parameters())
    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(np.asarray(X), dtype=param.dtype, device=param.device))
    return logits.argmax(dim=1).cpu().numpy()


def train_torch(model, X, y, epochs: int, batch_size: int = 32, lr: float = 0.01, seed: int = 0,
                validation_data=None) -> History:
    """Train ``model`` with ``torch.optim.Adam`` and cross-entropy, the loop of ``Sequential.fit``.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (N, C, H, W) images to (N, K) logits.
    X : ndarray, shape (N, C, H, W)
    y : ndarray, shape (N,), int
    epochs, batch_size, lr, seed
        As in :meth:`dlcourse.network.Sequential.fit`; ``seed`` draws the shuffling.
    validation_data : (X_val, y_val), optional

    Returns
    -------
    History
        ``loss``, ``accuracy`` (and ``val_accuracy``) per epoch and ``fit_time``, as our ``fit``.
    """
    import torch

    param = next(model.parameters())
    Xt = torch.as_tensor(np.asarray(X), dtype=param.dtype, device=param.device)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long, device=param.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    history, start = History(), time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.as_tensor(rng.permutation(len(yt)), device=param.device)
        total = correct = 0.0
        for i in range(0, len(yt), batch_size):
            idx = order[i:i + batch_size]
            opt.zero_grad()
            logits = model(Xt[idx])
            loss = loss_fn(logits, yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += int((logits.argmax(dim=1) == yt[idx]).sum())
        logs = {"loss": total / len(yt), "accuracy": correct / len(yt)}
        if validation_data is not None:
            logs["val_accuracy"] = float(np.mean(predict(model, validation_data[0]) == validation_data[1]))
        history.append(epoch, logs)
    history.fit_time = time.perf_counter() - start
    return history


def train_digits_cnn_torch(seed: int = 0, epochs: int | None = None, dtype=None, device="cpu"):
    """The torch twin of :func:`dlcourse.models.train_digits_cnn`: same splits and recipe.

    Learns from the training split, watches the validation split, reads the test split once.

    Returns
    -------
    model : torch.nn.Sequential
    history : History
    test_accuracy : float
    """
    s = digits_cnn_splits(seed)
    model = digits_cnn_torch(seed, dtype=dtype, device=device)
    recipe = DIGITS_CNN_RECIPE
    history = train_torch(model, s.X_train, s.y_train, recipe["epochs"] if epochs is None else epochs,
                          recipe["batch_size"], recipe["lr"], seed, (s.X_val, s.y_val))
    return model, history, float(np.mean(predict(model, s.X_test) == s.y_test))
