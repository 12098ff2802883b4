"""A student's submission folder: find its notebooks, copy its files into a workspace.

Only regular files are read (no symlinks, nothing larger than :data:`MAX_COPY_BYTES`),
so a link into ``source/`` or elsewhere is never graded or copied.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .course import AssignmentSpec

__all__ = ["locate", "copy_submission", "MAX_COPY_BYTES"]

MAX_COPY_BYTES = 50 * 1024 ** 2


def locate(folder: Path, spec: AssignmentSpec) -> tuple[dict[str, Path | None], dict[str, str]]:
    """Map each expected notebook to its file; a single unexpected notebook stands in for a missing one."""
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
