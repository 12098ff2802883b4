"""A notebook cell with nbgrader metadata and its checksum, as ``nbgrader generate_assignment`` writes it (test helper)."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader import utils as nbutils


def nbgrader_cell(kind, source, grade_id, *, grade=False, solution=False, locked=False, points=None):
    """A ``kind`` ("code" or "markdown") cell with schema-3 nbgrader metadata and nbgrader's checksum of it."""
    cell = (new_code_cell if kind == "code" else new_markdown_cell)(source=source)
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    cell.metadata["nbgrader"]["checksum"] = nbutils.compute_checksum(cell)
    return cell
