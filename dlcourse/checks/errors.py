"""Sentences for the errors a notebook's text predicts: a name not defined, a time limit, shape errors.

:func:`explain_error` reads the error text a call recorded (``"ValueError: ..."``) and
the case's arguments, and returns what to do, naming the shapes involved:

* ``NameError`` - the name is not defined when the function runs: its cell failed
  (a syntax error, an exception) or was not run;
* ``TimeoutError`` (the checks' time limit) - a loop that never ends;
* a matrix product whose inner sizes differ (``@``, ``np.dot``, ``np.matmul``) - the
  argument shapes, and the order of the product or a transposed operand;
* operands that do not broadcast - their shapes, and ``keepdims=True`` when one shape is
  the other with an axis removed (a reduction that dropped it).
"""

from __future__ import annotations

import re

import numpy as np

from .spec import Case, Part

__all__ = ["explain_error", "undefined_name_message"]

_NAME = re.compile(r"^NameError: name '(\w+)' is not defined")
_MATMUL = re.compile(r"matmul: Input operand \d has a mismatch in its core dimension \d.*\(size (\d+) is different from (\d+)\)")
_DOT = re.compile(r"shapes \(([\d, ]*)\) and \(([\d, ]*)\) not aligned")
_BROADCAST = re.compile(r"could not be broadcast together with shapes ((?:\([\d,]*\) ?)+)")


def undefined_name_message(name: str) -> str:
    """What to do about a name that is not defined (a function whose cell failed or was not run)."""
    return (f"`{name}` is not defined: run the cell that defines it first; if that cell shows an "
            "error (a SyntaxError, an exception), fix it and run it again")


def _shapes(part: Part, c: Case) -> str:
    names = list(part.params)
    out = []
    for i, a in enumerate(c.args):
        if isinstance(a, np.ndarray):
            out.append(f"{names[i] if i < len(names) else f'argument {i + 1}'} {a.shape}")
    out += [f"{k} {v.shape}" for k, v in c.kwargs.items() if isinstance(v, np.ndarray)]
    return ", ".join(out)


def _tuple(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.replace(" ", "").split(",") if x)


def _drops_an_axis(small: tuple, big: tuple) -> bool:
    return len(small) + 1 == len(big) and any(big[:i] + big[i + 1:] == small for i in range(len(big)))


def explain_error(part: Part, c: Case, error: str) -> list[str]:
    """Advice for a recorded error, or ``[]`` when it is not one of the predictable kinds."""
    m = _NAME.match(error)
    if m:
        return [undefined_name_message(m.group(1))]
    if error.startswith("TimeoutError: your function did not return"):
        return ["time limit: a loop that never ends? (a `while` whose condition never changes, or a loop "
                "variable that is never updated); the checks stop each call at the time limit"]
    shapes = _shapes(part, c)
    given = f" Your inputs: {shapes}." if shapes else ""
    m = _MATMUL.search(error) or _DOT.search(error)
    if m:
        return [f"shape error in a matrix product: in A @ B the last axis of A must equal the first axis of B "
                f"(here {m.group(1)} vs {m.group(2)}).{given} Check the order of the product (X @ W with W of "
                "shape (D, K), not W @ X) and whether an operand should be transposed (.T)"]
    m = _BROADCAST.search(error)
    if m:
        found = list(dict.fromkeys(_tuple(s) for s in re.findall(r"\(([\d,]*)\)", m.group(1))))
        text = f"shape error: arrays of shapes {', '.join(str(s) for s in found)} do not broadcast together.{given}"
        if len(set(found)) == 2 and sorted(found[0]) == sorted(found[1]):
            text += (" They hold the same sizes in another order: two axes swapped (KH and KW, H and W, "
                     "or a transpose)?")
        elif len(found) == 2 and (_drops_an_axis(found[0], found[1]) or _drops_an_axis(found[1], found[0])):
            text += (" One is the other with an axis removed: a sum, mean or max over an axis without "
                     "keepdims=True (use keepdims=True so the reduced axis stays, with size 1)")
        else:
            text += " Check which axis each sum, mean or max reduces over, and the shapes of your intermediate arrays"
        return [text]
    return []
