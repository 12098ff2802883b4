"""The hidden set of one part: :class:`Hidden` (fixed cases and a random draw), kept with the grader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from dlcourse.checks.spec import Case, Part, drawn_cases

__all__ = ["Hidden"]


@dataclass(frozen=True)
class Hidden:
    """A part's hidden inputs: ``fixed()`` cases and ``n_draws`` draws of ``draw(rng)``.

    The kinds of input differ from the visible ones (a 3-D array, a single class,
    logits past exp's overflow); feedback shows only ``Case.kind`` of a hidden case.
    Draws use ``part.rng(seed, hidden=True)``, a stream separate from the visible one.
    """

    fixed: Callable[[], list[Case]] | None = None
    draw: Callable[[np.random.Generator], Case] | None = None
    n_draws: int = 0

    def cases(self, part: Part, seed: int | None = None) -> list[Case]:
        """The hidden cases of ``part`` for ``seed`` (``None``: the course's fixed seed)."""
        return drawn_cases(part, self.fixed, self.draw, self.n_draws, seed, hidden=True)
