"""Content of the six exercise notebooks, one module per assignment, read by ``make_sources.py``.

Each module defines ``IMPORTS`` (lines of the setup cell), ``INTRO`` (the first markdown
cell) and ``CELLS``, a list of the cell kinds below.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Markdown:
    text: str


@dataclass
class Given:
    """Code the learner reads and runs but does not change (a read-only cell)."""

    cell_id: str
    code: str


@dataclass
class Solution:
    """A function the learner writes: signature and docstring given, body between the markers."""

    function: str
    code: str
    tests: list[str] = field(default_factory=list)


@dataclass
class Written:
    """A written answer graded by hand: the question (read-only) and the answer cell (model answer)."""

    grade_id: str
    points: float
    question: str
    answer: str
