"""Build a temporary nbgrader course from the real assignments, and submissions made from its solutions.

``make_course(root, assignments)`` copies ``exercises/nbgrader_config.py`` and the
instructor's ``source/<assignment>`` into ``root`` and runs ``nbgrader
generate_assignment``. ``honest(course, assignment)`` is what a learner who writes the
instructor's solution submits: the *released* notebook with each solution cell filled
in from the source. The edits below (``set_solution``, ``add_cell_after`` ...) turn it
into the bad submissions of the class and the corpus.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def grader_env() -> dict:
    """Environment for nbgrader and dlcourse-grade: the venv's bin first (nbgrader calls `alembic`)."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(DLCOURSE_PROGRESS="0", PYTHONHASHSEED="0", DLCOURSE_GRADE_SECRET="corpus-secret")
    return env


def make_course(root: Path, assignments: tuple[str, ...]) -> Path:
    """A fresh course in ``root`` with ``assignments`` generated (source, release, gradebook)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", root / "nbgrader_config.py")
    for a in assignments:
        shutil.copytree(ROOT / "exercises" / "source" / a, root / "source" / a)
        subprocess.run([str(BIN / "nbgrader"), "generate_assignment", a, "--force"], cwd=root, env=grader_env(),
                       check=True, capture_output=True, timeout=300)
    return root


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def gid(cell: dict) -> str | None:
    return (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")


def src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def honest(course: Path, assignment: str) -> dict:
    """The released notebook with every solution cell holding the instructor's solution."""
    rel = _read(course / "release" / assignment / f"{assignment}.ipynb")
    source = {gid(c): src(c) for c in _read(course / "source" / assignment / f"{assignment}.ipynb")["cells"]
              if gid(c)}
    for cell in rel["cells"]:
        m = cell.get("metadata", {}).get("nbgrader") or {}
        if m.get("solution") and gid(cell) in source:
            cell["source"] = source[gid(cell)]
    return rel


def cell_index(nb: dict, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if gid(c) == grade_id)


def solution_id(nb: dict, function: str) -> str:
    """The grade id of the solution cell that defines ``function``."""
    for c in nb["cells"]:
        if (c.get("metadata", {}).get("nbgrader") or {}).get("solution") and f"def {function}(" in src(c):
            return gid(c)
    raise KeyError(function)


def set_solution(nb: dict, function: str, code: str) -> dict:
    nb = copy.deepcopy(nb)
    nb["cells"][cell_index(nb, solution_id(nb, function))]["source"] = code
    return nb


def append_to_solution(nb: dict, function: str, code: str) -> dict:
    nb = copy.deepcopy(nb)
    cell = nb["cells"][cell_index(nb, solution_id(nb, function))]
    cell["source"] = src(cell) + "\n" + code
    return nb


def code_cell(code: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code}


def add_cell_after(nb: dict, grade_id: str, code: str) -> dict:
    nb = copy.deepcopy(nb)
    nb["cells"].insert(cell_index(nb, grade_id) + 1, code_cell(code))
    return nb


def edit_cell(nb: dict, grade_id: str, fn) -> dict:
    """Apply ``fn(cell)`` to a deep copy of the cell with ``grade_id``."""
    nb = copy.deepcopy(nb)
    fn(nb["cells"][cell_index(nb, grade_id)])
    return nb


def delete_cell(nb: dict, grade_id: str) -> dict:
    nb = copy.deepcopy(nb)
    del nb["cells"][cell_index(nb, grade_id)]
    return nb


def submit(course: Path, student: str, assignment: str, nb: dict | None = None, raw: str | None = None,
           name: str | None = None, extra: dict | None = None) -> Path:
    """Write ``submitted/<student>/<assignment>/`` with the notebook (or raw text) and extra files."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    text = raw if raw is not None else json.dumps(nb, indent=1)
    (folder / (name or f"{assignment}.ipynb")).write_text(text, encoding="utf-8")
    for fname, content in (extra or {}).items():
        (folder / fname).write_text(content, encoding="utf-8")
    return folder


def run_grader(course: Path, assignment: str, jobs: int, out_json: Path, *extra: str,
               timeout: int = 900) -> subprocess.CompletedProcess:
    """``dlcourse-grade autograde`` as an instructor runs it (the module's ``main``)."""
    cmd = [sys.executable, "-m", "dlcourse_grade.cli", "autograde", assignment, "--course", str(course),
           "--jobs", str(jobs), "--json", str(out_json), *extra]
    return subprocess.run(cmd, cwd=course, env=grader_env(), capture_output=True, text=True, timeout=timeout)


def gradebook_scores(course: Path, assignment: str) -> dict[str, dict[str, float | None]]:
    """``{student: {grade_id: auto_score}}`` read back through nbgrader's Gradebook API."""
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, float | None]] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dlcourse") as gb:
        for sub in gb.assignment_submissions(assignment):
            out[sub.student.id] = {g.name: g.auto_score for nb in sub.notebooks for g in nb.grades}
    return out
