"""Our repair steps for a submitted notebook, before any execution (see :mod:`.steps` for the order).

Each function does one job and returns the flags of what it changed:

* :func:`parse` - empty file, invalid JSON, not a notebook: the notebook is
  *ungradable* (score 0 with the reason); an old nbformat is converted.
* :func:`rebuild_cells` - every cell rebuilt from its type, source and metadata, so
  a schema mismatch (missing keys, wrong types, foreign fields) cannot stop grading.
* :func:`fix_ids` - grade ids the gradebook does not know are dropped; duplicated
  grade ids are named (nbgrader's ``DeduplicateIds`` keeps the last copy).
* :func:`restore_cells` - cells the gradebook knows are reset to it: metadata,
  cell type, points, and the source of locked cells (tests with their hidden part);
  a cell whose metadata was stripped is recognised by its text (or its ``def``) and
  re-tagged; a deleted cell is put back before the next graded cell.
"""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_raw_cell

from .course import CellSpec, NotebookSpec

__all__ = ["Ungradable", "parse", "rebuild_cells", "fix_ids", "restore_cells", "grade_id", "KERNELSPEC"]

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


class Ungradable(Exception):
    """The submission cannot be graded at all; the message is the reason."""


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def parse(raw: bytes) -> tuple[dict, list[str]]:
    """The notebook as a dict (nbformat 4), or :class:`Ungradable`."""
    if not raw.strip():
        raise Ungradable("ungradable: the notebook file is empty")
    try:
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError as exc:
        raise Ungradable(f"ungradable: invalid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        raise Ungradable("ungradable: the file is JSON but not a notebook (no list of cells)")
    flags = []
    if data.get("nbformat") != 4:
        try:
            data = nbformat.convert(nbformat.from_dict(data), 4)
        except Exception as exc:  # noqa: BLE001 - any failure to convert means ungradable
            raise Ungradable(f"ungradable: nbformat {data.get('nbformat')} could not be converted ({exc})") from None
        flags.append("notebook format converted to nbformat 4")
    return data, flags


def rebuild_cells(data: dict) -> tuple[nbformat.NotebookNode, list[str]]:
    """A valid nbformat-4 notebook with every cell rebuilt from type, source and metadata."""
    cells, odd = [], 0
    for cell in data.get("cells", []):
        if not isinstance(cell, dict):
            odd += 1
            continue
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbmeta = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else None
        kind = cell.get("cell_type")
        make = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}.get(kind)
        if make is None:
            odd += 1
            make = new_markdown_cell
        new = make(source=_text(cell.get("source")))
        if nbmeta is not None:
            new.metadata["nbgrader"] = dict(nbmeta)
        cells.append(new)
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": dict(KERNELSPEC),
                                                         "language_info": {"name": "python"}})
    flags = []
    try:
        nbformat.validate(nbformat.from_dict(data))
    except Exception:  # noqa: BLE001 - nbformat raises several kinds
        flags.append("notebook schema did not validate: cells rebuilt")
    if odd:
        flags.append(f"{odd} malformed cell(s) dropped or turned into markdown")
    return nb, flags


def grade_id(cell) -> str | None:
    meta = cell.metadata.get("nbgrader")
    gid = meta.get("grade_id") if isinstance(meta, dict) else None
    return gid if isinstance(gid, str) and gid else None


def fix_ids(nb, spec: NotebookSpec) -> list[str]:
    """Drop unknown grade ids and name duplicated ones (removed by nbgrader's ``DeduplicateIds``)."""
    known, flags, seen = spec.by_id(), [], {}
    for i, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        if "nbgrader" in cell.metadata and gid is None:
            del cell.metadata["nbgrader"]
        elif gid is not None and gid not in known:
            del cell.metadata["nbgrader"]
            flags.append(f"unknown grade id {gid!r} ignored")
        elif gid is not None:
            seen.setdefault(gid, []).append(i)
    for gid, where in seen.items():
        if len(where) > 1:  # nbgrader's DeduplicateIds, the next step, keeps the last copy
            flags.append(f"grade id {gid!r} appears {len(where)} times (a duplicated cell): the last copy is graded")
    return flags


def _restored(spec: CellSpec):
    make = new_code_cell if spec.cell_type == "code" else new_markdown_cell
    cell = make(source=spec.source)
    cell.metadata["nbgrader"] = spec.metadata()
    if spec.locked:
        cell.metadata.update(editable=False, deletable=False)
    return cell


def _reset(cell, spec: CellSpec, flags: list[str]):
    """Reset one present cell to the gradebook's record; return the (possibly new) cell."""
    old = cell.metadata.get("nbgrader", {})
    if spec.grade and old.get("points") is not None:
        try:
            changed = float(old.get("points")) != float(spec.points)
        except (TypeError, ValueError):
            changed = True
        if changed:
            flags.append(f"points of {spec.grade_id!r} changed to {old.get('points')!r}: reset to {spec.points:g}")
    if cell.cell_type != spec.cell_type:
        flags.append(f"cell type of {spec.grade_id!r} changed to {cell.cell_type}: reset to {spec.cell_type}")
        make = new_code_cell if spec.cell_type == "code" else new_markdown_cell
        cell = make(source=cell.source, metadata=dict(cell.metadata))
    if spec.locked:
        released = spec.release_source if spec.release_source is not None else spec.source
        if cell.source.rstrip() != released.rstrip() and cell.source.rstrip() != spec.source.rstrip():
            what = "test" if spec.is_test else "locked"
            flags.append(f"{what} cell {spec.grade_id!r} was edited: restored")
        cell.source = spec.source  # the gradebook's copy, hidden tests included
    cell.metadata["nbgrader"] = spec.metadata()
    return cell


def _signature(spec: CellSpec) -> str | None:
    """The ``def name(`` line of a solution stub, to recognise the learner's cell without metadata."""
    for line in spec.source.splitlines():
        if line.startswith("def ") and "(" in line:
            return line.split("(")[0] + "("
    return None


def _matches(cell, spec: CellSpec) -> bool:
    """Is this metadata-less cell the learner's copy of ``spec`` (same locked text, or same def)?"""
    if cell.cell_type != spec.cell_type or grade_id(cell) is not None:
        return False
    if spec.locked:
        texts = {spec.source.strip(), (spec.release_source or spec.source).strip()}
        return cell.source.strip() in texts
    sig = _signature(spec) if spec.solution and spec.cell_type == "code" else None
    return bool(sig) and any(line.startswith(sig) for line in cell.source.splitlines())


def _place(nb, spec: NotebookSpec, k: int) -> int:
    """Where a missing cell goes: before the next cell of the source order that is present."""
    position = {gid: i for i, c in enumerate(nb.cells) if (gid := grade_id(c))}
    nxt = next((position[p.grade_id] for p in spec.cells[k + 1:] if p.grade_id in position), None)
    if nxt is not None:
        return nxt
    prev = next((position[p.grade_id] for p in reversed(spec.cells[:k]) if p.grade_id in position), None)
    return len(nb.cells) if prev is None else prev + 1


def restore_cells(nb, spec: NotebookSpec) -> list[str]:
    """Reset known cells; re-tag stripped ones found by content; put deleted ones back in place."""
    flags: list[str] = []
    for cell in nb.cells:  # what nbgrader's DeduplicateIds left of a duplicate's earlier copies
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
    for i, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        if gid is not None:
            nb.cells[i] = _reset(cell, spec.by_id()[gid], flags)
    present = {grade_id(c) for c in nb.cells}
    for k, cs in enumerate(spec.cells):
        if cs.grade_id in present:
            continue
        kind = "test cell" if cs.is_test else "solution cell" if cs.solution else "cell"
        i = next((i for i, c in enumerate(nb.cells) if _matches(c, cs)), None)
        if i is not None:
            nb.cells[i].metadata["nbgrader"] = cs.metadata()
            nb.cells[i] = _reset(nb.cells[i], cs, flags)
            flags.append(f"{kind} {cs.grade_id!r} had its nbgrader metadata stripped: restored")
        else:
            nb.cells.insert(_place(nb, spec, k), _restored(cs))
            flags.append(f"{kind} {cs.grade_id!r} was missing (deleted): restored"
                         + (" from the release" if cs.solution else ""))
        present.add(cs.grade_id)
    return flags
