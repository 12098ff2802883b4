"""A throw-away PostgreSQL server on loopback for the gradebook tests.

Debian's ``postgresql`` package is installed when missing (as root); the server
runs as the ``postgres`` user from a temporary data directory, listens on
127.0.0.1 only, trusts local connections and is stopped afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path


class Unavailable(RuntimeError):
    """PostgreSQL cannot be installed or started here; the message says why."""


def _bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def ensure_installed() -> Path:
    """Return the directory of ``initdb``/``pg_ctl``, installing Debian's package if needed."""
    found = _bin_dir()
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Unavailable("PostgreSQL is not installed and cannot be installed (needs root and apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
    done = subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], env=env,
                          capture_output=True, text=True, timeout=900)
    found = _bin_dir()
    if not found:
        raise Unavailable(f"apt-get install postgresql failed: {done.stderr[-500:]}")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server(dbname: str = "gradebook"):
    """Start a server and yield its SQLAlchemy URL ``postgresql+psycopg2://...@127.0.0.1:PORT/dbname``."""
    bin_dir = ensure_installed()
    runas: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        runas = ["runuser", "-u", "postgres", "--"]
    data = Path(tempfile.mkdtemp(prefix="dlcourse-pg-"))
    if runas:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    subprocess.run(runas + [str(bin_dir / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "grader"],
                   check=True, capture_output=True)
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c max_connections=100 -c fsync=off"
    started = subprocess.run(runas + [str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-o", opts,
                                      "-l", str(data / "log"), "-w", "start"], capture_output=True, text=True)
    if started.returncode != 0:
        raise Unavailable(f"pg_ctl start failed: {started.stderr[-500:]}")
    try:
        subprocess.run(runas + [str(bin_dir.parent / "bin" / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                                "-U", "grader", dbname], check=True, capture_output=True)
        yield f"postgresql+psycopg2://grader@127.0.0.1:{port}/{dbname}"
    finally:
        subprocess.run(runas + [str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)
