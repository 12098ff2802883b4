"""Detect a learner's function that delegates to the reference (``dlcourse``).

Two looks, both in the learner's own kernel (so they are friendly checks, not a
defence: the out-of-kernel grader runs without ``dlcourse`` importable):

* :func:`static_delegation` reads the function's code objects (nested ones too),
  the globals they name, closure cells and defaults, for ``dlcourse`` modules or
  objects defined in ``dlcourse``;
* :class:`DelegationTrap` is a context manager for the call itself: while it is
  active, ``import dlcourse...`` raises ``ImportError`` (imports are poisoned) and
  a profile hook records every call that enters a ``dlcourse`` source file.

Allowed: :mod:`dlcourse.checks` itself (the checking code, and
:mod:`dlcourse.checks.callables`, the functions a part passes as arguments), except
:mod:`dlcourse.checks.assignments`, which holds the references.
"""

from __future__ import annotations

import builtins
import sys
import types
from pathlib import Path

_PKG_DIR = str(Path(__file__).resolve().parents[1])
_PKG_PREFIX = _PKG_DIR + "/"
_CHECKS_PREFIX = str(Path(_PKG_DIR, "checks")) + "/"
_REFERENCES_PREFIX = str(Path(_PKG_DIR, "checks", "assignments")) + "/"
_REFERENCES = "dlcourse.checks.assignments"  # the reference solutions: never allowed
_ALLOWED_MODULES = ("dlcourse.checks",)

__all__ = ["static_delegation", "DelegationTrap", "is_reference_object"]


def _is_dlcourse_name(name: str | None) -> bool:
    if not name or not (name == "dlcourse" or name.startswith("dlcourse.")):
        return False
    if name == _REFERENCES or name.startswith(_REFERENCES + "."):
        return True
    return not any(name == a or name.startswith(a + ".") for a in _ALLOWED_MODULES)


def _is_dlcourse_file(filename: str) -> bool:
    """Is ``filename`` a dlcourse source file outside the checking code (the references included)?"""
    if not filename.startswith(_PKG_PREFIX):
        return False
    return not filename.startswith(_CHECKS_PREFIX) or filename.startswith(_REFERENCES_PREFIX)


def is_reference_object(obj) -> bool:
    """Is ``obj`` a ``dlcourse`` module, or a function, class or instance defined in ``dlcourse``?"""
    if isinstance(obj, types.ModuleType):
        return _is_dlcourse_name(obj.__name__)
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and _is_dlcourse_name(module):
        return True
    return _is_dlcourse_name(getattr(type(obj), "__module__", None))


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def static_delegation(fn) -> str | None:
    """A reason if ``fn``'s code refers to ``dlcourse`` (by name, global, closure or default), else None."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return "it is not a plain Python function" if is_reference_object(fn) else None
    names: set[str] = set()
    for c in _code_objects(code):
        names.update(c.co_names)
    if "dlcourse" in names:
        return "its code names the module dlcourse"
    fn_globals = getattr(fn, "__globals__", {})
    for name in sorted(names):
        if name in fn_globals and is_reference_object(fn_globals[name]):
            return f"it uses `{name}`, which comes from dlcourse"
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if is_reference_object(value):
            return "it closes over an object from dlcourse"
    defaults = list(getattr(fn, "__defaults__", None) or ()) + list((getattr(fn, "__kwdefaults__", None) or {}).values())
    if any(is_reference_object(d) for d in defaults):
        return "a default argument comes from dlcourse"
    return None


class DelegationTrap:
    """Context manager: poison ``import dlcourse`` and record calls into dlcourse source files.

    After the block, ``trap.reason`` is None or says what was reached.
    """

    def __init__(self):
        self.reason: str | None = None

    def _profile(self, frame, event, arg):
        if event == "call" and self.reason is None:
            filename = frame.f_code.co_filename
            if _is_dlcourse_file(filename):
                where = Path(filename).relative_to(Path(_PKG_DIR).parent).as_posix()
                self.reason = f"the call reached {frame.f_code.co_name}() in {where}"

    def __enter__(self) -> "DelegationTrap":
        self._old_import = builtins.__import__
        self._old_profile = sys.getprofile()
        old_import = self._old_import

        def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
            if level == 0 and _is_dlcourse_name(name) or name == "dlcourse":
                if self.reason is None:
                    self.reason = f"it imports {name}"
                raise ImportError(f"importing {name} inside a graded function is not allowed")
            return old_import(name, globals, locals, fromlist, level)

        builtins.__import__ = guarded_import
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc) -> bool:
        sys.setprofile(self._old_profile)
        builtins.__import__ = self._old_import
        return False
