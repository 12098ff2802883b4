"""The data that crosses the sandbox wall during verification, in both directions.

Inputs go in as JSON plus ``.npy`` files written here. Results come back the same way
and are untrusted: JSON of bounded size with a fixed set of tagged values, arrays
loaded with ``allow_pickle=False`` after their header (dtype, size) is checked;
anything else becomes an :class:`Unreadable` placeholder that the judge scores as
"not array-like". Nothing is unpickled, ``eval``-ed or ``sympify``-ed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dlcourse.checks.callables import FunctionSpec
from dlcourse.checks.judge import Outcome

__all__ = ["Budget", "Unreadable", "encode_input", "decode_output", "read_json", "outcome_from"]

MAX_JSON_BYTES = 20 * 1024 ** 2
MAX_ARRAY_ITEMS = 5_000_000
#: The most items of one returned list or tuple (a topological order of a 5,000-node graph has 5,002);
#: a longer one is unreadable, never silently cut short.
MAX_SEQUENCE_ITEMS = 100_000


class Budget:
    """How many bytes of returned arrays the grader still loads from one verification run.

    Every reference to an array file costs its size, so a reply that names one large
    file a thousand times is refused once the budget is spent, before it is loaded.
    """

    def __init__(self, nbytes: int):
        self.left = int(nbytes)

    def take(self, nbytes: int) -> bool:
        if nbytes > self.left:
            self.left = -1  # spent: nothing more is loaded from this run
            return False
        self.left -= nbytes
        return True


class Unreadable:
    """Stands for a returned object that is not data (its repr says what it was)."""
    def __init__(self, what: str):
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what}>"


def encode_input(value, store: Path, counter: list[int]):
    """JSON for one case argument; arrays go to ``store/<n>.npy`` (trusted side)."""
    if isinstance(value, np.ndarray):
        counter[0] += 1
        np.save(store / f"a{counter[0]}.npy", value, allow_pickle=False)
        return {"nd": f"a{counter[0]}"}
    if isinstance(value, np.generic):
        counter[0] += 1
        np.save(store / f"a{counter[0]}.npy", np.asarray(value), allow_pickle=False)
        return {"np": f"a{counter[0]}"}
    if isinstance(value, FunctionSpec):
        return {"fn": value.name, "params": {k: encode_input(v, store, counter) for k, v in value.params.items()}}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, tuple):
        return {"tuple": [encode_input(v, store, counter) for v in value]}
    if value is None:
        return {"none": True}
    raise TypeError(f"cannot send a {type(value).__name__} to the sandbox")


def _load_npy(path: Path, budget: Budget | None = None):
    if not path.is_file() or path.is_symlink():
        return Unreadable("missing array")
    with open(path, "rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            shape, _, dtype = read[version](f)
        except (ValueError, OSError, KeyError):
            return Unreadable("unreadable array")
    items = int(np.prod(shape, dtype=np.int64))
    if dtype.hasobject or items > MAX_ARRAY_ITEMS:
        return Unreadable(f"array of dtype {dtype} and shape {shape}")
    if budget is not None and not budget.take(items * dtype.itemsize):
        return Unreadable("returned arrays beyond what the grader reads from one run")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError):
        return Unreadable("unreadable array")


def decode_output(v, out: Path, depth: int = 0, budget: Budget | None = None):
    """A returned value from the runner's JSON (untrusted: strict types, no pickle, no eval, bounded bytes)."""
    if depth > 10 or not isinstance(v, dict) or len(v) != 1:
        return Unreadable("malformed value")
    (key, val), = v.items()
    name_ok = isinstance(val, str) and val.replace("_", "").isalnum()
    if key in ("nd", "np") and name_ok:
        a = _load_npy(out / f"{val}.npy", budget)
        return a[()] if key == "np" and isinstance(a, np.ndarray) and a.ndim == 0 else a
    if key in ("tuple", "list") and isinstance(val, list):
        if len(val) > MAX_SEQUENCE_ITEMS:
            return Unreadable(f"a {key} of more than {MAX_SEQUENCE_ITEMS} items")
        items = [decode_output(x, out, depth + 1, budget) for x in val]
        return tuple(items) if key == "tuple" else items
    if key == "int" and isinstance(val, str) and len(val) < 400:
        try:
            return int(val)
        except ValueError:
            return Unreadable("malformed int")
    if key == "float" and isinstance(val, str) and len(val) < 50:
        try:
            return float(val)
        except ValueError:
            return Unreadable("malformed float")
    if key == "bool" and isinstance(val, bool):
        return val
    if key == "none":
        return None
    if key == "str" and isinstance(val, str):
        return val[:1000]
    return Unreadable(f"{str(val)[:80]}" if key == "obj" else "malformed value")


def read_json(path: Path):
    if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_JSON_BYTES:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except ValueError:
        return None


def _text_list(v, n: int = 10) -> tuple[str, ...]:
    return tuple(str(x)[:500] for x in v[:n]) if isinstance(v, list) else ()


def outcome_from(data, out: Path, budget: Budget | None = None):
    """A :class:`dlcourse.checks.judge.Outcome` from one case's JSON record."""
    if not isinstance(data, dict):
        return Outcome(error="RuntimeError: malformed result from the verification run")
    error = data.get("error")
    error = str(error)[:2000] if error is not None else None
    delegated = None
    if error and "dlcourse" in error and ("ImportError" in error or "ModuleNotFoundError" in error):
        delegated = "it imports dlcourse (which graded code cannot use)"
    return Outcome(value=decode_output(data.get("value"), out, budget=budget) if error is None else None, error=error,
                   warnings=_text_list(data.get("warnings")), mutated=_text_list(data.get("mutated")),
                   delegated=delegated, stderr=str(data.get("stderr", ""))[:2000])
