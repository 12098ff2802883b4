r"""How :meth:`Sequential.fit` turns a network output and a loss into a value and a gradient.

A *head* prepares the targets once (checks, integer labels, one-hot rows), then per
batch returns the loss value, the gradient that starts the backward pass, and the
number of correct predictions. Two heads fold the last layer into the loss, because
the combined gradient is simpler and exactly stable:

* Softmax layer + categorical cross-entropy: :math:`\partial L/\partial z = (p - y)/N`.
* Sigmoid layer + binary cross-entropy: :math:`\partial L/\partial z = (p - y)/(N K)`.

The from-logits losses (``cross_entropy_with_logits``,
``binary_cross_entropy_with_logits``) use the same formulas with no layer to skip.
Every other loss goes through :mod:`dlcourse.losses` (``loss(y, y_hat)``,
``loss.gradient(y, y_hat)``).
"""

from __future__ import annotations

import re

import numpy as np

from ._checks import as_float_array, check_finite

CE_NAMES = {"categorical_cross_entropy", "sparse_categorical_cross_entropy"}
BCE_NAMES = {"binary_cross_entropy"}
CE_LOGITS, BCE_LOGITS = "cross_entropy_with_logits", "binary_cross_entropy_with_logits"


def loss_name(loss) -> str:
    """``"categorical_cross_entropy"`` for that string or for a ``CategoricalCrossEntropy()`` object."""
    if isinstance(loss, str):
        return loss.lower()
    name = getattr(loss, "name", None)
    if isinstance(name, str):
        return name.lower()
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(loss).__name__).lower()


def _logsumexp(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]


def _labels(y, n: int, k: int, name: str):
    """Integer labels (N,) and, for (N, K) targets, the target rows; checks range and shape."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == k and k > 1:
        rows = as_float_array(y, "y")
        check_finite(rows, "y")
        if np.any(rows < 0) or not np.allclose(rows.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError(f"y given as (N, {k}) rows for {name} must hold probabilities that sum to 1 per row")
        return rows.argmax(axis=1), rows
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
    return labels, None


class SoftmaxCrossEntropyHead:
    """Categorical cross-entropy on a Softmax output (``skip=1``) or on logits (``skip=0``)."""

    task = "multiclass"

    def __init__(self, net, k: int, from_logits: bool):
        self.net, self.k, self.skip = net, k, 0 if from_logits else 1
        self.name = CE_LOGITS if from_logits else "categorical_cross_entropy"

    def prepare(self, y, n: int):
        labels, rows = _labels(y, n, self.k, self.name)
        return (labels, rows)

    @staticmethod
    def take(target, idx):
        labels, rows = target
        return labels[idx], (None if rows is None else rows[idx])

    def _probs_and_logits(self, out):
        if self.skip:
            z, p = self.net.layers[-1]._cache
            return p, z
        z = out
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True), z

    def __call__(self, out, target, need_grad: bool = True):
        labels, rows = target
        n = out.shape[0]
        p, z = self._probs_and_logits(out)
        ar = np.arange(n)
        if rows is None:
            p_true = p[ar, labels]
            if p_true.min() > 1e-300:  # -log p is exact; else use log-sum-exp on the logits
                value = -float(np.mean(np.log(p_true)))
            else:
                value = float(np.mean(_logsumexp(z) - z[ar, labels]))
        else:
            value = float(np.mean(_logsumexp(z) - (rows * z).sum(axis=1)))
        correct = int(np.count_nonzero(p.argmax(axis=1) == labels))
        if not need_grad:
            return value, None, correct
        if rows is None:
            grad = p.copy()
            grad[ar, labels] -= 1
        else:
            grad = p - rows
        grad /= n
        return value, grad, correct


class SigmoidBinaryHead:
    """Binary cross-entropy on a Sigmoid output (``skip=1``) or on logits (``skip=0``)."""

    task = "binary"

    def __init__(self, net, k: int, from_logits: bool):
        self.net, self.k, self.skip = net, k, 0 if from_logits else 1
        self.name = BCE_LOGITS if from_logits else "binary_cross_entropy"

    def prepare(self, y, n: int):
        t = as_float_array(y, "y")
        if t.ndim == 1 and self.k == 1:
            t = t[:, None]
        if t.shape != (n, self.k):
            raise ValueError(f"y for {self.name} must have shape ({n}, {self.k}) (or ({n},) for one output); "
                             f"got {np.shape(y)}")
        check_finite(t, "y")
        if np.any((t < 0) | (t > 1)):
            raise ValueError(f"y for {self.name} must hold targets in [0, 1]; got values from {t.min()} to {t.max()}")
        return t

    @staticmethod
    def take(target, idx):
        return target[idx]

    def __call__(self, out, t, need_grad: bool = True):
        z = self.net.layers[-1]._cache[0] if self.skip else out
        # BCE from logits: max(z, 0) - t z + log(1 + e^{-|z|})
        value = float(np.mean(np.maximum(z, 0) - t * z + np.log1p(np.exp(-np.abs(z)))))
        correct = np.count_nonzero((z > 0) == (t > 0.5)) / self.k  # per sample: mean over outputs
        if not need_grad:
            return value, None, correct
        p = out if self.skip else 1 / (1 + np.exp(-np.clip(z, -500, 500)))
        return value, (p - t) / t.size, correct


class GenericHead:
    """Any loss object from :mod:`dlcourse.losses`: ``value = loss(y, out)``, ``grad = loss.gradient(y, out)``."""

    skip = 0

    def __init__(self, net, k: int, loss):
        self.net, self.k, self.loss = net, k, loss
        name = loss_name(loss)
        self.task = "multiclass" if "cross_entropy" in name and "binary" not in name else (
            "binary" if "binary" in name else None)

    def prepare(self, y, n: int):
        if np.asarray(y).dtype.kind in "iu" and "sparse" in loss_name(self.loss):
            return np.asarray(y)
        t = as_float_array(y, "y")
        if t.ndim == 1 and self.k == 1:
            t = t[:, None]
        check_finite(t, "y")
        return t

    @staticmethod
    def take(target, idx):
        return target[idx]

    def __call__(self, out, t, need_grad: bool = True):
        value = float(self.loss(t, out))
        correct = 0
        if self.task == "multiclass":
            labels = t if t.ndim == 1 else t.argmax(axis=1)
            correct = int(np.count_nonzero(out.argmax(axis=1) == labels))
        elif self.task == "binary":
            correct = np.count_nonzero((out > 0.5) == (t > 0.5)) / max(out.shape[1], 1)
        return value, (self.loss.gradient(t, out) if need_grad else None), correct


def make_head(net, loss, k: int):
    """Pick the head for ``loss`` given the network's last layer and its ``k`` outputs."""
    from . import activations as act
    from .layers.activation import Activation

    name = loss_name(loss)
    last = net.layers[-1] if net.layers else None
    last_fn = type(last.fn) if isinstance(last, Activation) else None
    softmax_last = last_fn is act.Softmax and last.fn.axis in (-1, 1)
    if name in CE_NAMES and softmax_last:
        return SoftmaxCrossEntropyHead(net, k, from_logits=False)
    if name == CE_LOGITS:
        return SoftmaxCrossEntropyHead(net, k, from_logits=True)
    if name in BCE_NAMES and last_fn is act.Sigmoid:
        return SigmoidBinaryHead(net, k, from_logits=False)
    if name == BCE_LOGITS:
        return SigmoidBinaryHead(net, k, from_logits=True)
    if isinstance(loss, str):
        from . import losses

        loss = losses.get(loss)
    if not (callable(loss) and hasattr(loss, "gradient")):
        raise TypeError(f"loss must be a loss name or an object with __call__ and .gradient; got {loss!r}")
    return GenericHead(net, k, loss)
