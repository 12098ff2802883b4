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
near one. A GRU (:func:`gru_cell_forward`, :func:`gru_forward`) mixes old and new
state with its update gate, :math:`h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}`, so
one term of its backward factor is :math:`\operatorname{diag}(z_t)`: no weight
matrix and no tanh derivative on that path either
(:func:`gru_gradient_norms_through_time` measures it).

Shapes: N batch, T time steps, D input features, H hidden units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_ndim
from .parameter import Parameter, aligned

__all__ = [
    "RNNCache", "RNNGrads", "rnn_forward", "rnn_backward", "gradient_norms_through_time",
    "RNN", "lstm_cell_forward", "gru_init", "gru_cell_forward", "GRUCache", "GRUGrads", "gru_forward",
    "gru_backward", "gru_gradient_norms_through_time",
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


def _last_state_gradient(h: np.ndarray, dh_last) -> np.ndarray:
    """The gradient reaching the last hidden state ``h[:, -1]``: ``dh_last``, or ones; shape-checked."""
    grad = np.ones_like(h[:, -1]) if dh_last is None else as_float_array(dh_last, "dh_last")
    if grad.shape != h[:, -1].shape:
        raise ValueError(f"dh_last must have shape {h[:, -1].shape}; got {grad.shape}")
    return grad


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
    grad = _last_state_gradient(h, dh_last)
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
        self.W_xh = Parameter(aligned(rng.uniform(-limit, limit, (input_size, hidden_size))), "W_xh")
        self.W_hh = Parameter(aligned(recurrent_scale * q), "W_hh")
        self.b = Parameter(aligned(np.zeros(hidden_size)), "b")
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


# ----------------------------------------------------------------------------- GRU

def _check_gru_shapes(x, h, W, b_x, b_h, x_letters="(N, D)", h_name="h"):
    check_ndim(x, len(x_letters.split(",")), "x", x_letters)
    check_ndim(h, 2, h_name, "(N, H)")
    check_ndim(W, 2, "W", "(D + H, 3 H)")
    n, d, hidden = x.shape[0], x.shape[-1], h.shape[1]
    if h.shape[0] != n:
        raise ValueError(f"{h_name} must have shape {(n, hidden)} (one row per sample of x, whose shape is "
                         f"{x.shape}); got {h.shape}")
    expected = {"W": (W, (d + hidden, 3 * hidden)), "b_x": (b_x, (3 * hidden,)), "b_h": (b_h, (3 * hidden,))}
    for name, (arr, shape) in expected.items():
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape} for D = {d} input features and H = {hidden} "
                             f"hidden units (x {x.shape}, {h_name} {h.shape}); got {arr.shape}")


def gru_init(input_size: int, hidden_size: int, update_bias: float = 0.0, seed=0):
    r"""Random GRU weights in PyTorch's layout and range, as ``(W, b_x, b_h)``.

    Every weight and bias is drawn from :math:`U(-1/\sqrt{H}, 1/\sqrt{H})`, as
    ``nn.GRUCell`` does; then ``update_bias`` is added to the update gate's input
    bias (the middle block of ``b_x``). A positive update bias starts the gate near
    one, so the cell starts by keeping its state, like an LSTM's forget-gate bias.

    Parameters
    ----------
    input_size, hidden_size : int
        D and H.
    update_bias : float
        Added to the update gate's bias.
    seed : int or numpy.random.Generator

    Returns
    -------
    W : ndarray, shape (D + H, 3 H)
    b_x, b_h : ndarray, shape (3 H,)
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    limit = 1.0 / np.sqrt(hidden_size)
    W = rng.uniform(-limit, limit, (input_size + hidden_size, 3 * hidden_size))
    b_x = rng.uniform(-limit, limit, 3 * hidden_size)
    b_h = rng.uniform(-limit, limit, 3 * hidden_size)
    b_x[hidden_size:2 * hidden_size] += update_bias
    return W, b_x, b_h


def _gru_step(x, h, W, b_x, b_h):
    hidden = h.shape[1]
    a = x @ W[:x.shape[1]] + b_x          # input part of every gate, (N, 3H)
    c = h @ W[x.shape[1]:] + b_h          # hidden part, (N, 3H)
    from .activations import sigmoid

    r = sigmoid(a[:, :hidden] + c[:, :hidden])
    z = sigmoid(a[:, hidden:2 * hidden] + c[:, hidden:2 * hidden])
    hn = c[:, 2 * hidden:]
    n = np.tanh(a[:, 2 * hidden:] + r * hn)
    return (1.0 - z) * n + z * h, r, z, n, hn


def gru_cell_forward(x, h, W, b_x, b_h):
    r"""One step of a GRU cell, in PyTorch's ``nn.GRUCell`` convention.

    With :math:`W = [W_x; W_h]` (rows for ``x`` first, then for ``h``), each split
    into the three blocks reset :math:`r`, update :math:`z` and candidate :math:`n`
    (PyTorch's order), and two biases as in PyTorch (``b_x`` is ``bias_ih``, ``b_h``
    is ``bias_hh``):

    .. math::

        r = \sigma(x W_{xr} + b_{xr} + h W_{hr} + b_{hr}), \quad
        z = \sigma(x W_{xz} + b_{xz} + h W_{hz} + b_{hz}),

        n = \tanh\left(x W_{xn} + b_{xn} + r \odot (h W_{hn} + b_{hn})\right), \quad
        h' = (1 - z) \odot n + z \odot h.

    The reset gate :math:`r` decides how much of the old state the candidate
    :math:`n` may read, the update gate :math:`z` how much of the old state to keep.
    PyTorch's weights are the transposes: ``W[:D] = weight_ih.T`` and
    ``W[D:] = weight_hh.T``.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Input at this step.
    h : ndarray, shape (N, H)
        Previous hidden state.
    W : ndarray, shape (D + H, 3 H)
        Stacked weights, columns in the order reset, update, candidate.
    b_x, b_h : ndarray, shape (3 H,)
        Input-side and hidden-side biases (the candidate's ``b_h`` block sits inside
        the reset gate's product, so the two cannot be merged).

    Returns
    -------
    h_next : ndarray, shape (N, H)
    gates : dict of str to ndarray, shape (N, H)
        ``"reset"``, ``"update"`` and ``"candidate"``.
    """
    x, h = as_float_array(x, "x"), as_float_array(h, "h")
    W, b_x, b_h = as_float_array(W, "W"), as_float_array(b_x, "b_x"), as_float_array(b_h, "b_h")
    _check_gru_shapes(x, h, W, b_x, b_h)
    h_next, r, z, n, _ = _gru_step(x, h, W, b_x, b_h)
    return h_next, {"reset": r, "update": z, "candidate": n}


class GRUCache(NamedTuple):
    """What :func:`gru_backward` needs from :func:`gru_forward`."""

    x: np.ndarray      #: inputs, (N, T, D)
    h0: np.ndarray     #: initial hidden state, (N, H)
    h: np.ndarray      #: hidden states h_1..h_T, (N, T, H)
    r: np.ndarray      #: reset gates, (N, T, H)
    z: np.ndarray      #: update gates, (N, T, H)
    n: np.ndarray      #: candidates, (N, T, H)
    hn: np.ndarray     #: h_{t-1} W_hn + b_hn, the part the reset gate scales, (N, T, H)
    W: np.ndarray      #: stacked weights, (D + H, 3 H)


class GRUGrads(NamedTuple):
    """Gradients returned by :func:`gru_backward`."""

    dx: np.ndarray     #: (N, T, D)
    dh0: np.ndarray    #: (N, H)
    dW: np.ndarray     #: (D + H, 3 H)
    db_x: np.ndarray   #: (3 H,)
    db_h: np.ndarray   #: (3 H,)


def gru_forward(x, h0, W, b_x, b_h):
    r"""Run :func:`gru_cell_forward` over a whole sequence.

    Parameters
    ----------
    x : ndarray, shape (N, T, D)
    h0 : ndarray, shape (N, H)
    W : ndarray, shape (D + H, 3 H)
    b_x, b_h : ndarray, shape (3 H,)

    Returns
    -------
    h : ndarray, shape (N, T, H)
        The hidden states :math:`h_1, \dots, h_T` (``nn.GRU``'s output with
        ``batch_first=True``).
    cache : GRUCache
        What :func:`gru_backward` needs.
    """
    x, h0 = as_float_array(x, "x"), as_float_array(h0, "h0")
    W, b_x, b_h = as_float_array(W, "W"), as_float_array(b_x, "b_x"), as_float_array(b_h, "b_h")
    _check_gru_shapes(x, h0, W, b_x, b_h, x_letters="(N, T, D)", h_name="h0")
    n_samples, steps, _ = x.shape
    store = {k: np.empty((n_samples, steps, h0.shape[1]), dtype=np.result_type(x, h0, W, b_x, b_h))
             for k in ("h", "r", "z", "n", "hn")}
    prev = h0
    for t in range(steps):
        prev, r, z, n, hn = _gru_step(x[:, t], prev, W, b_x, b_h)
        for k, v in zip(("h", "r", "z", "n", "hn"), (prev, r, z, n, hn)):
            store[k][:, t] = v
    return store["h"], GRUCache(x, h0, store["h"], store["r"], store["z"], store["n"], store["hn"], W)


def _gru_step_back(g, t, cache: GRUCache):
    """Gradients of one step: pre-activation deltas and what reaches h_{t-1}."""
    prev = cache.h[:, t - 1] if t > 0 else cache.h0
    r, z, n, hn = cache.r[:, t], cache.z[:, t], cache.n[:, t], cache.hn[:, t]
    d_z = g * (prev - n) * z * (1.0 - z)
    d_n = g * (1.0 - z) * (1.0 - n ** 2)               # delta of the candidate's pre-activation
    d_r = d_n * hn * r * (1.0 - r)
    d_hside = np.concatenate([d_r, d_z, d_n * r], axis=1)    # deltas of h W_h + b_h, (N, 3H)
    d_xside = np.concatenate([d_r, d_z, d_n], axis=1)        # deltas of x W_x + b_x, (N, 3H)
    d = cache.x.shape[2]
    dprev = g * z + d_hside @ cache.W[d:].T
    return d_xside, d_hside, prev, dprev


def gru_backward(dh, cache: GRUCache) -> GRUGrads:
    r"""Backpropagation through time for :func:`gru_forward`.

    The gradient reaching :math:`h_{t-1}` from step :math:`t` is

    .. math::

        \frac{\partial L}{\partial h_t} \odot z_t + \delta^{h}_t W_h^{\top},

    where :math:`\delta^{h}_t` holds the deltas of :math:`h_{t-1} W_h + b_h` (for the
    candidate block, the candidate's delta times :math:`r_t`). The first term is the
    update-gate path: no weight matrix and no tanh derivative.

    Parameters
    ----------
    dh : ndarray, shape (N, T, H)
        Gradient of the loss with respect to every hidden state.
    cache : GRUCache
        From :func:`gru_forward`.

    Returns
    -------
    GRUGrads
        ``dx`` (N, T, D), ``dh0`` (N, H), ``dW`` (D + H, 3 H), ``db_x`` and ``db_h`` (3 H,).
    """
    dh = as_float_array(dh, "dh")
    if dh.shape != cache.h.shape:
        raise ValueError(f"dh must have the shape of the hidden states {cache.h.shape}; got {dh.shape}")
    d = cache.x.shape[2]
    dx = np.zeros_like(cache.x)
    dW = np.zeros_like(cache.W)
    db_x = np.zeros(cache.W.shape[1], dtype=cache.h.dtype)
    db_h = np.zeros_like(db_x)
    carry = np.zeros_like(cache.h0)
    for t in reversed(range(cache.x.shape[1])):
        d_xside, d_hside, prev, carry = _gru_step_back(dh[:, t] + carry, t, cache)
        dx[:, t] = d_xside @ cache.W[:d].T
        dW[:d] += cache.x[:, t].T @ d_xside
        dW[d:] += prev.T @ d_hside
        db_x += d_xside.sum(axis=0)
        db_h += d_hside.sum(axis=0)
    return GRUGrads(dx, carry, dW, db_x, db_h)


def gru_gradient_norms_through_time(cache: GRUCache, dh_last=None) -> np.ndarray:
    r""":func:`gradient_norms_through_time` for a GRU: the loss reads only :math:`h_T`.

    Parameters
    ----------
    cache : GRUCache
        From :func:`gru_forward`.
    dh_last : ndarray, shape (N, H), optional
        Gradient of the loss with respect to :math:`h_T`; ones by default.

    Returns
    -------
    norms : ndarray, shape (T,)
        ``norms[t]`` is :math:`\lVert \partial L / \partial h_t \rVert` (0-based ``t``);
        ``norms[-1]`` is the norm of ``dh_last``.
    """
    h = cache.h
    grad = _last_state_gradient(h, dh_last)
    norms = np.empty(h.shape[1])
    for t in reversed(range(h.shape[1])):
        norms[t] = np.linalg.norm(grad)
        grad = _gru_step_back(grad, t, cache)[3]
    return norms
