"""Two distributions from one repository: what a learner installs holds nothing of the instructor's.

* ``pip wheel . --no-deps`` builds the ``dlcourse`` wheel; its file list has only the
  ``dlcourse`` package, none of its modules imports nbgrader or the grader, and none of
  the hidden inputs (the generators of ``dlcourse_grade.hidden``, the kinds of input
  only hidden cases use) is in it.
* A fresh virtual environment with only that wheel (and NumPy, SymPy for ex03) runs
  every assignment's visible checks: the instructor's solutions pass them all, and the
  released notebook's untouched stubs fail them with the "not implemented" message,
  never an ImportError.
* Neither package has an import cycle (imports inside functions included).
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from dlcourse.checks.assignments import ASSIGNMENTS

ROOT = Path(__file__).resolve().parents[1]
GRADER = ROOT / "grader"

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The learner wheel, built from this checkout as a learner or the book build would."""
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheels = sorted(out.glob("dlcourse-*.whl"))
    assert len(wheels) == 1, [p.name for p in out.iterdir()]
    return wheels[0]


def _wheel_sources(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as z:
        return {n: z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".py")}


def _imported_modules(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_wheel_holds_only_the_learner_package(wheel):
    """Is every file of the wheel part of ``dlcourse`` (or its metadata), with no grader module in it?"""
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"dlcourse", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}, top
    assert not [n for n in names if "dlcourse_grade" in n or "/hidden" in n], names
    sources = _wheel_sources(wheel)
    assert "dlcourse/checks/__init__.py" in sources and "dlcourse/checks/call.py" in sources
    # the metadata: NumPy is the only requirement outside the extras, and no console script
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in names if n.endswith("METADATA"))).decode()
        assert not any(n.endswith("entry_points.txt") for n in names), "the learner wheel installs no command"
    requires = [ln.split(":", 1)[1].strip() for ln in meta.splitlines() if ln.startswith("Requires-Dist:")]
    assert [r for r in requires if "extra ==" not in r] == ["numpy>=2.0"], requires


def test_wheel_imports_nothing_of_nbgrader_or_the_grader(wheel):
    """Does no module of the wheel import nbgrader, nbformat, nbclient or dlcourse_grade?"""
    instructor = {"nbgrader", "nbformat", "nbclient", "jupyter_client", "dlcourse_grade", "sqlalchemy", "tenacity"}
    offenders = {name: sorted(_imported_modules(src) & instructor) for name, src in _wheel_sources(wheel).items()}
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, offenders


def test_wheel_holds_no_hidden_input(wheel):
    """Is none of the hidden-case generators, and none of the kinds only hidden cases use, in the wheel?"""
    from dlcourse.checks import assignments
    from dlcourse_grade import hidden

    text = "\n".join(_wheel_sources(wheel).values())
    generators = set()
    for a in assignments.ASSIGNMENTS:
        tree = ast.parse(Path(hidden.__file__).with_name(f"{a}.py").read_text())
        generators |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert generators, "the grader's hidden modules define the hidden-case generators"
    assert not [g for g in generators if f"def {g}(" in text]
    kinds = set()
    for part in assignments.all_parts():
        visible = {c.kind for c in part.cases(seed=3)}
        kinds |= {c.kind for c in hidden.hidden_cases(part, seed=3)} - visible
    # kinds of drawn cases carry their shapes (f-strings in the source): compare the fixed ones
    fixed_only = {k for k in kinds if not any(ch.isdigit() for ch in k)}
    assert len(fixed_only) >= 10, fixed_only
    leaked = sorted(k for k in fixed_only if f'"{k}"' in text)
    assert not leaked, leaked


def test_every_part_has_hidden_cases_of_its_own():
    """Does each autograded part have hidden cases, drawn apart from the visible ones, with their own seed?"""
    from dlcourse.checks import assignments
    from dlcourse_grade import hidden

    for part in assignments.all_parts():
        cases = hidden.hidden_cases(part, seed=7)
        assert cases and all(c.hidden for c in cases), part.grade_id
        assert not any(c.hidden for c in part.cases(seed=7)), part.grade_id


def _learner_script(source_nb: Path, keep_solutions: bool) -> str:
    """The notebook's code cells as a script: hidden tests removed (as nbgrader releases them).

    With ``keep_solutions`` the instructor's solutions stay; otherwise each solution
    region is replaced by the stub nbgrader writes. Each cell runs on its own; a cell
    that raises is reported, as in a notebook.
    """
    nb = json.loads(source_nb.read_text())
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        out, mode = [], None
        for line in "".join(cell["source"]).split("\n"):
            if "### BEGIN HIDDEN TESTS" in line:
                mode = "hidden"
            elif "### END HIDDEN TESTS" in line:
                mode = None
            elif "### BEGIN SOLUTION" in line:
                mode = "solution"
                if not keep_solutions:
                    indent = line[: len(line) - len(line.lstrip())]
                    out += [indent + "# YOUR CODE HERE", indent + "raise NotImplementedError()"]
            elif "### END SOLUTION" in line:
                mode = None
            elif mode is None or (mode == "solution" and keep_solutions):
                out.append(line)
        cells.append("\n".join(out))
    return textwrap.dedent(f"""
        import json, sys, traceback
        cells = {cells!r}
        ns = {{"__name__": "__main__"}}
        results = []
        for i, src in enumerate(cells):
            try:
                exec(compile(src, f"<cell {{i}}>", "exec"), ns)
                results.append([i, None])
            except BaseException as exc:
                results.append([i, f"{{type(exc).__name__}}: {{exc}}"])
        print("RESULTS" + json.dumps(results))
    """)


@pytest.fixture(scope="module")
def learner_venv(wheel, tmp_path_factory) -> Path:
    """A virtual environment with only the learner wheel (and what its extras bring): no grader, no nbgrader."""
    venv = tmp_path_factory.mktemp("learner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    proc = subprocess.run([str(py), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"),
                           f"{wheel}[sympy]"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return py


@pytest.mark.grading
def test_learner_venv_has_no_grader(learner_venv):
    """Is the learner's environment free of the grader and of nbgrader?"""
    code = "import importlib.util as u; print([m for m in ('dlcourse_grade', 'nbgrader') if u.find_spec(m)])"
    proc = subprocess.run([str(learner_venv), "-I", "-c", code], capture_output=True, text=True, timeout=120,
                          cwd="/")
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", (proc.stdout, proc.stderr)


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_learner_venv_runs_the_visible_checks(learner_venv, assignment, tmp_path):
    """With only the wheel: do the solutions pass every visible check, and do the stubs fail them cleanly?"""
    from dlcourse.checks import assignments

    source = ROOT / "exercises" / "source" / assignment / f"{assignment}.ipynb"
    n_parts = len(assignments.parts(assignment))
    for keep in (True, False):
        script = tmp_path / f"run_{keep}.py"
        script.write_text(_learner_script(source, keep_solutions=keep))
        proc = subprocess.run([str(learner_venv), "-I", str(script)], capture_output=True, text=True,
                              timeout=600, cwd=tmp_path, env={**os.environ, "MPLBACKEND": "Agg"})
        assert proc.returncode == 0, proc.stderr[-3000:]
        results = json.loads(proc.stdout.split("RESULTS", 1)[1])
        errors = [e for _, e in results if e]
        assert not [e for e in errors if "ImportError" in e or "ModuleNotFound" in e], errors
        passed = proc.stdout.count("PASSED ")
        if keep:
            assert errors == [] and passed == n_parts, (errors, proc.stdout[-2000:])
        else:
            assert passed == 0 and len(errors) >= n_parts, (errors, proc.stdout[-2000:])
            assert all("not implemented" in e.lower() or "NotImplementedError" in e for e in errors), errors


def _module_graph(folder: Path) -> tuple[dict[str, set[str]], dict[str, Path]]:
    files = {}
    for p in folder.rglob("*.py"):
        parts = list(p.relative_to(folder.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = p
    graph = {}
    for mod, p in files.items():
        is_pkg = p.name == "__init__.py"
        deps = set()
        for node in ast.walk(ast.parse(p.read_text())):  # function-level imports count too
            if isinstance(node, ast.Import):
                deps |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                deps.add(prefix)
                deps |= {f"{prefix}.{a.name}" for a in node.names}
        graph[mod] = {d for d in deps if d in files and d != mod}
    return graph, files


def _cycles(graph: dict[str, set[str]], files: dict[str, Path]) -> list[list[str]]:
    """Strongly connected components with two or more modules other than package ``__init__`` s."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len([m for m in comp if files[m].name != "__init__.py"]) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


@pytest.mark.parametrize("folder", [ROOT / "dlcourse", GRADER / "dlcourse_grade"], ids=["dlcourse", "dlcourse_grade"])
def test_no_import_cycle(folder):
    """Does the import graph of the package (function-level imports included) have no cycle?"""
    graph, files = _module_graph(folder)
    assert len(files) > 10
    assert _cycles(graph, files) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path):
    """Would the cycle test notice one? Two modules importing each other, one inside a function."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n")
    (pkg / "c.py").write_text("from .a import b\n")
    graph, files = _module_graph(pkg)
    assert _cycles(graph, files) == [["pkg.a", "pkg.b"]]


def test_learner_package_never_imports_the_grader():
    """Does no module of dlcourse name dlcourse_grade or nbgrader in an import?"""
    graph_offenders = []
    for p in (ROOT / "dlcourse").rglob("*.py"):
        mods = _imported_modules(p.read_text())
        if mods & {"dlcourse_grade", "nbgrader"}:
            graph_offenders.append(str(p.relative_to(ROOT)))
    assert graph_offenders == []
    assert importlib.util.find_spec("dlcourse_grade") is not None, "make venv installs the grader too"
