"""One corpus run shared by the class test and the corpus test (same xdist group, same process).

``corpus_run()`` builds a course with ex01_perceptron and ex02_mlp in a temporary
folder, writes every submission of :mod:`corpus_cases` (the class and the corpus), and runs
``dlcourse-grade autograde`` once per assignment with ``--jobs 2``. Its result is
cached for the process, so both test modules assert on the same run.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import corpus_build as build
import corpus_cases as cases

ASSIGNMENTS = (cases.A1, cases.A2)
CELL_TIMEOUT = "10"  # generous: honest cells take < 1 s, but the test machine may be busy


def ensure_sandbox() -> str | None:
    """None when the sandbox can run here (installing bubblewrap if needed), else why not."""
    if os.geteuid() != 0:
        return "dlcourse-grade's isolation needs root (useradd, setpriv, namespaces)"
    if shutil.which("bwrap") is None and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=300)
        subprocess.run(["apt-get", "install", "-y", "-qq", "bubblewrap"], capture_output=True, timeout=300)
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed and could not be installed"
    from dlcourse_grade.sandbox import detect

    if detect().level != "bwrap":
        return "bubblewrap is installed but cannot create namespaces on this machine"
    return None


class Listener:
    """A TCP server on 127.0.0.1 that records whether anyone connected (the network test)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self._stop = True
        self.thread.join(timeout=2)
        self.sock.close()


@dataclass
class Run:
    """One ``dlcourse-grade`` pass over the corpus: JSON tables, return codes, output, wall times."""

    tables: dict = field(default_factory=dict)
    returncodes: dict = field(default_factory=dict)
    stdout: dict = field(default_factory=dict)
    stderr: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def student(self, student: str) -> dict:
        for a in ASSIGNMENTS:
            for row in self.tables[a]["students"]:
                if row["student"] == student:
                    return row
        raise KeyError(student)


def grade_all(course: Path, tag: str) -> Run:
    run = Run()
    for a in ASSIGNMENTS:
        t0 = time.monotonic()
        proc = build.run_grader(course, a, 2, course / f"{tag}-{a}.json", "--cell-timeout", CELL_TIMEOUT)
        run.seconds[a] = time.monotonic() - t0
        run.returncodes[a], run.stdout[a], run.stderr[a] = proc.returncode, proc.stdout, proc.stderr
        path = course / f"{tag}-{a}.json"
        run.tables[a] = json.loads(path.read_text()) if path.exists() else {"students": []}
    return run


@dataclass
class Corpus:
    course: Path
    subs: list
    listener: Listener
    source_digest: str
    first: Run
    gradebook: dict


def tree_digest(folder: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def corpus_run() -> Corpus:
    """Build the course and the submissions, grade them once (cached for this process)."""
    top = Path(tempfile.mkdtemp(prefix="dlcourse-grade-corpus-"))
    atexit.register(shutil.rmtree, top, True)
    course = top / "course"
    build.make_course(course, ASSIGNMENTS)
    listener = Listener()
    subs = cases.class_cases(listener.port, str(course)) + cases.corpus_cases()
    for sub in subs:
        sub.make(course)
    digest = tree_digest(course / "source")
    first = grade_all(course, "first")
    gradebook = {a: build.gradebook_scores(course, a) for a in ASSIGNMENTS}
    return Corpus(course, subs, listener, digest, first, gradebook)


def check_outcome(run: Run, sub) -> None:
    """Assert that ``sub`` got its expected scores, status, flags, reasons and tampering flag."""
    row = run.student(sub.student)
    got = {p["grade_id"]: p["score"] for p in row["parts"]}
    why = {p["grade_id"]: p.get("reason", "") for p in row["parts"]}
    assert got == sub.scores, (f"{sub.student} ({sub.what}): recorded {got}, expected {sub.scores}; "
                               f"part reasons {why}; flags {row['flags']!r}; reasons {row['reasons']!r}; "
                               f"status {row['statuses']!r}")
    statuses = " ".join(row["statuses"].values())
    assert statuses.startswith(sub.status), f"{sub.student}: status {statuses!r}, expected {sub.status!r}"
    for text in sub.flags:
        assert text in row["flags"], f"{sub.student}: flag {text!r} missing from {row['flags']!r}"
    for text in sub.reasons:
        assert text in row["reasons"], f"{sub.student}: reason {text!r} missing from {row['reasons']!r}"
    tampered = "possible tampering" in row["flags"]
    if sub.tamper is not None:
        assert tampered == sub.tamper, f"{sub.student}: tampering flag {tampered}, expected {sub.tamper}"
