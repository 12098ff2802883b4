"""Build the instructor (source) notebooks of every assignment from ``exercises/notebook_content/``.

    python exercises/make_sources.py            # write exercises/source/<a>/<a>.ipynb and exercises/pages/<a>.md
    python exercises/make_sources.py --check    # exit 1 if a committed notebook or page is out of date

Each content module gives the notebook as a list of cells (markdown, given code, the
learner's functions with their solutions, written answers). Test cells are generated
here from the part descriptions in :mod:`dlcourse.checks.assignments`, so grade ids, points and
the calls to :func:`dlcourse.checks.check` match the descriptions exactly. The output
is deterministic (fixed cell ids, no outputs), so the committed notebooks diff cleanly.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import dlcourse  # noqa: E402
from dlcourse.checks import assignments  # noqa: E402

SOURCE = HERE / "source"
PAGES = HERE / "pages"


from notebook_content import Given, Markdown, Solution, Written  # noqa: E402


def _meta(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def test_source(grade_id: str) -> str:
    """The source of the test cell for one part: visible check, then the hidden one."""
    part = assignments.get_part(grade_id)
    return "\n".join([
        f"# {part.title}",
        "# Visible checks: run this cell as often as you like; the feedback names the first failing input.",
        f'checks.check("{grade_id}", {part.function})',
        "### BEGIN HIDDEN TESTS",
        "import dlcourse_grade.hidden",
        f'dlcourse_grade.hidden.check("{grade_id}", {part.function})',
        "### END HIDDEN TESTS",
    ])


def _check_solution(assignment: str, item: Solution) -> None:
    if "### BEGIN SOLUTION" not in item.code or "### END SOLUTION" not in item.code:
        raise ValueError(f"{assignment}: the code of {item.function} has no solution markers")
    for gid in item.tests:
        part = assignments.get_part(gid)
        if part.assignment != assignment or part.function != item.function:
            raise ValueError(f"{assignment}: test {gid} checks {part.function} of {part.assignment}")


def _cells(assignment: str, content) -> list:
    v4 = nbformat.v4
    setup = "\n".join([*content.IMPORTS, "from dlcourse import checks", "",
                       f'checks.start("{assignment}", written_for="{dlcourse.__version__}")'])
    cells = [v4.new_markdown_cell(content.INTRO.strip()),
             v4.new_code_cell(setup, metadata=_meta("setup", locked=True))]
    ids = ["intro", "setup"]
    for i, item in enumerate(content.CELLS):
        if isinstance(item, Markdown):
            cells.append(v4.new_markdown_cell(item.text.strip()))
            ids.append(f"text-{i:02d}")
        elif isinstance(item, Given):
            cells.append(v4.new_code_cell(item.code.strip(), metadata=_meta(item.cell_id, locked=True)))
            ids.append(item.cell_id)
        elif isinstance(item, Solution):
            _check_solution(assignment, item)
            cells.append(v4.new_code_cell(item.code.strip(), metadata=_meta(f"{item.function}_solution",
                                                                            solution=True)))
            ids.append(f"{item.function}_solution")
            for gid in item.tests:
                points = assignments.get_part(gid).points
                cells.append(v4.new_code_cell(test_source(gid), metadata=_meta(gid, grade=True, locked=True,
                                                                               points=points)))
                ids.append(gid)
        elif isinstance(item, Written):
            cells.append(v4.new_markdown_cell(item.question.strip(),
                                              metadata=_meta(f"{item.grade_id}_question", locked=True)))
            cells.append(v4.new_markdown_cell(item.answer.strip(), metadata=_meta(
                item.grade_id, grade=True, solution=True, points=item.points)))
            ids += [f"{item.grade_id}_question", item.grade_id]
        else:
            raise TypeError(f"{assignment}: unknown cell kind {type(item).__name__}")
    for cell, cell_id in zip(cells, ids):
        cell.id = cell_id.replace("_", "-")
    return cells


def build(assignment: str):
    """The source notebook of ``assignment`` (an nbformat NotebookNode)."""
    content = importlib.import_module(f"notebook_content.{assignment}")
    graded = {gid for item in content.CELLS if isinstance(item, Solution) for gid in item.tests}
    described = {p.grade_id for p in assignments.parts(assignment)}
    if graded != described:
        raise ValueError(f"{assignment}: test cells {sorted(graded)} differ from the descriptions {sorted(described)}")
    nb = nbformat.v4.new_notebook(cells=_cells(assignment, content))
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "dlcourse": {"assignment": assignment, "written_for": dlcourse.__version__},
    }
    nbformat.validate(nb)
    return nb


def path_of(assignment: str, root: Path = SOURCE) -> Path:
    return root / assignment / f"{assignment}.ipynb"


PAGE = """# {title}

This exercise goes with the chapter [{chapter_title}](../../chapters/{chapter}.md). It covers
{covers}.

## Get the notebook

{{download}}`Download {a}.ipynb <../release/{a}/{a}.ipynb>` (the student version: no solutions,
no hidden tests). Open it in JupyterLab, Jupyter Notebook, VS Code or Colab, in an environment
where `dlcourse` is installed (see [Setup](../../setup.md)){extra}. Keep the file name
`{a}.ipynb`: your instructor's grader looks for it. If your course uses JupyterHub with nbgrader,
fetch the assignment there instead.

## What you implement

Each function comes with its signature, a docstring with the shapes, and the exact formula and
reduction to implement; you write only the body.

| test cell (grade id) | your function | what is checked | points |
| --- | --- | --- | --- |
{rows}
| `{written_id}` (written answer) | | graded by hand | {written_points:g} |

Total: {auto:g} autograded points and {written_total:g} points for written answers.

## Check your work

Run the notebook from the top. The cell after each function checks it against the course's
reference on fixed and random inputs and prints `PASSED`, or `FAILED` with the first input
that fails, what was expected and what your function returned, whether the shape or dtype is
wrong or a NaN appeared, and often the likely cause (a flipped sign, a missing mean, the wrong
axis, an input changed in place, ...). Run these cells as often as you like. To see every check
at once, run `checks.check_all(globals())` in a new cell. With nbgrader's extension installed,
the **Validate** button runs the whole notebook the same way. Warnings your code raises are
reported in the feedback, never printed, and cost points only in the parts that test
stability.

## How it is graded

- Each autograded part runs the same checks again, plus **hidden tests**: other inputs of the
  same kinds. Their feedback names the kind of input that failed, not the expected answer.
- Parts that return several arrays give partial credit: each array that is right on every
  input earns its share.
- A function that calls `dlcourse` (the reference implementation) earns no points for that
  part; the feedback says so.
- Your instructor may run your functions again outside your notebook, on freshly drawn inputs
  (`dlcourse-grade`). Editing the test cells or the checking code therefore changes nothing.
- Written answers are read and graded by your instructor, who returns feedback as an HTML page.
"""


def _cell(text: str) -> str:
    """Text for a Markdown table cell: a bare ``|`` (as in ``|z|``) would split the cell."""
    return text.replace("|", "\\|")


def page(assignment: str) -> str:
    """The learner's MyST page for ``assignment`` (what, download, check, grading)."""
    content = importlib.import_module(f"notebook_content.{assignment}")
    written = [item for item in content.CELLS if isinstance(item, Written)]
    rows = "\n".join(f"| `{p.grade_id}` | `{p.function}` | {_cell(p.title)} | {p.points:g} |"
                      for p in assignments.parts(assignment))
    rows += "".join(f"\n| `{w.grade_id}` (written answer) | | graded by hand | {w.points:g} |" for w in written[1:])
    title = content.INTRO.strip().split("\n")[0].lstrip("# ")
    extra = ", with SymPy (`pip install sympy`)" if "import sympy as sp" in content.IMPORTS else ""
    return PAGE.format(title=title, chapter=content.CHAPTER[0], chapter_title=content.CHAPTER[1],
                       covers=content.COVERS, a=assignment, extra=extra, rows=rows,
                       written_id=written[0].grade_id, written_points=written[0].points,
                       auto=assignments.assignment_points(assignment),
                       written_total=sum(w.points for w in written))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed files are current")
    parser.add_argument("--root", type=Path, default=SOURCE, help="where to write source/<assignment>/")
    parser.add_argument("--pages", type=Path, default=PAGES, help="where to write the learners' pages")
    parser.add_argument("assignments", nargs="*", default=list(assignments.ASSIGNMENTS))
    args = parser.parse_args(argv)
    stale = []
    for a in args.assignments:
        outputs = {path_of(a, args.root): nbformat.writes(build(a)) + "\n", args.pages / f"{a}.md": page(a)}
        for target, text in outputs.items():
            if args.check:
                if not target.exists() or target.read_text() != text:
                    stale.append(str(target))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            print(f"wrote {target}")
    if stale:
        print("out of date (run python exercises/make_sources.py):\n  " + "\n  ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
