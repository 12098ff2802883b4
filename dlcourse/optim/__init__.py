"""Optimizers that follow ``torch.optim`` step for step, written in NumPy.

Each optimizer takes ``params`` (a list of :class:`~dlcourse.parameter.Parameter`),
the learning rate ``lr`` and its hyper-parameters with torch's names and defaults;
``step()`` updates every parameter that has a gradient and ``zero_grad()`` clears
the gradients. Their state is named after the papers' symbols, e.g.
``opt.state[i]["m"]`` and ``["v"]`` for Adam, with a per-parameter step count
``opt.state[i]["t"]``. From the simplest to the most complex:

========== ===================================== ==========================
class      idea                                  state
========== ===================================== ==========================
SGD        gradient step, (Nesterov) momentum    ``b``
Adagrad    divide by the root of summed g^2      ``G``
RMSprop    divide by a running RMS of g          ``v`` (``g_avg``, ``b``)
Adadelta   RMSprop with unit-correcting step     ``v``, ``u``
Adam       momentum + RMSprop + bias correction  ``m``, ``v`` (``v_max``)
AdamW      Adam with decoupled weight decay      ``m``, ``v`` (``v_max``)
NAdam      Adam with Nesterov momentum           ``m``, ``v``, ``mu_product``
========== ===================================== ==========================
"""

from __future__ import annotations

from .adam import Adam, AdamW, NAdam
from .adaptive import Adadelta, Adagrad, RMSprop
from .base import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam",
           "OPTIMIZERS", "get"]

#: The optimizers by lower-case name (simplest first), for ``fit(optimizer="adam")``.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls for cls in (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, NAdam)
}


def get(name, params, **kwargs) -> Optimizer:
    """Build the optimizer called ``name`` (e.g. ``"adam"``) over ``params``.

    Parameters
    ----------
    name : str or Optimizer subclass
        A key of :data:`OPTIMIZERS` (case-insensitive) or an optimizer class.
    params : iterable of Parameter
    **kwargs
        Hyper-parameters; the ones not given take torch's defaults.

    Returns
    -------
    Optimizer
    """
    if isinstance(name, type) and issubclass(name, Optimizer):
        return name(params, **kwargs)
    if not isinstance(name, str):
        raise TypeError(f"name must be an optimizer name or class; got {type(name).__name__}")
    key = name.lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer name={name!r}; expected one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[key](params, **kwargs)
