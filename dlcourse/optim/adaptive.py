"""Per-coordinate step sizes: Adagrad, RMSprop and Adadelta (``torch.optim`` semantics)."""

from __future__ import annotations

import numpy as np

from .base import Optimizer, check_nonnegative


class Adagrad(Optimizer):
    r"""Adagrad: divide each coordinate's step by the root of its summed squared gradients.

    The update of ``torch.optim.Adagrad`` (Duchi et al., 2011), with learning rate
    :math:`\eta` and learning-rate decay :math:`d` (``lr_decay``):

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        \tilde\eta_t &= \frac{\eta}{1 + (t - 1)\,d} \\
        G_t &= G_{t-1} + g_t^2 \qquad (G_0 = \text{initial\_accumulator\_value}) \\
        \theta_t &= \theta_{t-1} - \tilde\eta_t \frac{g_t}{\sqrt{G_t} + \epsilon}

    Where textbooks differ: some put :math:`\epsilon` inside the root,
    :math:`g / \sqrt{G + \epsilon}`; torch adds it outside, with the small default
    :math:`10^{-10}` (Keras uses :math:`10^{-7}` and starts :math:`G_0 = 0.1`). The
    learning-rate decay :math:`d` is torch's addition, not in the paper.

    Parameters
    ----------
    params : iterable of Parameter
    lr : float, default 1e-2
    lr_decay : float, default 0
    weight_decay : float, default 0
        L2 coefficient :math:`\lambda` added to the gradient.
    initial_accumulator_value : float, default 0
    eps : float, default 1e-10
    maximize : bool, default False

    Notes
    -----
    State: ``state[i]["G"]``: the sum of squared gradients; ``state[i]["t"]``: step count.
    """

    _hyper = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps", "maximize")

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *,
                 maximize: bool = False):
        super().__init__(params, lr, maximize)
        self.lr_decay = check_nonnegative(lr_decay, "lr_decay", "lr_decay value")
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay", "weight_decay value")
        self.initial_accumulator_value = check_nonnegative(
            initial_accumulator_value, "initial_accumulator_value", "initial_accumulator_value value")
        self.eps = check_nonnegative(eps, "eps", "epsilon value")

    def _init_state(self, theta: np.ndarray) -> dict:
        return {"G": np.full_like(theta, self.initial_accumulator_value)}

    def _update(self, theta: np.ndarray, g: np.ndarray, state: dict) -> None:
        if self.weight_decay != 0:
            g = g + self.weight_decay * theta
        lr_t = self.lr / (1 + (state["t"] - 1) * self.lr_decay)
        G = state["G"]
        G += g * g
        theta -= lr_t * (g / (np.sqrt(G) + self.eps))


class RMSprop(Optimizer):
    r"""RMSprop: divide by a running root-mean-square of the gradient.

    The update of ``torch.optim.RMSprop`` (Hinton's lecture 6e; centred form from
    Graves, 2013), with smoothing constant :math:`\rho` (torch's ``alpha``; the book keeps
    that letter for leaky ReLU's slope) and momentum buffer :math:`m` (``state[i]["b"]``):

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        v_t &= \rho v_{t-1} + (1 - \rho) g_t^2 \\
        \bar g_t &= \rho \bar g_{t-1} + (1 - \rho) g_t \quad\text{(centred only)} \\
        s_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centred)} \quad\text{or}\quad
               s_t = \sqrt{v_t} + \epsilon \\
        m_t &= \mu m_{t-1} + g_t / s_t, \quad \theta_t = \theta_{t-1} - \eta m_t
              \quad\text{(momentum } \mu > 0) \\
        \theta_t &= \theta_{t-1} - \eta\, g_t / s_t \quad\text{(otherwise)}

    Where textbooks differ: the decay is usually written :math:`\rho = 0.9`
    (Hinton, Keras); torch's default ``alpha`` is 0.99. Texts often put
    :math:`\epsilon` inside the root, :math:`g / \sqrt{v + \epsilon}`; torch adds it
    outside. TensorFlow's momentum variant puts the learning rate inside the buffer.
    The centred variance :math:`v - \bar g^2` is clipped at 0 against round-off
    (where torch would give NaN).

    Parameters
    ----------
    params : iterable of Parameter
    lr : float, default 1e-2
    alpha : float, default 0.99
    eps : float, default 1e-8
    weight_decay : float, default 0
    momentum : float, default 0
    centered : bool, default False
    maximize : bool, default False

    Notes
    -----
    State: ``state[i]["v"]`` (square average), ``["g_avg"]`` (centred only), ``["b"]``
    (momentum only) and ``["t"]``.
    """

    _hyper = ("alpha", "eps", "weight_decay", "momentum", "centered", "maximize")

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr, maximize)
        self.alpha = check_nonnegative(alpha, "alpha", "alpha value")
        self.eps = check_nonnegative(eps, "eps", "epsilon value")
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay", "weight_decay value")
        self.momentum = check_nonnegative(momentum, "momentum", "momentum value")
        self.centered = bool(centered)

    def _init_state(self, theta: np.ndarray) -> dict:
        state = {"v": np.zeros_like(theta)}
        if self.centered:
            state["g_avg"] = np.zeros_like(theta)
        if self.momentum > 0:
            state["b"] = np.zeros_like(theta)
        return state

    def _update(self, theta: np.ndarray, g: np.ndarray, state: dict) -> None:
        if self.weight_decay != 0:
            g = g + self.weight_decay * theta
        a, v = self.alpha, state["v"]
        v *= a
        v += (1 - a) * (g * g)
        if self.centered:
            g_avg = state["g_avg"]
            g_avg += (1 - a) * (g - g_avg)  # torch's lerp form of a*g_avg + (1-a)*g
            s = np.sqrt(np.maximum(v - g_avg * g_avg, 0)) + self.eps
        else:
            s = np.sqrt(v) + self.eps
        if self.momentum > 0:
            b = state["b"]
            b *= self.momentum
            b += g / s
            theta -= self.lr * b
        else:
            theta -= self.lr * (g / s)


class Adadelta(Optimizer):
    r"""Adadelta: RMSprop whose step is rescaled by a running RMS of past steps.

    The update of ``torch.optim.Adadelta`` (Zeiler, 2012):

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        v_t &= \rho v_{t-1} + (1 - \rho) g_t^2 \\
        s_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
        u_t &= \rho u_{t-1} + (1 - \rho) s_t^2 \\
        \theta_t &= \theta_{t-1} - \eta\, s_t

    Here :math:`\epsilon` sits *inside* the roots, as in the paper. Where texts
    differ: the paper has no learning rate (the ratio of RMS values gives the step
    its units); torch multiplies by :math:`\eta`, default 1.0, so the default
    reproduces the paper. The paper's :math:`\epsilon` is :math:`10^{-6}` too but its
    :math:`\rho` in experiments is 0.95 (torch's default is 0.9).

    Parameters
    ----------
    params : iterable of Parameter
    lr : float, default 1.0
    rho : float, default 0.9
        Decay :math:`\rho \in [0, 1]`.
    eps : float, default 1e-6
    weight_decay : float, default 0
    maximize : bool, default False

    Notes
    -----
    State: ``state[i]["v"]`` (square average of gradients), ``["u"]`` (square average of
    steps) and ``["t"]``.
    """

    _hyper = ("rho", "eps", "weight_decay", "maximize")

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        super().__init__(params, lr, maximize)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: rho={rho!r}; expected 0 <= rho <= 1")
        self.rho = float(rho)
        self.eps = check_nonnegative(eps, "eps", "epsilon value")
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay", "weight_decay value")

    def _init_state(self, theta: np.ndarray) -> dict:
        return {"v": np.zeros_like(theta), "u": np.zeros_like(theta)}

    def _update(self, theta: np.ndarray, g: np.ndarray, state: dict) -> None:
        if self.weight_decay != 0:
            g = g + self.weight_decay * theta
        rho, eps, v, u = self.rho, self.eps, state["v"], state["u"]
        v *= rho
        v += (1 - rho) * (g * g)
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * (delta * delta)
        theta -= self.lr * delta
