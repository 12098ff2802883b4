"""Static looks at a learner's code: near copies of the reference, and references to ``dlcourse``.

What is compared
----------------
A graded function is compared *with the helpers it calls inlined*: every top-level
``def`` (and ``name = lambda ...``) in the learner's code cells is a helper, and a call
to one is replaced by its body, transitively, at most :data:`MAX_DEPTH` levels deep and
never into a function already being inlined (recursion is left as a call). The
reference's code is inlined the same way: its module's functions, what it imports from
``dlcourse`` and, in a method, ``self.method(...)``. Every inlining depth from 0 (the
function alone) to :data:`MAX_DEPTH` is tried on both sides, against every definition
:func:`reference_sources` finds, and the best similarity counts.

The normalised token stream
---------------------------
Before tokens are taken the code is normalised so that cosmetic changes do not matter:

* docstrings, bare string statements, ``pass`` and imports inside the function are dropped
  (comments never reach the syntax tree);
* ``numpy`` and any alias of it become ``np``, ``from numpy import exp`` makes ``exp`` into
  ``np.exp``;
* a temporary assigned once and read once (``a = x @ W; return a + b``) is substituted
  into its use (``return x @ W + b``), so splitting or joining a statement changes nothing;
* within a block, statements that do not depend on each other (neither reads or writes
  what the other writes; ``return``/``raise``/``break``/``continue``/``yield`` are fixed
  points) are put in a canonical order, so swapping independent statements changes nothing;
  so are the pairs of a tuple assignment (``a, b = x, y`` and ``b, a = y, x``);
* local names (parameters, variables) become their order of first appearance, and a name
  that resolves to a helper (the learner's or the reference's) becomes ``F``; attribute
  names (``np.exp``), other global names and constants are kept.

Similarity is :class:`difflib.SequenceMatcher`'s ratio of two token streams. A learner's
variant with fewer than :data:`MIN_TOKENS` tokens is never flagged (there are only so
many ways to write ``np.maximum(z, 0)``), and a flag needs :data:`THRESHOLD`. A flag is
a lead for the instructor, never a verdict.
"""

from __future__ import annotations

import ast
import copy
import difflib
import functools
import importlib
import inspect
import itertools
import textwrap
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["learner_function", "learner_code", "LearnerCode", "tokens", "variants", "similarity", "MAX_NODES",
           "reference_sources", "near_copy", "best_similarity", "graded_functions", "MIN_TOKENS", "THRESHOLD", "MAX_DEPTH"]

MIN_TOKENS = 80
THRESHOLD = 0.92
#: Levels of helper calls inlined (a helper's helpers are level 2 ...).
MAX_DEPTH = 3
#: Syntax-tree nodes inlining may add to one function (a bound on pathological inputs: a helper
#: calling a helper a hundred times, three levels deep); past it, calls stay calls.
MAX_NODES = 5000

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass
class LearnerCode:
    """What the learner's cells define at top level: helpers by name, and the names bound to NumPy."""

    defs: dict[str, ast.AST] = field(default_factory=dict)
    numpy: dict[str, str] = field(default_factory=dict)   # name -> "np" or "np.<attr>"
    given: set[str] = field(default_factory=set)          # helpers exactly as the released notebook has them


def _numpy_binding(node: ast.AST, out: dict[str, str]) -> None:
    if isinstance(node, ast.Import):
        for a in node.names:
            if a.name == "numpy" or a.name.startswith("numpy."):
                if a.asname:
                    out[a.asname] = "np" + a.name[len("numpy"):]
                else:
                    out["numpy"] = "np"
    elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "numpy" and not node.level:
        prefix = "np" + (node.module or "")[len("numpy"):]
        for a in node.names:
            if a.name != "*":
                out[a.asname or a.name] = f"{prefix}.{a.name}"


def _lambda_def(name: str, lam: ast.Lambda) -> ast.FunctionDef:
    fn = ast.FunctionDef(name=name, args=lam.args, body=[ast.Return(value=lam.body)], decorator_list=[],
                         returns=None, type_comment=None)
    if hasattr(ast.FunctionDef, "type_params"):  # Python 3.12+
        fn.type_params = []
    return ast.copy_location(fn, lam)


def _dump(node: ast.AST) -> str:
    return ast.dump(node, annotate_fields=False, include_attributes=False)


def learner_code(cells: list[str], given: list[str] = ()) -> LearnerCode:
    """The learner's top-level definitions (the last of each name wins) and NumPy aliases.

    ``given`` is the released notebook's code: a helper defined exactly as there (starter
    code every learner has) is never inlined, since copying it is not copying.
    """
    code = LearnerCode()
    released = set()
    for tree in _trees(given):
        released |= {_dump(n) for n in tree.body if isinstance(n, _FUNCS)}
    for tree in _trees(cells):
        for node in ast.walk(tree):
            _numpy_binding(node, code.numpy)
        for node in tree.body:
            if isinstance(node, _FUNCS):
                code.defs[node.name] = node
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        code.defs[t.id] = _lambda_def(t.id, node.value)
    code.given = {name for name, node in code.defs.items() if _dump(node) in released}
    return code


def _trees(sources):
    """The syntax tree of each source that parses (a cell with a syntax error is skipped)."""
    for src in sources:
        try:
            yield ast.parse(src)
        except SyntaxError:
            continue


def learner_function(cells: list[str], name: str, given: list[str] = ()) -> tuple[ast.FunctionDef | None, set[str]]:
    """The last top-level ``def name`` in the cells, and the names the cells import from ``dlcourse``.

    The returned node carries the whole notebook's definitions as ``node.learner_code``
    (a :class:`LearnerCode`, see :func:`learner_code` for ``given``), which :func:`near_copy` inlines.
    """
    found, from_dlcourse = None, set()
    for tree in _trees(cells):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                from_dlcourse |= {(a.asname or a.name).split(".")[0] for a in node.names
                                  if a.name.split(".")[0] == "dlcourse"}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "dlcourse":
                from_dlcourse |= {a.asname or a.name for a in node.names}
        for node in tree.body:
            if isinstance(node, _FUNCS) and node.name == name:
                found = node
    if found is not None:
        found.learner_code = learner_code(cells, given)
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


# ---- where helpers come from ------------------------------------------------------------------
class _Scope:
    """How names in one function resolve: ``helper(node, name)`` gives ``(def, scope)`` to inline or None,
    ``is_helper(name)`` says whether a global name is a function, ``numpy`` maps NumPy aliases."""

    numpy: dict[str, str] = {}

    def helper(self, fn: ast.AST, call: ast.Call):
        return None

    def is_helper(self, name: str) -> bool:
        return False


class _LearnerScope(_Scope):
    """The learner's top-level definitions; those in ``keep`` (the assignment's other graded functions,
    judged on their own) stay calls."""

    def __init__(self, code: LearnerCode, keep: frozenset[str] = frozenset()):
        self.code, self.numpy, self.keep = code, code.numpy, keep

    def helper(self, fn, call):
        if (isinstance(call.func, ast.Name) and call.func.id not in _locals(fn)
                and call.func.id not in self.keep and call.func.id not in self.code.given):
            found = self.code.defs.get(call.func.id)
            return (found, self, False) if found is not None else None
        return None

    def is_helper(self, name):
        return name in self.code.defs


def _from_dlcourse(obj) -> bool:
    return str(getattr(obj, "__module__", "") or "").split(".")[0] == "dlcourse"


@functools.lru_cache(maxsize=4096)
def _def_of(func) -> ast.AST | None:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    name = getattr(func, "__name__", None)
    return next((n for n in ast.walk(tree) if isinstance(n, _FUNCS) and n.name == name), None)


class _ReferenceScope(_Scope):
    """A reference definition's names: its module's globals, its own ``from ... import``, ``self`` methods."""

    def __init__(self, module, cls=None):
        self.module, self.cls = module, cls
        self.numpy = {}
        for name, value in vars(module).items() if module is not None else ():
            mod = getattr(value, "__name__", "") if inspect.ismodule(value) else ""
            if mod == "numpy" or mod.startswith("numpy."):
                self.numpy[name] = "np" + mod[len("numpy"):]

    def _lookup(self, fn, name):
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    if (a.asname or a.name) == name:
                        try:
                            return getattr(importlib.import_module(node.module), a.name, None)
                        except ImportError:
                            return None
        return getattr(self.module, name, None)

    def _target(self, obj, bound: bool):
        """(def, scope, skips first param) for a function or a dlcourse callable instance."""
        if inspect.isfunction(obj) and _from_dlcourse(obj):
            node = _def_of(obj)
            if node is not None:
                return node, _ReferenceScope(inspect.getmodule(obj), self.cls if bound else None), bound
        elif not inspect.isclass(obj) and not inspect.isroutine(obj) and _from_dlcourse(type(obj)):
            call = getattr(type(obj), "__call__", None)
            if inspect.isfunction(call) and _from_dlcourse(call):
                node = _def_of(call)
                if node is not None:
                    return node, _ReferenceScope(inspect.getmodule(call), type(obj)), True
        return None

    def helper(self, fn, call):
        f = call.func
        if isinstance(f, ast.Name):
            if f.id in _locals(fn):
                return None
            return self._target(self._lookup(fn, f.id), False)
        if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self"
                and self.cls is not None):
            return self._target(getattr(self.cls, f.attr, None), True)
        return None

    def is_helper(self, name):
        obj = getattr(self.module, name, None)
        return inspect.isfunction(obj) or (obj is not None and _from_dlcourse(type(obj))
                                           and callable(obj) and not inspect.isclass(obj))


# ---- inlining ------------------------------------------------------------------------------------
def _body(fn: ast.AST) -> list[ast.stmt]:
    return [copy.deepcopy(s) for s in getattr(fn, "body", [])]


def _params(fn: ast.AST) -> list[ast.arg]:
    a = fn.args
    return list(a.posonlyargs) + list(a.args) + list(a.kwonlyargs)


def _locals(fn: ast.AST) -> set[str]:
    names = {p.arg for p in ast.walk(fn.args) if isinstance(p, ast.arg)}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str], subst: dict[str, ast.expr]):
        self.mapping, self.subst = mapping, subst

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id in self.subst:
            return copy.deepcopy(self.subst[node.id])
        if node.id in self.mapping:
            node.id = self.mapping[node.id]
        return node

    def visit_arg(self, node):
        if node.arg in self.mapping:
            node.arg = self.mapping[node.arg]
        return node


def _has(nodes, kinds, stop=_SCOPES) -> bool:
    todo = list(nodes)
    while todo:
        n = todo.pop()
        if isinstance(n, kinds):
            return True
        if not isinstance(n, stop):
            todo.extend(ast.iter_child_nodes(n))
    return False


class _Returns(ast.NodeTransformer):
    """``return e`` -> ``ret = e`` (not into nested scopes)."""

    def __init__(self, ret: str):
        self.ret = ret

    def visit_Return(self, node):
        value = node.value if node.value is not None else ast.Constant(None)
        return ast.copy_location(ast.Assign(targets=[ast.Name(self.ret, ast.Store())], value=value), node)

    def visit_FunctionDef(self, node):
        return node

    visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = visit_FunctionDef


class _Inliner:
    def __init__(self, depth: int):
        self.depth, self.counter, self.size = depth, itertools.count(), 0

    def function(self, fn: ast.AST, scope: _Scope) -> list[ast.stmt]:
        return self.block(_body(fn), fn, scope, self.depth, (getattr(fn, "name", None),))

    def block(self, stmts, fn, scope, depth, stack) -> list[ast.stmt]:
        out = []
        for s in stmts:
            out += self.stmt(s, fn, scope, depth, stack)
        return out

    def stmt(self, s, fn, scope, depth, stack) -> list[ast.stmt]:
        if isinstance(s, _FUNCS + (ast.ClassDef,)):
            return [s]
        prelude: list[ast.stmt] = []
        calls = _Calls(self, fn, scope, depth, stack, prelude)
        for name, value in ast.iter_fields(s):
            if name in ("body", "orelse", "finalbody") and isinstance(value, list):
                setattr(s, name, self.block(value, fn, scope, depth, stack))
            elif name in ("handlers", "cases"):
                for h in value:
                    h.body = self.block(h.body, fn, scope, depth, stack)
            elif isinstance(value, ast.AST):
                setattr(s, name, calls.visit(value))
            elif isinstance(value, list):
                setattr(s, name, [calls.visit(v) if isinstance(v, ast.AST) else v for v in value])
        return prelude + [s]

    def expand(self, call: ast.Call, target, depth, stack, prelude):
        """The expression that replaces ``call`` (its body goes to ``prelude``), or None to keep the call."""
        node, scope, skip_first = target
        name = getattr(node, "name", None)
        a = node.args
        if (depth <= 0 or name in stack or a.vararg or a.kwarg or self.size > MAX_NODES
                or any(isinstance(x, ast.Starred) for x in call.args)
                or any(k.arg is None for k in call.keywords)):
            return None
        params = _params(node)
        positional = list(a.posonlyargs) + list(a.args)
        if skip_first and positional:
            positional, params = positional[1:], [p for p in params if p is not positional[0]]
        if len(call.args) > len(positional):
            return None
        k = next(self.counter)
        local = _locals(node)
        mapping = {n: f"_i{k}_{n}" for n in local}
        bound: dict[str, ast.expr] = dict(zip((p.arg for p in positional), call.args))
        for kw in call.keywords:
            if kw.arg not in {p.arg for p in params}:
                return None
            bound[kw.arg] = kw.value
        defaults = dict(zip((p.arg for p in positional[len(positional) - len(a.defaults):]), a.defaults))
        defaults.update({p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
        stored = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        subst, assigns = {}, []
        for p in params:
            value = bound.get(p.arg, defaults.get(p.arg))
            if value is None:
                continue
            if isinstance(value, (ast.Name, ast.Constant)) and p.arg not in stored:
                subst[mapping[p.arg]] = value
            else:
                assigns.append(ast.Assign(targets=[ast.Name(mapping[p.arg], ast.Store())], value=value))
        body = [s for s in _body(node) if not _is_noise(s)]
        body = [_Rename(mapping, {}).visit(s) for s in body]
        body = [_Rename({}, subst).visit(s) for s in body]
        body = self.block(body, node, scope, depth - 1, stack + (name,))
        self.size += sum(1 for s in body for _ in ast.walk(s))
        if body and isinstance(body[-1], ast.Return) and not _has(body[:-1], ast.Return):
            result = body[-1].value if body[-1].value is not None else ast.Constant(None)
            prelude += assigns + body[:-1]
            return result
        if not _has(body, ast.Return):
            prelude += assigns + body
            return ast.Constant(None)
        ret = f"_i{k}_return"
        prelude += assigns + [_Returns(ret).visit(s) for s in body]
        return ast.Name(ret, ast.Load())


class _Calls(ast.NodeTransformer):
    def __init__(self, inliner, fn, scope, depth, stack, prelude):
        self.inliner, self.fn, self.scope, self.depth, self.stack, self.prelude = \
            inliner, fn, scope, depth, stack, prelude

    def visit_Call(self, node):
        self.generic_visit(node)
        target = self.scope.helper(self.fn, node)
        if target is None:
            return node
        new = self.inliner.expand(node, target, self.depth, self.stack, self.prelude)
        return node if new is None else new

    def visit_Lambda(self, node):
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda


# ---- normalisation ---------------------------------------------------------------------------
def _is_noise(s: ast.stmt) -> bool:
    return (isinstance(s, ast.Pass) or isinstance(s, (ast.Import, ast.ImportFrom))
            or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)))


class _Clean(ast.NodeTransformer):
    """Drop docstrings/pass/imports in every block; NumPy aliases -> ``np``."""

    def __init__(self, numpy: dict[str, str], local: set[str]):
        self.numpy, self.local = numpy, local

    def generic_visit(self, node):
        super().generic_visit(node)
        for name in ("body", "orelse", "finalbody"):
            value = getattr(node, name, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                kept = [s for s in value if not _is_noise(s)]
                setattr(node, name, kept or [ast.Pass()])
        return node

    def visit_Name(self, node):
        if node.id in self.local or node.id not in self.numpy:
            return node
        parts = self.numpy[node.id].split(".")
        new: ast.expr = ast.Name(parts[0], node.ctx)
        for attr in parts[1:]:
            new = ast.Attribute(new, attr, node.ctx)
        return new


def _sort_tuples(body: list[ast.stmt], key: Callable[[ast.AST], str]) -> None:
    """``b, a = y, x`` and ``a, b = x, y`` alike: the pairs of a tuple assignment in a canonical order
    (when no value reads a target), in every block."""
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple)
                and isinstance(node.value, ast.Tuple) and len(node.targets[0].elts) == len(node.value.elts)
                and all(isinstance(t, ast.Name) for t in node.targets[0].elts)
                and not any(isinstance(e, ast.Starred) for e in node.value.elts)):
            targets = {t.id for t in node.targets[0].elts}
            if any(isinstance(n, ast.Name) and n.id in targets for n in ast.walk(node.value)):
                continue
            pairs = sorted(zip(node.targets[0].elts, node.value.elts), key=lambda p: key(p[1]))
            node.targets[0].elts = [t for t, _ in pairs]
            node.value.elts = [v for _, v in pairs]


def _substitute(body: list[ast.stmt], params: set[str]) -> list[ast.stmt]:
    """Substitute temporaries that are assigned once (``name = expr``) and read once, later."""
    holder = ast.Module(body=body, type_ignores=[])
    for _ in range(200):
        order = []
        for node in _walk_in_order(holder):
            order.append(node)
        stores, loads, assigns = {}, {}, {}
        for pos, node in enumerate(order):
            if isinstance(node, ast.Name):
                (loads if isinstance(node.ctx, ast.Load) else stores).setdefault(node.id, []).append((pos, node))
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                params = params | set(node.names)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                assigns[node.targets[0].id] = (pos, node)
        in_scopes = {n.id for s in order if isinstance(s, _SCOPES) for n in ast.walk(s) if isinstance(n, ast.Name)}
        done = False
        for name, (pos, stmt) in assigns.items():
            if (name in params or name in in_scopes or len(stores.get(name, ())) != 1
                    or len(loads.get(name, ())) != 1 or loads[name][0][0] < pos
                    or stores[name][0][1] is not stmt.targets[0]):
                continue
            use = loads[name][0][1]
            if any(isinstance(n, ast.Name) and n is use for n in ast.walk(stmt.value)):
                continue
            _replace(holder, use, stmt.value)
            _remove(holder, stmt)
            done = True
            break
        if not done:
            break
    return holder.body


def _walk_in_order(node):
    """Pre-order, source order (unlike :func:`ast.walk`): an assignment's value before its target."""
    yield node
    if isinstance(node, ast.Assign):
        kids = [node.value] + list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        kids = [node.value, node.target] if node.value is not None else [node.target]
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        kids = [node.iter, node.target] + node.body + node.orelse
    else:
        kids = list(ast.iter_child_nodes(node))
    for k in kids:
        yield from _walk_in_order(k)


def _replace(root, old, new):
    for parent in ast.walk(root):
        for name, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, name, new)
                return
            if isinstance(value, list):
                for i, v in enumerate(value):
                    if v is old:
                        value[i] = new
                        return


def _remove(root, stmt):
    for parent in ast.walk(root):
        for name, value in ast.iter_fields(parent):
            if isinstance(value, list) and any(v is stmt for v in value):
                kept = [v for v in value if v is not stmt]
                setattr(parent, name, kept or [ast.Pass()])
                return


_BARRIERS = (ast.Return, ast.Raise, ast.Break, ast.Continue, ast.Yield, ast.YieldFrom, ast.Await,
             ast.Global, ast.Nonlocal, ast.Assert)


def _effects(s: ast.stmt) -> tuple[set[str], set[str], bool]:
    """(names read, names written or mutated, is a barrier) of one statement."""
    reads, writes = set(), set()
    barrier = isinstance(s, _FUNCS + (ast.ClassDef, ast.Try)) or _has([s], _BARRIERS)
    for node in ast.walk(s):
        if isinstance(node, ast.Name):
            (reads if isinstance(node.ctx, ast.Load) else writes).add(node.id)
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            base = node
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                writes.add(base.id)
        elif isinstance(node, ast.Call):
            # a call may mutate what it is given or the object it is a method of
            for arg in list(node.args) + [k.value for k in node.keywords] + [node.func]:
                base = arg.value if isinstance(arg, ast.Attribute) else arg
                while isinstance(base, (ast.Subscript, ast.Attribute)):
                    base = base.value
                if isinstance(base, ast.Name):
                    writes.add(base.id)
    if isinstance(s, ast.AugAssign) and isinstance(s.target, ast.Name):
        reads.add(s.target.id)
    return reads, writes, barrier


def _reorder(body: list[ast.stmt], key: Callable[[ast.stmt], str]) -> list[ast.stmt]:
    """Independent statements in a canonical order (recursively in nested blocks)."""
    for s in body:
        for name in ("body", "orelse", "finalbody"):
            value = getattr(s, name, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                setattr(s, name, _reorder(value, key))
        for h in getattr(s, "handlers", []) or []:
            h.body = _reorder(h.body, key)
    if len(body) < 2 or len(body) > 200:
        return body
    eff = [_effects(s) for s in body]
    keys = [key(s) for s in body]
    preds = [set() for _ in body]
    for j in range(len(body)):
        rj, wj, bj = eff[j]
        for i in range(j):
            ri, wi, bi = eff[i]
            if bi or bj or wi & (rj | wj) or ri & wj:
                preds[j].add(i)
    out, done = [], set()
    while len(out) < len(body):
        ready = [j for j in range(len(body)) if j not in done and preds[j] <= done]
        j = min(ready, key=lambda j: (keys[j], j))
        done.add(j)
        out.append(body[j])
    return out


def _emit(stmts: list[ast.stmt], local: set[str], helper: Callable[[str], bool], numbered: bool) -> list[str]:
    names: dict[str, str] = {}
    out: list[str] = []
    for stmt in stmts:
        for node in ast.walk(stmt):
            out.append(type(node).__name__)
            if isinstance(node, ast.Name):
                if node.id in local:
                    out.append(names.setdefault(node.id, f"v{len(names)}") if numbered else "v")
                else:
                    out.append("F" if helper(node.id) else node.id)
            elif isinstance(node, ast.arg):
                out.append(names.setdefault(node.arg, f"v{len(names)}") if numbered else "v")
            elif isinstance(node, ast.Attribute):
                out.append(node.attr)
            elif isinstance(node, ast.Constant):
                out.append(repr(node.value)[:20])
    return out


def _tokens(fn: ast.AST, scope: _Scope, depth: int) -> list[str]:
    if not hasattr(fn, "args"):
        return []
    inliner = _Inliner(depth)
    body = inliner.function(fn, scope)
    holder = ast.FunctionDef(name="f", args=copy.deepcopy(fn.args), body=body or [ast.Pass()], decorator_list=[])
    local = _locals(holder)
    holder = _Clean(scope.numpy, local).visit(holder)
    params = {p.arg for p in ast.walk(holder.args) if isinstance(p, ast.arg)}
    body = _substitute(holder.body, params)
    local = _locals(ast.FunctionDef(name="f", args=holder.args, body=body, decorator_list=[]))
    _sort_tuples(body, lambda e: " ".join(_emit([e], local, scope.is_helper, False)))
    body = _reorder(body, lambda s: " ".join(_emit([s], local, scope.is_helper, False)))
    return _emit(body, local, scope.is_helper, True)


def tokens(fn: ast.AST, depth: int = 0) -> list[str]:
    """The normalised token stream of a function definition (see the module docstring).

    ``depth`` levels of the learner's helpers are inlined when ``fn`` came from
    :func:`learner_function` (which attaches the notebook's definitions).
    """
    code = getattr(fn, "learner_code", None)
    return _tokens(fn, _LearnerScope(code) if code is not None else _Scope(), depth)


def variants(fn: ast.AST, scope: _Scope | None = None, keep: frozenset[str] = frozenset()) -> list[list[str]]:
    """Distinct token streams of ``fn`` inlined 0 .. :data:`MAX_DEPTH` levels deep (``keep``: names
    never inlined)."""
    if scope is None:
        code = getattr(fn, "learner_code", None)
        scope = _LearnerScope(code, frozenset(keep)) if code is not None else _Scope()
    out: list[list[str]] = []
    for depth in range(MAX_DEPTH + 1):
        t = _tokens(fn, scope, depth)
        if t not in out:
            out.append(t)
    return out


def similarity(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


# ---- the reference's code ------------------------------------------------------------------------
def _source_defs(obj) -> list[ast.AST]:
    """Function definitions in the source of ``obj`` (a function, or a class's methods)."""
    try:
        src = textwrap.dedent(inspect.getsource(obj))
        tree = ast.parse(src)
    except (OSError, TypeError, SyntaxError):
        return []
    return [n for n in ast.walk(tree) if isinstance(n, _FUNCS)]


def _targets(reference) -> list:
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
    out = []
    for obj in targets:
        if obj is None:
            continue
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            obj = type(obj)  # an instance such as dlcourse.activations.sigmoid: its class
        out.append(obj)
    return out


def reference_sources(reference) -> list[ast.AST]:
    """The reference's definitions, plus those of the ``dlcourse`` objects its code uses."""
    return [node for node, _ in _reference_units(reference)]


def _reference_units(reference) -> list[tuple[ast.AST, _Scope]]:
    units = [(d, _ReferenceScope(inspect.getmodule(reference))) for d in _source_defs(reference)]
    for obj in _targets(reference):
        found = _source_defs(obj)
        scope = _ReferenceScope(inspect.getmodule(obj), obj if inspect.isclass(obj) else None)
        units += [(d, scope) for d in found]
        units += [(d, _ReferenceScope(inspect.getmodule(obj))) for d in _helpers(obj, found)]
    return units


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


@functools.lru_cache(maxsize=256)
def _reference_streams(reference) -> tuple[tuple[str, ...], ...]:
    out: list[tuple[str, ...]] = []
    for node, scope in _reference_units(reference):
        for t in variants(node, scope):
            t = tuple(t)
            if len(t) >= MIN_TOKENS // 2 and t not in out:
                out.append(t)
    return tuple(out)


def graded_functions(reference) -> frozenset[str]:
    """The functions the learner writes for the reference's assignment (its module's ``PARTS``)."""
    return frozenset(getattr(p, "function", None) for p in getattr(inspect.getmodule(reference), "PARTS", ()))


def best_similarity(fn: ast.AST, reference, graded: frozenset[str] | None = None) -> tuple[float, int]:
    """The best similarity of any of ``fn``'s variants long enough to judge, and the longest variant's length.

    Pairs whose lengths alone keep them below :data:`THRESHOLD` are not compared (the
    best is then that of the pairs that could reach it, 0.0 if none could).

    The learner's other graded functions (``graded``, by default those of the reference's
    assignment) are not inlined: each is judged on its own, and a graded function is meant
    to call them; inlining them would add up helpers each too short to judge.
    """
    best, size = 0.0, 0
    theirs = _reference_streams(reference)
    graded = graded_functions(reference) if graded is None else frozenset(graded)
    for mine in variants(fn, keep=graded - {getattr(fn, "name", None)}):
        if len(mine) < MIN_TOKENS:
            size = max(size, len(mine))
            continue
        size = max(size, len(mine))
        for ref in theirs:
            bound = 2 * min(len(mine), len(ref)) / (len(mine) + len(ref))
            if bound <= best or bound < THRESHOLD:  # the ratio cannot exceed this bound
                continue
            sm = difflib.SequenceMatcher(None, mine, ref, autojunk=False)
            if sm.real_quick_ratio() <= best or sm.quick_ratio() <= best:
                continue
            best = max(best, sm.ratio())
    return best, size


def near_copy(fn: ast.AST, reference, graded: frozenset[str] | None = None) -> float | None:
    """The best similarity to the reference's code if it reaches :data:`THRESHOLD`, else None.

    ``fn`` is compared alone and with the learner's helpers inlined (when it came from
    :func:`learner_function`); a variant shorter than :data:`MIN_TOKENS` never counts.
    """
    if fn is None:
        return None
    best, _ = best_similarity(fn, reference, graded)
    return best if best >= THRESHOLD else None
