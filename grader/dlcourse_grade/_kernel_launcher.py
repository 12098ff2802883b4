"""Start an IPython kernel inside the sandbox (copied into the workspace; runs as the learner).

argv: ``WORKDIR EXTRA_PATH -f CONNECTION_FILE [kernel options]`` (``EXTRA_PATH``: folders joined by ``os.pathsep``). Python runs with
``-I`` (no current folder on the import path, no PYTHON* variables, no user site);
the learner's folder is appended *after* site-packages, so a submitted ``numpy.py``
cannot shadow NumPy, and the kernel is told not to add the current folder itself.
"""

import os
import sys

os.environ.pop("JPY_PARENT_PID", None)  # the sandbox's PID 1 is our parent: no parent polling
workdir = sys.argv.pop(1)
extra_path = sys.argv.pop(1)
sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd(), workdir)]
sys.path += [p for p in extra_path.split(os.pathsep) if p]
sys.path.append(workdir)
os.chdir(workdir)

from ipykernel.kernelapp import IPKernelApp  # noqa: E402

argv = sys.argv[1:] + ["--IPKernelApp.ignore_cwd=True"]
if not any(a.startswith("--HistoryManager.hist_file") for a in argv):
    argv.append("--HistoryManager.hist_file=:memory:")
IPKernelApp.launch_instance(argv=argv)
