"""One recorded call of a learner's function: the value or the error, warnings, output, in-place changes.

Both graders use this module: :func:`dlcourse.checks.run.run_case` in the learner's
kernel, and ``dlcourse-grade``'s sandboxed verification run, which cannot import
``dlcourse`` and so gets a copy of this very file. It therefore imports only the
standard library and NumPy, and nothing relative.

What a call records is what :class:`dlcourse.checks.verdict.Outcome` holds, as plain
data: the return value (as returned), ``error`` (``"TypeError: message"``), the
distinct warning messages (floating-point errors become warnings; none is printed,
since nbgrader scores any stderr text as a failure), what the call printed to stdout
and wrote to stderr (kept up to a fixed size, the rest counted, never stored), the
names of the arguments it changed in place, and whether it ran past its time limit.
Texts are cut to fixed lengths (a learner's message cannot grow without bound).

The time limit (``timeout`` seconds per call) is a ``SIGALRM`` timer when the call
runs in the main thread (as in a Jupyter kernel; a handler and timer already set are
restored afterwards), and otherwise a watchdog thread that raises the timeout in the
calling thread (``PyThreadState_SetAsyncExc``). Both raise it again every 0.1 s until
the call ends, so code that catches it once still stops. Either way it interrupts
Python code only: one long NumPy operation finishes before the limit is noticed.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import threading
import time
import warnings

import numpy as np

__all__ = ["call", "changed", "CappedText", "CallTimeout", "MAX_ERROR", "MAX_WARNING", "MAX_WARNINGS",
           "MAX_STDERR", "MAX_STDOUT"]

MAX_ERROR = 2000      # characters of an error message
MAX_WARNING = 500     # characters of one warning message
MAX_WARNINGS = 10     # distinct warning messages kept
MAX_STDERR = 2000     # characters of stderr
MAX_STDOUT = 2000     # characters of stdout


class CallTimeout(BaseException):
    """Raised inside a learner's call that ran past its time limit (a BaseException: learner code
    that catches ``Exception`` cannot swallow it)."""


class CappedText:
    """A write-only text stream that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int):
        self.limit, self.kept, self.dropped, self.lines = limit, [], 0, 0
        self._size = 0

    def write(self, s) -> int:
        s = str(s)
        self.lines += s.count("\n")
        room = self.limit - self._size
        if room > 0:
            self.kept.append(s[:room])
            self._size += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def getvalue(self) -> str:
        text = "".join(self.kept)
        if self.dropped:
            text += f"\n[... {self.dropped} more characters not shown ({self.lines} lines in all)]"
        return text


def changed(before, after) -> bool:
    """Did an argument change in place? (arrays compared by shape and value, NaN equal to NaN)."""
    if isinstance(before, np.ndarray):
        try:
            return not (isinstance(after, np.ndarray) and before.shape == after.shape
                        and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
        except Exception:  # noqa: BLE001 - an argument changed into something unreadable
            return True
    if isinstance(before, tuple):
        return not isinstance(after, tuple) or any(changed(b, a) for b, a in zip(before, after))
    return False


class _Limit:
    """The time limit of one call: :meth:`arm` before it, :meth:`disarm` after (see the module doc)."""

    def __init__(self, seconds):
        self.seconds, self.armed, self.deadline = seconds, False, 0.0
        self._signal = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def _raise(self, *_):
        if self.armed and time.monotonic() >= self.deadline:  # again every 0.1 s: a swallowed one recurs
            raise CallTimeout(f"did not return within {self.seconds:g} s")

    def _watch(self, thread_id: int) -> None:
        """Another thread's watchdog: raise CallTimeout in ``thread_id`` until the call is disarmed."""
        set_async = ctypes.pythonapi.PyThreadState_SetAsyncExc
        while not self._done.wait(max(0.0, self.deadline - time.monotonic()) if self.armed else 0.1):
            if self.armed and time.monotonic() >= self.deadline:
                set_async(ctypes.c_ulong(thread_id), ctypes.py_object(CallTimeout))
                self.deadline = time.monotonic() + 0.1

    def arm(self) -> None:
        if not self.seconds:
            return
        self.deadline, self.armed = time.monotonic() + self.seconds, True
        self._start = time.monotonic()
        if self._signal:
            self._old_handler = signal.signal(signal.SIGALRM, self._raise)
            self._old_timer = signal.setitimer(signal.ITIMER_REAL, self.seconds, 0.1)
        else:
            self._done = threading.Event()
            threading.Thread(target=self._watch, args=(threading.get_ident(),), daemon=True).start()

    def disarm(self) -> None:
        while True:  # an alarm may land before `armed` is cleared: then clear it again
            try:
                if not self.armed:
                    return
                self.armed = False
                if self._signal:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    signal.signal(signal.SIGALRM, self._old_handler)
                    old_delay, old_interval = self._old_timer
                    if old_delay:  # someone else's timer: give back what is left of it
                        left = max(old_delay - (time.monotonic() - self._start), 1e-3)
                        signal.setitimer(signal.ITIMER_REAL, left, old_interval)
                else:
                    self._done.set()
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(threading.get_ident()), None)
                return
            except CallTimeout:
                continue


def call(fn, args: tuple, kwargs: dict, pristine: tuple[tuple, dict], params=(), *,
         catch: type[BaseException] = Exception, guard=None, timeout: float | None = None) -> dict:
    """Call ``fn(*args, **kwargs)`` and record what happened.

    ``pristine`` is an untouched copy ``(args, kwargs)`` to find in-place changes;
    ``params`` names the positional parameters (for the message); ``catch`` is what
    counts as the learner's error (the sandbox catches ``BaseException``, the kernel
    lets KeyboardInterrupt through); ``guard`` is an optional context manager around
    the call itself (the kernel's delegation trap); ``timeout`` is the time limit in
    seconds (None: none), reported as ``timed_out`` with an error that says so.

    Returns ``{"value", "error", "warnings", "mutated", "stderr", "stdout", "timed_out"}``.
    """
    err, out = CappedText(MAX_STDERR), CappedText(MAX_STDOUT)
    value, error, timed_out = None, None, False
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"), \
            contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        limit = _Limit(timeout)
        try:
            try:
                with guard if guard is not None else contextlib.nullcontext():
                    limit.arm()
                    value = fn(*args, **kwargs)
                    limit.disarm()
            except CallTimeout:
                timed_out = True
            except catch as exc:  # the learner's bug is reported, not raised
                limit.disarm()
                try:
                    error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
                except Exception:  # noqa: BLE001 - an exception whose str() fails
                    error = f"{type(exc).__name__}: (its message could not be read)"
        except CallTimeout:  # landed while an error was being recorded
            timed_out = True
        finally:
            limit.disarm()
        if timed_out:
            value, error = None, f"TimeoutError: your function did not return within {timeout:g} s (the time limit of each call)"
    names = tuple(params)
    mutated = [names[i] if i < len(names) else f"argument {i + 1}"
               for i, (b, a) in enumerate(zip(pristine[0], args)) if changed(b, a)]
    mutated += [k for k in kwargs if changed(pristine[1][k], kwargs[k])]
    messages = list(dict.fromkeys(str(w.message)[:MAX_WARNING] for w in caught))[:MAX_WARNINGS]
    return {"value": value, "error": error, "warnings": messages, "mutated": mutated,
            "stderr": err.getvalue(), "stdout": out.getvalue(), "timed_out": timed_out}
