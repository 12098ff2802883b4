r"""Rosenblatt's perceptron (1958): a linear threshold unit and its learning rule.

Prediction uses the *strict* step on the net input:

.. math:: \hat y = \mathrm{step}(w \cdot x + b), \qquad \mathrm{step}(z) = 1 \text{ if } z > 0 \text{ else } 0 .

(A threshold :math:`\tau` with "fire when :math:`w \cdot x \ge \tau`" is the same
unit with bias :math:`b = -\tau`, up to the tie at equality.) Training visits the
samples one by one and, for each, applies the update

.. math:: e = y - \hat y, \qquad w \leftarrow w + \eta\, e\, x, \qquad b \leftarrow b + \eta\, e ,

which changes nothing when the prediction is right (:math:`e = 0`). The
perceptron convergence theorem guarantees a separating line after finitely many
updates *if* one exists (AND, OR, NAND); for XOR none exists, and ``fit`` stops
after ``max_epochs`` and says so.

Some notes write the step as ``1 if z >= 0``; with zero initial weights that
predicts 1 for every input and the printed AND trace no longer holds.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_finite
from .init import as_generator

__all__ = ["Perceptron", "TraceStep", "ConvergenceWarning"]


class ConvergenceWarning(UserWarning):
    """``fit`` reached ``max_epochs`` with samples still misclassified."""


class TraceStep(NamedTuple):
    """One sample presented during training: what the perceptron saw, said and became."""

    epoch: int            #: epoch number, from 1 (as a printed trace counts)
    index: int            #: row of X
    x: np.ndarray         #: the input (D,)
    target: int           #: y
    prediction: int       #: step(w . x + b) *before* the update
    error: int            #: target - prediction (-1, 0 or 1)
    weights: np.ndarray   #: w *after* this step (D,)
    bias: float           #: b *after* this step

    @property
    def updated(self) -> bool:
        return self.error != 0

    def __str__(self) -> str:
        shown = [int(v) if float(v).is_integer() else float(v) for v in self.x]
        return (f"Epoch {self.epoch}  input {shown}  target {self.target}  "
                f"predicted {self.prediction}  error {self.error:+d}  "
                f"weights {np.round(self.weights, 6).tolist()}  bias {round(self.bias, 6)}")


class Perceptron:
    """A single perceptron trained with the Rosenblatt rule.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\\eta`.
    max_epochs : int
        Passes over the data before ``fit`` gives up.
    init : {"zeros", "normal"}
        Initial weights and bias: zeros (the classic trace) or N(0, 0.01^2) from ``seed``.
    shuffle : bool
        Visit the samples in a new seeded order every epoch (default: in the given order).
    seed : int or numpy.random.Generator, optional

    Attributes
    ----------
    weights_ : ndarray, shape (D,)
    bias_ : float
    trace_ : list of TraceStep
        Every sample presentation of ``fit``, in order (``updates_``: the ones that changed w).
    errors_ : list of int
        Misclassified samples per epoch.
    converged_ : bool
        Whether the last epoch made no error.
    n_epochs_ : int
        Epochs run.
    """

    def __init__(self, lr: float = 0.1, max_epochs: int = 100, init: str = "zeros",
                 shuffle: bool = False, seed=None):
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"lr must be a positive number; got {lr!r}")
        if isinstance(max_epochs, bool) or not isinstance(max_epochs, (int, np.integer)) or max_epochs < 1:
            raise ValueError(f"max_epochs must be a positive int; got {max_epochs!r}")
        if init not in ("zeros", "normal"):
            raise ValueError(f"init must be 'zeros' or 'normal'; got {init!r}")
        self.lr, self.max_epochs, self.init, self.shuffle, self.seed = lr, max_epochs, init, shuffle, seed

    @staticmethod
    def _check_Xy(X, y):
        X = as_float_array(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must have shape (N, D); got shape {X.shape}")
        check_finite(X, "X")
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X; got shape {y.shape}")
        if not np.all(np.isin(y, (0, 1))):
            raise ValueError(f"y must hold 0/1 labels; got values {np.unique(y).tolist()}")
        return X, y.astype(np.int64)

    def fit(self, X, y) -> "Perceptron":
        """Train on ``X`` (N, D) and labels ``y`` (N,) in {0, 1}; record the trace.

        Stops after the first epoch without an error, or after ``max_epochs`` with a
        :class:`ConvergenceWarning` and ``converged_ = False``.
        """
        X, y = self._check_Xy(X, y)
        rng = as_generator(self.seed)
        d = X.shape[1]
        if self.init == "zeros":
            w, b = np.zeros(d), 0.0
        else:
            w, b = rng.normal(0, 0.01, d), float(rng.normal(0, 0.01))
        self.trace_, self.errors_, self.converged_ = [], [], False
        for epoch in range(1, self.max_epochs + 1):
            order = rng.permutation(len(y)) if self.shuffle else range(len(y))
            mistakes = 0
            for i in order:
                prediction = int(X[i] @ w + b > 0)
                error = int(y[i] - prediction)
                if error:
                    w = w + self.lr * error * X[i]
                    b = b + self.lr * error
                    mistakes += 1
                self.trace_.append(TraceStep(epoch, int(i), X[i].copy(), int(y[i]), prediction, error, w.copy(), float(b)))
            self.errors_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
        self.weights_, self.bias_, self.n_epochs_ = w, float(b), epoch
        if not self.converged_:
            warnings.warn(f"the perceptron did not converge in max_epochs={self.max_epochs} epochs "
                          f"({self.errors_[-1]} errors in the last one); the data may not be linearly "
                          "separable (XOR is not)", ConvergenceWarning, stacklevel=2)
        return self

    @property
    def updates_(self) -> list:
        """The trace steps that changed the weights (error != 0)."""
        return [s for s in self.trace_ if s.updated]

    def _check_fitted(self):
        if not hasattr(self, "weights_"):
            raise RuntimeError("this Perceptron is not fitted yet; call fit(X, y) first")

    def net_input(self, X) -> np.ndarray:
        """:math:`z = X w + b`, shape (N,)."""
        self._check_fitted()
        X = as_float_array(X, "X")
        if X.ndim != 2 or X.shape[1] != self.weights_.shape[0]:
            raise ValueError(f"X must have shape (N, {self.weights_.shape[0]}); got shape {X.shape}")
        return X @ self.weights_ + self.bias_

    def predict(self, X) -> np.ndarray:
        """Labels (N,): 1 where :math:`X w + b > 0`, else 0."""
        return (self.net_input(X) > 0).astype(np.int64)

    def score(self, X, y) -> float:
        """Fraction of correctly classified samples."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def format_trace(self, updates_only: bool = False) -> str:
        """The trace as text, one line per step (or per update)."""
        steps = self.updates_ if updates_only else self.trace_
        return "\n".join(str(s) for s in steps)

    def decision_boundary(self, x_range=(-0.5, 1.5), num: int = 2):
        r"""Points on the line :math:`w_1 x_1 + w_2 x_2 + b = 0` (two inputs only).

        Returns
        -------
        x1, x2 : ndarray, shape (num,)
            For :math:`w_2 \ne 0`: :math:`x_2 = -(w_1 x_1 + b)/w_2` over ``x_range``;
            for a vertical line (:math:`w_2 = 0`): :math:`x_1 = -b/w_1` and ``x2`` spans ``x_range``.

        Raises ``ValueError`` when both weights are 0 (no line: every input gets one label).
        """
        self._check_fitted()
        if self.weights_.shape != (2,):
            raise ValueError(f"decision_boundary needs 2 inputs; this perceptron has {self.weights_.shape[0]}")
        w1, w2 = self.weights_
        line = np.linspace(x_range[0], x_range[1], num)
        if w2 != 0:
            return line, -(w1 * line + self.bias_) / w2
        if w1 != 0:
            return np.full(num, -self.bias_ / w1), line
        raise ValueError("both weights are 0: there is no decision boundary")
