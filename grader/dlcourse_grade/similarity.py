"""Static looks at a learner's function: near copies of the reference, and references to ``dlcourse``.

Similarity is measured on a normalised token stream of the function's syntax tree:
the docstring is dropped, every local name (parameters, variables) becomes its order
of first appearance, and attribute names (``np.exp``), global names and constants are
kept. Two functions that differ only in naming and comments score 1.0. Functions too
short to say anything (a one-line body) are never flagged: there are only so many
ways to write ``np.maximum(z, 0)``.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import inspect
import textwrap

__all__ = ["learner_function", "tokens", "similarity", "reference_sources", "near_copy", "MIN_TOKENS",
           "THRESHOLD"]

MIN_TOKENS = 80
THRESHOLD = 0.92


def learner_function(cells: list[str], name: str) -> tuple[ast.FunctionDef | None, set[str]]:
    """The last top-level ``def name`` in the cells, and the names the cells import from ``dlcourse``."""
    found, from_dlcourse = None, set()
    for src in cells:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                from_dlcourse |= {(a.asname or a.name).split(".")[0] for a in node.names
                                  if a.name.split(".")[0] == "dlcourse"}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "dlcourse":
                from_dlcourse |= {a.asname or a.name for a in node.names}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                found = node
    return found, from_dlcourse


def names_dlcourse(fn: ast.AST, from_dlcourse: set[str]) -> str | None:
    """A reason if the function's code names ``dlcourse`` or something imported from it."""
    for node in ast.walk(fn):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(m.split(".")[0] == "dlcourse" for m in mods):
                return "it imports dlcourse"
        if isinstance(node, ast.Name) and (node.id == "dlcourse" or node.id in from_dlcourse):
            return f"it uses `{node.id}`, which comes from dlcourse"
    return None


def tokens(fn: ast.AST) -> list[str]:
    """The normalised token stream of a function definition (see the module docstring)."""
    local: dict[str, str] = {}
    args = {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)} if hasattr(fn, "args") else set()
    stored = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    locals_ = args | stored
    body = list(getattr(fn, "body", []))
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    out: list[str] = []
    for stmt in body:
        for node in ast.walk(stmt):
            out.append(type(node).__name__)
            if isinstance(node, ast.Name):
                out.append(local.setdefault(node.id, f"v{len(local)}") if node.id in locals_ else node.id)
            elif isinstance(node, ast.arg):
                out.append(local.setdefault(node.arg, f"v{len(local)}"))
            elif isinstance(node, ast.Attribute):
                out.append(node.attr)
            elif isinstance(node, ast.Constant):
                out.append(repr(node.value)[:20])
    return out


def similarity(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _source_defs(obj) -> list[ast.AST]:
    """Function definitions in the source of ``obj`` (a function, or a class's methods)."""
    try:
        src = textwrap.dedent(inspect.getsource(obj))
        tree = ast.parse(src)
    except (OSError, TypeError, SyntaxError):
        return []
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def reference_sources(reference) -> list[ast.AST]:
    """The reference's definitions, plus those of the ``dlcourse`` objects its code uses."""
    defs = _source_defs(reference)
    targets = []
    for node in list(defs):
        for sub in ast.walk(node):
            if isinstance(sub, ast.ImportFrom) and (sub.module or "").startswith("dlcourse"):
                try:
                    mod = importlib.import_module(sub.module)
                except ImportError:
                    continue
                targets += [getattr(mod, a.name, None) for a in sub.names]
    for name in getattr(getattr(reference, "__code__", None), "co_names", ()):
        obj = getattr(reference, "__globals__", {}).get(name)
        if getattr(obj, "__module__", "") and str(getattr(obj, "__module__", "")).startswith("dlcourse"):
            targets.append(obj)
    for obj in targets:
        if obj is None:
            continue
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            obj = type(obj)  # an instance such as dlcourse.activations.sigmoid: its class
        found = _source_defs(obj)
        defs += found + _helpers(obj, found)
    return defs


def _helpers(obj, found: list[ast.AST]) -> list[ast.AST]:
    """Module-level functions of ``obj``'s module that its definitions call (one level)."""
    module = inspect.getmodule(obj)
    names = {n.id for d in found for n in ast.walk(d) if isinstance(n, ast.Name)}
    out = []
    for name in sorted(names):
        helper = getattr(module, name, None)
        if inspect.isfunction(helper) and getattr(helper, "__module__", "") == getattr(module, "__name__", None):
            out += _source_defs(helper)
    return out


def near_copy(fn: ast.AST, reference) -> float | None:
    """The best similarity to the reference's code if it reaches :data:`THRESHOLD`, else None."""
    mine = tokens(fn)
    if len(mine) < MIN_TOKENS:
        return None
    best = 0.0
    for ref in reference_sources(reference):
        theirs = tokens(ref)
        if len(theirs) >= MIN_TOKENS // 2:
            best = max(best, similarity(mine, theirs))
    return best if best >= THRESHOLD else None
