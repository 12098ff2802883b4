"""Run learner code in a sandbox: an unprivileged user, resource limits, no network, a private folder.

The command that starts a learner's process is built here as a prefix of small
tools, each doing one job (the pipeline reads from the outside in):

``bwrap``
    a fresh mount, PID, network, IPC and UTS namespace; the file system holds only
    ``/usr``, the Python installation (read-only), the student's private folder and
    an empty ``/tmp``: no course folder, no gradebook, no other student.
    With ``with_dlcourse=False`` the ``dlcourse`` package is not there at all.
``prlimit``
    address space (memory), processes, file size, open files, no core dumps.
``setpriv``
    switch to the job slot's own unprivileged user (``dlgrade0``, ``dlgrade1``, ...),
    no supplementary groups, no capabilities, no new privileges.

:func:`detect` picks the strongest level this machine allows: ``"bwrap"`` (root and
bubblewrap), ``"user"`` (root, no bubblewrap: user switch and ``unshare -n -p``, the
course folder protected only by file permissions) or ``"none"`` (not root: limits
only). Anything below ``"bwrap"`` comes with a warning that the CLI prints loudly.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "Isolation", "detect", "Workspace", "slot_user", "command_prefix", "clean_env"]

GiB = 1024 ** 3
#: Variables passed into the sandbox: they select numerical kernels (OpenBLAS core type,
#: MKL reproducibility, NumPy CPU features), so learner code rounds as the reference does.
PASS_ENV_PREFIXES = ("OPENBLAS_", "GOTOBLAS_", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "NPY_DISABLE_CPU_FEATURES")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one learner notebook.

    ``cell_timeout`` is wall-clock seconds per cell (the kernel is killed and
    restarted after it), ``cell_cpu`` CPU seconds per cell (``RLIMIT_CPU`` is raised
    by this much before each cell; a little above the wall clock, so a busy loop is
    always stopped by the same rule, and threads burning several cores are caught), ``memory`` the address-space limit in bytes,
    ``nproc`` the most processes and threads the slot user may run, ``output_bytes``
    the most output kept per notebook (rich output included), ``notebook_timeout``
    the wall-clock budget of one notebook, ``max_restarts`` how many times a dead
    kernel is restarted before the rest of the notebook is given up, ``notebook_bytes``
    the largest submitted notebook file that is read at all (a larger one is ungradable
    before it is parsed), ``reply_bytes`` the most array data the grader loads from one
    verification run (however often the reply refers to the same file).
    """

    cell_timeout: float = 60.0
    cell_cpu: int = 70
    memory: int = 2 * GiB
    nproc: int = 256
    fsize: int = 256 * 1024 ** 2
    nofile: int = 512
    output_bytes: int = 1_000_000
    notebook_timeout: float = 900.0
    max_restarts: int = 12
    call_timeout: float = 30.0
    notebook_bytes: int = 20 * 1024 ** 2
    reply_bytes: int = 256 * 1024 ** 2


@dataclass(frozen=True)
class Isolation:
    """The isolation level in use and, below full isolation, why and what is missing."""

    level: str
    warning: str = ""

    @property
    def isolated(self) -> bool:
        return self.level == "bwrap"


def _bwrap_works() -> bool:
    exe = shutil.which("bwrap")
    if not exe:
        return False
    probe = [exe, "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def detect(prefer: str | None = None) -> Isolation:
    """The strongest isolation this machine offers (or ``prefer``, if it is available)."""
    if os.geteuid() != 0:
        return Isolation("none", "NOT ISOLATED: dlcourse-grade is not running as root, so learner code runs as "
                                 "this user with resource limits only; it can read and write whatever this user "
                                 "can (the gradebook, source/, other submissions) and reach the network.")
    have_bwrap = _bwrap_works()
    if prefer == "none":
        return Isolation("none", "NOT ISOLATED (--isolation none): learner code runs as root with limits only.")
    if have_bwrap and prefer in (None, "bwrap"):
        return Isolation("bwrap")
    if prefer == "bwrap":
        raise RuntimeError("bubblewrap (bwrap) is not available or does not work here; "
                           "install it (apt-get install bubblewrap) or choose --isolation user")
    if not _user_can_run_python():
        return Isolation("none", "NOT ISOLATED: bubblewrap is missing and an unprivileged user cannot run this "
                                 f"Python ({sys.executable}); learner code runs as root with limits only. "
                                 "Install bubblewrap.")
    return Isolation("user", "PARTLY ISOLATED: bubblewrap is missing, so learner code runs as an unprivileged "
                             "user without network, but it sees the file system; files that this user can read "
                             "(world-readable course files, dlcourse) are not hidden. Install bubblewrap.")


def _user_can_run_python() -> bool:
    """Can an unprivileged user start this Python with NumPy (it may live under /root)?"""
    probe = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", sys.executable, "-I", "-c",
             "import numpy"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=60, cwd="/").returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def slot_user(slot: int) -> pwd.struct_passwd:
    """The unprivileged user of job slot ``slot`` (created with ``useradd`` when missing).

    Another process (a second shard) may create the same user at once: a failed ``useradd``
    is accepted when the user exists afterwards, and one that lost the race for the lock on
    ``/etc/passwd`` is tried again a few times.
    """
    name = f"dlgrade{slot}"
    why = ""
    for attempt in range(5):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        if attempt:
            time.sleep(0.2 * attempt)
        done = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                               "--user-group", name], capture_output=True, text=True)
        why = f"useradd exit {done.returncode}: {done.stderr.strip()}"
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(f"could not create the grading user {name!r} ({why})") from None


class Workspace:
    """A private folder for one sandboxed run: ``work/`` (the cwd), ``home/`` and ``run/``.

    It lives under a root-owned base folder (mode 0711) and belongs to the slot
    user with mode 0700, so no other slot can look inside.
    """

    def __init__(self, base: Path, name: str, owner: pwd.struct_passwd | None):
        self.root = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base))
        self.work, self.home, self.run = self.root / "work", self.root / "home", self.root / "run"
        for d in (self.work, self.home, self.run):
            d.mkdir()
        self.owner = owner

    def give_to_owner(self) -> None:
        """Hand every file in the workspace to the slot user (call after copying files in)."""
        if self.owner is None:
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            for n in [dirpath] + [os.path.join(dirpath, f) for f in dirnames + filenames]:
                os.lchown(n, self.owner.pw_uid, self.owner.pw_gid)
        os.chmod(self.root, 0o700)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def make_base() -> Path:
    """A fresh root-owned folder for this run's workspaces (traversable, not listable)."""
    base = Path(tempfile.mkdtemp(prefix="dlcourse-grade-"))
    os.chmod(base, 0o711)
    return base


def python_roots() -> list[str]:
    """Folders the sandbox needs read-only to run this Python and its site-packages."""
    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths()[key])
    roots = sorted(os.path.realpath(p) for p in paths if p and os.path.exists(p))
    roots += sorted(p for p in paths if p and os.path.exists(p) and os.path.realpath(p) != p)
    keep: list[str] = []
    for p in roots:  # drop what an earlier root (or /usr) already holds
        if p.startswith("/usr/") or any(p == k or p.startswith(k + "/") for k in keep):
            continue
        keep.append(p)
    return keep


def _dirs_for(path: str, made: set[str]) -> list[str]:
    """``--dir`` arguments creating each missing ancestor of ``path`` with mode 0755."""
    args: list[str] = []
    parts = Path(path).parts[1:-1]
    cur = ""
    for p in parts:
        cur += "/" + p
        if cur not in made:
            made.add(cur)
            args += ["--perms", "0755", "--dir", cur]
    return args


def _bwrap_args(ws: Workspace, extra_ro: list[str], hide: list[str]) -> list[str]:
    args = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--unshare-net", "--unshare-pid",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    args += ["--ro-bind", "/usr", "/usr", "--tmpfs", "/tmp"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/" + top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), "/" + top]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    for f in ("passwd", "group", "nsswitch.conf", "localtime", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
              "alternatives", "hosts"):
        if os.path.exists("/etc/" + f):
            args += ["--ro-bind", "/etc/" + f, "/etc/" + f]
    made: set[str] = {"/etc", "/usr", "/tmp"}
    for p in python_roots() + extra_ro:
        args += _dirs_for(p, made) + ["--ro-bind", p, p]
    for p in hide:  # an empty folder over it (dlcourse installed inside site-packages)
        args += ["--tmpfs", p]
    args += _dirs_for(str(ws.root) + "/x", made)
    args += ["--bind", str(ws.root), str(ws.root), "--proc", "/proc", "--dev", "/dev",
             "--tmpfs", "/dev/shm", "--chdir", str(ws.work)]
    return args


def command_prefix(iso: Isolation, ws: Workspace, limits: Limits, extra_ro: list[str] = (),
                   hide: list[str] = ()) -> list[str]:
    """The argv prefix that runs a command isolated at level ``iso.level`` inside ``ws``.

    ``extra_ro`` are folders bound read-only (``dlcourse`` for the in-kernel run);
    ``hide`` are folders inside those that are covered by an empty one.
    """
    rl = ["prlimit", f"--as={limits.memory}", f"--nproc={limits.nproc}", f"--fsize={limits.fsize}",
          f"--nofile={limits.nofile}", "--core=0", "--"]
    if iso.level == "none":
        return rl
    user = ws.owner
    drop = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
            "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"]
    if iso.level == "user":
        return ["unshare", "--net", "--pid", "--fork", "--kill-child", "--"] + rl + drop
    return _bwrap_args(ws, list(extra_ro), list(hide)) + ["--"] + rl + drop


def clean_env(ws: Workspace, extra: dict | None = None) -> dict:
    """The whole environment of a sandboxed process: nothing inherited from the grader."""
    env = {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(ws.home), "USER": ws.owner.pw_name if ws.owner else "grader",
        "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TMPDIR": "/tmp" if ws.owner else str(ws.home),
        "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(ws.home / ".mpl"), "DLCOURSE_PROGRESS": "0",
        "IPYTHONDIR": str(ws.home / ".ipython"), "JUPYTER_CONFIG_DIR": str(ws.home / ".jupyter"),
        "JUPYTER_DATA_DIR": str(ws.home / ".jupyter-data"), "JUPYTER_RUNTIME_DIR": str(ws.run),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    for key, value in os.environ.items():  # the BLAS kernel choice, so that rounding matches the grader's
        if key.startswith(PASS_ENV_PREFIXES) and not key.endswith("_NUM_THREADS"):
            env[key] = value
    env.update(extra or {})
    return env
