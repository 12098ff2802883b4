"""The training loop behind :meth:`dlcourse.network.Sequential.fit`.

Per epoch: shuffle the rows once (one copy), walk contiguous mini-batches (views, no
copies), and per batch run forward, the head (loss value and starting gradient),
backward and one optimizer step. Then validate, call the callbacks and step the
scheduler. Checks on every input happen before the first step.
"""

from __future__ import annotations

import time

import numpy as np

from . import init as _init
from ._progress import progress_bar
from .callbacks import History


def _make_optimizer(optimizer, params):
    """A learning rate -> ``optim.SGD(params, lr)``; a name -> ``optim.get(name, params)``; else as is."""
    from . import optim

    if isinstance(optimizer, (int, float, np.floating)) and not isinstance(optimizer, bool):
        if not optimizer > 0:
            raise ValueError(f"optimizer as a learning rate must be > 0; got {optimizer!r}")
        return optim.SGD(params, lr=float(optimizer))
    if isinstance(optimizer, str):
        return optim.get(optimizer, params)
    if not hasattr(optimizer, "step"):
        raise TypeError(f"optimizer must be a learning rate, a name or an object with step(); got {optimizer!r}")
    return optimizer


def _check_fit_args(epochs, batch_size, n: int):
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0; got {epochs!r}")
    if batch_size is None:
        return n
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int or None; got {batch_size!r}")
    return int(batch_size)


def _validation(net, loss, validation_data):
    if validation_data is None:
        return None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise TypeError("validation_data must be a tuple (X_val, y_val)")
    return net._head(loss, validation_data[0], validation_data[1], name="validation y")


def _run_epoch(net, head, X, target, batch_size, opt, order):
    """One pass over the data; returns (mean loss, accuracy or None)."""
    if order is not None:
        X, target = X[order], head.take(target, order)
    n = X.shape[0]
    total, correct = 0.0, 0
    layers, skip = net.layers, head.skip
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        xb = X[start:stop]
        tb = head.take(target, slice(start, stop))
        for layer in layers:
            xb = layer.forward(xb, True)
        value, grad, c = head(xb, tb)
        net._backward(grad, skip, need_dx=False)
        opt.step()
        total += value * (stop - start)
        correct += c
    return total / max(n, 1), (correct / max(n, 1) if head.task is not None else None)


def _epoch_logs(net, head, loss_value, acc, val, opt):
    logs = {"loss": loss_value}
    if acc is not None:
        logs["accuracy"] = acc
    if val is not None:
        Xv, vhead, vtarget = val
        value, _, correct = vhead(net.forward(Xv, training=False), vtarget, need_grad=False)
        logs["val_loss"] = value
        if vhead.task is not None:
            logs["val_accuracy"] = correct / Xv.shape[0]
    if hasattr(opt, "lr"):
        logs["lr"] = float(opt.lr)
    return logs


def _start_callbacks(net, callbacks, head, val):
    callbacks = list(callbacks or ())
    names = ["loss"] + (["accuracy"] if head.task else []) + (
        ["val_loss"] + (["val_accuracy"] if head.task else []) if val else []) + ["lr"]
    for cb in callbacks:
        cb.set_model(net)
        cb.on_train_begin({"metrics": names})
    return callbacks


def fit(net, X, y, loss, optimizer, epochs, batch_size, validation_data, callbacks, seed,
        progress, scheduler, shuffle):
    """See :meth:`Sequential.fit`."""
    t0 = time.perf_counter()
    X, head, target = net._head(loss, X, y)
    batch_size = _check_fit_args(epochs, batch_size, X.shape[0])
    val = _validation(net, loss, validation_data)
    rng = _init.as_generator(seed)
    opt = _make_optimizer(optimizer, list(net.parameters()))
    callbacks = _start_callbacks(net, callbacks, head, val)
    net.stop_training, net.loss_, net.task_ = False, loss, head.task or "regression"
    history = History()
    bar = progress_bar(epochs, desc="fit", progress=progress)
    try:
        for epoch in range(epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch, {})
            order = rng.permutation(X.shape[0]) if shuffle else None
            loss_value, acc = _run_epoch(net, head, X, target, batch_size, opt, order)
            logs = _epoch_logs(net, head, loss_value, acc, val, opt)
            history.append(epoch, logs)
            bar.update(1)
            bar.set_postfix({k: round(v, 4) for k, v in logs.items() if k != "lr"}, refresh=False)
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if scheduler is not None:
                scheduler.step()
            if net.stop_training:
                history.stopped_epoch = epoch
                break
    finally:
        bar.close()
    for cb in callbacks:
        cb.on_train_end({})
    history.fit_time = time.perf_counter() - t0
    return history
