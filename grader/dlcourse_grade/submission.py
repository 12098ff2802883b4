"""A student's submission folder: find its notebooks, copy its files into a workspace.

Only regular files are read (no symlinks, nothing larger than :data:`MAX_COPY_BYTES`),
so a link into ``source/`` or elsewhere is never graded or copied.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .course import AssignmentSpec

__all__ = ["locate", "copy_submission", "MAX_COPY_BYTES"]

MAX_COPY_BYTES = 50 * 1024 ** 2


def _grade_ids(path: Path, limit: int = 20 * 1024 ** 2) -> set[str]:
    """The nbgrader grade ids a notebook file holds (none for a file too large or not JSON)."""
    try:
        if path.stat().st_size > limit:
            return set()
        cells = json.loads(path.read_bytes()).get("cells", [])
        return {c["metadata"]["nbgrader"]["grade_id"] for c in cells
                if isinstance(c, dict) and isinstance(c.get("metadata"), dict)
                and isinstance(c["metadata"].get("nbgrader"), dict)
                and isinstance(c["metadata"]["nbgrader"].get("grade_id"), str)}
    except (OSError, ValueError, AttributeError, TypeError):
        return set()


def locate(folder: Path, spec: AssignmentSpec) -> tuple[dict[str, Path | None], dict[str, str]]:
    """Map each expected notebook to its file; unexpected notebooks stand in for missing ones.

    A single unexpected notebook stands in for a single missing one. Otherwise (an LMS that
    renamed two copies, ``ex01_perceptron (1).ipynb`` and ``ex01_perceptron-2.ipynb``) each
    missing notebook takes the unexpected file that holds most of its grade ids, the newest
    (modification time) among equals, then the first by name; the note names the file graded
    and the copies left out.
    """
    found = {nb.name: folder / f"{nb.name}.ipynb" for nb in spec.notebooks}
    found = {k: (p if p.is_file() and not p.is_symlink() else None) for k, p in found.items()}
    expected = {f"{nb.name}.ipynb" for nb in spec.notebooks}
    others = sorted(p for p in folder.glob("*.ipynb")
                    if p.name not in expected and p.is_file() and not p.is_symlink())
    missing = [k for k, p in found.items() if p is None]
    notes = {}
    if len(missing) == 1 and len(others) == 1:
        found[missing[0]] = others[0]
        notes[missing[0]] = f"notebook renamed: graded {others[0].name} as {missing[0]}.ipynb"
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
        notes[name] = (f"notebook renamed: graded {best.name} as {name}.ipynb"
                       + (f" (of {len(left) + 1} copies: the one with most of its grade ids, then the newest; "
                          f"not graded: {', '.join(left)})" if left else ""))
    return found, notes


def copy_submission(src: Path, dest: Path, source_dir: str | None) -> list[str]:
    """Copy regular files of the submission (no links, nothing huge), then the course's own data files."""
    flags = []
    for root, dirs, files in os.walk(src, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(root, d))]
        for f in files:
            p = Path(root, f)
            rel = p.relative_to(src)
            if p.is_symlink() or not p.is_file():
                flags.append(f"skipped {rel}: not a regular file")
            elif p.stat().st_size > MAX_COPY_BYTES:
                flags.append(f"skipped {rel}: larger than {MAX_COPY_BYTES // 1024 ** 2} MB")
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
