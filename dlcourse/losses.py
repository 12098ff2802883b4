r"""Loss functions and their gradients with respect to the prediction.

Every loss is a callable object: ``loss(y_true, y_pred)`` returns a Python float
and ``loss.gradient(y_true, y_pred)`` returns :math:`\partial L / \partial \hat y`,
an array with the shape and dtype of ``y_pred``. The reductions are PyTorch's
defaults, so every value compares directly with ``torch.nn.functional``:

* the mean over all elements for MSE, MAE, Huber, hinge and binary cross-entropy;
* the mean over the batch (the rows, ``N``) for the categorical cross-entropies;
* ``"batchmean"`` for KL divergence (the sum divided by ``N``).

Probabilities exactly 0 or 1 and logits of :math:`\pm 10^4` give finite values and
no floating-point warnings: logarithms of probabilities are clamped at -100 (as
PyTorch's ``binary_cross_entropy`` does) and the from-logits losses use log-sum-exp.
Bad input (mismatched shapes, empty arrays, probabilities outside [0, 1], a label
out of range) raises ``ValueError`` naming what was received and what was expected.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ._checks import as_float_array, check_same_shape
from .activations import log_softmax as _log_softmax, sigmoid as _sigmoid, softmax as _softmax

__all__ = [
    "Loss", "MSE", "MAE", "Huber", "Hinge", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits",
    "CategoricalCrossEntropy", "SparseCategoricalCrossEntropy", "CrossEntropyWithLogits",
    "KLDivergence", "mse", "mae", "huber", "hinge", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "categorical_cross_entropy",
    "sparse_categorical_cross_entropy", "cross_entropy_with_logits", "kl_divergence",
    "LOSSES", "get",
]

#: Floor of every log of a probability, as in PyTorch's ``binary_cross_entropy``.
LOG_CLAMP = -100.0
#: Floor of the denominators of the probability gradients, as in PyTorch's BCE backward.
GRAD_EPS = 1e-12


def _clamped_log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
        return np.maximum(np.log(p), LOG_CLAMP)


def _check_nonempty(p: np.ndarray, name: str = "y_pred") -> None:
    if p.size == 0:
        raise ValueError(f"{name} is empty (shape {p.shape}); a loss over zero elements is undefined")


def _check_range(a: np.ndarray, name: str, low: float = 0.0, high: float = 1.0) -> None:
    bad = (a < low) | (a > high)  # NaN compares False: it propagates instead
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must lie in [{low:g}, {high:g}]; got {a[idx].item()!r} at index {idx}")


class Loss:
    """Base class: ``loss(y_true, y_pred) -> float`` and ``loss.gradient(y_true, y_pred)``.

    Subclasses define ``_value(t, p)`` and ``_gradient(t, p)`` on validated arrays
    and may override ``_validate``.

    Attributes
    ----------
    task : {"multiclass", "binary", None}
        What a network trained with this loss predicts (None: a regression).
    from_logits : bool
        Whether ``y_pred`` holds logits (so a binary prediction thresholds at 0, not 0.5).
    folds : str or None
        The output activation this loss absorbs (``"softmax"``, ``"sigmoid"``) ...
    from_logits_form : Loss or None
        ... and the loss on the logits that then replaces it: activation and loss together
        have the simple, exactly stable gradient :math:`(p - y)/N`
        (:func:`dlcourse.train.fold_output_layer`).
    """

    name = "loss"
    formula = ""
    gradient_formula = ""
    task = None
    from_logits = False
    folds = None
    from_logits_form = None

    def __call__(self, y_true, y_pred) -> float:
        """The loss, reduced as PyTorch's default does.

        Parameters
        ----------
        y_true : array_like
            Targets: shape ``(...)`` like ``y_pred`` for element-wise losses, ``(N, K)``
            one-hot / probabilities or ``(N,)`` integer labels for the categorical ones.
        y_pred : array_like
            Predictions (probabilities, scores or logits, as the class says), e.g. ``(N, D)`` or ``(N, K)``.

        Returns
        -------
        float
        """
        t, p = self._validate(y_true, y_pred)
        return float(self._value(t, p))

    def gradient(self, y_true, y_pred) -> np.ndarray:
        """Gradient of the (reduced) loss with respect to ``y_pred``.

        Parameters
        ----------
        y_true, y_pred : array_like
            As for calling the loss.

        Returns
        -------
        ndarray
            Shape and dtype of ``y_pred``.
        """
        t, p = self._validate(y_true, y_pred)
        return np.asarray(self._gradient(t, p)).astype(p.dtype, copy=False)

    def _validate(self, y_true, y_pred):
        p = as_float_array(y_pred, "y_pred")
        t = as_float_array(y_true, "y_true")
        check_same_shape(t, p, "y_true", "y_pred")
        _check_nonempty(p)
        return t, p

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSE(Loss):
    r"""Mean squared error :math:`L = \frac{1}{n}\sum_i (\hat y_i - y_i)^2` over all ``n`` elements.

    Gradient :math:`\partial L/\partial \hat y_i = \frac{2}{n}(\hat y_i - y_i)`. Some texts
    use :math:`\frac{1}{2m}\sum` so that the 2 cancels (gradient :math:`\frac{1}{m}(\hat y - y)`);
    that is half this value. Shapes: ``y_true`` and ``y_pred`` any equal shape, e.g. ``(N, D)``.
    """

    name = "mse"
    formula = r"L = \frac{1}{n}\sum_{i=1}^{n} (\hat y_i - y_i)^2"
    gradient_formula = r"\frac{\partial L}{\partial \hat y_i} = \frac{2}{n}(\hat y_i - y_i)"

    def _value(self, t, p):
        return np.mean((p - t) ** 2)

    def _gradient(self, t, p):
        return 2 * (p - t) / p.size


class MAE(Loss):
    r"""Mean absolute error :math:`L = \frac{1}{n}\sum_i |\hat y_i - y_i|` (PyTorch's ``l1_loss``).

    Gradient :math:`\frac{1}{n}\operatorname{sign}(\hat y_i - y_i)`, taken as 0 where
    :math:`\hat y_i = y_i`, as PyTorch does.
    """

    name = "mae"
    formula = r"L = \frac{1}{n}\sum_{i=1}^{n} |\hat y_i - y_i|"
    gradient_formula = r"\frac{\partial L}{\partial \hat y_i} = \frac{1}{n}\operatorname{sign}(\hat y_i - y_i)"

    def _value(self, t, p):
        return np.mean(np.abs(p - t))

    def _gradient(self, t, p):
        return np.sign(p - t) / p.size


class Huber(Loss):
    r"""Huber loss with threshold :math:`\delta > 0` (PyTorch's ``huber_loss``), mean over elements.

    .. math:: \ell(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\
              \delta\,(|r| - \tfrac12\delta) & |r| > \delta \end{cases}, \quad r = \hat y - y

    Quadratic near zero, linear for outliers; gradient :math:`\frac{1}{n}\operatorname{clip}(r, -\delta, \delta)`.
    """

    name = "huber"
    formula = (r"\ell(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\ "
               r"\delta(|r| - \tfrac12\delta) & |r| > \delta \end{cases}")
    gradient_formula = r"\frac{\partial L}{\partial \hat y_i} = \frac{1}{n}\operatorname{clip}(r_i, -\delta, \delta)"

    def __init__(self, delta: float = 1.0):
        if not isinstance(delta, (int, float, np.floating, np.integer)) or not np.isfinite(delta) or delta <= 0:
            raise ValueError(f"delta must be a finite number > 0; got {delta!r}")
        self.delta = float(delta)

    def _value(self, t, p):
        r = np.abs(p - t)
        d = self.delta
        return np.mean(np.where(r <= d, 0.5 * r * r, d * (r - 0.5 * d)))

    def _gradient(self, t, p):
        return np.clip(p - t, -self.delta, self.delta) / p.size

    def __repr__(self) -> str:
        return f"Huber(delta={self.delta})"


class Hinge(Loss):
    r"""Hinge loss for labels :math:`y \in \{-1, +1\}` and raw scores :math:`\hat y` (not probabilities).

    :math:`L = \frac{1}{n}\sum_i \max(0, 1 - y_i \hat y_i)`; gradient :math:`-y_i/n` where the
    margin :math:`y_i \hat y_i < 1`, else 0. Labels in {0, 1} must be mapped with :math:`2y - 1`
    first (a ``ValueError`` names any other label). PyTorch has no default-reduction function of
    this exact form; its equivalent is ``torch.relu(1 - y * y_hat).mean()``.
    """

    name = "hinge"
    formula = r"L = \frac{1}{n}\sum_{i=1}^{n} \max(0,\, 1 - y_i \hat y_i)"
    gradient_formula = (r"\frac{\partial L}{\partial \hat y_i} = "
                        r"\begin{cases} -y_i/n & y_i \hat y_i < 1 \\ 0 & \text{otherwise} \end{cases}")

    def _validate(self, y_true, y_pred):
        t, p = super()._validate(y_true, y_pred)
        bad = (t != 1) & (t != -1)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"hinge labels y_true must be -1 or +1; got label {t[idx].item()!r} at index {idx} "
                             "(map labels in {0, 1} with 2 * y - 1)")
        return t, p

    def _value(self, t, p):
        return np.mean(np.maximum(0, 1 - t * p))

    def _gradient(self, t, p):
        return np.where(1 - t * p > 0, -t, 0) / p.size


class BinaryCrossEntropy(Loss):
    r"""Binary cross-entropy on probabilities :math:`\hat y \in [0, 1]`, mean over elements.

    .. math:: L = -\frac{1}{n}\sum_i \bigl[y_i \ln \hat y_i + (1 - y_i)\ln(1 - \hat y_i)\bigr]

    As in PyTorch, each logarithm is clamped at -100, so :math:`\hat y = 0` or 1 gives a finite
    loss, and the gradient :math:`\frac{1}{n}\frac{\hat y - y}{\hat y(1 - \hat y)}` divides by
    :math:`\max(\hat y(1-\hat y), 10^{-12})`. Keras and many notes instead clip :math:`\hat y` to
    :math:`[\epsilon, 1 - \epsilon]` (:math:`\epsilon = 10^{-7}`): same values away from 0 and 1.
    Prefer :class:`BinaryCrossEntropyWithLogits` when the model outputs logits.
    """

    name = "binary_cross_entropy"
    task, folds = "binary", "sigmoid"
    formula = r"L = -\frac{1}{n}\sum_{i} \bigl[y_i \ln \hat y_i + (1 - y_i)\ln(1 - \hat y_i)\bigr]"
    gradient_formula = (r"\frac{\partial L}{\partial \hat y_i} = "
                        r"\frac{1}{n}\,\frac{\hat y_i - y_i}{\hat y_i(1 - \hat y_i)}")

    def _validate(self, y_true, y_pred):
        t, p = super()._validate(y_true, y_pred)
        _check_range(p, "y_pred (probabilities)")
        _check_range(t, "y_true (targets)")
        return t, p

    def _value(self, t, p):
        return -np.mean(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p))

    def _gradient(self, t, p):
        return (p - t) / np.maximum(p * (1 - p), GRAD_EPS) / p.size


class BinaryCrossEntropyWithLogits(Loss):
    r"""Binary cross-entropy on logits :math:`z` (:math:`\hat y = \sigma(z)`), mean over elements.

    Computed as :math:`\max(z, 0) - z y + \ln(1 + e^{-|z|})`, which never overflows;
    gradient :math:`\frac{1}{n}(\sigma(z) - y)`.
    """

    name = "binary_cross_entropy_with_logits"
    task, from_logits = "binary", True
    formula = r"L = \frac{1}{n}\sum_i \bigl[\max(z_i, 0) - z_i y_i + \ln(1 + e^{-|z_i|})\bigr]"
    gradient_formula = r"\frac{\partial L}{\partial z_i} = \frac{1}{n}\bigl(\sigma(z_i) - y_i\bigr)"

    def _validate(self, y_true, y_pred):
        t, p = super()._validate(y_true, y_pred)
        _check_range(t, "y_true (targets)")
        return t, p

    def _value(self, t, z):
        return np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))))

    def _gradient(self, t, z):
        return (_sigmoid(z) - t) / z.size


def _check_rows(p: np.ndarray, name: str = "y_pred") -> int:
    """Validate a ``(N, K)`` (or one-sample ``(K,)``) array; return N."""
    if p.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (N, K), or (K,) for one sample; got shape {p.shape}")
    _check_nonempty(p, name)
    return 1 if p.ndim == 1 else p.shape[0]


def _check_labels(labels, p: np.ndarray) -> np.ndarray:
    """Integer class labels of shape ``p.shape[:-1]``, each in ``0..K-1``."""
    y = np.asarray(labels)
    if y.shape != p.shape[:-1]:
        raise ValueError(f"labels y_true must have shape {p.shape[:-1]} for y_pred of shape {p.shape} "
                         f"(N labels for N rows); got y_true.shape={y.shape}")
    if y.dtype.kind not in "iub":
        if y.dtype.kind != "f":
            raise TypeError(f"labels y_true must be integers; got dtype {y.dtype}")
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"labels y_true must be whole numbers; got label {y[idx].item()!r} at index {idx}")
    k = p.shape[-1]
    bad = (y < 0) | (y >= k)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"label {y[idx].item()!r} at index {idx} is out of range: y_pred has K={k} classes, "
                         f"so labels must be in 0..{k - 1}")
    return y.astype(np.intp)


def _picked(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``p[n, y[n]]`` for every row n (works for one sample too)."""
    return np.take_along_axis(p, y[..., None], axis=-1)[..., 0]


class _ProbabilityRows(Loss):
    """Shared validation: targets and predictions are probabilities of shape ``(N, K)`` or ``(K,)``."""

    def _validate(self, y_true, y_pred):
        t, p = super()._validate(y_true, y_pred)
        _check_rows(p)
        _check_range(p, "y_pred (probabilities)")
        _check_range(t, "y_true (target probabilities)")
        return t, p

    def _gradient(self, t, p):
        return -t / np.maximum(p, GRAD_EPS) / _check_rows(p)


class CategoricalCrossEntropy(_ProbabilityRows):
    r"""Cross-entropy of one-hot (or probability) targets and predicted probabilities.

    :math:`L = -\frac{1}{N}\sum_n \sum_k y_{nk} \ln \hat y_{nk}` with natural logs, mean over the batch.
    Shapes: ``y_true`` and ``y_pred`` ``(N, K)`` (or ``(K,)`` for one sample, N = 1). Logs are clamped
    at -100 and the gradient :math:`-\frac{1}{N} y_{nk}/\hat y_{nk}` divides by
    :math:`\max(\hat y_{nk}, 10^{-12})`. From logits, use :class:`CrossEntropyWithLogits` (log-sum-exp).
    """

    name = "categorical_cross_entropy"
    task, folds = "multiclass", "softmax"
    formula = r"L = -\frac{1}{N}\sum_{n=1}^{N}\sum_{k=1}^{K} y_{nk}\ln \hat y_{nk}"
    gradient_formula = r"\frac{\partial L}{\partial \hat y_{nk}} = -\frac{1}{N}\frac{y_{nk}}{\hat y_{nk}}"

    def _value(self, t, p):
        return -np.sum(t * _clamped_log(p)) / _check_rows(p)


class SparseCategoricalCrossEntropy(Loss):
    r"""Cross-entropy of integer labels ``y_true`` (N,) and probabilities ``y_pred`` (N, K).

    :math:`L = -\frac{1}{N}\sum_n \ln \hat y_{n, y_n}`: the same value as the categorical loss on the
    one-hot labels, without building them. A label outside ``0..K-1`` raises ``ValueError``.
    """

    name = "sparse_categorical_cross_entropy"
    task, folds = "multiclass", "softmax"
    formula = r"L = -\frac{1}{N}\sum_{n=1}^{N} \ln \hat y_{n, y_n}"
    gradient_formula = r"\frac{\partial L}{\partial \hat y_{nk}} = -\frac{1}{N}\frac{[k = y_n]}{\hat y_{nk}}"

    def _validate(self, y_true, y_pred):
        p = as_float_array(y_pred, "y_pred")
        _check_rows(p)
        _check_range(p, "y_pred (probabilities)")
        return _check_labels(y_true, p), p

    def _value(self, y, p):
        return -np.sum(_clamped_log(_picked(p, y))) / _check_rows(p)

    def _gradient(self, y, p):
        g = np.zeros_like(p)
        picked = _picked(p, y)[..., None]
        np.put_along_axis(g, y[..., None], -1 / np.maximum(picked, GRAD_EPS) / _check_rows(p), axis=-1)
        return g


class CrossEntropyWithLogits(Loss):
    r"""Softmax cross-entropy from logits ``y_pred`` (N, K), as PyTorch's ``cross_entropy``.

    ``y_true`` is either integer labels (N,) or target probabilities / one-hot (N, K).
    :math:`L = -\frac{1}{N}\sum_n \sum_k y_{nk}\,\log\mathrm{softmax}(z_n)_k`, computed with log-sum-exp;
    the gradient is the famous :math:`\frac{1}{N}(\mathrm{softmax}(z) - y)` (for targets summing to 1).
    """

    name = "cross_entropy_with_logits"
    task, from_logits = "multiclass", True
    formula = r"L = -\frac{1}{N}\sum_{n}\sum_{k} y_{nk}\Bigl(z_{nk} - \ln\sum_j e^{z_{nj}}\Bigr)"
    gradient_formula = r"\frac{\partial L}{\partial z_{nk}} = \frac{1}{N}\bigl(\mathrm{softmax}(z_n)_k - y_{nk}\bigr)"

    def _validate(self, y_true, y_pred):
        z = as_float_array(y_pred, "y_pred")
        _check_rows(z, "y_pred (logits)")
        if np.shape(y_true) == z.shape:
            t = as_float_array(y_true, "y_true")
            _check_range(t, "y_true (target probabilities)")
            return t, z
        return _check_labels(y_true, z), z

    def _value(self, t, z):
        ls = _log_softmax(z)
        if t.shape != z.shape:
            return -np.sum(_picked(ls, t)) / _check_rows(z)
        return -np.sum(t * np.where(t == 0, 0, ls)) / _check_rows(z)

    def _gradient(self, t, z):
        s = _softmax(z)
        if t.shape != z.shape:
            t = np.eye(z.shape[-1], dtype=z.dtype)[t]
            return (s - t) / _check_rows(z)
        return (s * np.sum(t, axis=-1, keepdims=True) - t) / _check_rows(z)

    def _fit_tally(self, rows: int | None = None) -> "_LogitsTally":
        """A new tally of one epoch's one-pass steps (``rows``: the epoch's, if known), for :func:`dlcourse.train.train`."""
        return _LogitsTally(rows)


class _LogitsTally:
    """One epoch of cross-entropy-from-logits training steps: gradients now, values in bulk.

    The training loop (:func:`dlcourse.train.train`) checks the targets once for the whole
    call (integer labels in ``0..K-1``, :func:`dlcourse.train.check_targets`), so nothing
    is validated again here. Per batch, :meth:`gradient` returns ``(softmax(z) - onehot) / N``
    from one max, one exp and one row sum, and writes the shifted logits ``z - max`` and the
    row sums into the epoch's buffers (one block of rows each, filled in step order, so a
    step allocates nothing that outlives it); the loss value and the correct count of each
    step are taken later from the filled rows of many steps at once (when the buffer is
    full, at most 2**20 numbers, and at the end), which costs a Python-level pass per epoch
    instead of per step. They are bit for bit the numbers ``loss(labels, z)`` and the argmax
    count give at the step: every operation is element-wise or a row sum of the same
    length, and ``argmax(z - max) == argmax(z)`` exactly, since only the maximal entries
    give exactly 0 (the others are negative). A step the general path takes (:meth:`add`)
    is recorded in its place in the order.
    """

    __slots__ = ("_rows", "_shifted", "_sums", "_filled", "_labels", "_sizes", "_steps", "correct")
    #: The most logits, in numbers, the buffer holds before the values so far are computed.
    HOLD = 1 << 20

    def __init__(self, rows: int | None = None):
        self._rows = rows  # the epoch's rows, if known: the buffer's size (within HOLD)
        self._shifted = self._sums = None  # (capacity, K) shifted logits and (capacity, 1) row sums
        self._filled = 0  # rows of the buffers written and not yet valued
        self._labels: list = []  # the labels of those steps, in order
        self._sizes: list[int] = []  # their batch sizes
        self._steps: list[tuple[float, int]] = []  # (value, rows) per step, in order
        self.correct = 0

    def gradient(self, labels, z):
        """The gradient of the mean cross-entropy at logits ``z`` (N, K), or None.

        None (the caller then takes the general path and reports the step with
        :meth:`add`) for probability rows, for a batch whose shapes do not match, and
        for a row without a finite maximum (NaN or infinite logits), whose bookkeeping
        and warnings only the general path does.
        """
        if labels.ndim != 1 or z.ndim != 2 or labels.shape[0] != z.shape[0]:
            return None
        # np.maximum.reduce is z.max(axis=1, ...) without the Python wrapper (the same numbers).
        m = _max_reduce(z, axis=1, keepdims=True)
        if not math.isfinite(_sum_reduce(m, axis=None)):
            return None
        n, k = z.shape
        starts = _ROW_STARTS.get(z.shape)
        if starts is None:  # the flat index of each row's first entry
            starts = _ROW_STARTS[z.shape] = np.arange(0, z.size, k)
            starts.flags.writeable = False
        buf, at = self._shifted, self._filled
        if buf is None or at + n > buf.shape[0] or buf.shape[1] != k or buf.dtype != z.dtype:
            buf, at = self._new_buffers(n, k, z.dtype)
        shifted = buf[at:at + n]
        _subtract(z, m, out=shifted)  # z - m, into the buffer
        e = np.exp(shifted)
        sums = self._sums[at:at + n]
        _sum_reduce(e, axis=1, keepdims=True, out=sums)
        self._filled = at + n
        self._labels.append(labels)
        self._sizes.append(n)
        e /= sums  # the softmax s; then (s - onehot) / N in place
        flat = e.reshape(-1)  # a view; one flat index is faster than e[rows, labels]
        flat[starts + labels] -= 1
        e /= n
        return e

    def _new_buffers(self, n: int, k: int, dtype) -> tuple[np.ndarray, int]:
        """Value what the buffers hold, and make them fit the next steps: rows of width ``k`` in ``dtype``."""
        self._value_held()
        buf = self._shifted
        if buf is None or buf.shape[1] != k or buf.dtype != dtype or buf.shape[0] < n:
            rows = self.HOLD // k if self._rows is None else min(self._rows, self.HOLD // k)
            rows = max(rows, n)
            buf = self._shifted = np.empty((rows, k), dtype)
            self._sums = np.empty((rows, 1), dtype)
        return buf, 0

    def add(self, value: float, n: int, correct) -> None:
        """Record a step the general path took: its loss ``value`` on ``n`` rows, ``correct`` of them right."""
        self._value_held()
        self._steps.append((value, n))
        self.correct += correct

    def steps(self) -> list[tuple[float, int]]:
        """``(value, rows)`` of every step so far, in order."""
        self._value_held()
        return self._steps

    def _value_held(self) -> None:
        rows = self._filled
        if not rows:
            return
        shifted, k = self._shifted[:rows], self._shifted.shape[1]
        sums = self._sums[:rows]
        labels = self._labels[0] if len(self._labels) == 1 else np.concatenate(self._labels)
        sizes = self._sizes
        self._filled = 0
        self._labels, self._sizes = [], []
        # -sum(log_softmax(z)[n, y_n]) / N per step, term by term as __call__ computes it
        picked = shifted.reshape(-1)[np.arange(0, rows * k, k) + labels]  # shifted[n, y_n]
        terms = picked - np.log(sums)[:, 0]
        start = 0
        for n, run in itertools.groupby(sizes):  # runs of steps with one batch size: one row sum each
            count = len(list(run))
            stop = start + count * n
            values = -_sum_reduce(terms[start:stop].reshape(count, n), axis=1) / n
            self._steps.extend(zip(values.tolist(), itertools.repeat(n)))
            start = stop
        # argmax(z) == y_n, counted without an argmax over short rows: each row of z - max
        # is exactly 0 at its maxima and negative elsewhere, so where every row has one 0
        # the argmax is y_n exactly where shifted[n, y_n] is 0 (ties: the argmax itself).
        if np.count_nonzero(shifted == 0) == rows:
            self.correct += int(np.count_nonzero(picked == 0))
        else:
            self.correct += int(np.count_nonzero(shifted.argmax(axis=1) == labels))


def _gradient_fits(loss) -> bool:
    """Whether ``loss.gradient(y, out)`` is, by construction, an array of ``out``'s shape and dtype.

    True for a loss of this module that keeps :meth:`Loss.gradient` (which returns that,
    as documented) and sets none of the methods it calls on the object itself: the
    training loop then hands its gradients to ``backward`` without checking them.
    """
    cls = type(loss)
    return (cls.__module__ == __name__ and isinstance(loss, Loss) and cls.gradient is Loss.gradient
            and not {"gradient", "_gradient", "_validate"} & vars(loss).keys())


_max_reduce, _sum_reduce, _subtract = np.maximum.reduce, np.add.reduce, np.subtract
#: ``np.arange(0, N * K, K)`` by logits shape ``(N, K)``, for the indexing in :meth:`_LogitsTally.gradient`.
_ROW_STARTS: dict[tuple, np.ndarray] = {}


class KLDivergence(_ProbabilityRows):
    r"""Kullback-Leibler divergence :math:`D_{KL}(y \,\|\, \hat y)`, "batchmean" as in PyTorch.

    :math:`L = \frac{1}{N}\sum_{n,k} y_{nk}\bigl(\ln y_{nk} - \ln \hat y_{nk}\bigr)`, with terms where
    :math:`y_{nk} = 0` counting 0. ``y_true`` and ``y_pred`` are probabilities ``(N, K)`` (``(K,)``: one
    sample, N = 1; PyTorch would divide a 1-D input by K). Note the argument order: PyTorch's
    ``kl_div(input, target)`` takes ``input = log(y_pred)``. :math:`\ln \hat y` is clamped at -100.
    """

    name = "kl_divergence"
    formula = r"L = \frac{1}{N}\sum_{n,k} y_{nk}\ln\frac{y_{nk}}{\hat y_{nk}}"
    gradient_formula = r"\frac{\partial L}{\partial \hat y_{nk}} = -\frac{1}{N}\frac{y_{nk}}{\hat y_{nk}}"

    def _value(self, t, p):
        t_log_t = t * np.log(np.where(t > 0, t, 1))
        return np.sum(t_log_t - t * _clamped_log(p)) / _check_rows(p)


mse = MSE()
mae = MAE()
huber = Huber()
hinge = Hinge()
binary_cross_entropy = BinaryCrossEntropy()
binary_cross_entropy_with_logits = BinaryCrossEntropyWithLogits()
categorical_cross_entropy = CategoricalCrossEntropy()
sparse_categorical_cross_entropy = SparseCategoricalCrossEntropy()
cross_entropy_with_logits = CrossEntropyWithLogits()
kl_divergence = KLDivergence()

# A probability loss after its activation is the from-logits loss on the activation's input.
BinaryCrossEntropy.from_logits_form = binary_cross_entropy_with_logits
CategoricalCrossEntropy.from_logits_form = cross_entropy_with_logits
SparseCategoricalCrossEntropy.from_logits_form = cross_entropy_with_logits

#: Every public loss by name (default parameters).
LOSSES = {f.name: f for f in (mse, mae, huber, hinge, binary_cross_entropy, binary_cross_entropy_with_logits,
                              categorical_cross_entropy, sparse_categorical_cross_entropy,
                              cross_entropy_with_logits, kl_divergence)}

_ALIASES = {"mean_squared_error": "mse", "mean_absolute_error": "mae", "bce": "binary_cross_entropy",
            "bce_with_logits": "binary_cross_entropy_with_logits", "cross_entropy": "cross_entropy_with_logits",
            "kl_div": "kl_divergence", "kl": "kl_divergence"}


def get(name_or_loss) -> Loss:
    """Look a loss up by name (``"mse"``; ``"cross_entropy"`` means from logits, as in PyTorch),
    or return a :class:`Loss` unchanged."""
    if isinstance(name_or_loss, Loss):
        return name_or_loss
    key = str(name_or_loss).lower()
    key = _ALIASES.get(key, key)
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name_or_loss!r}; expected one of {sorted(LOSSES)} "
                         f"or an alias in {sorted(_ALIASES)}")
    return LOSSES[key]
