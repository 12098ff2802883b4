"""The protocol every layer follows, as in PyTorch's ``nn.Module`` but explicit.

A layer has ``forward(x, training=True) -> out``, which keeps what its backward
pass needs in ``self._cache`` (a small ``NamedTuple``, read by field name; None
before the first forward pass); ``backward(dout, need_dx=True) -> dx``, which fills
``.grad`` of its parameters and returns the gradient with respect to its input (with
``need_dx=False`` a layer may skip that and return None: the first layer of a network
does not need it); and ``parameters()``, which yields its
:class:`~dlcourse.parameter.Parameter` objects. Optimizers, the training loop and the
cross-checks treat every layer alike through these three methods.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ..parameter import Parameter


class Layer:
    """Base class of all layers.

    Subclasses override ``forward`` and ``backward``; layers with learnable
    state also override ``parameters``. ``output_shape(input_shape)`` maps a
    per-sample shape (no batch axis) to the layer's per-sample output shape and
    is what ``Sequential.summary()`` prints.
    """

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    def parameters(self) -> Iterator[Parameter]:
        """Yield this layer's learnable parameters (none by default)."""
        return iter(())

    def output_shape(self, input_shape: tuple) -> tuple:
        """Per-sample output shape for a per-sample ``input_shape`` (identity by default)."""
        return tuple(input_shape)

    def num_parameters(self) -> int:
        """Number of learnable scalars."""
        return int(sum(p.data.size for p in self.parameters()))

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def _unchecked_step(self):
        """``(forward(x), backward(dout, need_dx))`` without this layer's checks, or None.

        For the training loop (:func:`dlcourse.train.train`) only: once a step through the
        checked ``forward`` and ``backward`` has passed, the later steps of the epoch hand a
        layer arrays of the same type, dtype and per-sample shape, and a layer whose output
        depends on nothing else may then skip the checks and compute exactly what the
        checked methods compute. None (the default) keeps the checked methods on every step.
        ``Dense``, the activation layers and ``Sequential`` describe themselves as parts
        instead (:meth:`_unchecked_parts`), from which the loop generates the passes.
        """
        return None

    def _unchecked_parts(self) -> list | None:
        """The layer as parts of a generated unchecked step, or None (see :mod:`dlcourse.layers._unchecked`).

        By default ``[("passes", self._unchecked_step())]`` where the layer offers an unchecked
        step of its own, else None (the checked methods then run on every step). A layer
        offers ``[("dense", self)]`` or ``[("activation", self)]`` only where its ``forward``
        and ``backward`` are exactly those the part stands for.
        """
        offer = self._unchecked_step()
        return None if offer is None else [("passes", offer)]

    def __call__(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Forward pass in evaluation mode (``training=False``) unless asked otherwise."""
        return self.forward(x, training=training)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def keeps_methods(layer: Layer, cls: type) -> bool:
    """Whether ``layer`` runs ``cls``'s own ``forward`` and ``backward`` (overridden neither in a subclass nor on the object)."""
    own = vars(layer)
    return (type(layer).forward is cls.forward and type(layer).backward is cls.backward
            and "forward" not in own and "backward" not in own)


def check_forward_called(cache, layer: Layer) -> None:
    """Raise a clear error when ``backward`` comes before ``forward``."""
    if cache is None:
        raise RuntimeError(f"{type(layer).__name__}.backward called before forward(x, training=True)")
