"""Adam and its variants AdamW and NAdam (``torch.optim`` semantics)."""

from __future__ import annotations

import numpy as np

from .base import Optimizer, check_betas, check_nonnegative


def _apply_weight_decay(theta: np.ndarray, g: np.ndarray, lr: float, weight_decay: float,
                        decoupled: bool) -> np.ndarray:
    r"""Weight decay as Adam, AdamW and NAdam apply it; returns the gradient to use.

    Decoupled (AdamW): shrink the parameter in place, :math:`\theta \leftarrow \theta(1 - \eta\lambda)`,
    and leave :math:`g` alone. Otherwise an L2 term: :math:`g \leftarrow g + \lambda\theta`.
    """
    if weight_decay == 0:
        return g
    if decoupled:
        theta *= 1 - lr * weight_decay
        return g
    return g + weight_decay * theta


class Adam(Optimizer):
    r"""Adam: momentum on the gradient and RMSprop's scaling, both bias-corrected.

    The update of ``torch.optim.Adam`` (Kingma & Ba, 2015), AMSGrad from Reddi et
    al. (2018):

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1}
              \quad\text{(or } \theta_{t-1} \leftarrow (1 - \eta\lambda)\theta_{t-1}
              \text{ if decoupled)} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        v^{\max}_t &= \max(v^{\max}_{t-1}, v_t) \quad\text{(AMSGrad: use it in place of } v_t) \\
        \hat m_t &= \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t} \\
        \theta_t &= \theta_{t-1} - \eta \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    At :math:`t = 1`, :math:`\hat m_1 = g_1` and :math:`\sqrt{\hat v_1} = |g_1|`, so the
    first step moves every coordinate by about :math:`\eta\,\mathrm{sign}(g_1)`.

    Where textbooks differ: the paper's "efficient" form (used by TensorFlow/Keras)
    folds the corrections into the rate, :math:`\eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)`,
    and adds :math:`\hat\epsilon` to :math:`\sqrt{v_t}` instead of :math:`\sqrt{\hat v_t}`,
    a slightly different :math:`\epsilon`. ``weight_decay`` here is an *L2 term* in the
    gradient, which the :math:`\sqrt{\hat v}` division rescales per coordinate; that is
    not the decoupled weight decay of :class:`AdamW` (see :mod:`dlcourse.regularization`).
    AMSGrad keeps the maximum of the raw :math:`v_t` and bias-corrects it with the
    current :math:`t` (the paper has no bias correction).

    Parameters
    ----------
    params : iterable of Parameter
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
        :math:`\beta_1, \beta_2 \in [0, 1)`.
    eps : float, default 1e-8
    weight_decay : float, default 0
    amsgrad : bool, default False
    maximize : bool, default False
    decoupled_weight_decay : bool, default False
        Shrink :math:`\theta` directly (AdamW) instead of adding an L2 term.

    Notes
    -----
    State: ``state[i]["m"]``, ``["v"]``, ``["v_max"]`` (AMSGrad only) and ``["t"]``.
    """

    _hyper = ("betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay")

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        super().__init__(params, lr, maximize)
        self.betas = check_betas(betas)
        self.eps = check_nonnegative(eps, "eps", "epsilon value")
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay", "weight_decay value")
        self.amsgrad = bool(amsgrad)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def _init_state(self, theta: np.ndarray) -> dict:
        state = {"m": np.zeros_like(theta), "v": np.zeros_like(theta)}
        if self.amsgrad:
            state["v_max"] = np.zeros_like(theta)
        return state

    def _update(self, theta: np.ndarray, g: np.ndarray, state: dict) -> None:
        (beta1, beta2), t, m, v = self.betas, state["t"], state["m"], state["v"]
        g = _apply_weight_decay(theta, g, self.lr, self.weight_decay, self.decoupled_weight_decay)
        m += (1 - beta1) * (g - m)  # = beta1 * m + (1 - beta1) * g, torch's lerp form
        v *= beta2
        v += (1 - beta2) * (g * g)
        if self.amsgrad:
            np.maximum(state["v_max"], v, out=state["v_max"])
            v = state["v_max"]
        step_size = self.lr / (1 - beta1**t)
        denom = np.sqrt(v) / (1 - beta2**t) ** 0.5 + self.eps
        theta -= step_size * (m / denom)


class AdamW(Adam):
    r"""AdamW: Adam with *decoupled* weight decay (Loshchilov & Hutter, 2019).

    ``torch.optim.AdamW``: the same as :class:`Adam`, except that weight decay
    shrinks the parameters directly before the Adam step instead of entering the
    gradient:

    .. math::

        \theta_{t-1} &\leftarrow (1 - \eta\lambda)\,\theta_{t-1} \\
        \theta_t &= \theta_{t-1} - \eta \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    with :math:`\hat m_t, \hat v_t` from the raw gradient :math:`g_t` only. Default
    :math:`\lambda = 10^{-2}`. Where the paper differs: it writes the decay as
    :math:`\eta_t\lambda\theta` with a schedule multiplier :math:`\eta_t` separate from
    :math:`\eta`; torch multiplies :math:`\lambda` by the learning rate itself.

    Parameters
    ----------
    params : iterable of Parameter
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 1e-2
    amsgrad : bool, default False
    maximize : bool, default False

    Notes
    -----
    State: As :class:`Adam`: ``m``, ``v``, ``v_max`` (AMSGrad only), ``t``.
    """

    _hyper = ("betas", "eps", "weight_decay", "amsgrad", "maximize")

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)


class NAdam(Optimizer):
    r"""NAdam: Adam with Nesterov momentum and Dozat's momentum schedule.

    The update of ``torch.optim.NAdam`` (Dozat, 2016), with momentum decay
    :math:`\psi`:

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1}
              \quad\text{(or } \theta_{t-1} \leftarrow (1 - \eta\lambda)\theta_{t-1}
              \text{ if decoupled)} \\
        \mu_t &= \beta_1 \left(1 - \tfrac12\, 0.96^{t\psi}\right), \qquad
        \Pi_t = \prod_{i=1}^{t} \mu_i \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        s_t &= \sqrt{v_t / (1 - \beta_2^t)} + \epsilon \\
        \theta_t &= \theta_{t-1} - \eta \frac{1 - \mu_t}{1 - \Pi_t} \frac{g_t}{s_t}
                  - \eta \frac{\mu_{t+1}}{1 - \Pi_{t+1}} \frac{m_t}{s_t}

    Where textbooks differ: the simplified Nadam often taught (e.g. Ruder's overview)
    uses a constant :math:`\mu = \beta_1` and bias corrections :math:`1 - \beta_1^t`:
    :math:`\theta \leftarrow \theta - \frac{\eta}{\sqrt{\hat v}+\epsilon}
    \left(\beta_1 \hat m_t + \frac{(1-\beta_1) g_t}{1 - \beta_1^t}\right)`. Torch keeps
    the paper's warming schedule :math:`\mu_t` (so :math:`\psi = 0` gives a constant
    :math:`\mu = \beta_1/2`, not :math:`\beta_1`). ``weight_decay`` is an L2 term
    unless ``decoupled_weight_decay=True`` (then it is "NAdamW"). Torch stores
    :math:`\Pi_t` in the default dtype (float32 unless changed); here it is a Python
    float.

    Parameters
    ----------
    params : iterable of Parameter
    lr : float, default 2e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 0
    momentum_decay : float, default 4e-3
        :math:`\psi \ge 0`.
    decoupled_weight_decay : bool, default False
    maximize : bool, default False

    Notes
    -----
    State: ``state[i]["m"]``, ``["v"]``, ``["mu_product"]`` (:math:`\Pi_t`) and ``["t"]``.
    """

    _hyper = ("betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay",
              "maximize")

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, maximize)
        self.betas = check_betas(betas)
        self.eps = check_nonnegative(eps, "eps", "epsilon value")
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay", "weight_decay value")
        self.momentum_decay = check_nonnegative(momentum_decay, "momentum_decay",
                                                "momentum_decay value")
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def _init_state(self, theta: np.ndarray) -> dict:
        return {"m": np.zeros_like(theta), "v": np.zeros_like(theta), "mu_product": 1.0}

    def _mu(self, t: int) -> float:
        return self.betas[0] * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def _update(self, theta: np.ndarray, g: np.ndarray, state: dict) -> None:
        (beta1, beta2), t, m, v = self.betas, state["t"], state["m"], state["v"]
        g = _apply_weight_decay(theta, g, self.lr, self.weight_decay, self.decoupled_weight_decay)
        mu, mu_next = self._mu(t), self._mu(t + 1)
        state["mu_product"] *= mu
        mu_product, mu_product_next = state["mu_product"], state["mu_product"] * mu_next
        m += (1 - beta1) * (g - m)
        v *= beta2
        v += (1 - beta2) * (g * g)
        s = np.sqrt(v / (1 - beta2**t)) + self.eps
        theta -= (self.lr * (1 - mu) / (1 - mu_product)) * (g / s)
        theta -= (self.lr * mu_next / (1 - mu_product_next)) * (m / s)
