r"""``Sequential``: a stack of layers trained by backpropagation.

The forward pass feeds each layer's output to the next,
:math:`a^{(l)} = f^{(l)}(a^{(l-1)})`; the backward pass walks the stack in reverse,
each layer turning :math:`\partial L/\partial a^{(l)}` into
:math:`\partial L/\partial a^{(l-1)}` and filling its parameters' ``.grad`` (the
chain rule, layer by layer). :meth:`Sequential.fit` checks its inputs and runs the
public training loop :func:`dlcourse.train.train` with any optimizer of
:mod:`dlcourse.optim`, which records a :class:`~dlcourse.callbacks.History`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, NamedTuple

import numpy as np

from ._checks import as_float_array, check_finite
from . import train
from .callbacks import Callback, EarlyStopping, History
from .layers.base import Layer, keeps_methods
from .layers.dense import Dense
from .parameter import Parameter

__all__ = ["Sequential", "History", "Callback", "EarlyStopping", "Summary"]


class SummaryRow(NamedTuple):
    """One line of the summary: the layer, its per-sample output shape and parameter count."""

    name: str
    output_shape: tuple
    num_parameters: int


@dataclass(frozen=True)
class Summary:
    """The table of :meth:`Sequential.summary`; ``str()``/``repr()`` give the text table."""

    rows: list
    input_shape: tuple
    total_params: int

    def __str__(self) -> str:
        def shape(s):
            return "(" + ", ".join(["N"] + [str(d) for d in s]) + ")"

        width = max([len(r.name) for r in self.rows] + [20]) + 2
        rule = "=" * (width + 30)
        lines = [f"{'Layer':<{width}}{'Output shape':<20}{'Params':>10}", rule]
        for r in self.rows:
            lines.append(f"{r.name:<{width}}{shape(r.output_shape):<20}{r.num_parameters:>10,}")
        lines += [rule, f"Total parameters: {self.total_params:,}", f"Input shape: {shape(self.input_shape)}"]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle) -> None:  # IPython/Jupyter display
        p.text(str(self))


class Sequential(Layer):
    """Layers applied one after another.

    Parameters
    ----------
    layers : list of Layer

    Examples
    --------
    >>> from dlcourse.layers import Dense, ReLU, Softmax
    >>> net = Sequential([Dense(4, 8, seed=0), ReLU(), Dense(8, 6, seed=1), ReLU(), Dense(6, 3, seed=2), Softmax()])
    >>> net.num_parameters()
    115
    """

    def __init__(self, layers=()):
        self.layers: list[Layer] = []
        for layer in layers:
            self.add(layer)
        self.stop_training = False
        self.loss_ = None

    def add(self, layer: Layer) -> "Sequential":
        if not isinstance(layer, Layer):
            raise TypeError(f"layers must be Layer objects; got {type(layer).__name__}")
        self.layers.append(layer)
        return self

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """Apply every layer: ``(N, ...)`` in, the last layer's output out."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Backpropagate ``dout`` (the loss gradient w.r.t. the output); fill every ``.grad``.

        Returns ``dx``, the gradient w.r.t. the input; with ``need_dx=False`` the first layer
        may skip computing it (and return None), since a training step does not need it.
        """
        for i in range(len(self.layers) - 1, -1, -1):
            dout = self.layers[i].backward(dout, need_dx=need_dx or i > 0)
        return dout

    def _unchecked_parts(self) -> list | None:
        """Every layer's parts, in order (see :meth:`Layer._unchecked_parts`), or None.

        None when this object overrides ``forward`` or ``backward``, has no layers, or some
        layer offers none: the checked methods then run on every step.
        """
        if not keeps_methods(self, Sequential) or not self.layers:
            return None
        parts = []
        for layer in self.layers:
            own = layer._unchecked_parts()
            if own is None:
                return None
            parts += own
        return parts

    def parameters(self) -> Iterator[Parameter]:
        for layer in self.layers:
            yield from layer.parameters()

    def output_shape(self, input_shape: tuple) -> tuple:
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = layer.output_shape(shape)
        return shape

    def _input_shape(self) -> tuple:
        first = self.layers[0] if self.layers else None
        if isinstance(first, Dense):
            return (first.in_features,)
        if isinstance(getattr(first, "input_shape", None), tuple):
            return first.input_shape
        raise ValueError("summary() cannot infer the input shape; pass input_shape=(D,) or (C, H, W)")

    def summary(self, input_shape: tuple | None = None) -> Summary:
        """A table of layers, per-sample output shapes and parameter counts.

        Parameters
        ----------
        input_shape : tuple, optional
            Per-sample input shape; inferred from a first ``Dense`` layer when omitted.

        Returns
        -------
        Summary
            Prints as the table; ``.total_params`` holds the count.
        """
        shape = tuple(input_shape) if input_shape is not None else self._input_shape()
        rows, current = [], shape
        for layer in self.layers:
            current = layer.output_shape(current)
            rows.append(SummaryRow(repr(layer), current, layer.num_parameters()))
        return Summary(rows, shape, sum(r.num_parameters for r in rows))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every parameter and buffer (batch-norm running statistics), in order."""
        arrays = [p.data for p in self.parameters()]
        for layer in self.layers:
            arrays += list(getattr(layer, "buffers", lambda: [])())
        return [a.copy() for a in arrays]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Copy ``weights`` (as from :meth:`get_weights`) back in place."""
        targets = [p.data for p in self.parameters()]
        for layer in self.layers:
            targets += list(getattr(layer, "buffers", lambda: [])())
        if len(weights) != len(targets):
            raise ValueError(f"weights must hold {len(targets)} arrays; got {len(weights)}")
        for t, w in zip(targets, weights):
            np.copyto(t, w)

    def _dtype(self):
        for p in self.parameters():
            return p.data.dtype
        return np.dtype(np.float64)

    def _check_X(self, X, name: str = "X") -> np.ndarray:
        X = as_float_array(X, name)
        if X.ndim < 2:
            raise ValueError(f"{name} must have shape (N, D) (samples as rows); got shape {X.shape}")
        try:
            out_shape = self.output_shape(X.shape[1:])
        except ValueError as exc:
            raise ValueError(f"{name} of shape {X.shape} does not fit the network: {exc}") from None
        check_finite(X, name)
        return X.astype(self._dtype(), copy=False), out_shape

    def _check_Xy(self, X, y, name: str = "y"):
        X, _ = self._check_X(X, "X" if name == "y" else "validation X")
        if len(y) != X.shape[0]:
            raise ValueError(f"X and {name} must have the same number of samples; got {X.shape[0]} and {len(y)}")
        return X

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (N, K) in evaluation mode: the Softmax/Sigmoid output, or softmax/sigmoid of logits."""
        from . import activations as act

        X, _ = self._check_X(X)
        out = self.forward(X, training=False)
        fn = getattr(self.layers[-1], "fn", None)
        if isinstance(fn, act.SigmoidFunction) or type(fn) is act.SoftmaxFunction:
            return out
        if type(fn) is act.LogSoftmaxFunction:
            return np.exp(out)
        return act.sigmoid(out) if out.shape[1] == 1 else act.softmax(out)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predictions in evaluation mode.

        Returns class labels (N,) for a classifier: the argmax of K > 1 outputs, or for
        one output a threshold (0.5 on a Sigmoid output, 0 on a logit). A network fit with
        a regression loss (or one output without Sigmoid) returns its raw output (N, K).
        """
        from . import activations as act

        fn = getattr(self.layers[-1], "fn", None)
        task = getattr(self, "task_", None)
        X, _ = self._check_X(X)
        out = self.forward(X, training=False)
        if out.ndim != 2:
            return out
        if out.shape[1] == 1:
            if isinstance(fn, act.SigmoidFunction):
                return (out[:, 0] > 0.5).astype(np.intp)
            if task == "binary":
                return (out[:, 0] > 0).astype(np.intp)
            return out
        return out if task == "regression" else out.argmax(axis=1)

    def evaluate(self, X, y, loss=None) -> dict:
        """Loss (and accuracy for classification) on ``(X, y)`` in evaluation mode.

        ``loss`` defaults to the one of the last :meth:`fit`. Returns ``{"loss": ..., "accuracy": ...}``.
        """
        loss = self.loss_ if loss is None else loss
        if loss is None:
            raise ValueError("evaluate needs loss= (or a previous fit)")
        return train.evaluate(self, loss, self._check_Xy(X, y), y)

    def fit(self, X, y, loss, optimizer=0.1, epochs: int = 10, batch_size: int | None = 32,
            validation_data=None, callbacks=(), seed=None, progress: bool = True, scheduler=None,
            shuffle: bool = True) -> History:
        """Train with mini-batch gradient descent and return the per-epoch :class:`History`.

        Parameters
        ----------
        X : ndarray, shape (N, D) (or (N, C, H, W) for a CNN)
        y : ndarray
            Integer labels (N,) or one-hot rows (N, K) for cross-entropy; targets (N,) or
            (N, K) otherwise.
        loss : str or loss object
            A name or object of :mod:`dlcourse.losses`. A Softmax output with
            ``"categorical_cross_entropy"`` (or ``"sparse_..."``), a Sigmoid output with
            ``"binary_cross_entropy"``, and the ``..._with_logits`` losses use the fused,
            exactly stable gradient :math:`(p - y)/N`.
        optimizer : float, str or Optimizer
            A learning rate (``dlcourse.optim.SGD(params, lr)``), a name such as
            ``"adam"`` (torch's defaults), or an optimizer object used as is.
        epochs : int
        batch_size : int or None
            Samples per step; None means the whole set (batch gradient descent).
        validation_data : tuple (X_val, y_val), optional
            Evaluated after every epoch (``val_loss``, ``val_accuracy``).
        callbacks : list of Callback
            For example :class:`~dlcourse.callbacks.EarlyStopping`.
        seed : int or numpy.random.Generator, optional
            Shuffling order; the same seed (and initial weights) gives the same result.
        progress : bool
            Show a tqdm bar (also off when ``DLCOURSE_PROGRESS=0``).
        scheduler : object with step(), optional
            A learning-rate schedule of :mod:`dlcourse.schedules`, stepped once per epoch.
        shuffle : bool
            Reshuffle the samples every epoch.

        Returns
        -------
        History
            ``loss``, ``accuracy`` (classification), ``val_loss``, ``val_accuracy``, ``lr`` per epoch.

        Every check (feature count, label range, lengths, NaN) runs before the first step;
        then this is one call of the public loop :func:`dlcourse.train.train`.
        """
        X = self._check_Xy(X, y)
        loss_arg, loss = loss, train.resolve_loss(loss)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError("validation_data must be a tuple (X_val, y_val)")
            validation_data = (self._check_Xy(validation_data[0], validation_data[1], "validation y"),
                               validation_data[1])
        optimizer = _make_optimizer(optimizer, list(self.parameters()))
        self.stop_training, self.loss_, self.task_ = False, loss_arg, train.task_of(loss) or "regression"
        return train.train(self, loss, optimizer, X, y, epochs=epochs, batch_size=batch_size,
                           validation_data=validation_data, callbacks=callbacks, seed=seed,
                           progress=progress, scheduler=scheduler, shuffle=shuffle)

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner}\n])"


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
