"""Execute a notebook cell by cell in a sandboxed IPython kernel, surviving whatever a cell does.

nbgrader executes a whole notebook in one kernel; when a cell kills the kernel
(``os._exit``, a segfault, the memory limit) or never returns, every grade after it
is lost. Here each cell runs on its own deadline (wall clock and CPU time). When a
cell kills or hangs the kernel, that cell gets an error output naming the reason
(so only its part scores 0), a fresh kernel replays the cells that ran fine before
it (test cells excepted: they define nothing later cells need) and execution goes on
with the next cell.

Every cell's deadline is the nearest of the cell limit, the notebook's budget and the
student's (:class:`~dlcourse_grade.sandbox.TimeBudget`): a notebook that sleeps just
under the cell limit in cell after cell is stopped when its budget is spent, the cell
then running gets an error naming the budget and the cells after it are not run.
All of the notebook's kernels run in one cgroup (:class:`~dlcourse_grade.sandbox.SandboxCgroup`:
a CPU share, a process limit), removed with whatever is left in it at the end.

The kernel talks to us over ZeroMQ ``ipc`` sockets in the workspace, which works
across the sandbox's separate network namespace. Errors are recorded as nbgrader's
own ``Execute`` preprocessor records them (its ``on_cell_executed`` hook), and
outputs are capped as they arrive (:mod:`.outputs`).
"""

from __future__ import annotations

import asyncio
import copy
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import tenacity
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, CellTimeoutError, DeadKernelError
from nbformat.notebooknode import from_dict
from nbgrader import utils as nbutils
from nbgrader.preprocessors import Execute

from .outputs import cap_notebook, cap_output, output_size
from .sandbox import Cgroups, Isolation, Limits, SandboxCgroup, TimeBudget, Workspace, clean_env, command_prefix

__all__ = ["CellEvent", "RunResult", "run_notebook", "death_reason"]

_SIGNALS = {9: "killed (SIGKILL): out of memory, or a time limit", 11: "segmentation fault (SIGSEGV)",
            6: "aborted (SIGABRT)", 24: "CPU time limit of the cell exceeded (SIGXCPU)", 7: "bus error (SIGBUS)",
            25: "file size limit exceeded (SIGXFSZ)", 15: "terminated (SIGTERM)"}


START_ATTEMPTS, START_PAUSE = 3, 0.5  # kernel starts tried (pause: seconds times the attempt number)


@dataclass
class CellEvent:
    """Something that stopped the kernel while running cell ``index``."""

    index: int
    reason: str


@dataclass
class RunResult:
    nb: object
    events: list[CellEvent] = field(default_factory=list)
    truncated: bool = False
    seconds: float = 0.0
    infra_error: str | None = None
    malformed: int = 0  # kernel messages dropped because they were not shaped like Jupyter messages
    budget: str = ""  # the budget (student's or notebook's) that stopped the run, in words; "" if none did
    cpu_seconds: float = 0.0  # CPU time of every process of the notebook's sandbox (cgroup accounting; 0 without)
    notes: list[str] = field(default_factory=list)  # about the sandbox itself (no CPU share for it)


def death_reason(returncode: int | None) -> str:
    """Words for how the kernel process ended (bubblewrap reports a signal as 128 + n)."""
    if returncode is None:
        return "the kernel stopped responding"
    sig = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    if sig:
        return "the kernel died: " + _SIGNALS.get(sig, f"signal {sig}")
    return f"the kernel exited with status {returncode} (os._exit, sys.exit in a thread, or similar)"


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command runs inside the sandbox prefix."""

    sandbox_cmd: list = []
    owner = None

    def format_kernel_cmd(self, extra_arguments=None):
        if self.owner is not None:  # the learner's user must read the connection file
            os.chown(self.connection_file, self.owner.pw_uid, self.owner.pw_gid)
        return list(self.sandbox_cmd) + ["-f", self.connection_file] + list(extra_arguments or [])


class CappedClient(NotebookClient):
    """nbclient's client with nbgrader's error recording and a per-notebook output budget."""

    def __init__(self, *args, output_limit: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.output_limit = output_limit
        self.budget = output_limit
        self.truncated = False
        self.malformed = 0
        self.store_widget_state = False

    def process_message(self, msg, cell, cell_index):
        """nbclient's handling of one kernel message, for a kernel the learner controls.

        A message that is not shaped like a Jupyter message (the learner's code can send
        anything on the iopub socket) is dropped and counted, never raised; comm and
        widget messages are dropped (grading keeps no widget state, so a stream of them
        costs no memory).
        """
        if not (isinstance(msg, dict) and isinstance(msg.get("msg_type"), str)
                and isinstance(msg.get("content"), dict)):
            self.malformed += 1
            return None
        if msg["msg_type"].startswith("comm"):
            return None
        try:
            return super().process_message(msg, cell, cell_index)
        except CellExecutionComplete:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            self.malformed += 1
            return None

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None and outs and outs[-1] is out:
            if output_size(out) > self.budget:
                self.truncated = True
                outs[-1] = cap_output(out, max(self.budget, 0), self.output_limit)
            self.budget -= output_size(outs[-1])
        return out


def _nbgrader_hook(**kwargs):
    """nbgrader's Execute hook: record an error reply that produced no error output."""
    Execute.on_cell_executed(None, **kwargs)


def _error(ename: str, reason: str) -> dict:
    return from_dict({"output_type": "error", "ename": ename, "evalue": reason,
                      "traceback": [f"{ename}: {reason} [dlcourse-grade]"]})


class NotebookRunner:
    """Run one notebook in a sandboxed kernel with restarts (see the module docstring)."""

    def __init__(self, nb, ws: Workspace, iso: Isolation, limits: Limits, extra_ro: list[str],
                 extra_path: str = "", env: dict | None = None, cgroup: SandboxCgroup | None = None,
                 budget: TimeBudget | None = None):
        self.nb, self.ws, self.iso, self.limits = nb, ws, iso, limits
        self.budget = budget
        self.notebook_end = time.monotonic() + limits.notebook_timeout
        self.cut: str | None = None  # the budget that shortened the running cell's deadline, if one did
        launcher = ws.run / "kernel_launcher.py"
        shutil.copy(Path(__file__).with_name("_kernel_launcher.py"), launcher)
        os.chmod(launcher, 0o644)
        self.cmd = command_prefix(iso, ws, limits, extra_ro, cgroup=cgroup) + [
            sys.executable, "-I", str(launcher), str(ws.work), extra_path]
        self.env = clean_env(ws, env)
        self.events: list[CellEvent] = []
        self.truncated = False
        self.malformed = 0
        self.infra_error: str | None = None

    async def _start(self) -> CappedClient:
        """A started kernel and client; one that dies before its first reply (rarely, under load) is retried."""
        retrying = tenacity.AsyncRetrying(stop=tenacity.stop_after_attempt(START_ATTEMPTS),
                                          wait=tenacity.wait_incrementing(start=START_PAUSE, increment=START_PAUSE),
                                          retry=tenacity.retry_if_exception(lambda exc: not self.spent()),
                                          reraise=True)
        async for attempt in retrying:
            with attempt:
                return await self._start_once()

    def _notebook_reason(self) -> str:
        return f"the notebook's time budget of {self.limits.notebook_timeout:g} s was spent"

    def _left(self) -> tuple[float, str | None]:
        """Seconds left before the nearest budget ends, and the words for that budget."""
        left, why = self.notebook_end - time.monotonic(), self._notebook_reason()
        if self.budget is not None and self.budget.left() <= left:
            left, why = self.budget.left(), self.budget.reason
        return left, why

    def spent(self) -> str | None:
        """Why no more cells may run (a budget is spent), or None."""
        left, why = self._left()
        return why if left <= 0 else None

    async def _start_once(self) -> CappedClient:
        if self.spent():
            raise TimeoutError(self.spent())
        km = SandboxKernelManager(transport="ipc", ip=str(self.ws.run / "zmq"),
                                  connection_file=str(self.ws.run / "kernel.json"), kernel_name="python3")
        km.sandbox_cmd, km.owner = self.cmd, self.ws.owner
        client = CappedClient(self.nb, km=km, timeout=int(self.limits.cell_timeout), interrupt_on_timeout=False,
                              allow_errors=True, startup_timeout=max(1, min(90, math.ceil(self._left()[0]))),
                              shutdown_kernel="immediate",
                              on_cell_executed=_nbgrader_hook, output_limit=self.limits.output_bytes)
        client.budget = self._budget_left()
        try:
            await client.async_start_new_kernel(cwd=str(self.ws.work), env=self.env, stdin=subprocess.DEVNULL,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await client.async_start_new_kernel_client()
        except Exception:
            await self._stop(client)
            raise
        return client

    def _budget_left(self) -> int:
        used = sum(output_size(o) for c in self.nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
        return self.limits.output_bytes - used

    async def _stop(self, client: CappedClient) -> int | None:
        proc = getattr(client.km.provisioner, "process", None) if client.km else None
        try:
            await client._async_cleanup_kernel()
        except Exception:  # noqa: BLE001 - a kernel that is already gone is fine
            pass
        return proc.poll() if proc is not None else None

    def _arm_cpu(self, client: CappedClient) -> None:
        """Give every sandboxed process ``cell_cpu`` more seconds of CPU time than it has used."""
        import psutil

        pid = getattr(client.km.provisioner, "pid", None)
        if pid is None:
            return
        try:
            procs = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)
        except psutil.Error:
            return
        root = os.geteuid() == 0
        for p in procs:
            try:
                t = p.cpu_times()
                soft = int(t.user + t.system) + self.limits.cell_cpu
                hard = soft + 2 if root else resource.RLIM_INFINITY
                resource.prlimit(p.pid, resource.RLIMIT_CPU, (soft, hard))
            except (psutil.Error, OSError, ValueError):
                continue

    def _reap(self, client: CappedClient) -> None:
        """Kill every process in the sandbox except the kernel and its ancestors (forked children)."""
        import psutil

        pid = getattr(client.km.provisioner, "pid", None)
        try:
            tree = psutil.Process(pid).children(recursive=True) if pid else []
        except psutil.Error:
            return
        kernel = next((p for p in tree if _is_launcher(p) and not _is_launcher(_parent(p))), None)
        if kernel is None:
            return
        keep = {kernel.pid} | {a.pid for a in kernel.parents()}
        for p in tree:
            if p.pid not in keep:
                try:
                    p.kill()
                except psutil.Error:
                    continue

    async def _run_cell(self, client: CappedClient, index: int, replay: bool) -> None:
        cell = self.nb.cells[index]
        left, why = self._left()
        self.cut = why if left < self.limits.cell_timeout else None
        client.timeout = max(1, math.ceil(min(self.limits.cell_timeout, left)))
        # After the reply, nbclient waits ``iopub_timeout`` for the cell's last outputs and its
        # idle status, then drops whatever has not come (4 s by default: a large output on a
        # loaded machine was lost that way). Wait as long as the cell may run; past that the
        # cell is stopped like any other that overruns.
        client.iopub_timeout, client.raise_on_iopub_timeout = client.timeout, True
        self._arm_cpu(client)
        if replay:
            await client.async_execute_cell(copy.deepcopy(cell), index, store_history=False)
            self.nb.cells[index] = cell
        else:
            await client.async_execute_cell(cell, index)
        self._reap(client)

    def _runnable(self, index: int, bad: dict) -> bool:
        cell = self.nb.cells[index]
        return cell.cell_type == "code" and bool(cell.source.strip()) and index not in bad

    def _record(self, index: int, ename: str, reason: str, bad: dict) -> None:
        bad[index] = reason
        self.events.append(CellEvent(index, reason))
        self.nb.cells[index].setdefault("outputs", []).append(_error(ename, reason))

    def _give_up(self, start: int, ename: str, why: str, bad: dict) -> None:
        """Every cell from ``start`` on gets an error output ``not run: why``; one event names them all."""
        cells = [i for i in range(start, len(self.nb.cells)) if self._runnable(i, bad)]
        for i in cells:
            bad[i] = why
            self.nb.cells[i].setdefault("outputs", []).append(_error(ename, f"not run: {why}"))
        if cells:
            more = f" (and {len(cells) - 1} later cell(s))" if len(cells) > 1 else ""
            self.events.append(CellEvent(cells[0], f"not run: {why}{more}"))

    async def _run_from(self, client: CappedClient, start: int, bad: dict, t0: float, at: list) -> int:
        """Replay the good cells before ``start`` (tests excepted), then run the rest.

        ``at`` tracks ``[cell being run, first cell not yet run]`` for the caller when a cell fails.
        """
        for i in range(len(self.nb.cells)):
            if not self._runnable(i, bad) or (i < start and _is_test(self.nb.cells[i])):
                continue
            at[0] = i
            if self.spent():
                raise TimeoutError(self.spent())
            await self._run_cell(client, i, replay=i < start)
            at[1] = max(at[1], i + 1)
        return len(self.nb.cells)

    async def run(self) -> RunResult:
        n, start, restarts, bad, t0 = len(self.nb.cells), 0, 0, {}, time.monotonic()
        budget = ""
        while start < n:
            if self.spent():
                budget = self.spent()
                self._give_up(start, "TimeBudgetSpent", budget, bad)
                break
            if restarts > self.limits.max_restarts:
                self._give_up(start, "NotRun", "too many kernel restarts", bad)
                break
            try:
                client = await self._start()
            except Exception as exc:  # noqa: BLE001 - reported as a grader failure for this notebook
                if self.spent():  # the budget ran out while the kernel started: the learner's outcome
                    continue
                self.infra_error = f"the sandboxed kernel could not start: {exc}"
                self._give_up(start, "KernelFailed", self.infra_error, bad)
                break
            at = [None, start]
            try:
                start = await self._run_from(client, start, bad, t0, at)
            except CellTimeoutError:
                await self._stop(client)
                if self.cut and self.spent():
                    self._record(at[0], "TimeBudgetSpent", f"stopped: {self.cut} while this cell ran", bad)
                    budget = self.cut
                else:
                    self._record(at[0], "CellTimeoutError",
                                 f"the cell ran longer than {self.limits.cell_timeout:g} s and was stopped", bad)
                restarts += 1
            except DeadKernelError:
                self._record(at[0], "KernelDied", death_reason(await self._stop(client)), bad)
                restarts += 1
            except TimeoutError:
                pass
            except Exception as exc:  # noqa: BLE001 - what the learner's kernel sent broke the client
                await self._stop(client)
                self._record(at[0] if at[0] is not None else start, "KernelProtocolError",
                             f"the kernel sent messages that could not be read ({_exc_words(exc)})", bad)
                restarts += 1
            finally:
                self.truncated |= client.truncated
                self.malformed += client.malformed
                await self._stop(client)
            start = max(start, at[1], at[0] + 1 if at[0] in bad else 0)
        self.truncated |= cap_notebook(self.nb, self.limits.output_bytes)
        return RunResult(self.nb, self.events, self.truncated, time.monotonic() - t0, self.infra_error,
                         self.malformed, budget)


def _exc_words(exc: BaseException, limit: int = 160) -> str:
    """``Type: message``, the message cut to ``limit`` characters (it may quote what the kernel sent)."""
    text = " ".join(str(exc).split())
    text = text if len(text) <= limit else text[:limit] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_launcher(p) -> bool:
    try:
        return p is not None and any(a.endswith("kernel_launcher.py") for a in p.cmdline())
    except Exception:  # noqa: BLE001 - psutil errors for processes that just ended
        return False


def _parent(p):
    try:
        return p.parent()
    except Exception:  # noqa: BLE001
        return None


def _is_test(cell) -> bool:
    return nbutils.is_grade(cell) and not nbutils.is_solution(cell)


def run_notebook(nb, ws: Workspace, iso: Isolation, limits: Limits, extra_ro: list[str] = (),
                 extra_path: str = "", env: dict | None = None, cgroups: Cgroups | None = None,
                 budget: TimeBudget | None = None) -> RunResult:
    """Execute ``nb`` in place in the sandbox described by ``ws``/``iso``; see :class:`NotebookRunner`.

    The kernels run in a cgroup of ``cgroups`` (none when it is None) and within ``budget``
    (the student's, besides the notebook's own ``limits.notebook_timeout``).
    """
    cgroup = SandboxCgroup(cgroups, f"kernel-{ws.root.name}")
    try:
        runner = NotebookRunner(nb, ws, iso, limits, list(extra_ro), extra_path, env, cgroup, budget)
        result = asyncio.run(runner.run())
    finally:
        cpu = cgroup.remove()
        if budget is not None:
            budget.charge(cpu)
    result.cpu_seconds = cpu
    result.notes += [cgroup.problem] if cgroup.problem else []
    return result
