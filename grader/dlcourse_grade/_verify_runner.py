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
(arrays in ``out/part<k>_<j>.npy``) or ``{"part": k, "missing": why}``. Each outcome carries
``"after"``, the arguments as the call left them; whether the call changed them in place is
decided by the grader, which knows what it sent (nothing computed in here is trusted).
"""

import ast
import importlib.machinery
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

#: Top-level modules refused whatever the exercise allows (the reference, other frameworks).
DENIED = frozenset({"dlcourse", "dlcourse_grade", "torch", "scipy", "sklearn", "jax", "jaxlib", "tensorflow",
                    "keras", "cupy", "numba"})
BLOCKED = []  # [module, where] of every refused import, sent to the grader
_STATE = {"where": "setup", "allowed": frozenset(), "stdlib": ()}
_PACKAGE_DIRS = ("/site-packages/", "/dist-packages/")


def _allowed(top):
    if top in DENIED:
        return False
    return (top in _STATE["allowed"] or top in sys.stdlib_module_names or top in sys.builtin_module_names
            or _stdlib_module(top) or _learner_module(top))


def _stdlib_module(top):
    """A module of the Python installation's own library folders (``_sysconfigdata_...`` too), not site-packages."""
    found = _where_found(top)
    if not found or any(d in found for d in _PACKAGE_DIRS):
        return False
    return found in ("built-in", "frozen") or any(found.startswith(d + os.sep) for d in _STATE["stdlib"])


def _where_found(top):
    """The file or folder that ``import top`` would load, or None (found by path, not through the finders)."""
    try:
        spec = importlib.machinery.PathFinder.find_spec(top, sys.path)
    except (ImportError, ValueError, OSError):
        return None
    if spec is None:
        return None
    return spec.origin or next(iter(spec.submodule_search_locations or ()), None) or "?"


def _learner_module(top):
    """A module of the learner's own folder (a helper file beside the notebook) is theirs to import."""
    found = _where_found(top)
    return bool(found) and os.path.realpath(found).startswith(os.path.realpath(os.getcwd()) + os.sep)


def _by_learner():
    """Is the import being refused written in the learner's code (not an optional one inside NumPy or SymPy)?"""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith("<frozen") or name == __file__ or "importlib" in name):
            return not any(d in name for d in _PACKAGE_DIRS) and not name.startswith(sys.base_prefix)
        frame = frame.f_back
    return False


def _refuse(name):
    top = name.partition(".")[0]
    if (top in DENIED or _where_found(top)) and _by_learner():  # a missing one fails as usual, unflagged
        BLOCKED.append([top, _STATE["where"]])
    extra = "".join(f", {m}" for m in sorted(_STATE["allowed"] - {"numpy"}))
    raise ModuleNotFoundError(f"import of {top!r} is blocked: this exercise allows NumPy{extra} "
                              "and the standard library only", name=top)


class ImportPolicy:
    """A ``sys.meta_path`` finder, first in the list: an import of a module outside the exercise's allow-list fails."""

    def find_spec(self, name, path=None, target=None):
        if not _allowed(name.partition(".")[0]):
            _refuse(name)
        return None

    def invalidate_caches(self):
        pass


def _audit(event, args):
    """The same rule as an audit hook, which cannot be removed: for ``sys.meta_path`` edited or replaced,
    ``__import__``, ``importlib.import_module``, and files of a refused package opened by path
    (``importlib.util.spec_from_file_location``)."""
    if event == "import" and args and isinstance(args[0], str):
        if not _allowed(args[0].partition(".")[0]):
            _refuse(args[0])
    elif event == "open" and args and isinstance(args[0], str) and any(d in args[0] for d in _PACKAGE_DIRS):
        first = re.split(r"/(?:site|dist)-packages/", args[0])[-1].split("/")[0]
        if first.endswith((".dist-info", ".egg-info", ".pth", ".egg-link")):  # metadata, not code
            return
        top = first.split(".")[0]
        if top and top.isidentifier() and not _allowed(top):
            _refuse(top)


def install_import_policy(allowed):
    """Install the finder and the audit hook before any learner code runs (see :class:`ImportPolicy`)."""
    import sysconfig
    _STATE["allowed"] = frozenset(allowed) | {"numpy"}
    _STATE["stdlib"] = tuple({os.path.realpath(sysconfig.get_paths()[k]) for k in ("stdlib", "platstdlib")})
    sysconfig.get_config_vars()  # loads _sysconfigdata_* now, before the rule is in place
    for name in [m for m in sys.modules if not _allowed(m.partition(".")[0]) and m not in ("_call", "_callables")]:
        sys.modules[name] = None  # pre-loaded by nothing of ours, but never importable from the cache
    sys.meta_path.insert(0, ImportPolicy())
    sys.addaudithook(_audit)


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


def _has_array(v):
    return isinstance(v, np.ndarray) or isinstance(v, tuple) and any(_has_array(x) for x in v)


def _state(v, enc):
    """An argument as the call left it, for the grader's comparison; one without arrays cannot change."""
    return enc(v) if _has_array(v) else {"none": True}


def call(fn, args, kwargs, params, enc):
    pristine = (tuple(decode(x) for x in args), {k: decode(x) for k, x in kwargs})
    a, kw = tuple(decode(x) for x in args), {k: decode(x) for k, x in kwargs}
    rec = _call.call(fn, a, kw, pristine, params, catch=BaseException)  # SystemExit, KeyboardInterrupt too
    try:
        rec["value"] = enc(rec["value"]) if rec["error"] is None else {"none": True}
    except BaseException as exc:  # noqa: BLE001
        rec["value"], rec["error"] = {"none": True}, f"the returned value could not be read ({type(exc).__name__})"
    try:  # the arguments as the call left them: the grader compares them with what it sent
        rec["after"] = {"args": [_state(x, enc) for x in a], "kwargs": [[k, _state(v, enc)] for k, v in kw.items()]}
    except BaseException:  # noqa: BLE001 - the grader then counts every array argument as changed
        rec["after"] = None
    del rec["mutated"]  # computed in here, so not to be trusted: the grader decides
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
    install_import_policy(job.get("allow", ()))
    ns = {"__name__": "__main__", "__builtins__": __builtins__}
    errors = run_cells(job["cells"], set(job["skip"]), ns)
    send({"setup": {"errors": errors[:50], "blocked": BLOCKED[:50]}})
    for k, part in enumerate(job["parts"]):
        if k < job["first"]:
            continue
        fn = ns.get(part["function"])
        if not callable(fn):
            send({"part": k, "missing": f"`{part['function']}` is not defined"})
            continue
        enc = Encoder(f"part{k}")
        _STATE["where"], before = f"part {k}", len(BLOCKED)
        outcomes = [call(fn, args, kwargs, part["params"], enc) for args, kwargs in part["cases"]]
        send({"part": k, "outcomes": outcomes, "blocked": BLOCKED[before:before + 20]})


if __name__ == "__main__":
    main()
    os._exit(0)
