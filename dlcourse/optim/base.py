"""The ``Optimizer`` template that every optimizer in :mod:`dlcourse.optim` fills in.

An optimizer holds a list of :class:`~dlcourse.parameter.Parameter` objects and, for
each, a small dictionary of state named after the paper's symbols (``m``, ``v``,
...) plus its own step counter ``t``. ``step()`` walks the parameters, skips those
whose ``.grad`` is ``None`` (as ``torch.optim`` does, so their ``t`` does not
advance), and calls the subclass's ``_update(theta, g, state)``, which changes
``theta`` (the parameter's ``.data``) in place.

A subclass writes three things: its ``__init__`` (validate, store the
hyper-parameters), ``_init_state(theta)`` (zeros like the parameter, so the state
keeps its dtype) and ``_update(theta, g, state)`` (the update rule).
"""

from __future__ import annotations

import numbers

import numpy as np

from ..parameter import Parameter


def check_nonnegative(value, name: str, what: str) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` naming it if it is negative.

    ``what`` is torch's wording ("learning rate", "weight_decay value", ...), so the
    message reads like torch's: ``Invalid learning rate: lr=-0.1; expected lr >= 0``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    if not value >= 0.0:  # also catches NaN
        raise ValueError(f"Invalid {what}: {name}={value!r}; expected {name} >= 0")
    return float(value)


def check_betas(betas, name: str = "betas") -> tuple[float, float]:
    """Return ``betas`` as two floats in ``[0, 1)`` or raise ``ValueError`` naming the bad one."""
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (beta1, beta2); got {betas!r}") from None
    for index, beta in enumerate((beta1, beta2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(
                f"Invalid beta parameter at index {index}: {name}[{index}]={beta!r}; "
                f"expected 0 <= {name}[{index}] < 1"
            )
    return float(beta1), float(beta2)


def _as_parameter_list(params) -> list[Parameter]:
    if isinstance(params, Parameter):
        raise TypeError("params must be an iterable of Parameter objects (e.g. "
                        "model.parameters()); got a single Parameter: wrap it in a list")
    params = list(params)
    if not params:
        raise ValueError("params is an empty list; the optimizer has nothing to update")
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"params[{i}] must be a dlcourse Parameter; got {type(p).__name__}")
    return params


class Optimizer:
    """Base class: the loop over parameters, ``lr``, ``zero_grad`` and the state.

    Parameters
    ----------
    params : iterable of Parameter
        The parameters to update (``model.parameters()``).
    lr : float
        The learning rate :math:`\\eta`; a settable attribute, so that
        schedules in :mod:`dlcourse.schedules` can change it between steps.
    maximize : bool
        Ascend instead of descend (use :math:`-g`), as torch's ``maximize=True``.

    Attributes
    ----------
    params : list of Parameter
    state : list of dict
        ``state[i]`` belongs to ``params[i]``: empty until that parameter's first
        update, then the optimizer's named buffers (arrays shaped and typed like the
        parameter) and the step count ``t`` (an int, per parameter, as in torch).
    """

    def __init__(self, params, lr: float, maximize: bool = False):
        self.params = _as_parameter_list(params)
        self.lr = lr
        self.maximize = bool(maximize)
        self.state: list[dict] = [{} for _ in self.params]

    @property
    def lr(self) -> float:
        """The learning rate used by the next ``step()``."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_nonnegative(value, "lr", "learning rate")

    def step(self) -> None:
        """Update every parameter that has a gradient; skip those whose ``.grad`` is None."""
        maximize = self.maximize
        for i, (p, state) in enumerate(zip(self.params, self.state)):
            g = p.grad
            if g is None:
                continue
            theta = p.data
            if type(g) is not np.ndarray or g.shape != theta.shape or g.dtype != theta.dtype:
                g = self._gradient(p, i)  # converts, or raises naming the parameter
            elif maximize:
                g = -g
            if not state:
                state["t"] = 0
                state.update(self._init_state(p.data))
            state["t"] += 1
            self._update(theta, g, state)

    def _unchecked_step(self):
        """``step()`` without its per-parameter checks, or None.

        For the training loop (:func:`dlcourse.train.train`) only, after a checked
        ``step()``: every gradient present now is an array of its parameter's shape and
        dtype, and the layers that fill them keep those on the later steps of the epoch, so
        the returned function updates the same parameters in the same order through the
        same ``_update`` without checking again. None when some gradient needed converting,
        some parameter has no state yet, or the subclass overrides ``step``.
        """
        todo = self._unchecked_params()
        if todo is None:
            return None
        maximize, update = self.maximize, self._update

        def step():
            for p, state in todo:
                state["t"] += 1
                update(p.data, -p.grad if maximize else p.grad, state)

        return step

    def _unchecked_params(self) -> list | None:
        """``(parameter, state)`` of every parameter ``step()`` updates as things stand, or None
        where :meth:`_unchecked_step` must not skip the checks (see there)."""
        if type(self).step is not Optimizer.step or "step" in vars(self):
            return None
        todo = []
        for p, state in zip(self.params, self.state):
            g = p.grad
            if g is None:
                continue
            if type(g) is not np.ndarray or g.shape != p.data.shape or g.dtype != p.data.dtype or not state:
                return None
            todo.append((p, state))
        return todo

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients: ``None`` by default (as torch), zeros if ``set_to_none=False``."""
        for p in self.params:
            if set_to_none:
                p.grad = None
            else:
                p.zero_grad()

    def _gradient(self, p: Parameter, i: int) -> np.ndarray:
        g = np.asarray(p.grad)
        if g.shape != p.data.shape:
            raise ValueError(f"params[{i}] ({p.name}) has data of shape {p.data.shape} but "
                             f"grad of shape {g.shape}; expected the same shape")
        g = g.astype(p.data.dtype, copy=False)
        return -g if self.maximize else g

    def _init_state(self, theta: np.ndarray) -> dict:
        """The per-parameter buffers before the first step (subclasses override)."""
        return {}

    def _update(self, theta: np.ndarray, g: np.ndarray, state: dict) -> None:
        """Change ``theta`` in place from gradient ``g`` (subclasses override)."""
        raise NotImplementedError

    def hyperparameters(self) -> dict:
        """The constructor arguments (except ``params``) as a dict, for repr and summaries."""
        return {"lr": self.lr, **{k: getattr(self, k) for k in self._hyper}}

    _hyper: tuple[str, ...] = ()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"
