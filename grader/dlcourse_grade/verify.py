"""Out-of-kernel verification: the learner's functions re-run in a fresh sandbox, judged by the trusted grader.

For each autograded part that :mod:`dlcourse.checks.assignments` describes:

1. the inputs are drawn here, at grading time, from a seed derived from the course
   secret and the student id (:func:`dlcourse_grade.classrun.student_seed`), visible
   and hidden cases alike;
2. the learner's code cells (every code cell but the test cells) run in a new
   sandboxed Python process where ``dlcourse`` cannot be imported
   (``_verify_runner.py``), which calls the functions and writes back only data
   (:mod:`.protocol`);
3. :func:`dlcourse.checks.judge.grade_outcomes` - the very function the notebook's
   tests use - scores what came back, with the same tolerances and diagnoses; that
   score is what the gradebook records, and a disagreement with the in-kernel score
   is flagged as possible tampering.

A part whose process hangs or dies costs that part only: the runner restarts with
the next part (and a cell that kills it during setup is skipped next time). Dependent
parts call the learner's own earlier functions, as in the notebook.

The runs count against the student's time budget (``task.budget``, a
:class:`~dlcourse_grade.sandbox.TimeBudget`): once it is spent the run is stopped and
every part not yet judged scores 0, "not verified", with a flag naming the budget.
All runs of one notebook share one cgroup (a CPU share, a process limit), removed after.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import json
import math
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from nbformat.notebooknode import from_dict
from nbgrader import utils as nbutils

from dlcourse.checks import assignments
from dlcourse.checks import call as call_module
from dlcourse.checks import callables
from dlcourse.checks.judge import grade_outcomes
from dlcourse.checks.verdict import Outcome

from . import hidden
from .detectors import DETECTORS, Evidence
from .kernel import death_reason
from .protocol import Budget, decode_output, encode_input, outcome_from
from .results import Flag, FlagKind, summarize
from .sandbox import SandboxCgroup, Workspace, clean_env, command_prefix, python_roots, slot_user
from .similarity import learner_function
from .submission import copy_submission

__all__ = ["verify_notebook", "run_parts", "learner_cells", "VerificationUnavailable", "BudgetSpent"]


#: IPython cell magics that run their body as ordinary code in the user's namespace
#: (``%%timeit`` runs it inside a function: its definitions do not survive, as in the kernel).
BODY_MAGICS = frozenset({"time", "capture", "prun"})
_LINE_MAGIC = re.compile(r"^(\s*)[%!].*$", re.M)


def python_source(src: str) -> str:
    """The plain Python that IPython would run for a cell's source, as the verification runs it.

    A leading cell magic that runs its body in the namespace (``%%time``, ``%%capture``,
    ``%%prun``, also nested) is dropped and its body kept; ``%%writefile [-a] FILE`` becomes the
    write of that file; any other cell magic (``%%timeit``, ``%%bash``, ``%%html``, ...)
    runs nothing, as its body is not Python of the notebook. Line magics and shell escapes
    become ``pass``. Line numbers are kept (dropped lines become empty lines).
    """
    lines = src.split("\n")
    k = 0
    while True:
        while k < len(lines) and not lines[k].strip():  # IPython drops leading empty lines first
            k += 1
        if k == len(lines) or not lines[k].lstrip().startswith("%%"):
            break
        words = lines[k].lstrip()[2:].split()
        name = words[0] if words else ""
        if name in BODY_MAGICS:
            lines[k] = ""
            continue
        if name == "writefile" and len(words) >= 2:
            append = "-a" in words[1:-1] or "--append" in words[1:-1]
            target, body = words[-1].strip("\"'"), "\n".join(lines[k + 1:])
            body += "" if body.endswith("\n") else "\n"
            mode = "a" if append else "w"
            return "\n" * k + f"with open({target!r}, {mode!r}) as _f:\n    _f.write({body!r})\n"
        return ""
    return _LINE_MAGIC.sub(r"\1pass", "\n".join(lines))


def learner_cells(nb, functions: set[str] = frozenset()) -> list[str]:
    """Sources of the code cells that define things, as plain Python (:func:`python_source`): not
    the test cells (grade cells that are not solutions), and not the locked demo cells that call
    the learner's ``functions``."""
    out = []
    for c in nb.cells:
        if c.cell_type != "code" or (nbutils.is_grade(c) and not nbutils.is_solution(c)):
            continue
        src = python_source(c.source)
        if nbutils.is_locked(c) and functions and _calls_any(src, functions):
            continue
        out.append(src)
    return out


def _calls_any(source: str, names: set[str]) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names
               for n in ast.walk(tree))


#: Seconds the runner may take to start (bubblewrap, Python, NumPy: the grader's code, no learner's)
#: before it reports its first cell, whatever the cell limit; a busy machine can need several seconds.
STARTUP_SECONDS = 60.0
#: Launches tried before a runner that never reached the learner's code counts as unavailable.
STARTUP_TRIES = 3

#: Modules a verification run may import beyond NumPy and the standard library, per assignment.
ALLOWED_IMPORTS = {"ex03_derivatives": ("sympy", "mpmath")}

#: Installed packages the verification sandbox never sees (their folders are covered by empty ones).
HIDDEN_PACKAGES = ("dlcourse", "dlcourse_grade", "torch", "scipy", "sklearn", "jax", "jaxlib", "tensorflow",
                   "keras", "cupy", "numba")


def _hidden_paths() -> list[str]:
    """The folders of :data:`HIDDEN_PACKAGES` inside the bound Python installation (the reference, other frameworks)."""
    out = []
    for name in HIDDEN_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None or not (spec.origin or spec.submodule_search_locations):
            continue
        where = spec.origin if spec.origin not in (None, "namespace") else next(iter(spec.submodule_search_locations))
        pkg = Path(where).resolve()
        pkg = str(pkg.parent if pkg.name == "__init__.py" else pkg)
        if any(pkg.startswith(r + "/") for r in python_roots()):
            out.append(pkg)
    return out


def _kill(proc: subprocess.Popen) -> int | None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        return None


class VerificationUnavailable(RuntimeError):
    """The verification process failed before any learner code ran (a grader problem)."""


class BudgetSpent(str):
    """The result of a part that was not verified because the student's time budget was spent (its words)."""


class Messages:
    """JSON messages, one per line, read from the runner's pipe with a deadline (nothing polls files).

    Everything read is untrusted: a line longer than :data:`MAX_LINE` bytes or one that
    is not a JSON object ends the conversation as *malformed*.
    """

    MAX_LINE = 1 << 20

    def __init__(self, fd: int):
        self.fd, self.buf, self.closed = fd, b"", False
        os.set_blocking(fd, False)

    def next(self, deadline: float) -> tuple[str, dict | None]:
        """``("message", obj)``, or ``("timeout" | "eof" | "malformed", None)``."""
        while b"\n" not in self.buf:
            if len(self.buf) > self.MAX_LINE:
                return "malformed", None
            if self.closed:
                return "eof", None
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout", None
            ready, _, _ = select.select([self.fd], [], [], min(left, 1.0))
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                self.closed = True
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        if len(line) > self.MAX_LINE:
            return "malformed", None
        try:
            obj = json.loads(line)
        except ValueError:
            return "malformed", None
        return ("message", obj) if isinstance(obj, dict) else ("malformed", None)

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


class PartsRun:
    """Run the runner until every part has a result or a reason; see the module docstring."""

    def __init__(self, task, ws: Workspace, cells: list[str], parts: list[dict], allow: tuple[str, ...] = (),
                 cgroup: SandboxCgroup | None = None):
        self.task, self.ws, self.cells, self.parts, self.allow = task, ws, cells, parts, allow
        self.cgroup = cgroup
        self.budget = getattr(task, "budget", None)
        self.budget_spent = False
        self.blocked: list[tuple[str, str]] = []  # (module, "setup" or "part k") of each refused import
        self.out = ws.run / "out"
        self.results: dict[int, object] = {}
        self.setup_errors: list[str] = []
        self.progress: int | None = None
        self.messages: Messages | None = None

    def _launch(self, first: int, skip: set[int]) -> subprocess.Popen:
        job = {"cells": self.cells, "skip": sorted(skip), "parts": self.parts, "first": first, "allow": list(self.allow)}
        (self.ws.run / "job.json").write_text(json.dumps(job))
        os.chmod(self.ws.run / "job.json", 0o644)
        self.progress = None
        read_end, write_end = os.pipe()
        cmd = command_prefix(self.task.iso, self.ws, self.task.limits, [], hide=_hidden_paths(),
                             cgroup=self.cgroup) + [
            sys.executable, "-I", str(self.ws.run / "_verify_runner.py"), str(self.ws.run), str(write_end)]
        try:
            proc = subprocess.Popen(cmd, cwd=self.ws.work, env=clean_env(self.ws), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                    pass_fds=(write_end,))
        finally:
            os.close(write_end)
        if self.messages is not None:
            self.messages.close()
        self.messages = Messages(read_end)
        return proc

    def _wait_for(self, proc, kind: str, seconds: float, restart_on_progress: bool = False,
                  startup: float = 0.0):
        """``(None, message)`` once a message with key ``kind`` arrives; else ``(why not, None)``.

        With ``restart_on_progress``, the deadline restarts at each progress message (one cell at a time).
        ``startup`` is the allowance before the first message (the runner starting: no learner code yet).
        """
        start = time.monotonic()
        deadline, hard = start + max(seconds, startup), start + max(seconds, startup,
                                                                     self.task.limits.notebook_timeout / 2)
        end = self.budget.end if self.budget is not None else math.inf
        while True:
            status, msg = self.messages.next(min(deadline, hard, end))
            if status == "message":
                if kind in msg:
                    return None, msg
                if "progress" in msg and isinstance(msg["progress"], int):
                    self.progress = msg["progress"]
                    if restart_on_progress:
                        deadline = time.monotonic() + seconds
                    continue
                status = "malformed"
            if status == "timeout":
                _kill(proc)
                if self.budget is not None and self.budget.spent:
                    self.budget_spent = True
                    return self.budget.reason, None
                allowed = max(seconds, startup) if self.progress is None else seconds
                return f"the verification run took longer than {allowed:g} s", None
            if status == "malformed":
                _kill(proc)
                return "the verification run sent a malformed message", None
            try:  # the pipe closes a moment before the exit status is there: wait for it, or kill
                returncode = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                returncode = _kill(proc)
            return death_reason(returncode).replace("the kernel", "the verification run"), None

    def _note_blocked(self, msg, where: str) -> None:
        """Keep the refused imports a message names (module names only, checked, at most 20)."""
        items = msg.get("blocked") if isinstance(msg, dict) else None
        for item in (items if isinstance(items, list) else [])[:20]:
            name = item[0] if isinstance(item, list) and item else None
            if isinstance(name, str) and name.isidentifier() and len(name) < 80 and (name, where) not in self.blocked:
                self.blocked.append((name, where))

    def run(self) -> dict[int, object]:
        try:
            return self._run()
        finally:
            if self.messages is not None:
                self.messages.close()

    def _run(self) -> dict[int, object]:
        first, skip, lim, unstarted = 0, set(), self.task.limits, 0
        for _attempt in range(len(self.parts) + 6 + STARTUP_TRIES):
            if first >= len(self.parts):
                break
            if self.budget is not None and self.budget.spent:
                self.budget_spent = True
            if self.budget_spent:
                for k in range(first, len(self.parts)):
                    self.results[k] = BudgetSpent(self.budget.reason)
                break
            proc = self._launch(first, skip)
            why, setup = self._wait_for(proc, "setup", lim.cell_timeout, restart_on_progress=True,
                                        startup=STARTUP_SECONDS)
            if why:
                _kill(proc)
                if self.budget_spent:
                    continue
                if self.progress is None:  # no learner code ran yet: our failure, not theirs; try again
                    unstarted += 1
                    if unstarted >= STARTUP_TRIES:
                        raise VerificationUnavailable(f"{why} before any learner code ran ({unstarted} tries)")
                    continue
                if self.progress not in skip:
                    skip.add(self.progress)
                    self.setup_errors.append(f"cell {self.progress}: {why} (skipped)")
                    continue
                for k in range(first, len(self.parts)):
                    self.results[k] = why
                break
            setup = setup["setup"]
            if isinstance(setup, dict) and isinstance(setup.get("errors"), list):
                self.setup_errors += [str(e)[:300] for e in setup["errors"][:20]]
            self._note_blocked(setup, "setup")
            for k in range(first, len(self.parts)):
                why, msg = self._wait_for(proc, "part", min(lim.call_timeout, lim.cell_timeout))
                if not why and msg.get("part") != k:
                    _kill(proc)
                    why = "the verification run sent a malformed message"
                if self.budget_spent:
                    first = k
                    break
                self.results[k] = why or msg
                if msg:
                    self._note_blocked(msg, f"part {k}")
                if why:
                    first = k + 1
                    break
            else:
                first = len(self.parts)
            _kill(proc)
        return self.results


def mutated_arguments(case, after, params, out: Path, budget: Budget | None = None) -> tuple[str, ...]:
    """The names of ``case``'s arguments that the call changed in place, decided here, from what was sent.

    ``after`` is the runner's untrusted record of the arguments as the call left them
    (``{"args": [...], "kwargs": [[name, value], ...]}``); each is compared with the argument
    this process sent (``case``) by :func:`dlcourse.checks.call.changed`. An array argument
    whose state did not come back readable counts as changed.
    """
    after = after if isinstance(after, dict) else {}
    got_args = after.get("args") if isinstance(after.get("args"), list) else []
    got_kwargs = dict(kv for kv in after.get("kwargs", []) if isinstance(kv, list) and len(kv) == 2
                      and isinstance(kv[0], str)) if isinstance(after.get("kwargs"), list) else {}
    names = tuple(params)
    out_names = []
    for i, sent in enumerate(case.args):
        if not _has_array(sent):  # numbers, strings, functions: nothing a call can change in place
            continue
        back = decode_output(got_args[i], out, budget=budget) if i < len(got_args) else None
        if call_module.changed(sent, back):
            out_names.append(names[i] if i < len(names) else f"argument {i + 1}")
    for name, sent in case.kwargs.items():
        if not _has_array(sent):
            continue
        back = decode_output(got_kwargs[name], out, budget=budget) if name in got_kwargs else None
        if call_module.changed(sent, back):
            out_names.append(name)
    return tuple(out_names)


def _has_array(v) -> bool:
    return isinstance(v, np.ndarray) or isinstance(v, tuple) and any(_has_array(x) for x in v)


def with_mutation(outcome: Outcome, record, case, part, out: Path, budget: Budget | None = None) -> Outcome:
    """``outcome`` with its in-place changes replaced by those found by :func:`mutated_arguments`."""
    after = record.get("after") if isinstance(record, dict) else None
    return dataclasses.replace(outcome, mutated=mutated_arguments(case, after, part.params, out, budget))


def _prepare(task, nb_cells: list[str]) -> Workspace:
    owner = slot_user(task.slot) if task.iso.level != "none" else None
    ws = Workspace(Path(task.base), f"{task.slot}-verify", owner)
    copy_submission(Path(task.submitted), ws.work, task.spec.source_dir)
    here = Path(__file__).parent
    shutil.copy(here / "_verify_runner.py", ws.run / "_verify_runner.py")
    shutil.copy(callables.__file__, ws.run / "_callables.py")
    shutil.copy(call_module.__file__, ws.run / "_call.py")
    (ws.run / "in").mkdir()
    (ws.run / "out").mkdir()
    ws.give_to_owner()
    return ws


def run_parts(task, cells: list[str], parts: list, seed: int) -> tuple[dict, list, list[str]]:
    """Run ``parts`` on the learner's ``cells`` in a fresh sandbox: ({k: outcomes|reason}, cases, setup errors).

    A part left unjudged when the student's time budget ran out is a :class:`BudgetSpent`.
    """
    ws = _prepare(task, cells)
    cgroup = SandboxCgroup(getattr(task, "cgroups", None), f"verify-{ws.root.name}")
    try:
        counter, jobs, all_cases = [0], [], []
        for part in parts:
            cases = hidden.cases(part, seed)
            all_cases.append(cases)
            jobs.append({"function": part.function, "params": list(part.params), "cases": [
                [[encode_input(a, ws.run / "in", counter) for a in c.args],
                 [[k, encode_input(v, ws.run / "in", counter)] for k, v in c.kwargs.items()]] for c in cases]})
        for p in (ws.run / "in").iterdir():
            os.chmod(p, 0o644)
        run = PartsRun(task, ws, cells, jobs, ALLOWED_IMPORTS.get(task.assignment, ()), cgroup)
        raw = run.run()
        task_blocked = run.blocked
        results, budget = {}, Budget(task.limits.reply_bytes)
        for k in range(len(parts)):
            r = raw.get(k)
            if isinstance(r, BudgetSpent):
                results[k] = r
            elif isinstance(r, dict) and isinstance(r.get("outcomes"), list) and len(r["outcomes"]) == len(all_cases[k]):
                results[k] = [with_mutation(outcome_from(o, ws.run / "out", budget), o, c, parts[k], ws.run / "out",
                                            budget) for o, c in zip(r["outcomes"], all_cases[k])]
            elif isinstance(r, dict) and "missing" in r:
                results[k] = f"NameError: {str(r['missing'])[:200]}"
            else:
                results[k] = f"RuntimeError: {r if isinstance(r, str) else 'no result from the verification run'}"
        return results, all_cases, run.setup_errors + [f"blocked import: {m} ({w})" for m, w in task_blocked]
    finally:
        cpu = cgroup.remove()
        if getattr(task, "budget", None) is not None:
            task.budget.charge(cpu)
        ws.remove()


def _import_flags(assignment: str, setup_errors: list[str], parts: list) -> list[Flag]:
    """One flag per refused import, naming the module and, for one refused while a part ran, the part."""
    extra = ALLOWED_IMPORTS.get(assignment, ())
    allowed = "NumPy" + "".join(f", {m}" for m in extra) + " and the standard library"
    flags = []
    for e in setup_errors:
        if not e.startswith("blocked import: "):
            continue
        module, _, where = e[len("blocked import: "):].partition(" (")
        where = where.rstrip(")")
        part = parts[int(where.split()[1])].grade_id if where.startswith("part ") else None
        if part is None and module in ("dlcourse", "dlcourse_grade"):
            continue  # the notebook's own setup cell imports the checks; graded code that uses them is delegation
        text = (f"imports {module}, which {assignment} does not allow (only {allowed}): blocked"
                + (f" while {part} ran, so that part's calls failed" if part else " in a code cell"))
        flags.append(Flag(FlagKind.IMPORT, text, part=part, for_instructor=part is not None and module in HIDDEN_PACKAGES))
    return flags


def _annotate(nb, grade_id: str, report_text: str, verified: float, points: float) -> None:
    """Append the verification's feedback to the test cell of the autograded notebook."""
    for cell in nb.cells:
        if (cell.metadata.get("nbgrader") or {}).get("grade_id") == grade_id and cell.cell_type == "code":
            text = f"[dlcourse-grade] verified outside the notebook: {verified:g} of {points:g} points\n{report_text}\n"
            cell.setdefault("outputs", []).append(from_dict({"output_type": "stream", "name": "stdout",
                                                             "text": text}))


def verify_notebook(task, spec, nb, result) -> None:
    """Verify every described part of this notebook and update ``result`` in place (see module doc).

    Each part is judged on what the sandbox returned, after the ``"code"`` detectors
    (a flag from one voids the part) and before the ``"result"`` ones (see :mod:`.detectors`).
    """
    if task.assignment not in assignments.ASSIGNMENTS:
        return
    ids = {c.grade_id for c in spec.cells if c.grade}
    parts = [p for p in assignments.parts(task.assignment) if p.grade_id in ids]
    if not parts:
        return
    cells = learner_cells(nb, {p.function for p in parts})
    budget = getattr(task, "budget", None)
    if budget is not None and budget.spent:
        _not_verified(result, parts, budget.reason)
        return
    try:
        got, cases, setup_errors = run_parts(task, cells, parts, task.seed)
    except Exception as exc:  # noqa: BLE001 - any failure is an outcome: 0 for the part, flagged, never kept
        why = f"verification failed ({type(exc).__name__}: {str(exc)[:200]})"
        result.flags.append(Flag(FlagKind.VERIFICATION, why, for_instructor=True))
        for pr in result.parts:
            if pr.grade_id in {p.grade_id for p in parts}:
                pr.verified, pr.score, pr.reason = 0.0, 0.0, why
        return
    result.flags += [Flag(FlagKind.VERIFICATION, f"verification: {e}") for e in setup_errors
                     if ("KernelDied" in e or "skipped" in e) and not e.startswith("blocked import: ")]
    result.flags += _import_flags(task.assignment, setup_errors, parts)
    by_id = {p.grade_id: p for p in result.parts}
    # the read-only code cells the release gives every learner: their helpers are not the learner's copy
    given = [c.release_source or c.source for c in spec.cells
             if c.cell_type == "code" and c.locked and not c.grade and not c.solution]
    late = [part for k, part in enumerate(parts) if isinstance(got[k], BudgetSpent)]
    if late:
        _not_verified(result, late, str(got[parts.index(late[0])]))
    for k, part in enumerate(parts):
        pr = by_id.get(part.grade_id)
        if pr is None or isinstance(got[k], BudgetSpent):
            continue
        fn, from_dl = learner_function(cells, part.function, given)
        outcomes = got[k] if isinstance(got[k], list) else [Outcome(error=str(got[k]))] * len(cases[k])
        ev = Evidence(part, cases[k], outcomes, fn, from_dl, pr)
        voided = None
        for detector in (d for d in DETECTORS if d.stage == "code"):
            flag = detector(ev)
            if flag is not None:
                result.flags.append(flag)
                voided = voided or flag.text
        ev.report = grade_outcomes(part, cases[k], outcomes, delegated=voided)
        for detector in (d for d in DETECTORS if d.stage == "result"):
            flag = detector(ev)
            if flag is not None:
                result.flags.append(flag)
        pr.verified = float(ev.report.score)
        if pr.verified < pr.max_score and not (pr.reason and pr.in_kernel == pr.verified):
            pr.reason = "verified: " + summarize(ev.report.text)
        pr.score = pr.verified
        _annotate(nb, part.grade_id, ev.report.text, pr.verified, pr.max_score)


def _not_verified(result, parts, why: str) -> None:
    """``parts`` score 0, "not verified: why" (the time budget ran out), with one flag naming the budget."""
    ids = {p.grade_id for p in parts}
    for pr in result.parts:
        if pr.grade_id in ids:
            pr.verified, pr.score, pr.reason = 0.0, 0.0, f"not verified: {why}"
    result.flags.append(Flag(FlagKind.LIMIT, f"verification of {len(ids)} part(s) not run: {why}"))
