"""Cross-checks of every ``dlcourse`` operation against its PyTorch equivalent.

``python -m dlcourse.xcheck`` prints one row per (operation, device) with the
largest absolute and relative error and exits non-zero on any mismatch. It runs
from a plain checkout (``PYTHONPATH=.``) on any machine with NumPy and torch.

Each area of the package has a module here (``activations``, ``losses``,
``layers``, ``optim``, ``conv``, ``autograd``) with a function ``comparisons(device)`` that
yields :class:`Comparison` objects; :func:`run` collects them all.
"""

from .core import AREAS, Comparison, Row, available_devices, compare, run

__all__ = ["AREAS", "Comparison", "Row", "available_devices", "compare", "run"]
