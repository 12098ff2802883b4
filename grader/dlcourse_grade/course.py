"""The course: nbgrader's configuration, the gradebook's record of an assignment, the submissions.

:func:`load_course` reads ``nbgrader_config.py`` of the course root (the instructor's
own file) into nbgrader's ``CourseDirectory``. :func:`assignment_spec` turns what
``nbgrader generate_assignment`` stored in the gradebook (every graded, solution,
task and locked cell: source with hidden tests, checksum, points) into plain,
picklable data, ordered as in the source notebook; workers never open the gradebook.
:func:`find_submissions` lists ``submitted/<student>/<assignment>/``.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests
from sqlalchemy.engine import make_url
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

__all__ = ["Course", "CellSpec", "NotebookSpec", "AssignmentSpec", "load_course", "resolve_db_url",
           "assignment_spec", "find_submissions"]


@dataclass(frozen=True)
class CellSpec:
    """One nbgrader cell as the gradebook knows it (``source`` is the release text plus hidden tests)."""
    grade_id: str
    cell_type: str
    locked: bool
    source: str
    checksum: str
    grade: bool = False
    solution: bool = False
    task: bool = False
    points: float | None = None
    release_source: str | None = None

    def metadata(self) -> dict:
        """The canonical ``metadata.nbgrader`` of this cell (schema version 3)."""
        meta = {"grade": self.grade, "grade_id": self.grade_id, "locked": self.locked,
                "schema_version": 3, "solution": self.solution, "task": self.task, "checksum": self.checksum}
        if self.grade or self.task:
            meta["points"] = float(self.points or 0.0)
        return meta

    @property
    def is_test(self) -> bool:
        return self.grade and not self.solution and self.cell_type == "code"


@dataclass(frozen=True)
class NotebookSpec:
    name: str
    cells: tuple[CellSpec, ...]

    def by_id(self) -> dict[str, CellSpec]:
        return {c.grade_id: c for c in self.cells}


@dataclass(frozen=True)
class AssignmentSpec:
    name: str
    notebooks: tuple[NotebookSpec, ...]
    source_dir: str | None = None

    @property
    def max_score(self) -> float:
        return sum(c.points or 0.0 for nb in self.notebooks for c in nb.cells if c.grade)


@dataclass
class Course:
    """The course root, its nbgrader configuration and gradebook URL."""
    root: Path
    db_url: str
    config: object = None
    coursedir: object = None
    course_id: str = ""
    extra: dict = field(default_factory=dict)

    def path(self, kind: str, student: str, assignment: str) -> Path:
        """``submitted``/``autograded``/``source``/``release`` folder of a student's assignment."""
        cd = self.coursedir
        name = {"submitted": cd.submitted_directory, "autograded": cd.autograded_directory,
                "source": cd.source_directory, "release": cd.release_directory}[kind]
        return Path(cd.format_path(name, student, assignment))


def load_course(root: str | os.PathLike, db_url: str | None = None) -> Course:
    """Read ``nbgrader_config.py`` from ``root`` (if present) into nbgrader's ``CourseDirectory``."""
    root = Path(root).resolve()
    cfg = Config()
    if (root / "nbgrader_config.py").exists():
        cfg = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    cfg.CourseDirectory.root = str(root)
    if db_url:
        cfg.CourseDirectory.db_url = db_url
    cd = CourseDirectory(config=cfg)
    url = resolve_db_url(cd.db_url, root)
    cfg.CourseDirectory.db_url = url  # nbgrader code that reads the config sees the same gradebook
    cd.db_url = url
    return Course(root=root, db_url=url, config=cfg, coursedir=cd, course_id=cd.course_id)


def resolve_db_url(url: str, root: Path) -> str:
    """``url`` with a relative SQLite path made absolute under ``root`` (not the cwd), and a
    driverless ``postgresql://``/``postgres://`` sent to psycopg2 when psycopg 3 is missing
    (SQLAlchemy 2.1 maps the bare scheme to psycopg 3). Parsed by SQLAlchemy's ``make_url``."""
    original = parsed = make_url(url)
    if parsed.drivername.split("+")[0] == "sqlite":
        path = parsed.database
        if path and path != ":memory:" and not path.startswith("file:") and not os.path.isabs(path):
            parsed = parsed.set(database=str((root / path).resolve()))
    elif parsed.drivername in ("postgresql", "postgres"):  # SQLAlchemy knows no "postgres" scheme
        psycopg2 = importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is not None
        parsed = parsed.set(drivername="postgresql+psycopg2" if psycopg2 else "postgresql")
    return url if parsed is original else parsed.render_as_string(hide_password=False)


def _source_order(path: Path) -> list[str]:
    """Grade ids in notebook order from the instructor's source notebook (empty if unreadable)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    ids = []
    for cell in nb.get("cells", []):
        gid = ((cell.get("metadata") or {}).get("nbgrader") or {}).get("grade_id")
        if gid:
            ids.append(gid)
    return ids


def _with_release_source(spec: CellSpec, course: Course) -> CellSpec:
    """The cell as learners received it: hidden tests removed as ``nbgrader generate_assignment`` does."""
    if not spec.locked:
        return spec
    cell = (new_code_cell if spec.cell_type == "code" else new_markdown_cell)(source=spec.source)
    try:
        ClearHiddenTests(config=course.config)._remove_hidden_test_region(cell)
    except RuntimeError:
        return spec
    return replace(spec, release_source=cell.source)


def assignment_spec(course: Course, assignment: str) -> AssignmentSpec:
    """What the gradebook holds about ``assignment`` (raises KeyError if it was never generated)."""
    source_dir = course.path("source", ".", assignment)
    notebooks = []
    with Gradebook(course.db_url, course.course_id) as gb:
        try:
            a = gb.find_assignment(assignment)
        except MissingEntry:
            raise KeyError(f"assignment {assignment!r} is not in the gradebook {course.db_url}; "
                           "run `nbgrader generate_assignment` first") from None
        for nb in a.notebooks:
            grades = {c.name: c for c in nb.grade_cells}
            solutions = {c.name for c in nb.solution_cells}
            tasks = {c.name: c for c in nb.task_cells}
            cells = {}
            for sc in nb.source_cells:
                g = grades.get(sc.name) or tasks.get(sc.name)
                cells[sc.name] = CellSpec(sc.name, sc.cell_type, bool(sc.locked), sc.source or "", sc.checksum or "",
                                          grade=sc.name in grades, solution=sc.name in solutions,
                                          task=sc.name in tasks, points=float(g.max_score) if g else None)
            cells = {k: _with_release_source(v, course) for k, v in cells.items()}
            order = [g for g in _source_order(source_dir / f"{nb.name}.ipynb") if g in cells]
            order += sorted(set(cells) - set(order))
            notebooks.append(NotebookSpec(nb.name, tuple(cells[g] for g in order)))
    return AssignmentSpec(assignment, tuple(notebooks), str(source_dir) if source_dir.is_dir() else None)


def find_submissions(course: Course, assignment: str, students: list[str] | None = None) -> list[str]:
    """Student ids with a ``submitted/<student>/<assignment>`` folder, sorted."""
    base = Path(course.coursedir.format_path(course.coursedir.submitted_directory, ".", ".")).resolve()
    found = []
    if base.is_dir():
        for d in sorted(base.iterdir()):
            if d.is_dir() and not d.is_symlink() and (d / assignment).is_dir() and not d.name.startswith("."):
                found.append(d.name)
    if students:
        found = [s for s in found if s in set(students)]
    return found
