"""A student's submission folder: find its notebooks, copy its files into a workspace.

Only the submission's own regular files are read (:func:`plain_file`: no symbolic or hard
links, no FIFOs, sockets or device nodes; nothing larger than :data:`MAX_COPY_BYTES`), so a
link into ``source/``, another student's folder or elsewhere is never graded or copied.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from .course import AssignmentSpec

__all__ = ["locate", "copy_submission", "plain_file", "shown", "MAX_COPY_BYTES"]

MAX_COPY_BYTES = 50 * 1024 ** 2


def shown(path) -> str:
    """A learner-made file name as printable text (undecodable bytes as ``\\udcff``, never a crash on output)."""
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def plain_file(path: Path, protected: frozenset = frozenset(), notebook: bool = False) -> str | None:
    """None when ``path`` is the submission's own regular file, else why it is not read.

    Not read: symbolic links, FIFOs, sockets, device nodes, folders, and any name of one of
    the course's own files (``protected``: the inodes of ``source/``, ``release/``, the
    gradebook, the secret). A hard link (a file with more than one name) shares its data
    with a file that may lie in another student's folder: a data file that is one is not
    read; a notebook that is one is graded (it is what was submitted) and flagged by
    :func:`locate`. Nothing is followed and nothing is opened to decide.
    """
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"unreadable ({type(exc).__name__})"
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if (st.st_dev, st.st_ino) in protected:
        return "a hard link to one of the course's own files"
    if st.st_nlink > 1 and not notebook:
        return "a hard link (its data is shared with another file)"
    return None


def _hard_linked(path: Path) -> bool:
    try:
        return os.lstat(path).st_nlink > 1
    except OSError:
        return False


def _grade_ids(path: Path, limit: int = 20 * 1024 ** 2) -> set[str]:
    """The nbgrader grade ids a notebook file holds (none for a file too large or not JSON)."""
    try:
        if path.stat().st_size > limit:
            return set()
        cells = json.loads(path.read_bytes()).get("cells", [])  # RecursionError: nested too deeply
        return {c["metadata"]["nbgrader"]["grade_id"] for c in cells
                if isinstance(c, dict) and isinstance(c.get("metadata"), dict)
                and isinstance(c["metadata"].get("nbgrader"), dict)
                and isinstance(c["metadata"]["nbgrader"].get("grade_id"), str)}
    except (OSError, ValueError, AttributeError, TypeError, RecursionError):
        return set()


def locate(folder: Path, spec: AssignmentSpec,
           protected: frozenset = frozenset()) -> tuple[dict[str, Path | None], dict[str, str]]:
    """Map each expected notebook to its file; unexpected notebooks stand in for missing ones.

    A single unexpected notebook stands in for a single missing one. Otherwise (an LMS that
    renamed two copies, ``ex01_perceptron (1).ipynb`` and ``ex01_perceptron-2.ipynb``) each
    missing notebook takes the unexpected file that holds most of its grade ids, the newest
    (modification time) among equals, then the first by name; the note names the file graded
    and the copies left out. Only plain files are candidates (:func:`plain_file`); a notebook
    that is a hard link is graded with a note saying so (another name of it may be another
    student's submission: the instructor judges).
    """
    found = {nb.name: folder / f"{nb.name}.ipynb" for nb in spec.notebooks}
    notes = {}
    for k, p in found.items():
        why = plain_file(p, protected, notebook=True)
        if why is not None and os.path.lexists(p):
            notes[k] = f"{shown(p.name)} not graded: {why}"
        found[k] = p if why is None else None
    expected = {f"{nb.name}.ipynb" for nb in spec.notebooks}
    others = sorted(p for p in folder.glob("*.ipynb")
                    if p.name not in expected and plain_file(p, protected, notebook=True) is None)
    missing = [k for k, p in found.items() if p is None]
    if len(missing) == 1 and len(others) == 1:
        found[missing[0]] = others[0]
        renamed = f"notebook renamed: graded {others[0].name} as {missing[0]}.ipynb"
        notes[missing[0]] = f"{notes[missing[0]]}; {renamed}" if missing[0] in notes else renamed
        return found, notes
    ids = {p: _grade_ids(p) for p in others} if missing else {}
    wanted = {nb.name: {c.grade_id for c in nb.cells} for nb in spec.notebooks}
    for name in missing:
        scored = [(len(ids[p] & wanted[name]), p.stat().st_mtime_ns, p) for p in others if ids[p] & wanted[name]]
        if not scored:
            continue
        best = max(scored, key=lambda t: (t[0], t[1], [-ord(ch) for ch in t[2].name]))[2]
        left = [p.name for _, _, p in scored if p != best]
        others.remove(best)
        found[name] = best
        renamed = (f"notebook renamed: graded {best.name} as {name}.ipynb"
                   + (f" (of {len(left) + 1} copies: the one with most of its grade ids, then the newest; "
                      f"not graded: {', '.join(left)})" if left else ""))
        notes[name] = f"{notes[name]}; {renamed}" if name in notes else renamed
    for name, p in found.items():
        if p is not None and _hard_linked(p):
            linked = f"{shown(p.name)} is a hard link: its data is shared with another file (another student's?)"
            notes[name] = f"{notes[name]}; {linked}" if name in notes else linked
    return found, notes


def copy_submission(src: Path, dest: Path, source_dir: str | None, protected: frozenset = frozenset()) -> list[str]:
    """Copy the submission's own regular files (see :func:`plain_file`; nothing huge), then the course's data files."""
    flags = []
    for root, dirs, files in os.walk(src, followlinks=False):
        for d in [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            flags.append(f"skipped {shown(Path(root, d).relative_to(src))}: a symbolic link")
        dirs[:] = [d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(root, d))]
        for f in files:
            p = Path(root, f)
            rel = p.relative_to(src)
            why = plain_file(p, protected)
            if why is not None:
                flags.append(f"skipped {shown(rel)}: {why}")
            elif p.stat().st_size > MAX_COPY_BYTES:
                flags.append(f"skipped {shown(rel)}: larger than {MAX_COPY_BYTES // 1024 ** 2} MB")
            elif not f.endswith(".ipynb"):
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, dest / rel)
    if source_dir:
        for p in Path(source_dir).rglob("*"):
            rel = p.relative_to(source_dir)
            if p.is_file() and not p.is_symlink() and p.suffix != ".ipynb" and not any(
                    s.startswith(".") for s in rel.parts):
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, dest / rel)
    return flags
