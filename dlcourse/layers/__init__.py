"""Layers: the building blocks of :class:`dlcourse.network.Sequential`.

Every layer follows one protocol (see :mod:`dlcourse.layers.base`):
``forward(x, training=True)``, ``backward(dout, need_dx=True) -> dx`` (which overwrites
each parameter's ``.grad``) and ``parameters()``. The activation layers (``ReLU``,
``Sigmoid``, ``GELU``, ... and ``Identity``, :math:`f(z) = z`) are generated from the
registry of :mod:`dlcourse.activations`; ``Dense`` is PyTorch's ``nn.Linear``.
"""

from ..parameter import Parameter
from . import activation as _activation
from .activation import Activation, layer_class
from .base import Layer
from .batchnorm import BatchNorm
from .dense import Dense
from .dropout import Dropout

#: One generated layer class per registered activation (``ReLU``, ``GELU``, ``Identity``, ...).
globals().update({cls.__name__: cls for cls in _activation.LAYER_CLASSES.values()})

__all__ = ["Layer", "Parameter", "Dense", "Activation", "layer_class",
           *[cls.__name__ for cls in _activation.LAYER_CLASSES.values()], "Dropout", "BatchNorm"]

# CNN layers: kernels and layers live together in conv.py / pool.py / flatten.py.
from .conv import Conv2D  # noqa: E402
from .flatten import Flatten  # noqa: E402
from .pool import AvgPool2D, MaxPool2D  # noqa: E402

__all__ += ["Conv2D", "MaxPool2D", "AvgPool2D", "Flatten"]

# Skip connections: out = x + f(x).
from .residual import Residual  # noqa: E402

__all__ += ["Residual"]
