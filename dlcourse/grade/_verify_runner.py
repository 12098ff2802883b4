"""Call a learner's functions on given inputs and write back only data (runs inside the sandbox).

This file is copied into the sandbox and run as ``python -I _verify_runner.py RUN_DIR``
by the learner's unprivileged user, where ``dlcourse`` cannot be imported. It imports
only the standard library, NumPy and ``_callables.py`` (a copy of
:mod:`dlcourse.exercises.callables`). Everything it writes is untrusted: the grader
reads it as plain JSON and ``.npy`` files loaded with ``allow_pickle=False``.

``RUN_DIR/job.json``: ``{"cells": [source, ...], "skip": [cell indices],
"parts": [{"function", "params", "cases": [[args, [[name, value], ...]], ...]}, ...], "first": k}``;
arrays are ``{"nd": name}`` referring to ``RUN_DIR/in/name.npy``. It writes
``RUN_DIR/out/progress`` (the cell being executed), ``out/setup.json`` (cell errors)
and, as each part finishes, ``out/part<k>.json`` with arrays in ``out/part<k>_<j>.npy``.
The calls mirror :func:`dlcourse.grading.run.run_case` (which cannot be imported here).
"""

import ast
import contextlib
import io
import json
import os
import re
import sys
import warnings

import numpy as np

RUN = sys.argv[1]
OUT = os.path.join(RUN, "out")
sys.modules["dlcourse"] = None  # `import dlcourse` raises ImportError (the files are not there either)
sys.path.insert(0, RUN)
import _callables  # noqa: E402

sys.path.remove(RUN)
sys.path.append(os.getcwd())
_MAGIC = re.compile(r"^(\s*)[%!].*$", re.M)


def _write(name, data):
    tmp = os.path.join(OUT, name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, os.path.join(OUT, name))


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


def _changed(before, after):
    if isinstance(before, np.ndarray):
        return not (isinstance(after, np.ndarray) and before.shape == after.shape
                    and np.array_equal(before, after, equal_nan=True))
    if isinstance(before, tuple):
        return any(_changed(b, a) for b, a in zip(before, after))
    return False


def call(fn, args, kwargs, params, enc):
    pristine = (tuple(decode(x) for x in args), {k: decode(x) for k, x in kwargs})
    a, kw = tuple(decode(x) for x in args), {k: decode(x) for k, x in kwargs}
    err, value, error = io.StringIO(), None, None
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"), contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        try:
            value = fn(*a, **kw)
        except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
            error = f"{type(exc).__name__}: {exc}"[:2000]
    mutated = [params[i] if i < len(params) else f"argument {i + 1}"
               for i, (b, x) in enumerate(zip(pristine[0], a)) if _changed(b, x)]
    mutated += [k for k in kw if _changed(pristine[1][k], kw[k])]
    messages = list(dict.fromkeys(str(w.message)[:500] for w in caught))[:10]
    try:
        encoded = enc(value) if error is None else {"none": True}
    except BaseException as exc:  # noqa: BLE001
        encoded, error = {"none": True}, f"the returned value could not be read ({type(exc).__name__})"
    return {"value": encoded, "error": error, "warnings": messages, "mutated": mutated,
            "stderr": err.getvalue()[:2000]}


def run_cells(cells, skip, ns):
    errors = []
    for i, src in enumerate(cells):
        if i in skip or src.lstrip().startswith("%%"):
            continue
        with open(os.path.join(OUT, "progress"), "w") as f:
            f.write(str(i))
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
    _write("setup.json", {"errors": errors[:50]})
    for k, part in enumerate(job["parts"]):
        if k < job["first"]:
            continue
        fn = ns.get(part["function"])
        if not callable(fn):
            _write(f"part{k}.json", {"missing": f"`{part['function']}` is not defined"})
            continue
        enc = Encoder(f"part{k}")
        outcomes = [call(fn, args, kwargs, part["params"], enc) for args, kwargs in part["cases"]]
        _write(f"part{k}.json", {"outcomes": outcomes})


if __name__ == "__main__":
    main()
    os._exit(0)
