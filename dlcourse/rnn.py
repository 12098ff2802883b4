r"""A minimal recurrent network in NumPy: one tanh cell unrolled over time.

A recurrent cell reads a sequence one step at a time and carries a hidden state
from step to step (this package writes rows as samples, so the weights sit on the
right, as in :class:`~dlcourse.layers.Dense`):

.. math::

    h_t = \tanh\left(x_t W_{xh} + h_{t-1} W_{hh} + b\right), \qquad t = 1, \dots, T.

PyTorch's ``nn.RNN`` writes the same cell with two biases, ``b_ih + b_hh``, and
transposed weights; :func:`rnn_forward` with ``b = b_ih + b_hh`` gives the same
numbers.

Backpropagation through time multiplies, once per step, by the Jacobian

.. math::

    \frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\left(1 - h_t^2\right) W_{hh}^{\top},

so a gradient that travels back :math:`k` steps is multiplied by :math:`k` such
factors. When their norms are below one (small recurrent weights, or a saturated
tanh with :math:`1 - h_t^2 \approx 0`), the gradient shrinks geometrically: the
*vanishing gradient through time* that :func:`gradient_norms_through_time`
measures. An LSTM (:func:`lstm_cell_forward`) adds a cell state that is updated
by a gated *sum*, :math:`c_t = f_t \odot c_{t-1} + i_t \odot g_t`, so its
backward factor is the forget gate :math:`f_t` itself, which the network can hold
near one.

Shapes: N batch, T time steps, D input features, H hidden units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_ndim
from .parameter import Parameter

__all__ = [
    "RNNCache", "RNNGrads", "rnn_forward", "rnn_backward", "gradient_norms_through_time",
    "RNN", "lstm_cell_forward",
]


class RNNCache(NamedTuple):
    """What :func:`rnn_backward` needs from the forward pass."""

    x: np.ndarray      #: inputs, (N, T, D)
    h0: np.ndarray     #: initial hidden state, (N, H)
    h: np.ndarray      #: hidden states h_1..h_T, (N, T, H)
    W_xh: np.ndarray   #: input weights, (D, H)
    W_hh: np.ndarray   #: recurrent weights, (H, H)


class RNNGrads(NamedTuple):
    """Gradients returned by :func:`rnn_backward`."""

    dx: np.ndarray     #: (N, T, D)
    dh0: np.ndarray    #: (N, H)
    dW_xh: np.ndarray  #: (D, H)
    dW_hh: np.ndarray  #: (H, H)
    db: np.ndarray     #: (H,)


def _check_shapes(x, h0, W_xh, W_hh, b):
    check_ndim(x, 3, "x", "(N, T, D)")
    check_ndim(h0, 2, "h0", "(N, H)")
    n, _, d = x.shape
    hidden = W_hh.shape[0]
    expected = {"W_xh": (W_xh, (d, hidden)), "W_hh": (W_hh, (hidden, hidden)),
                "b": (b, (hidden,)), "h0": (h0, (n, hidden))}
    for name, (arr, shape) in expected.items():
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape} for x of shape {x.shape} and "
                             f"{hidden} hidden units; got {arr.shape}")


def rnn_forward(x, h0, W_xh, W_hh, b):
    r"""Run the tanh cell over a whole sequence.

    .. math:: h_t = \tanh(x_t W_{xh} + h_{t-1} W_{hh} + b)

    Parameters
    ----------
    x : ndarray, shape (N, T, D)
        The input sequence, one row of D features per sample and time step.
    h0 : ndarray, shape (N, H)
        The hidden state before the first step (often zeros).
    W_xh : ndarray, shape (D, H)
        Input-to-hidden weights.
    W_hh : ndarray, shape (H, H)
        Hidden-to-hidden (recurrent) weights.
    b : ndarray, shape (H,)
        Bias.

    Returns
    -------
    h : ndarray, shape (N, T, H)
        The hidden states :math:`h_1, \dots, h_T`.
    cache : RNNCache
        What :func:`rnn_backward` needs.
    """
    x, h0 = as_float_array(x, "x"), as_float_array(h0, "h0")
    W_xh, W_hh, b = (as_float_array(W_xh, "W_xh"), as_float_array(W_hh, "W_hh"),
                     as_float_array(b, "b"))
    _check_shapes(x, h0, W_xh, W_hh, b)
    n, steps, _ = x.shape
    h = np.empty((n, steps, W_hh.shape[0]), dtype=np.result_type(x, h0, W_xh, W_hh, b))
    prev = h0
    for t in range(steps):
        prev = np.tanh(x[:, t] @ W_xh + prev @ W_hh + b)
        h[:, t] = prev
    return h, RNNCache(x, h0, h, W_xh, W_hh)


def rnn_backward(dh, cache: RNNCache) -> RNNGrads:
    r"""Backpropagation through time.

    Walks the steps backwards; at step :math:`t` the gradient reaching
    :math:`h_t` is the upstream ``dh[:, t]`` plus what flows back from step
    :math:`t+1`. With :math:`\delta_t = (\partial L/\partial h_t)\,(1 - h_t^2)`:

    .. math::

        \frac{\partial L}{\partial h_{t-1}} \mathrel{+}= \delta_t W_{hh}^{\top}, \quad
        \frac{\partial L}{\partial W_{hh}} = \sum_t h_{t-1}^{\top} \delta_t, \quad
        \frac{\partial L}{\partial W_{xh}} = \sum_t x_t^{\top} \delta_t.

    Parameters
    ----------
    dh : ndarray, shape (N, T, H)
        Gradient of the loss with respect to every hidden state (zeros where the
        loss does not read that step).
    cache : RNNCache
        From :func:`rnn_forward`.

    Returns
    -------
    RNNGrads
        ``dx`` (N, T, D), ``dh0`` (N, H), ``dW_xh`` (D, H), ``dW_hh`` (H, H), ``db`` (H,).
    """
    dh = as_float_array(dh, "dh")
    if dh.shape != cache.h.shape:
        raise ValueError(f"dh must have the shape of the hidden states {cache.h.shape}; got {dh.shape}")
    x, h = cache.x, cache.h
    dx = np.zeros_like(x)
    dW_xh, dW_hh = np.zeros_like(cache.W_xh), np.zeros_like(cache.W_hh)
    db = np.zeros(cache.W_hh.shape[0], dtype=h.dtype)
    carry = np.zeros_like(cache.h0)
    for t in reversed(range(x.shape[1])):
        prev = h[:, t - 1] if t > 0 else cache.h0
        delta = (dh[:, t] + carry) * (1.0 - h[:, t] ** 2)
        dx[:, t] = delta @ cache.W_xh.T
        dW_xh += x[:, t].T @ delta
        dW_hh += prev.T @ delta
        db += delta.sum(axis=0)
        carry = delta @ cache.W_hh.T
    return RNNGrads(dx, carry, dW_xh, dW_hh, db)


def gradient_norms_through_time(cache: RNNCache, dh_last=None) -> np.ndarray:
    r"""How much of a gradient at the last step survives back to each earlier step.

    The loss reads only the last hidden state :math:`h_T`; this returns
    :math:`\lVert \partial L / \partial h_t \rVert` for :math:`t = 1, \dots, T`
    (Frobenius norm over the batch), computed by the same recursion as
    :func:`rnn_backward`.

    Parameters
    ----------
    cache : RNNCache
        From :func:`rnn_forward`.
    dh_last : ndarray, shape (N, H), optional
        Gradient of the loss with respect to :math:`h_T`; ones by default.

    Returns
    -------
    norms : ndarray, shape (T,)
        ``norms[t]`` is the norm of the gradient reaching step ``t`` (0-based);
        ``norms[-1]`` is the norm of ``dh_last``.
    """
    h = cache.h
    grad = np.ones_like(h[:, -1]) if dh_last is None else as_float_array(dh_last, "dh_last")
    if grad.shape != h[:, -1].shape:
        raise ValueError(f"dh_last must have shape {h[:, -1].shape}; got {grad.shape}")
    norms = np.empty(h.shape[1])
    for t in reversed(range(h.shape[1])):
        norms[t] = np.linalg.norm(grad)
        grad = (grad * (1.0 - h[:, t] ** 2)) @ cache.W_hh.T
    return norms


class RNN:
    """A tanh RNN layer holding its weights as :class:`~dlcourse.parameter.Parameter`.

    Parameters
    ----------
    input_size : int
        D, the features per time step.
    hidden_size : int
        H, the hidden units.
    recurrent_scale : float
        The recurrent weights start as ``recurrent_scale`` times a random
        orthogonal matrix, so every singular value of :math:`W_{hh}` equals
        ``recurrent_scale``: below one the gradients vanish through time.
    seed : int or numpy.random.Generator
        Source of the random initial weights.
    """

    def __init__(self, input_size: int, hidden_size: int, recurrent_scale: float = 1.0, seed=0):
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        q, _ = np.linalg.qr(rng.standard_normal((hidden_size, hidden_size)))
        limit = np.sqrt(1.0 / hidden_size)  # PyTorch's nn.RNN range U(-1/sqrt(H), 1/sqrt(H))
        self.W_xh = Parameter(rng.uniform(-limit, limit, (input_size, hidden_size)), "W_xh")
        self.W_hh = Parameter(recurrent_scale * q, "W_hh")
        self.b = Parameter(np.zeros(hidden_size), "b")
        self._cache = None

    def parameters(self):
        """Yield ``W_xh``, ``W_hh`` and ``b``."""
        return iter((self.W_xh, self.W_hh, self.b))

    def forward(self, x, h0=None):
        """Hidden states (N, T, H) for input (N, T, D); ``h0`` defaults to zeros."""
        x = as_float_array(x, "x")
        check_ndim(x, 3, "x", "(N, T, D)")
        if h0 is None:
            h0 = np.zeros((x.shape[0], self.W_hh.data.shape[0]), dtype=x.dtype)
        h, self._cache = rnn_forward(x, h0, self.W_xh.data, self.W_hh.data, self.b.data)
        return h

    def backward(self, dh):
        """Fill the parameters' ``.grad`` and return ``dx`` (N, T, D)."""
        if self._cache is None:
            raise RuntimeError("RNN.backward called before forward")
        grads = rnn_backward(dh, self._cache)
        self.W_xh.grad, self.W_hh.grad, self.b.grad = grads.dW_xh, grads.dW_hh, grads.db
        return grads.dx

    def gradient_norms(self, dh_last=None) -> np.ndarray:
        """:func:`gradient_norms_through_time` for the last forward pass."""
        if self._cache is None:
            raise RuntimeError("RNN.gradient_norms called before forward")
        return gradient_norms_through_time(self._cache, dh_last)


def lstm_cell_forward(x, h, c, W, b):
    r"""One step of an LSTM cell (forward only, to show what the gates compute).

    With :math:`[i, f, g, o] = x W_x + h W_h + b` split into four blocks of H:

    .. math::

        i, f, o = \sigma(\cdot), \quad g = \tanh(\cdot), \quad
        c' = f \odot c + i \odot g, \quad h' = o \odot \tanh(c').

    The input gate :math:`i` decides what to write, the forget gate :math:`f`
    what to keep, the output gate :math:`o` what to show. The gate order is
    PyTorch's ``nn.LSTMCell`` (input, forget, cell, output).

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Input at this step.
    h, c : ndarray, shape (N, H)
        Previous hidden and cell states.
    W : ndarray, shape (D + H, 4 H)
        Stacked weights: rows for ``x`` first, then for ``h``.
    b : ndarray, shape (4 H,)
        Bias.

    Returns
    -------
    h_next, c_next : ndarray, shape (N, H)
    gates : dict of str to ndarray, shape (N, H)
        ``"input"``, ``"forget"``, ``"cell"`` and ``"output"``.
    """
    from .activations import sigmoid

    x, h, c = as_float_array(x, "x"), as_float_array(h, "h"), as_float_array(c, "c")
    W, b = as_float_array(W, "W"), as_float_array(b, "b")
    hidden = h.shape[1]
    if W.shape != (x.shape[1] + hidden, 4 * hidden) or b.shape != (4 * hidden,):
        raise ValueError(f"W must have shape {(x.shape[1] + hidden, 4 * hidden)} and b shape "
                         f"{(4 * hidden,)}; got W {W.shape} and b {b.shape}")
    z = np.concatenate([x, h], axis=1) @ W + b
    zi, zf, zg, zo = np.split(z, 4, axis=1)
    gates = {"input": sigmoid(zi), "forget": sigmoid(zf), "cell": np.tanh(zg), "output": sigmoid(zo)}
    c_next = gates["forget"] * c + gates["input"] * gates["cell"]
    h_next = gates["output"] * np.tanh(c_next)
    return h_next, c_next, gates
