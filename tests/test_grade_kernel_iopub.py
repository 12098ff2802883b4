"""A cell's outputs that reach the grader after its execute reply are kept, up to the cell's deadline.

nbclient waits a fixed ``iopub_timeout`` (4 s) after a cell's reply for the rest of its
outputs and then drops whatever has not arrived, with a log line only. On a loaded
machine a large output can take longer than that (a 20 MB HTML display in the class
corpus lost its output, and with it the "output truncated" flag, in a CI run). Here the
learner's kernel itself holds back: the cell's code patches its session so that the
cell's idle status is sent 6 s late, after one more line of output. The grader must keep
that line; with a cell deadline shorter than the delay the cell must instead be stopped
and reported like any other overrunning cell, and the next cell must still run.
"""

from __future__ import annotations

import time

import pytest
from nbformat.v4 import new_code_cell, new_notebook

pytest.importorskip("nbgrader", reason="the grader needs nbgrader (pip install ./grader)")

from dlcourse_grade import kernel, sandbox  # noqa: E402

pytestmark = [pytest.mark.grading, pytest.mark.slow, pytest.mark.xdist_group("dlcourse_grade")]

DELAY = 6.0  # seconds: longer than nbclient's default iopub_timeout of 4 s

HOLD_BACK = f'''
import sys, time
_kernel = get_ipython().kernel
_send = _kernel.session.send
_held = []
def _hold_back(stream, msg_or_type, content=None, *args, **kwargs):
    if (msg_or_type == "status" and isinstance(content, dict)
            and content.get("execution_state") == "idle" and not _held):
        _held.append(1)
        time.sleep({DELAY})
        sys.stdout.write("sent after the reply\\n")
        sys.stdout.flush()
        time.sleep(0.5)
    return _send(stream, msg_or_type, content, *args, **kwargs)
_kernel.session.send = _hold_back
'''


def _run(limits: sandbox.Limits):
    iso = sandbox.detect()
    nb = new_notebook(cells=[new_code_cell(HOLD_BACK), new_code_cell("print('the next cell ran')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    base = sandbox.make_base()
    ws = sandbox.Workspace(base, "0-iopub", sandbox.slot_user(0) if iso.level != "none" else None)
    try:
        ws.give_to_owner()
        t0 = time.monotonic()
        result = kernel.run_notebook(nb, ws, iso, limits)
        return result, time.monotonic() - t0
    finally:
        ws.remove()
        base.rmdir()


def _texts(cell) -> list[str]:
    return [o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"]


def test_output_sent_after_the_reply_is_kept():
    result, took = _run(sandbox.Limits())
    first, second = result.nb.cells
    assert took >= DELAY, f"the run took {took:.1f} s: the held-back idle status was not waited for"
    assert "sent after the reply\n" in _texts(first), first.get("outputs")
    assert result.events == [], [e.reason for e in result.events]
    assert _texts(second) == ["the next cell ran\n"]


def test_a_cell_that_holds_back_past_its_deadline_is_stopped():
    result, took = _run(sandbox.Limits(cell_timeout=2.0, cell_cpu=4))
    first, second = result.nb.cells
    assert [e.index for e in result.events] == [0], [e.reason for e in result.events]
    assert "longer than 2 s" in result.events[0].reason
    assert any(o.get("ename") == "CellTimeoutError" for o in first.get("outputs", []))
    assert took < DELAY + 20, f"the run took {took:.1f} s"
    assert _texts(second) == ["the next cell ran\n"]
