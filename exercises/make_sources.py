"""Build the instructor (source) notebooks of every assignment from ``exercises/notebook_content/``.

    python exercises/make_sources.py            # write exercises/source/<a>/<a>.ipynb and exercises/pages/<a>.md
    python exercises/make_sources.py --check    # exit 1 if a committed notebook or page is out of date
    python exercises/make_sources.py --learner-repo DIR   # requirements.txt + README.md of a student-only repo

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
import yaml

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import dlcourse  # noqa: E402
from dlcourse.checks import assignments  # noqa: E402

SOURCE = HERE / "source"
PAGES = HERE / "pages"
CONFIG = HERE.parent / "_config.yml"
#: what a notebook's imports need beyond NumPy: module -> extra of the ``dlcourse`` wheel
EXTRAS = {"sympy": "sympy", "matplotlib": "plot", "ipywidgets": "plot", "tqdm": "plot", "torch": "torch"}


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


def book_url(config: Path = CONFIG) -> str:
    """The book's public URL: ``html.baseurl`` of ``_config.yml``, the one place it is set."""
    url = ((yaml.safe_load(config.read_text()) or {}).get("html") or {}).get("baseurl") or ""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"{config}: html.baseurl must be the book's public URL, got {url!r}")
    return url.rstrip("/") + "/"


def binder_url(path: str, config: Path = CONFIG) -> str:
    """A Binder link that opens ``path`` (relative to the learner's home in the Binder image, see binder/)."""
    data = yaml.safe_load(config.read_text())
    repo = data["repository"]["url"].removeprefix("https://github.com/").strip("/")
    hub = data["launch_buttons"]["binderhub_url"].rstrip("/")
    return f"{hub}/v2/gh/{repo}/{data['repository'].get('branch', 'main')}?urlpath=lab/tree/{path}"


def wheel_url() -> str:
    """Where the built book serves the learner wheel (``wheel/`` of the site, written by ``_ext/learner_wheel.py``)."""
    return f"{book_url()}wheel/dlcourse-{dlcourse.__version__}-py3-none-any.whl"


def extras(imports) -> list[str]:
    """The wheel's extras that the notebook's import lines need, e.g. ``["sympy"]`` for ex03."""
    modules = [line.split()[1].split(".")[0] for line in imports if line.startswith(("import ", "from "))]
    return sorted({EXTRAS[m] for m in modules if m in EXTRAS})


def requirement(imports=()) -> str:
    """The pip requirement a learner installs: ``dlcourse[extras] @ <wheel URL>``."""
    names = extras(imports)
    return f"dlcourse{'[' + ','.join(names) + ']' if names else ''} @ {wheel_url()}"


def install_source(imports) -> str:
    """The install cell: installs the wheel from the book where ``dlcourse`` is missing, else does nothing.

    Written as plain Python (``get_ipython().run_line_magic`` rather than ``%pip``) so that a script run of
    the cells stays valid; the grader's verification runner turns no line of it into a network call,
    because the call happens only where ``dlcourse`` cannot be found and that runner never calls IPython.
    """
    return "\n".join([
        "# Run this cell first. Where the course package `dlcourse` is missing (Colab, Binder, a new",
        "# environment) it installs it from the course book; where dlcourse is installed already",
        "# (your course's JupyterHub, the instructor's grader) it does nothing.",
        "import importlib.util",
        "",
        'if importlib.util.find_spec("dlcourse") is None:',
        f"    get_ipython().run_line_magic(\"pip\", 'install --quiet \"{requirement(imports)}\"')",
        "    importlib.invalidate_caches()",
    ])


def setup_source(assignment: str, imports) -> str:
    """The setup cell: the imports (a missing one says how to install it), then ``checks.start``."""
    body = [*imports, "from dlcourse import checks"]
    return "\n".join([
        "try:",
        *("    " + line for line in body),
        "except ImportError as missing:",
        "    raise ImportError(f\"{missing.name} is not installed: run the first code cell of this notebook, \"",
        f"                      'or install it with  %pip install \"{requirement(imports)}\"') from None",
        "",
        f'checks.start("{assignment}", written_for="{dlcourse.__version__}")',
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
    cells = [v4.new_markdown_cell(content.INTRO.strip()),
             v4.new_code_cell(install_source(content.IMPORTS), metadata=_meta("install", locked=True)),
             v4.new_code_cell(setup_source(assignment, content.IMPORTS), metadata=_meta("setup", locked=True))]
    ids = ["intro", "install", "setup"]
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
no hidden tests). Keep the file name `{a}.ipynb`: your instructor's grader looks for it. The
notebook's first code cell installs the course package `dlcourse`{extra_words} from this book where it is
missing and does nothing where it is installed, so the notebook runs wherever you open it:

- **Colab**: *File > Upload notebook*, choose the downloaded file, and run the cells from the
  top (the first one installs the package in about half a minute).
- **Binder**: [open {a} on Binder]({binder}) (everything installed; a temporary session, so
  download your notebook before you close the tab).
- **JupyterHub**: your course's hub has `dlcourse` installed; fetch the assignment from the
  hub's *Assignments* tab, or open the link your instructor gives you.
- **A laptop**: in a virtual environment (see [Setup](../../setup.md)), one line:

  ```bash
  pip install "{requirement}" jupyterlab
  ```

  then `jupyter lab {a}.ipynb`.
- **VS Code**: the same line in the environment that VS Code uses as the notebook's kernel
  (add `ipykernel` to it), then open the file.

In any notebook the same install is one cell: `%pip install "{requirement}"`.

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
    names = extras(content.IMPORTS)
    extra_words = f" with its extra{'s' if len(names) > 1 else ''} {', '.join(f'`{n}`' for n in names)}" if names else ""
    return PAGE.format(title=title, chapter=content.CHAPTER[0], chapter_title=content.CHAPTER[1],
                       covers=content.COVERS, a=assignment, extra_words=extra_words, rows=rows,
                       requirement=requirement(content.IMPORTS), binder=binder_url(f"notebooks/{assignment}.ipynb"),
                       written_id=written[0].grade_id, written_points=written[0].points,
                       auto=assignments.assignment_points(assignment),
                       written_total=sum(w.points for w in written))


#: What running each chapter's code yourself needs beyond NumPy (the book shows it already executed).
CHAPTER_EXTRAS = [
    ("Chapters 1, 5, 6, 7 and 8 (figures, explorers, PyTorch comparisons)", ["plot", "torch"]),
    ("Chapters 2 and 3 (figures, explorers)", ["plot"]),
    ("Chapter 4, derivatives (figures, SymPy derivations, PyTorch comparisons)", ["plot", "sympy", "torch"]),
]

INSTALL = """<!-- generated by exercises/make_sources.py from html.baseurl in _config.yml: do not edit -->

This book serves the course package as one file, the wheel
[`{wheel}`]({url}). One line installs it from there, with its requirements from PyPI
(NumPy, and the extras you name in brackets):

| where you type it | the line |
| --- | --- |
| a terminal, in a virtual environment (a laptop, VS Code, a JupyterHub terminal) | `pip install "dlcourse @ {url}"` |
| a notebook cell (Colab, Binder, JupyterLab, Jupyter Notebook, VS Code) | `%pip install "dlcourse @ {url}"` |

Every exercise notebook's first code cell runs that line itself, with the extras the notebook
needs, when `dlcourse` is missing, and does nothing when it is installed.

What each part of the course needs beyond NumPy:

| part | extras | the line |
| --- | --- | --- |
{rows}
"""


def install_page() -> str:
    """The install table of the setup page (included by setup.md): exact lines for this book's URL."""
    rows = []
    for a in assignments.ASSIGNMENTS:
        content = importlib.import_module(f"notebook_content.{a}")
        names = extras(content.IMPORTS)
        title = content.INTRO.strip().split("\n")[0].lstrip("# ")
        rows.append((title, names))
    rows += CHAPTER_EXTRAS + [("Everything, PyTorch included", ["all"])]
    return INSTALL.format(wheel=wheel_url().rsplit("/", 1)[1], url=wheel_url(), rows="\n".join(
        f"| {title} | {', '.join(f'`{n}`' for n in names) or 'none'} | "
        f"`pip install \"dlcourse{'[' + ','.join(names) + ']' if names else ''} @ {wheel_url()}\"` |"
        for title, names in rows))


LEARNER_README = """# {title}: the student notebooks

The released notebooks of the course, without solutions or hidden tests, generated by
`make learner-repo` from the course repository. Open one in Jupyter and run it from the top:
its first cell installs the course package where it is missing. `requirements.txt` installs it
beforehand (a JupyterHub image, Binder): `pip install -r requirements.txt`.

{rows}
"""


def learner_repo(folder: Path) -> None:
    """Write ``requirements.txt`` and ``README.md`` into ``folder``, which holds the released notebooks."""
    names = sorted({n for a in assignments.ASSIGNMENTS
                    for n in extras(importlib.import_module(f"notebook_content.{a}").IMPORTS)})
    req = f"dlcourse{'[' + ','.join(names) + ']' if names else ''} @ {wheel_url()}"
    (folder / "requirements.txt").write_text(f"# the course package, from the book\n{req}\njupyterlab\n")
    title = yaml.safe_load(CONFIG.read_text()).get("title", "dlcourse")
    rows = "\n".join(f"- `{a}.ipynb`" for a in assignments.ASSIGNMENTS)
    (folder / "README.md").write_text(LEARNER_README.format(title=title, rows=rows))
    print(f"wrote {folder / 'requirements.txt'} and {folder / 'README.md'}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed files are current")
    parser.add_argument("--root", type=Path, default=SOURCE, help="where to write source/<assignment>/")
    parser.add_argument("--pages", type=Path, default=PAGES, help="where to write the learners' pages")
    parser.add_argument("--learner-repo", type=Path, help="write requirements.txt and README.md of a student-only repo")
    parser.add_argument("assignments", nargs="*", default=list(assignments.ASSIGNMENTS))
    args = parser.parse_args(argv)
    if args.learner_repo:
        learner_repo(args.learner_repo)
        return 0
    outputs = {args.pages / "_install.md": install_page()}  # the setup page's install table
    for a in args.assignments:
        outputs[path_of(a, args.root)] = nbformat.writes(build(a)) + "\n"
        outputs[args.pages / f"{a}.md"] = page(a)
    stale = []
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
