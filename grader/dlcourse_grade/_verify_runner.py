"""Call a learner's functions on given inputs and write back only data (runs inside the sandbox).

This file is copied into the sandbox and run as ``python -I _verify_runner.py RUN_DIR FD``
by the learner's unprivileged user, where ``dlcourse`` cannot be imported. It imports
only the standard library, NumPy, ``_callables.py`` and ``_call.py``: copies of the
very files :mod:`dlcourse.checks.callables` and :mod:`dlcourse.checks.call` (each
imports only NumPy), so the calls are made exactly as the notebook's checks make them.
Everything it writes is untrusted: the grader reads it as plain JSON and ``.npy`` files loaded with ``allow_pickle=False``.

``RUN_DIR/job.json``: ``{"cells": [source, ...], "skip": [cell indices],
"parts": [{"function", "params", "cases": [[args, [[name, value], ...]], ...]}, ...], "first": k}``;
arrays are ``{"nd": name}`` referring to ``RUN_DIR/in/name.npy``. It sends JSON messages,
one per line, on the pipe ``FD``: ``{"progress": i}`` before cell ``i``, ``{"setup":
{"errors": [...]}}`` after the cells, and for each part ``{"part": k, "outcomes": [...]}``
(arrays in ``out/part<k>_<j>.npy``) or ``{"part": k, "missing": why}``.
"""

import ast
import json
import os
import re
import sys

import numpy as np

RUN = sys.argv[1]
PIPE = int(sys.argv[2])  # the write end of the grader's pipe: one JSON message per line
OUT = os.path.join(RUN, "out")
sys.modules["dlcourse"] = None  # `import dlcourse` raises ImportError (the files are not there either)
sys.path.insert(0, RUN)
import _call  # noqa: E402
import _callables  # noqa: E402

sys.path.remove(RUN)
sys.path.append(os.getcwd())
_MAGIC = re.compile(r"^(\s*)[%!].*$", re.M)


def send(message):
    """One JSON message to the grader, on one line."""
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(PIPE, data):]


def decode(v):
    if isinstance(v, list):
        return [decode(x) for x in v]
    if not isinstance(v, dict):
        return v
    if "nd" in v:
        return np.load(os.path.join(RUN, "in", v["nd"] + ".npy"), allow_pickle=False)
    if "np" in v:
        return np.load(os.path.join(RUN, "in", v["np"] + ".npy"), allow_pickle=False)[()]
    if "tuple" in v:
        return tuple(decode(x) for x in v["tuple"])
    if "fn" in v:
        return _callables.build(v["fn"], {k: decode(x) for k, x in v["params"].items()})
    if "float" in v:
        return float(v["float"])
    if "int" in v:
        return int(v["int"])
    if "bool" in v:
        return bool(v["bool"])
    if "str" in v:
        return str(v["str"])
    return None


class Encoder:
    """Encode a returned value as JSON plus ``.npy`` files (ndarray subclasses become plain arrays)."""

    def __init__(self, prefix):
        self.prefix, self.n = prefix, 0

    def array(self, a, key):
        name = f"{self.prefix}_{self.n}"
        self.n += 1
        np.save(os.path.join(OUT, name + ".npy"), a, allow_pickle=False)
        return {key: name}

    def __call__(self, v, depth=0):
        if depth > 8:
            return {"obj": "nested too deep"}
        if isinstance(v, (bool, np.bool_)) and not isinstance(v, np.ndarray):
            return {"bool": bool(v)} if isinstance(v, bool) else self.array(np.asarray(v), "np")
        if isinstance(v, np.generic):
            return self.array(np.asarray(v), "np") if v.dtype.kind in "biufc" else {"obj": type(v).__name__}
        if isinstance(v, int):
            return {"int": str(int(v))}
        if isinstance(v, float):
            return {"float": repr(float(v))}
        if isinstance(v, np.ndarray):
            a = np.array(v, copy=True, subok=False)
            return self.array(a, "nd") if a.dtype.kind in "biufc" else {"obj": f"ndarray of dtype {a.dtype}"}
        if isinstance(v, (tuple, list)):
            return {"tuple" if isinstance(v, tuple) else "list": [self(x, depth + 1) for x in v]}
        if v is None:
            return {"none": True}
        if isinstance(v, str):
            return {"str": v[:1000]}
        return {"obj": type(v).__name__}


def call(fn, args, kwargs, params, enc):
    pristine = (tuple(decode(x) for x in args), {k: decode(x) for k, x in kwargs})
    a, kw = tuple(decode(x) for x in args), {k: decode(x) for k, x in kwargs}
    rec = _call.call(fn, a, kw, pristine, params, catch=BaseException)  # SystemExit, KeyboardInterrupt too
    try:
        rec["value"] = enc(rec["value"]) if rec["error"] is None else {"none": True}
    except BaseException as exc:  # noqa: BLE001
        rec["value"], rec["error"] = {"none": True}, f"the returned value could not be read ({type(exc).__name__})"
    return rec


def run_cells(cells, skip, ns):
    errors = []
    for i, src in enumerate(cells):
        if i in skip or src.lstrip().startswith("%%"):
            continue
        send({"progress": i})
        try:
            tree = ast.parse(_MAGIC.sub(r"\1pass", src))
        except SyntaxError as exc:
            errors.append(f"cell {i}: SyntaxError: {exc.msg}")
            continue
        for stmt in tree.body:  # one statement at a time: a failing import does not hide the next def
            try:
                exec(compile(ast.Module([stmt], []), f"<cell {i}>", "exec"), ns)
            except BaseException as exc:  # noqa: BLE001
                errors.append(f"cell {i}: {type(exc).__name__}: {str(exc)[:200]}")
    return errors


def main():
    with open(os.path.join(RUN, "job.json")) as f:
        job = json.load(f)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    ns = {"__name__": "__main__", "__builtins__": __builtins__}
    errors = run_cells(job["cells"], set(job["skip"]), ns)
    send({"setup": {"errors": errors[:50]}})
    for k, part in enumerate(job["parts"]):
        if k < job["first"]:
            continue
        fn = ns.get(part["function"])
        if not callable(fn):
            send({"part": k, "missing": f"`{part['function']}` is not defined"})
            continue
        enc = Encoder(f"part{k}")
        outcomes = [call(fn, args, kwargs, part["params"], enc) for args, kwargs in part["cases"]]
        send({"part": k, "outcomes": outcomes})


if __name__ == "__main__":
    main()
    os._exit(0)
