"""Grade a whole class: students in parallel workers, results written by this process alone.

Pipeline: read the gradebook's record of the assignment -> list the submissions ->
grade each student in a worker (``--jobs N`` processes, each with its own sandbox
user and one BLAS thread) -> as each finishes, write its grades through nbgrader's
``Gradebook`` (serialised here, with retries), its autograded notebooks and a JSON
report. One student's failure is that student's outcome; the run goes on.

Workers are forked from this process where the platform allows it and no other thread
runs here (:func:`_pool_context`): they start with the grader already imported, instead
of each importing nbgrader, nbformat and NumPy again (seconds of CPU per worker before
the first student). A worker grades one student after another, but no learner code ever
runs in it: every notebook gets a fresh sandbox, kernel, workspace and cgroup, and every
verification a fresh sandboxed process (``tests/test_grade_pool.py`` plants leftovers in
one student's notebook and checks that the next student graded in the same worker sees
none of them). BLAS is held to one thread in every grading process with ``threadpoolctl``
(here and in each worker), whatever the environment said when NumPy was imported.

Each sandbox (a notebook's kernels, a verification's runs) gets its own cgroup under a
parent this process creates for the run and removes at its end (:func:`.sandbox.make_cgroups`):
a CPU share of ``Limits.cpu_cores`` and a process limit, so that one student's busy
processes cannot slow the students graded beside it by more than the share allows.
Where no cgroup can be made, the run goes on without and the isolation warning says so.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import multiprocessing
import os
import secrets
import shutil
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from threadpoolctl import threadpool_limits

from .course import Course, assignment_spec, find_submissions
from .gradebook import apply_late_penalties, record_student
from .pipeline import StudentResult, StudentTask, grade_student, zero_parts
from .results import Flag, FlagKind, NotebookResult
from .sandbox import Isolation, Limits, detect, make_base, make_cgroups, slot_user
from .submission import plain_file

__all__ = ["ClassResult", "run_class", "student_seed", "load_secret"]

BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS")


@dataclass
class ClassResult:
    assignment: str
    isolation: Isolation
    students: list[StudentResult] = field(default_factory=list)
    write_errors: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """Did the grader itself fail anywhere (never because of what a learner submitted)?"""
        return bool(self.write_errors) or any(s.error for s in self.students)


def load_secret(course: Course, path: str | None = None) -> bytes:
    """The course secret: ``path``, else ``$DLCOURSE_GRADE_SECRET``, else ``.dlcourse-grade-secret``
    in the course root (created with 32 random bytes, mode 0600, on first use)."""
    if os.environ.get("DLCOURSE_GRADE_SECRET") and not path:
        return os.environ["DLCOURSE_GRADE_SECRET"].encode()
    p = Path(path) if path else course.root / ".dlcourse-grade-secret"
    if not p.exists():
        _create_secret(p)
    return p.read_bytes().strip()


def _create_secret(p: Path) -> None:
    """Write a new secret to ``p`` atomically: a complete temporary file hard-linked into place, so
    that shards starting at once all end up reading the one that won (never a half-written one)."""
    tmp = p.with_name(f".{p.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, p)
    except FileExistsError:
        pass  # another shard created it first: use theirs
    finally:
        tmp.unlink(missing_ok=True)


def student_seed(secret: bytes, assignment: str, student: str) -> int:
    """The grading-time seed of one student: HMAC-SHA256 of ``assignment/student`` under the secret."""
    digest = hmac.new(secret, f"{assignment}\0{student}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def package_locations() -> tuple[list[str], str]:
    """The folders of ``dlcourse`` and ``dlcourse_grade`` (bound read-only into in-kernel sandboxes)
    and their parents, joined with ``os.pathsep`` (appended to the kernel's import path).

    The autograding kernel needs both: the notebook's visible checks call ``dlcourse``,
    its hidden tests ``dlcourse_grade.hidden``.
    """
    pkgs = [Path(importlib.util.find_spec(name).origin).resolve().parent for name in ("dlcourse", "dlcourse_grade")]
    parents = list(dict.fromkeys(str(p.parent) for p in pkgs))
    return [str(p) for p in pkgs], os.pathsep.join(parents)


_SLOT: list[int] = [0]


def _init_worker(queue) -> None:
    _SLOT[0] = queue.get()
    threadpool_limits(1, user_api="blas")  # one BLAS thread per worker, however NumPy was started


def _work(task: StudentTask) -> StudentResult:
    task.slot = _SLOT[0]
    return grade_student(task)


def _write_outputs(course: Course, assignment: str, result: StudentResult, spec) -> None:
    if not result.notebooks:  # the worker died: every notebook at 0, flagged, rather than an older grade
        why = (result.error or "grader error").splitlines()[0]
        result.notebooks = [NotebookResult(nb.name, f"grader error: {why}", zero_parts(nb, why),
                                           [Flag(FlagKind.VERIFICATION, why, for_instructor=True)])
                            for nb in spec.notebooks]
    record_student(course.db_url, course.course_id, assignment, result)
    apply_late_penalties(course.db_url, course.config, assignment, result)
    dest = course.path("autograded", result.student, assignment)
    src = course.path("submitted", result.student, assignment)
    dest.mkdir(parents=True, exist_ok=True)
    for nb in result.notebooks:
        if nb.nb_json is not None:
            (dest / f"{nb.name}.ipynb").write_text(nb.nb_json, encoding="utf-8")
    if result.timestamp is not None:  # only a timestamp nbgrader could read is kept beside the notebook
        shutil.copyfile(src / "timestamp.txt", dest / "timestamp.txt")
    report_dir = course.root / "dlcourse-grade" / assignment
    report_dir.mkdir(parents=True, exist_ok=True)
    data = asdict(result)
    for nb in data["notebooks"]:
        nb.pop("nb_json", None)
    (report_dir / f"{result.student}.json").write_text(json.dumps(data, indent=1, default=str, sort_keys=True))


#: The largest ``timestamp.txt`` read (nbgrader's are one line, about 30 bytes).
MAX_TIMESTAMP_BYTES = 4096


def _timestamp(course: Course, folder: Path) -> tuple[object, tuple]:
    """The submission's ``timestamp.txt`` as nbgrader reads it; one it cannot read is no timestamp and a flag.

    Only the submission's own small regular file is handed to nbgrader: a link (to
    ``/etc/shadow``, to another student's file), a FIFO, a folder or a file over
    :data:`MAX_TIMESTAMP_BYTES` is not opened at all.
    """
    path = folder / "timestamp.txt"
    if not os.path.lexists(path):
        return None, ()
    why = plain_file(path)
    if why is None and path.stat().st_size > MAX_TIMESTAMP_BYTES:
        why = f"larger than {MAX_TIMESTAMP_BYTES} bytes"
    if why is not None:
        return None, (Flag(FlagKind.SUBMISSION, f"timestamp.txt not read ({why}): graded as if not late"),)
    try:
        return course.coursedir.get_existing_timestamp(str(folder)), ()
    except Exception as exc:  # noqa: BLE001 - learner-made file: any failure to parse it is theirs
        return None, (Flag(FlagKind.SUBMISSION, f"timestamp.txt could not be read ({type(exc).__name__}): "
                                                "graded as if not late"),)


def _protected(course: Course) -> frozenset:
    """The inodes of the course's own files (every file of ``source/`` and ``release/``, the gradebook,
    the secret): a hard link to one of them in a submission is never read."""
    paths = [course.path(kind, ".", ".") for kind in ("source", "release")]
    files = [p for d in paths if d.is_dir() for p in d.rglob("*")]
    files += [course.root / "gradebook.db", course.root / ".dlcourse-grade-secret"]
    out = set()
    for p in files:
        try:
            st = os.lstat(p)
        except OSError:
            continue
        out.add((st.st_dev, st.st_ino))
    return frozenset(out)


def _tasks(course: Course, assignment: str, students, limits, iso, secret, verify, base,
           cgroups=None) -> tuple[list, object]:
    spec = assignment_spec(course, assignment)
    protected = _protected(course)
    extra_ro, extra_path = package_locations()
    tasks = []
    root = str(Path(course.coursedir.format_path(course.coursedir.submitted_directory, ".", ".")).resolve())
    for s in find_submissions(course, assignment, students):
        folder = course.path("submitted", s, assignment)
        ts, notes = _timestamp(course, folder)
        tasks.append(StudentTask(s, assignment, spec, str(folder), iso, limits, base=str(base),
                                 extra_ro=tuple(extra_ro), extra_path=extra_path,
                                 seed=student_seed(secret, assignment, s), verify=verify, timestamp=ts,
                                 notes=notes, submitted_root=root, protected=protected, cgroups=cgroups))
    return tasks, spec


def run_class(course: Course, assignment: str, jobs: int = 1, students: list[str] | None = None,
              limits: Limits = Limits(), iso: Isolation | None = None, secret: bytes | None = None,
              verify: bool = True, on_result=None) -> ClassResult:
    """Grade every submission of ``assignment`` (or only ``students``); see the module docstring."""
    t0 = time.monotonic()
    iso = iso or detect()
    secret = secret if secret is not None else load_secret(course)
    for var in BLAS_VARS:
        os.environ[var] = "1"
    base = make_base()
    cgroups, why = make_cgroups(limits)
    if why and why not in iso.warning:  # reported as the isolation warning (the run goes on without)
        iso = replace(iso, warning=(iso.warning + " " + why).strip())
    out = ClassResult(assignment, iso)
    blas = threadpool_limits(1, user_api="blas")  # NumPy may have been imported before the variables were set
    try:
        tasks, spec = _tasks(course, assignment, students, limits, iso, secret, verify, base, cgroups)
        if iso.level != "none":
            for slot in range(max(1, jobs)):
                slot_user(slot)
        for result in _results(tasks, jobs):
            try:
                _write_outputs(course, assignment, result, spec)
            except Exception as exc:  # noqa: BLE001 - reported, and the run goes on
                out.write_errors[result.student] = f"{type(exc).__name__}: {exc}"
            out.students.append(result)
            if on_result:
                on_result(result)
    finally:
        blas.restore_original_limits()
        if cgroups is not None:
            cgroups.remove()
        shutil.rmtree(base, ignore_errors=True)
    out.students.sort(key=lambda r: r.student)
    out.seconds = time.monotonic() - t0
    return out


def _results(tasks: list[StudentTask], jobs: int):
    """Yield each student's result as it completes (in-process for one job, else a process pool)."""
    if jobs <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield grade_student(t)
        return
    ctx = _pool_context()
    queue = ctx.SimpleQueue()  # no feeder thread: nothing but the main thread runs when the workers fork
    for slot in range(jobs):
        queue.put(slot)
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker, initargs=(queue,)) as pool:
        futures = {pool.submit(_work, t): t for t in tasks}
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker that died is reported for its student
                yield StudentResult(futures[fut].student, error=f"grader worker failed: {type(exc).__name__}: {exc}")


def _pool_context():
    """``fork`` when this platform has it and only the main thread runs here, else ``spawn``.

    A forked worker starts with everything this process imported (the grader, nbgrader,
    nbformat, NumPy) and the assignment's record in memory; a spawned one imports it all
    again before its first student. This process holds no learner data then (the pool
    starts before the first result is written) and never runs learner code. Forking a
    process with other threads can copy a lock some thread holds, so then it spawns.
    """
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
