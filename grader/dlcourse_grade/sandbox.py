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

In front of all three, ``sh`` moves itself into the sandbox's own cgroup before it
``exec``s bubblewrap (:class:`SandboxCgroup`): a CPU share (``cpu.cfs_quota_us`` of
cgroup v1, ``cpu.max`` of v2, :attr:`Limits.cpu_cores` cores), a process limit
(``pids.max``) and CPU accounting for everything the sandbox starts. The cgroups of a
class run live under one parent that the grader creates (:func:`make_cgroups`) and
removes; without root or a ``cpu`` controller there is none, and the isolation
warning says so. :class:`TimeBudget` is the wall-clock budget of one student.

:func:`detect` picks the strongest level this machine allows: ``"bwrap"`` (root and
bubblewrap), ``"user"`` (root, no bubblewrap: user switch and ``unshare -n -p``, the
course folder protected only by file permissions) or ``"none"`` (not root: limits
only). Anything below ``"bwrap"`` comes with a warning that the CLI prints loudly.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "Isolation", "detect", "Workspace", "slot_user", "command_prefix", "clean_env", "TimeBudget",
           "Cgroups", "make_cgroups", "SandboxCgroup"]

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

    ``student_timeout`` is the wall-clock budget of one student: every notebook, its
    kernel execution and its verification runs together (:class:`TimeBudget`); once it
    is spent the running cell or verification run is stopped and everything not yet
    run scores 0 with a flag naming the budget. Each cell's deadline is the nearest of
    ``cell_timeout``, the notebook's and the student's budget. ``cpu_cores`` is the CPU
    share of one sandbox (its cgroup's CFS quota, in cores) and ``sandbox_pids`` its
    cgroup's process limit (``pids.max``), both where cgroups are available.
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
    student_timeout: float = 600.0
    cpu_cores: float = 1.0
    sandbox_pids: int = 272  # nproc, plus bubblewrap's own processes


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
    """The strongest isolation this machine offers (or ``prefer``, if it is available).

    Its warning ends with what :func:`cgroup_problem` finds (no CPU share per sandbox).
    """
    iso = _detect(prefer)
    problem = cgroup_problem()
    if problem:
        return Isolation(iso.level, (iso.warning + " " + problem).strip())
    return iso


def _detect(prefer: str | None) -> Isolation:
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
                   hide: list[str] = (), cgroup: "SandboxCgroup | None" = None) -> list[str]:
    """The argv prefix that runs a command isolated at level ``iso.level`` inside ``ws``.

    ``extra_ro`` are folders bound read-only (``dlcourse`` for the in-kernel run);
    ``hide`` are folders inside those that are covered by an empty one; ``cgroup`` is
    the sandbox's cgroup, joined first (see :class:`SandboxCgroup`).
    """
    return (cgroup.prefix() if cgroup is not None else []) + _isolation_prefix(iso, ws, limits, extra_ro, hide)


def _isolation_prefix(iso: Isolation, ws: Workspace, limits: Limits, extra_ro, hide) -> list[str]:
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


class TimeBudget:
    """The wall-clock budget of one student: every notebook, kernel execution and verification runs alike.

    It starts when the student's grading starts (in the worker) and is read with
    :meth:`left` (deadlines take the nearest of their own limit and what is left here).
    The CPU time of the student's sandboxes is added up in :attr:`cpu_seconds`.
    """

    def __init__(self, seconds: float, start: float | None = None):
        self.seconds = float(seconds)
        self.end = (time.monotonic() if start is None else start) + self.seconds
        self.cpu_seconds = 0.0  # CPU time of the student's sandboxes so far (cgroup accounting)

    def charge(self, cpu_seconds: float) -> None:
        self.cpu_seconds += cpu_seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    @property
    def spent(self) -> bool:
        return self.left() <= 0

    @property
    def reason(self) -> str:
        return (f"the student's time budget of {self.seconds:g} s (all notebooks, execution and verification) "
                "was spent")


#: cgroup v1 ``cpu.cfs_period_us`` (and the period of v2's ``cpu.max``) in microseconds.
CFS_PERIOD_US = 100_000
_JOIN = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
_NO_SHARE = "NO CPU SHARE: "


@dataclass(frozen=True)
class Cgroups:
    """The grader's parent cgroups of one class run (one folder per hierarchy) and what each sandbox gets."""

    version: int                 # 1 (cgroup v1 hierarchies) or 2 (the unified hierarchy)
    parents: tuple[str, ...]     # created by :func:`make_cgroups`, removed by :meth:`remove`
    cpu_cores: float
    pids: int

    def remove(self) -> None:
        """Remove the parents (and any sandbox cgroup left in them, its processes killed first)."""
        for parent in self.parents:
            p = Path(parent)
            for child in [c for c in p.iterdir() if c.is_dir()] if p.is_dir() else []:
                _kill_and_remove([child])
            _rmdir(p)


def _mounts() -> list[tuple[str, str, set[str]]]:
    """``(mount point, type, options)`` of every cgroup file system mounted here."""
    out = []
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        f = line.split()
        if len(f) >= 4 and f[2] in ("cgroup", "cgroup2"):
            out.append((f[1].replace("\\040", " "), f[2], set(f[3].split(","))))
    return out


def _own_path(version: int, controllers: set[str]) -> str:
    """This process's cgroup in the hierarchy holding ``controllers`` (``/`` when unknown)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return "/"
    for line in lines:
        hid, _, rest = line.partition(":")
        ctrls, _, path = rest.partition(":")
        if version == 2 and hid == "0" and not ctrls:
            return path or "/"
        if version == 1 and set(ctrls.split(",")) & controllers:
            return path or "/"
    return "/"


def _hierarchies() -> tuple[int, list[tuple[str, set[str]]]]:
    """``(version, [(folder to create the parent in, controllers there)])``: v1 when it has ``cpu``, else v2."""
    wanted = {"cpu", "cpuacct", "pids"}
    v1 = {}
    for mount, kind, opts in _mounts():
        if kind == "cgroup" and opts & wanted and os.path.realpath(mount) not in v1:
            v1[os.path.realpath(mount)] = opts & wanted
    if any("cpu" in c for c in v1.values()):
        out = []
        for mount, ctrls in v1.items():
            own = os.path.normpath(os.path.join(mount, _own_path(1, ctrls).lstrip("/")))
            out.append((own if os.path.isdir(own) else mount, ctrls))
        return 1, out
    for mount, kind, _ in _mounts():
        if kind != "cgroup2":
            continue
        own = os.path.normpath(os.path.join(mount, _own_path(2, set()).lstrip("/")))
        for where in dict.fromkeys([own, mount]):  # the grader's own group, else the root (no processes there)
            try:
                ctrls = set(Path(where, "cgroup.controllers").read_text().split())
                enabled = set(Path(where, "cgroup.subtree_control").read_text().split())
            except OSError:
                continue
            if "cpu" in ctrls and ("cpu" in enabled or where == mount):
                return 2, [(where, ctrls & wanted)]
    return 0, []


def make_cgroups(limits: Limits) -> tuple[Cgroups | None, str]:
    """The parent cgroups of a class run, created now, and ``""``; or ``None`` and why there are none.

    The parent is created inside the grader's own cgroup of each hierarchy (``cpu``,
    ``cpuacct``, ``pids`` of v1, or the unified one of v2) and named
    ``dlcourse-grade-<pid>-<random>``; :meth:`Cgroups.remove` removes it.
    """
    if os.geteuid() != 0:
        return None, (_NO_SHARE + "not running as root, so sandboxes get no cgroup: one student's busy "
                      "processes can slow the others (only the per-cell CPU-time limit holds).")
    version, found = _hierarchies()
    if not version:
        return None, (_NO_SHARE + "no cgroup cpu controller (v1 or v2) is mounted and usable here, so one "
                      "student's busy processes can slow the others (only the per-cell CPU-time limit holds).")
    name = f"dlcourse-grade-{os.getpid()}-{secrets.token_hex(3)}"
    made: list[str] = []
    try:
        for where, ctrls in found:
            p = Path(where) / name
            p.mkdir(mode=0o755)
            made.append(str(p))
            if version == 2:
                (p / "cgroup.subtree_control").write_text(" ".join("+" + c for c in sorted(ctrls & {"cpu", "pids"})))
    except OSError as exc:
        Cgroups(version, tuple(made), limits.cpu_cores, limits.sandbox_pids).remove()
        return None, (_NO_SHARE + f"could not create a cgroup under {found[len(made)][0]} ({exc}), so one "
                      "student's busy processes can slow the others.")
    return Cgroups(version, tuple(made), limits.cpu_cores, limits.sandbox_pids), ""


def cgroup_problem() -> str:
    """``""`` when each sandbox can get its own cgroup here (a probe is created and removed), else why not."""
    groups, why = make_cgroups(Limits())
    if groups is not None:
        groups.remove()
    return why


def _rmdir(p: Path, tries: int = 50) -> bool:
    for _ in range(tries):
        try:
            p.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            time.sleep(0.1)
    return False


def _procs(d: Path) -> list[int]:
    try:
        return [int(x) for x in (d / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _kill_and_remove(dirs: list[Path]) -> bool:
    """SIGKILL every process in ``dirs`` until none is left (a forking one included), then remove them."""
    for d in dirs:
        if (d / "cgroup.kill").exists():
            try:
                (d / "cgroup.kill").write_text("1")
            except OSError:
                pass
    for _ in range(200):
        pids = {pid for d in dirs for pid in _procs(d)}
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
    return all([_rmdir(d) for d in dirs])


class SandboxCgroup:
    """The cgroup of one sandbox (a notebook's kernels, or a verification's runs): CPU share, pids, CPU time.

    Made in each parent of ``groups`` (nothing at all when ``groups`` is None: then
    :meth:`prefix` is empty); :attr:`problem` says why one could not be made (the
    sandbox then runs without a share). :meth:`remove` kills whatever is still in it,
    adds its CPU time to :attr:`cpu_seconds` and removes it.
    """

    def __init__(self, groups: Cgroups | None, name: str):
        self.dirs: list[Path] = []
        self.problem = ""
        self.cpu_seconds = 0.0
        if groups is None:
            return
        leaf = f"{name}-{secrets.token_hex(4)}"
        try:
            for parent in groups.parents:
                d = Path(parent) / leaf
                d.mkdir(mode=0o755)
                self.dirs.append(d)
                self._configure(d, groups)
        except OSError as exc:
            self.problem = f"no CPU share for this sandbox (cgroup: {exc})"
            _kill_and_remove(self.dirs)
            self.dirs = []

    @staticmethod
    def _configure(d: Path, groups: Cgroups) -> None:
        quota = max(1000, int(groups.cpu_cores * CFS_PERIOD_US))
        if (d / "cpu.cfs_quota_us").exists():
            (d / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
            (d / "cpu.cfs_quota_us").write_text(str(quota))
        if (d / "cpu.max").exists():
            (d / "cpu.max").write_text(f"{quota} {CFS_PERIOD_US}")
        if (d / "pids.max").exists():
            (d / "pids.max").write_text(str(groups.pids))

    def prefix(self) -> list[str]:
        """``sh`` moving itself into this cgroup, then ``exec``-ing the rest of the command (empty without one)."""
        if not self.dirs:
            return []
        return [shutil.which("sh") or "/bin/sh", "-c", _JOIN, "dlcourse-cgroup",
                *[str(d / "cgroup.procs") for d in self.dirs], "--"]

    def processes(self) -> list[int]:
        return sorted({pid for d in self.dirs for pid in _procs(d)})

    def _usage(self) -> float:
        for d in self.dirs:
            try:
                if (d / "cpuacct.usage").exists():
                    return int((d / "cpuacct.usage").read_text()) / 1e9
                if (d / "cpu.stat").exists():
                    for line in (d / "cpu.stat").read_text().splitlines():
                        if line.startswith("usage_usec "):
                            return int(line.split()[1]) / 1e6
            except (OSError, ValueError):
                continue
        return 0.0

    def remove(self) -> float:
        """Kill what is left, remove the cgroup; the CPU seconds it used (0 without cgroup accounting)."""
        if self.dirs:
            self.cpu_seconds += self._usage()
            if not _kill_and_remove(self.dirs):
                self.problem = self.problem or "a sandbox cgroup could not be removed"
            self.dirs = []
        return self.cpu_seconds
