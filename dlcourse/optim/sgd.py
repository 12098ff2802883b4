"""Stochastic gradient descent, with momentum and Nesterov momentum (``torch.optim.SGD``)."""

from __future__ import annotations

import numpy as np

from .base import Optimizer, check_nonnegative


class SGD(Optimizer):
    r"""Gradient descent with optional momentum, dampening, Nesterov and weight decay.

    The update of ``torch.optim.SGD``, for gradient :math:`g_t`, learning rate
    :math:`\eta`, weight decay :math:`\lambda`, momentum :math:`\mu`, dampening :math:`d`
    and the momentum buffer :math:`m` (``state[i]["b"]``, torch's ``momentum_buffer``):

    .. math::

        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        m_1 &= g_1, \qquad m_t = \mu m_{t-1} + (1 - d) g_t \quad (t > 1) \\
        g_t &\leftarrow g_t + \mu m_t \ \text{(Nesterov)} \quad\text{or}\quad g_t \leftarrow m_t \\
        \theta_t &= \theta_{t-1} - \eta g_t

    Without momentum (:math:`\mu = 0`) this is plain :math:`\theta \leftarrow \theta - \eta g`.

    Where textbooks differ:

    * Many texts write momentum as a *velocity that already contains the learning
      rate*: :math:`v_t = \mu v_{t-1} - \eta g_t,\ \theta_t = \theta_{t-1} + v_t`.
      With a constant learning rate this is the same as torch's form
      (:math:`v_t = -\eta m_t`); when a schedule changes :math:`\eta`, torch's
      buffer :math:`m` is rescaled by the *new* rate while the velocity keeps the old.
    * The first step sets :math:`m_1 = g_1` with no dampening.
    * Nesterov momentum is usually written with the gradient at a look-ahead point
      :math:`\theta - \mu v`; torch (and this class) use the equivalent rewrite
      :math:`g + \mu m_t` at the current point (Sutskever et al., 2013; Bengio et al., 2013).
    * ``weight_decay`` adds :math:`\lambda\theta` to the gradient (an L2 term
      :math:`\tfrac{\lambda}{2}\lVert\theta\rVert^2` in the loss); for SGD this is
      the same as decoupled weight decay (see :mod:`dlcourse.regularization`).

    Parameters
    ----------
    params : iterable of Parameter
    lr : float, default 1e-3
        Learning rate :math:`\eta` (torch's default).
    momentum : float, default 0
        Momentum factor :math:`\mu \ge 0`.
    dampening : float, default 0
        Dampening :math:`d` for momentum.
    weight_decay : float, default 0
        L2 coefficient :math:`\lambda \ge 0`.
    nesterov : bool, default False
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    maximize : bool, default False
        Ascend the objective instead.

    Notes
    -----
    State: ``state[i]["b"]``: the momentum buffer :math:`m_t` (only with momentum);
    ``state[i]["t"]``: the number of updates of ``params[i]``.
    """

    _hyper = ("momentum", "dampening", "weight_decay", "nesterov", "maximize")

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, maximize)
        self.momentum = check_nonnegative(momentum, "momentum", "momentum value")
        self.dampening = float(dampening)
        self.weight_decay = check_nonnegative(weight_decay, "weight_decay", "weight_decay value")
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening; got "
                             f"nesterov=True with momentum={momentum!r}, dampening={dampening!r}; "
                             "expected momentum > 0 and dampening == 0")

    def _init_state(self, theta: np.ndarray) -> dict:
        return {"b": np.zeros_like(theta)} if self.momentum != 0 else {}

    def _unchecked_step(self):
        """The base class's unchecked step, and for plain SGD (no momentum, no weight decay)
        one loop of :math:`\\theta \\leftarrow \\theta - \\eta g` with no call per parameter:
        the arithmetic of :meth:`_update`, so the same numbers bit for bit."""
        if self.momentum != 0 or self.weight_decay != 0 or type(self)._update is not SGD._update \
                or "_update" in vars(self):
            return super()._unchecked_step()
        todo = self._unchecked_params()
        if todo is None:
            return None
        maximize = self.maximize

        def step():
            lr = self._lr
            for p, state in todo:
                state["t"] += 1
                p.data -= lr * (-p.grad if maximize else p.grad)

        return step

    def _update(self, theta: np.ndarray, g: np.ndarray, state: dict) -> None:
        if self.weight_decay != 0:
            g = g + self.weight_decay * theta
        if self.momentum != 0:
            b = state["b"]
            if state["t"] == 1:
                b[...] = g
            else:
                b *= self.momentum
                b += (1.0 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        theta -= self._lr * g
