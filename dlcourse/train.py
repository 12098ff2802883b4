r"""The training loop: mini-batch gradient descent on a network, a loss and an optimizer.

:func:`train` is the loop :meth:`dlcourse.network.Sequential.fit` runs, written to be
read in one sitting (as micrograd's demo loop and CS231n's ``Solver``). Per epoch it
shuffles the rows once, then per mini-batch

1. ``out = network.forward(xb, training=True)``
2. ``value = loss(yb, out)`` and ``dout = loss.gradient(yb, out)``
3. ``network.backward(dout, need_dx=False)``: every ``.grad`` is overwritten, so there
   is nothing to zero first (nobody needs the gradient of the input)
4. ``optimizer.step()``

and after the epoch it validates, calls the callbacks and steps the scheduler. It
uses only public methods: ``forward``, ``backward``, ``output_shape`` of the network,
calling the loss and ``loss.gradient``, ``optimizer.step()``. (One shortcut: for the
cross-entropy from logits, step 2 is one fused pass over the batch that gives the
gradient, and the steps' values and correct counts are taken in bulk, bit for bit the
same numbers, ``loss._fit_tally()``. Every check of ``X`` and ``y`` runs once,
before the first step, not per batch.)

One step happens before the loop (:func:`fold_output_layer`): a network that ends in a
``Softmax`` layer trained with (sparse) categorical cross-entropy is trained as the
layers before it with :data:`~dlcourse.losses.cross_entropy_with_logits`, and a
``Sigmoid`` output with binary cross-entropy as logits with
:data:`~dlcourse.losses.binary_cross_entropy_with_logits`. The loss is the same
function of the weights; its gradient :math:`(p - y)/N` is simpler and exactly stable.
"""

from __future__ import annotations

import re
import time

import numpy as np

from . import init as _init
from . import losses as _losses
from ._checks import as_float_array, check_finite
from ._progress import progress_bar
from .callbacks import History
from .layers import _unchecked

__all__ = ["train", "evaluate", "fold_output_layer", "check_targets", "count_correct", "task_of"]


# ---------------------------------------------------------------- the loop

def train(model, loss, optimizer, X, y, *, epochs: int = 10, batch_size: int | None = 32,
          validation_data=None, callbacks=(), seed=None, progress: bool = True, scheduler=None,
          shuffle: bool = True) -> History:
    """Train ``model`` on ``(X, y)`` and return the per-epoch :class:`~dlcourse.callbacks.History`.

    Parameters
    ----------
    model : Sequential (or any layer with forward, backward and output_shape)
    loss : Loss
        An object of :mod:`dlcourse.losses` (``loss(y, out)``, ``loss.gradient(y, out)``).
    optimizer : object with step()
        Built on ``model.parameters()``, e.g. ``dlcourse.optim.SGD(model.parameters(), lr=0.1)``.
    X : ndarray, shape (N, D) (or (N, C, H, W))
        Samples as rows, already of the model's dtype.
    y : ndarray, shape (N,) or (N, K)
        Targets as ``loss`` takes them (checked here once, before the first step).
    epochs : int
    batch_size : int or None
        Samples per step; None means all of them (batch gradient descent).
    validation_data : tuple (X_val, y_val), optional
        Evaluated after every epoch (``val_loss``, ``val_accuracy``).
    callbacks : list of Callback
        Each gets ``set_model(model)``; one stops training by setting ``model.stop_training = True``.
    seed : int or numpy.random.Generator, optional
        The shuffling order.
    progress : bool
        Show a tqdm bar (also off when ``DLCOURSE_PROGRESS=0``).
    scheduler : object with step(), optional
        Stepped once per epoch, after the callbacks.
    shuffle : bool
        Reshuffle the rows every epoch.

    Returns
    -------
    History
        ``loss``, ``accuracy`` (classification), ``val_loss``, ``val_accuracy``, ``lr`` per epoch.
    """
    t0 = time.perf_counter()
    network, loss_fn = fold_output_layer(model, loss)
    y = check_targets(loss_fn, y, X.shape[0], _outputs(model, X), name=_loss_name(loss))
    batch_size = _check_loop_args(epochs, batch_size, X.shape[0])
    val = None
    if validation_data is not None:
        Xv, yv = validation_data
        val = Xv, check_targets(loss_fn, yv, Xv.shape[0], _outputs(model, Xv), name=_loss_name(loss))
    task = task_of(loss_fn)
    callbacks = _start_callbacks(model, callbacks, task, val)
    rng = _init.as_generator(seed)
    model.stop_training = False  # the callback protocol: a callback sets it to True
    history = History()
    bar = progress_bar(epochs, desc="fit", progress=progress)
    try:
        for epoch in range(epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch, {})
            order = rng.permutation(X.shape[0]) if shuffle else None
            logs = _one_epoch(network, loss_fn, optimizer, X, y, batch_size, order)
            if val is not None:
                val_logs = evaluate(model, loss, *val)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            if hasattr(optimizer, "lr"):
                logs["lr"] = float(optimizer.lr)
            history.append(epoch, logs)
            bar.update(1)
            bar.set_postfix({k: round(v, 4) for k, v in logs.items() if k != "lr"}, refresh=False)
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if scheduler is not None:
                scheduler.step()
            if model.stop_training:
                history.stopped_epoch = epoch
                break
    finally:
        bar.close()
    for cb in callbacks:
        cb.on_train_end({})
    history.fit_time = time.perf_counter() - t0
    return history


def _one_epoch(network, loss, optimizer, X, y, batch_size: int, order) -> dict:
    """One pass over the rows (in ``order`` when given): ``{"loss": mean, "accuracy": ...}``.

    Everything about ``X`` and ``y`` was checked once, before the first epoch, so a step
    is only the arithmetic: the rows are permuted once per epoch (one copy) and the
    batches are slices of that copy. The epoch's loss is the mean of the steps' losses
    weighted by their batch sizes, each taken before its step's update (as a PyTorch loop
    that adds ``loss.item() * len(batch)`` reports it). A loss with a ``_fit_tally()``
    method (the cross-entropy from logits) gives each step's gradient from one pass over
    the batch and the steps' values and correct counts in bulk, bit for bit the same
    (:class:`dlcourse.losses._LogitsTally`); any other loss object, and any batch that
    tally hands back (non-finite logits), is called as ``loss(y, out)`` and
    ``loss.gradient(y, out)``. The first step goes through the checked methods; the
    later ones take the same arithmetic without the checks where :func:`_without_checks` can.
    """
    if order is not None:
        X, y = X[order], y[order]
    n = X.shape[0]
    make_tally = getattr(loss, "_fit_tally", None)
    tally = _GeneralTally() if make_tally is None else make_tally(n)
    forward, backward, step = network.forward, network.backward, optimizer.step
    one_pass, record = tally.gradient, tally.add
    for start in range(0, n, batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        out = forward(xb, training=True)  # 1. forward
        dout = one_pass(yb, out)  # 2. the loss gradient (its value is taken later) ...
        if dout is None:  # ... or, by the general path, the value, gradient and count now
            value = float(loss(yb, out))
            dout = loss.gradient(yb, out)
            record(value, xb.shape[0], count_correct(loss, yb, out))
        backward(dout, need_dx=False)  # 3. backward: every .grad is overwritten
        step()  # 4. the update
        if start == 0:  # every check has passed once: the later steps may skip them
            forward, backward, step = _without_checks(network, X, loss, optimizer, (forward, backward, step))
    total = 0.0
    for value, rows in tally.steps():  # in step order, as the loop would have added them
        total += value * rows
    logs = {"loss": total / max(n, 1)}
    if task_of(loss) is not None:
        logs["accuracy"] = tally.correct / max(n, 1)
    return logs


def _without_checks(network, X, loss, optimizer, checked: tuple) -> tuple:
    """The later steps' ``(forward, backward, step)``: ``checked`` without its checks where that is exact.

    After the first step of an epoch has passed every check, the later steps hand the
    network slices of the same rows (so the same type, dtype and width), and its layers'
    outputs keep their per-sample shapes. A network that offers an unchecked step
    (:func:`dlcourse.layers._unchecked.unchecked_passes`: a Sequential of Dense layers and
    built-in activations), on rows that are a float array, then runs through it, and an
    optimizer with ``_unchecked_step`` (those of :mod:`dlcourse.optim`) updates without
    the per-parameter checks: the same arithmetic in the same order, so the same numbers
    bit for bit. The one input the loop does not make itself is the loss gradient. A loss
    of :mod:`dlcourse.losses` gives an array of the output's shape and dtype by
    construction (``losses._gradient_fits``), so its gradients go straight in; for any
    other loss, a gradient that is not such an array goes through the checked
    ``network.backward`` and that step's update through the checked ``step``, so the error
    a learner sees is the checked one. Anything else keeps ``checked``.
    """
    passes = _unchecked.unchecked_passes(network) if type(X) is np.ndarray and X.dtype.kind == "f" else None
    if passes is None:
        return checked
    run_forward, run_backward = passes
    checked_backward, checked_step = checked[1], checked[2]
    offer = getattr(optimizer, "_unchecked_step", None)
    update = offer() if offer is not None else None
    if update is not None and _losses._gradient_fits(loss):
        return run_forward, run_backward, update
    out, odd = None, False  # odd: this step's gradients came through the checked backward

    def forward(x, training=True):
        nonlocal out
        out = run_forward(x)
        return out

    def backward(dout, need_dx=True):
        nonlocal odd
        if type(dout) is not np.ndarray or dout.shape != out.shape or dout.dtype != out.dtype:
            odd = True  # the checked methods say what is wrong, and the checked step takes what they leave
            return checked_backward(dout, need_dx)
        return run_backward(dout, need_dx)

    if update is None:
        return forward, backward, checked_step

    def step():
        nonlocal odd
        if odd:
            odd = False
            return checked_step()
        return update()

    return forward, backward, step


class _GeneralTally:
    """The steps of an epoch for a loss without a one-pass step: every batch takes the general path."""

    __slots__ = ("_steps", "correct")

    def __init__(self):
        self._steps: list[tuple[float, int]] = []
        self.correct = 0

    @staticmethod
    def gradient(labels, out) -> None:
        return None

    def add(self, value: float, n: int, correct) -> None:
        self._steps.append((value, n))
        self.correct += correct

    def steps(self) -> list[tuple[float, int]]:
        return self._steps


def evaluate(model, loss, X, y) -> dict:
    """Loss (and accuracy for classification) of ``model`` on ``(X, y)``, in evaluation mode.

    Returns
    -------
    dict
        ``{"loss": float}`` plus ``"accuracy"`` when the loss is a classification loss.
    """
    network, loss_fn = fold_output_layer(model, loss)
    y = check_targets(loss_fn, y, X.shape[0], _outputs(model, X), name=_loss_name(loss))
    out = network.forward(X, training=False)
    result = {"loss": float(loss_fn(y, out))}
    if task_of(loss_fn) is not None:
        result["accuracy"] = count_correct(loss_fn, y, out) / X.shape[0]
    return result


# ---------------------------------------------------------------- the fold

def fold_output_layer(model, loss):
    """``(network, loss)`` to train: the last layer folded into the loss where that is exact.

    A ``Softmax`` output (over the classes) with categorical or sparse categorical
    cross-entropy becomes the layers before it with cross-entropy from logits; a
    ``Sigmoid`` output with binary cross-entropy becomes logits with binary cross-entropy
    from logits. Anything else is returned unchanged.
    """
    loss = resolve_loss(loss)
    layers = list(getattr(model, "layers", ()))
    fn = getattr(layers[-1], "fn", None) if layers else None
    logits_loss = getattr(loss, "from_logits_form", None)
    if logits_loss is not None and fn is not None and fn.name == loss.folds \
            and getattr(fn, "axis", -1) in (-1, 1):
        return type(model)(layers[:-1]), logits_loss  # a Sequential (or subclass) of the layers before
    return model, loss


def resolve_loss(loss):
    """A loss object: names go through :func:`dlcourse.losses.get`; objects need ``__call__`` and ``.gradient``."""
    if isinstance(loss, str):
        return _losses.get(loss)
    if not (callable(loss) and hasattr(loss, "gradient")):
        raise TypeError(f"loss must be a loss name or an object with __call__ and .gradient; got {loss!r}")
    return loss


# ---------------------------------------------------------------- targets and accuracy

def _loss_name(loss) -> str:
    """``"categorical_cross_entropy"`` for that string or for a ``CategoricalCrossEntropy()`` object."""
    if isinstance(loss, str):
        return loss.lower()
    name = getattr(loss, "name", None)
    if isinstance(name, str):
        return name.lower()
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(loss).__name__).lower()


def task_of(loss):
    """``"multiclass"``, ``"binary"`` or None (regression): the loss's ``task``, or a guess from its name."""
    if hasattr(loss, "task"):
        return loss.task
    name = _loss_name(loss)
    if "cross_entropy" in name and "binary" not in name:
        return "multiclass"
    return "binary" if "binary" in name else None


def count_correct(loss, y, out) -> float:
    """Correct predictions in a batch: the argmax for several classes; for binary outputs a
    threshold of 0 on logits or 0.5 on probabilities, averaged over the outputs of a sample."""
    task = task_of(loss)
    if task == "multiclass":
        labels = y if y.ndim == 1 else y.argmax(axis=1)
        return int(np.count_nonzero(out.argmax(axis=1) == labels))
    if task == "binary":
        threshold = 0.0 if getattr(loss, "from_logits", False) else 0.5
        return np.count_nonzero((out > threshold) == (y > 0.5)) / max(out.shape[1], 1)
    return 0


def _outputs(model, X) -> int:
    """Number of outputs per sample, from the model's ``output_shape``."""
    return int(np.prod(model.output_shape(X.shape[1:])))


def check_targets(loss, y, n: int, k: int, name: str | None = None):
    """Check targets ``y`` of ``n`` samples for a model with ``k`` outputs, once, before training.

    Cross-entropy from logits takes integer labels (N,) (or (N, 1)) or probability rows
    (N, K); binary cross-entropy from logits targets in [0, 1] of shape (N, K) (or (N,)
    for one output); every other loss float targets (N, K) (integer labels for the sparse
    loss). Returns the array to hand to the loss.
    """
    name = name or _loss_name(loss)
    if isinstance(loss, _losses.CrossEntropyWithLogits):
        return _class_targets(y, k, name)
    if isinstance(loss, _losses.BinaryCrossEntropyWithLogits):
        return _binary_targets(y, n, k, name)
    if np.asarray(y).dtype.kind in "iu" and "sparse" in _loss_name(loss):
        return np.asarray(y)
    t = as_float_array(y, "y")
    if t.ndim == 1 and k == 1:
        t = t[:, None]
    check_finite(t, "y")
    return t


def _class_targets(y, k: int, name: str):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == k and k > 1:
        rows = as_float_array(y, "y")
        check_finite(rows, "y")
        if np.any(rows < 0) or not np.allclose(rows.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError(f"y given as (N, {k}) rows for {name} must hold probabilities that sum to 1 per row")
        return rows
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y for {name} must be integer labels (N,) or one-hot rows (N, {k}); got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError(f"y for {name} must hold integer class labels; got non-integer values")
    elif y.dtype.kind not in "iub":
        raise TypeError(f"y for {name} must hold integer class labels; got dtype {y.dtype}")
    labels = y.astype(np.intp)
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels in y must lie in [0, {k}) for a network with {k} outputs; "
                         f"got values from {labels.min()} to {labels.max()}")
    return labels


def _binary_targets(y, n: int, k: int, name: str):
    t = as_float_array(y, "y")
    if t.ndim == 1 and k == 1:
        t = t[:, None]
    if t.shape != (n, k):
        raise ValueError(f"y for {name} must have shape ({n}, {k}) (or ({n},) for one output); got {np.shape(y)}")
    check_finite(t, "y")
    if np.any((t < 0) | (t > 1)):
        raise ValueError(f"y for {name} must hold targets in [0, 1]; got values from {t.min()} to {t.max()}")
    return t


# ---------------------------------------------------------------- small checks

def _check_loop_args(epochs, batch_size, n: int) -> int:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0; got {epochs!r}")
    if batch_size is None:
        return n
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int or None; got {batch_size!r}")
    return int(batch_size)


def _start_callbacks(model, callbacks, task, val) -> list:
    callbacks = list(callbacks or ())
    names = ["loss"] + (["accuracy"] if task else []) + (
        ["val_loss"] + (["val_accuracy"] if task else []) if val else []) + ["lr"]
    for cb in callbacks:
        cb.set_model(model)
        cb.on_train_begin({"metrics": names})
    return callbacks
