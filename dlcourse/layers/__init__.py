"""Layers: the building blocks of :class:`dlcourse.network.Sequential`.

Every layer follows one protocol (see :mod:`dlcourse.layers.base`):
``forward(x, training=True)``, ``backward(dout) -> dx`` (which overwrites each
parameter's ``.grad``) and ``parameters()``.
"""

from ..parameter import Parameter
from .activation import (
    ELU, Activation, LeakyReLU, Linear, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Step,
    Swish, Tanh,
)
from .base import Layer
from .batchnorm import BatchNorm
from .dense import Dense
from .dropout import Dropout

__all__ = [
    "Layer", "Parameter", "Dense", "Activation", "Step", "Linear", "Sigmoid", "Tanh", "ReLU",
    "LeakyReLU", "ELU", "Swish", "Softplus", "Softmax", "LogSoftmax", "Dropout", "BatchNorm",
]

# CNN layers: kernels and layers live together in conv.py / pool.py / flatten.py.
from .conv import Conv2D  # noqa: E402
from .flatten import Flatten  # noqa: E402
from .pool import AvgPool2D, MaxPool2D  # noqa: E402

__all__ += ["Conv2D", "MaxPool2D", "AvgPool2D", "Flatten"]
