"""Detectors: each looks at one verified part and may raise one typed flag.

Adding a detector is one file here (a :class:`Detector` subclass with its
:class:`~dlcourse_grade.results.FlagKind`) and one entry in :data:`DETECTORS`; the
verification (:mod:`dlcourse_grade.verify`) runs them in this order on every part.
"""

from __future__ import annotations

from .base import Detector, Evidence
from .delegation import Delegation
from .near_copy import NearCopy
from .tampering import Tampering

__all__ = ["DETECTORS", "Detector", "Evidence"]

DETECTORS: tuple[Detector, ...] = (
    Delegation(),   # code: a part that calls the reference earns nothing
    Tampering(),    # result: in-kernel score != verified score
    NearCopy(),     # result: near copy of the reference's source
)
