"""Book build, cold and warm, from a fresh copy of the repository's files.

The files git knows about (``git ls-files``, plus untracked files that are not
ignored, so that work not yet committed is measured as it will be once committed)
are copied into a temporary directory, and the book is built there with the copy's
own ``make book`` (its recipe and prerequisites: the released notebooks, then
``jupyter-book build --warningiserror``, ``DLCOURSE_PROGRESS=0``), told to use the
project's ``.venv`` (``BIN=...``, ``-o .venv/.installed``: no new venv in the copy):

* **cold**: no ``_build`` and no execution cache, every chapter executes;
* **warm**: ``make book`` again, nothing changed, so the cache answers; then
  ``jupyter-book build`` alone once more, to show what the book itself costs.

The copy's own ``dlcourse`` comes first on ``PYTHONPATH`` so that the kernels import
the package being built, not an editable install elsewhere. The logs stay in
``benchmarks/_work/book-*.log``.

Run alone: ``python benchmarks/bench_book.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLD_TARGET_S = 300.0
WARM_TARGET_S = 30.0


def tracked_files(root: Path = ROOT) -> list[str]:
    """Paths (relative to ``root``) of committed files and untracked files that git does not ignore."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, capture_output=True, check=True).stdout
    return sorted({p for p in out.decode().split("\0") if p and (root / p).is_file()})


def copy_tree(dest: Path, root: Path = ROOT) -> int:
    """Copy the files of :func:`tracked_files` into ``dest``; returns how many."""
    files = tracked_files(root)
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    return len(files)


def _env(book: Path) -> dict:
    """The copy's own ``dlcourse`` first on the path, progress bars off, the project's venv first on PATH."""
    return dict(os.environ, DLCOURSE_PROGRESS="0", PYTHONHASHSEED="0",
                PYTHONPATH=os.pathsep.join(p for p in (str(book), os.environ.get("PYTHONPATH", "")) if p),
                PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]))


def _timed(cmd: list[str], book: Path, log: Path) -> float:
    """Run ``cmd`` in ``book``; returns wall seconds, raises with the first error or warning on failure."""
    start = time.perf_counter()
    with open(log, "w") as fh:
        done = subprocess.run(cmd, cwd=book, env=_env(book), stdout=fh, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        text = log.read_text(errors="replace")
        bad = [ln for ln in text.splitlines() if re.search(r"WARNING|ERROR|Error|\*\*\*", ln)
               and "running over TCP" not in ln]
        first = ANSI.sub("", bad[0] if bad else text.strip().splitlines()[-1]).strip()
        raise RuntimeError(f"{' '.join(cmd[:2])} failed (exit {done.returncode}): {first[:300]} (log: {log})")
    return seconds


def make_book(book: Path, log: Path) -> float:
    """``make book`` in the copy (its own recipe and prerequisites), with the project's venv."""
    return _timed(["make", "book", f"BIN={VENV_BIN}", "-o", ".venv/.installed"], book, log)


def jupyter_book(book: Path, log: Path) -> float:
    """Only the ``jupyter-book build`` step of ``make book``."""
    return _timed([str(VENV_BIN / "jupyter-book"), "build", ".", "--builder", "html", "--warningiserror",
                   "--keep-going"], book, log)


def measure() -> dict:
    """Cold and warm ``make book``, a warm ``jupyter-book build`` alone, and what was built."""
    logs = ROOT / "benchmarks" / "_work"
    logs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-book-") as tmp:
        book = Path(tmp) / "book"
        n_files = copy_tree(book)
        cold = make_book(book, logs / "book-cold.log")
        warm = make_book(book, logs / "book-warm.log")
        warm_jb = jupyter_book(book, logs / "book-warm-jupyter-book.log")
        pages = len([p for p in (book / "_build" / "html").rglob("*.html") if "_static" not in p.parts])
        executed = len(list((book / "_build" / "jupyter_execute").rglob("*.ipynb")))
    return {"cold": cold, "warm": warm, "warm_jb": warm_jb, "files": n_files, "pages": pages, "executed": executed}


def rows() -> list[tuple]:
    """Table rows ``(benchmark, comparison, ratio, target, detail)``."""
    r = measure()
    what = f"Book build ({r['executed']} notebooks executed, {r['pages']} HTML pages)"
    return [
        (what + ", cold", "cold / 5 min budget", r["cold"] / COLD_TARGET_S, "< 1",
         f"cold `make book` {r['cold']:.0f} s: fresh copy of {r['files']} files, no cache, -W"),
        (what + ", warm", "warm / 30 s budget", r["warm"] / WARM_TARGET_S, "< 1",
         f"warm `make book` {r['warm']:.1f} s: the same again, cache kept; a warm `jupyter-book build` alone, "
         f"timed once more after it: {r['warm_jb']:.1f} s (one run each, so either can be the longer; "
         f"`make book` adds the check of the released notebooks)"),
        (what, "warm / cold", r["warm"] / r["cold"], "", ""),
    ]


if __name__ == "__main__":
    for row in rows():
        print(" | ".join(f"{c:.2f}" if isinstance(c, float) else str(c) for c in row))
