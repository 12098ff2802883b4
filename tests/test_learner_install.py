"""Learners start anywhere: the book serves the learner wheel, and each notebook installs it.

* The built site holds ``wheel/dlcourse-<version>-py3-none-any.whl``, the NumPy-only learner
  wheel, at the address every install cell and page names (``html.baseurl`` of ``_config.yml``).
* With no clone and no project venv (a loopback server over ``_build/html``, a fresh venv with
  Python, nbclient and ipykernel only), every released notebook, its solutions filled in and its
  install cell pointed at the server, installs ``dlcourse`` itself and prints PASSED for every check.
* Where ``dlcourse`` is importable (nbgrader's autograding kernel) the install never runs, and
  the grader's verification runner, where it is not, has no IPython to run it with.
* Binder's learner home holds the student notebooks and no instructor file.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "exercises"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(COURSE))

nbformat = pytest.importorskip("nbformat", reason="nbformat comes with nbgrader (the grader's requirements)")

import make_sources  # noqa: E402
from dlcourse.checks import assignments  # noqa: E402

ASSIGNMENTS = list(assignments.ASSIGNMENTS)
#: seconds: a first install downloads NumPy (and SymPy for ex03) from PyPI
INSTALL_TIMEOUT = 900


def _grade_id(cell) -> str | None:
    return (cell.metadata.get("nbgrader") or {}).get("grade_id")


def _install_cell(nb):
    cells = [c for c in nb.cells if _grade_id(c) == "install"]
    assert len(cells) == 1, "a notebook has exactly one install cell"
    return cells[0]


def _released(book_html: Path, assignment: str) -> Path:
    """The released notebook as the book serves it for download."""
    found = sorted(book_html.glob(f"_downloads/*/{assignment}.ipynb"))
    assert len(found) == 1, f"the book serves {assignment}.ipynb once, found {found}"
    return found[0]


def _with_solutions(released, assignment: str):
    """The released notebook with the instructor's solution cells in place of the stubs."""
    source = nbformat.read(COURSE / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    solutions = {_grade_id(c): c.source for c in source.cells
                 if c.cell_type == "code" and (c.metadata.get("nbgrader") or {}).get("solution")}
    nb = nbformat.from_dict(json.loads(json.dumps(released)))
    filled = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and _grade_id(cell) in solutions:
            cell.source = solutions[_grade_id(cell)]
            filled += 1
    assert filled == len(solutions) > 0, (assignment, filled, sorted(solutions))
    return nb


def _point_at(nb, base_url: str):
    """The notebook with the book's public URL replaced by ``base_url`` (the loopback server)."""
    public = make_sources.book_url()
    cell = _install_cell(nb)
    assert public in cell.source, "the install cell names the book's public URL"
    for c in nb.cells:
        c.source = c.source.replace(public, base_url)
    return nb


# ---------------------------------------------------------------------------------------------
# what the sources and the built book say


def test_install_cell_comes_first_and_names_the_wheel_with_the_notebooks_extras():
    """Is each source notebook's first code cell the locked install cell, naming the wheel URL with
    exactly the extras the notebook's imports need (SymPy for ex03 only)?"""
    for a in ASSIGNMENTS:
        nb = nbformat.read(COURSE / "source" / a / f"{a}.ipynb", as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert first is _install_cell(nb) and first.metadata.nbgrader["locked"], a
        assert not first.metadata.nbgrader["grade"] and not first.metadata.nbgrader["solution"], a
        want = "dlcourse[sympy] @ " if a == "ex03_derivatives" else "dlcourse @ "
        assert want + make_sources.wheel_url() in first.source, (a, first.source)
        assert 'importlib.util.find_spec("dlcourse") is None' in first.source


def test_install_cell_runs_pip_only_where_dlcourse_is_missing():
    """Does the install cell call pip where ``dlcourse`` cannot be found, and never where it can?"""
    source = make_sources.install_source(["import numpy as np", "import sympy as sp"])

    def run(hide_dlcourse: bool) -> list:
        calls = []

        class Shell:
            def run_line_magic(self, name, line):
                calls.append((name, line))

        saved = sys.modules.get("dlcourse")
        try:
            if hide_dlcourse:
                sys.modules["dlcourse"] = None  # find_spec then answers None, as where it is not installed
            exec(compile(source, "<install cell>", "exec"), {"get_ipython": Shell})
        finally:
            sys.modules["dlcourse"] = saved
        return calls

    assert run(hide_dlcourse=False) == []
    calls = run(hide_dlcourse=True)
    assert len(calls) == 1 and calls[0][0] == "pip", calls
    assert f'install --quiet "dlcourse[sympy] @ {make_sources.wheel_url()}"' == calls[0][1]


def test_setup_cell_names_the_install_line_when_an_import_is_missing(tmp_path):
    """Without SymPy, does ex03's setup cell stop with the line that installs it, not a bare traceback?"""
    source = make_sources.setup_source("ex03_derivatives", ["import numpy as np", "import sympy as sp"])
    script = tmp_path / "setup_cell.py"
    script.write_text('import sys\nsys.modules["sympy"] = None\n' + source)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: sympy is not installed"), proc.stderr
    assert f'%pip install "dlcourse[sympy] @ {make_sources.wheel_url()}"' in last, last
    assert "ModuleNotFoundError" not in proc.stderr, "the original error is replaced (from None)"


def _visible_text(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


@pytest.mark.book
def test_book_serves_the_learner_wheel_at_the_address_the_notebooks_name(book_html):
    """Is the wheel at ``wheel/`` of the built site, with the name the install cells use, NumPy-only,
    and does every exercise page and the setup page show the exact install line?"""
    name = make_sources.wheel_url().rsplit("/", 1)[1]
    wheel = book_html / "wheel" / name
    assert wheel.is_file(), f"make book writes {wheel.relative_to(book_html)}; found {list(book_html.glob('wheel/*'))}"
    assert sorted(p.name for p in (book_html / "wheel").iterdir()) == sorted([name, "index.html"])
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert {n.split("/")[0] for n in names} == {"dlcourse", "-".join(name.split("-")[:2]) + ".dist-info"}
    requires = [ln.split(":", 1)[1].strip() for ln in meta.splitlines() if ln.startswith("Requires-Dist:")]
    base = [r for r in requires if "extra ==" not in r]
    assert len(base) == 1 and base[0].startswith("numpy"), f"NumPy is the only requirement: {requires}"
    assert "Provides-Extra: sympy" in meta
    setup_page = _visible_text(book_html / "setup.html")
    assert make_sources.wheel_url() in setup_page
    assert f"dlcourse[sympy] @ {make_sources.wheel_url()}" in setup_page
    for a in ASSIGNMENTS:
        raw = (book_html / "exercises" / "pages" / f"{a}.html").read_text()
        page = _visible_text(book_html / "exercises" / "pages" / f"{a}.html")
        content = __import__(f"notebook_content.{a}", fromlist=["IMPORTS"])
        assert make_sources.requirement(content.IMPORTS) in page, a
        assert f'href="{make_sources.binder_url(f"notebooks/{a}.ipynb")}"' in raw, a


# ---------------------------------------------------------------------------------------------
# a learner with nothing but Python


RUNNER = r'''
"""Execute notebooks with nbclient; record each graded cell's text and when PASSED first appeared."""
import json, sys, time
import nbformat
from nbclient import NotebookClient

jobs = json.loads(open(sys.argv[1]).read())
results = {}
for job in jobs:
    nb = nbformat.read(job["path"], as_version=4)
    first = []

    def on_cell_executed(cell, cell_index, execute_reply, first=first):
        text = "".join(o.get("text", "") for o in cell.get("outputs", []))
        if "PASSED" in text and not first:
            first.append(time.time())

    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": job["cwd"]}}, on_cell_executed=on_cell_executed)
    client.execute()
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        gid = (cell.metadata.get("nbgrader") or {}).get("grade_id")
        text = "".join(o.get("text", "") + "".join(o.get("traceback", [])) for o in cell.get("outputs", []))
        cells.append([gid, text])
    results[job["name"]] = {"cells": cells, "first_passed": first[0] if first else None}
    print("done", job["name"], flush=True)
json.dump(results, open(sys.argv[2], "w"))
'''


@pytest.fixture
def book_server(book_html):
    """``python -m http.server`` over the built book on a loopback port: its base URL."""
    proc = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                             "--directory", str(book_html)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        line = proc.stdout.readline()  # "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        assert " port " in line, line
        yield f"http://127.0.0.1:{int(line.split(' port ')[1].split()[0])}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _clean_env(venv: Path, home: Path) -> dict:
    """An environment that knows nothing of this checkout: no PYTHONPATH, the fresh venv first on PATH."""
    keep = {k: v for k, v in os.environ.items()
            if k.startswith(("PIP_", "LANG", "LC_", "SSL_", "REQUESTS_CA", "HTTP_PROXY", "HTTPS_PROXY",
                             "http_proxy", "https_proxy"))}
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"]))
    return {**keep, "PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(home),
            "PIP_CACHE_DIR": str(home / "pip-cache"), "JUPYTER_DATA_DIR": str(home / "jupyter"),
            "JUPYTER_PATH": str(venv / "share" / "jupyter"), "IPYTHONDIR": str(home / "ipython"),
            "NO_PROXY": no_proxy, "no_proxy": no_proxy, "DLCOURSE_PROGRESS": "0", "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def _run(cmd, env, cwd, timeout=INSTALL_TIMEOUT):
    proc = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.book
@pytest.mark.slow
def test_released_notebooks_install_dlcourse_and_pass_in_a_fresh_environment(book_server, book_html, tmp_path):
    """From an empty venv with nbclient and ipykernel only: does each released notebook, solutions filled
    in, install dlcourse from the served book in its first cell and print PASSED for every check?"""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    venv = tmp_path / "learner-venv"
    t0 = time.time()
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=300, cwd=work)
    env = _clean_env(venv, home)
    py = venv / "bin" / "python"
    _run([py, "-m", "pip", "install", "-q", "-c", ROOT / "constraints.txt", "nbclient", "ipykernel"], env, work)
    t_tools = time.time() - t0
    probe = "import importlib.util as u; print([m for m in ('dlcourse', 'dlcourse_grade', 'nbgrader', 'sympy') if u.find_spec(m)])"
    assert _run([py, "-c", probe], env, work).strip() == "[]", "the fresh venv starts without the course"
    jobs = []
    for a in ASSIGNMENTS:
        nb = _point_at(_with_solutions(nbformat.read(_released(book_html, a), as_version=4), a), book_server)
        path = work / f"{a}.ipynb"
        nbformat.write(nb, path)
        jobs.append({"name": a, "path": str(path), "cwd": str(work)})
    script, jobs_file, out = tmp_path / "runner.py", tmp_path / "jobs.json", tmp_path / "results.json"
    script.write_text(RUNNER)
    results = {}
    for job in jobs:
        if results:  # each notebook meets an environment without dlcourse, so each install cell runs
            _run([py, "-m", "pip", "uninstall", "-y", "-q", "dlcourse"], env, work)
        jobs_file.write_text(json.dumps([job]))
        _run([py, str(script), jobs_file, out], env, work, timeout=1800)
        results.update(json.loads(out.read_text()))
        installed = _run([py, "-c", "import dlcourse, sympy; print(dlcourse.__file__)"
                          if job["name"] == "ex03_derivatives" else "import dlcourse; print(dlcourse.__file__)"],
                         env, work).strip()
        assert installed.startswith(str(venv)), f"{job['name']}: dlcourse came from {installed}"
    direct = _run([py, "-c", "import importlib.metadata as m; print(m.distribution('dlcourse').read_text('direct_url.json'))"],
                  env, work)
    assert book_server.rstrip("/") in direct, f"dlcourse was installed from {direct}"
    for a in ASSIGNMENTS:
        cells = dict((gid, text) for gid, text in results[a]["cells"] if gid)
        assert "VERSION MISMATCH" not in cells["setup"], cells["setup"]
        for part in assignments.parts(a):
            assert "PASSED" in cells[part.grade_id], (a, part.grade_id, cells[part.grade_id][-1500:])
    first = results[ASSIGNMENTS[0]]["first_passed"]
    assert first is not None
    print(f"\nempty venv -> first PASSED: {first - t0:.1f} s (venv + nbclient/ipykernel {t_tools:.1f} s, "
          f"then {ASSIGNMENTS[0]} with its install cell {first - t0 - t_tools:.1f} s)")


# ---------------------------------------------------------------------------------------------
# the autograder never installs


def _nbgrader(course: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    if shutil.which("nbgrader", path=str(BIN)) is None:
        pytest.skip("nbgrader is not installed in this environment (pip install ./grader)")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "DLCOURSE_PROGRESS": "0",
           "OMP_NUM_THREADS": "1", **(env or {})}
    proc = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, text=True, capture_output=True,
                          timeout=900)
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


SPY = '''
# IPython startup file of the test: record every %pip instead of running it.
from IPython import get_ipython

def _pip_spy(line):
    with open({marker!r}, "a") as fh:
        fh.write(line + "\\n")

get_ipython().register_magic_function(_pip_spy, "line", "pip")
'''


def _spy_ipython_dir(tmp: Path) -> tuple[Path, Path]:
    ipython, marker = tmp / "ipython", tmp / "pip-calls.txt"
    startup = ipython / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-pip-spy.py").write_text(SPY.format(marker=str(marker)))
    return ipython, marker


@pytest.mark.grading
@pytest.mark.slow
def test_nbgrader_autograde_never_runs_the_install(tmp_path):
    """In nbgrader's autograding kernel, which has dlcourse, is the install cell's pip never called,
    while the same spy does see the call in a kernel where dlcourse is hidden?"""
    from nbclient import NotebookClient

    a = "ex01_perceptron"
    ipython, marker = _spy_ipython_dir(tmp_path)
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(COURSE / "nbgrader_config.py", course)
    shutil.copytree(COURSE / "source" / a, course / "source" / a)
    _nbgrader(course, "generate_assignment", a, "--force")
    released = nbformat.read(course / "release" / a / f"{a}.ipynb", as_version=4)
    folder = course / "submitted" / "learner" / a
    folder.mkdir(parents=True)
    nbformat.write(_with_solutions(released, a), folder / f"{a}.ipynb")
    _nbgrader(course, "autograde", a, "--force", env={"IPYTHONDIR": str(ipython)})
    assert not marker.exists(), f"the autograder's kernel ran pip: {marker.read_text()}"
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        score = gb.find_submission(a, "learner").notebooks[0].score
    assert score == assignments.assignment_points(a), "the solutions earn every point with the install cell in place"
    # the spy works: where dlcourse cannot be found, the same install cell calls pip
    hide = nbformat.v4.new_code_cell('import sys\nsys.modules["dlcourse"] = None')
    probe = nbformat.v4.new_notebook(cells=[hide, nbformat.v4.new_code_cell(_install_cell(released).source)])
    env_before = dict(os.environ)
    os.environ["IPYTHONDIR"] = str(ipython)
    try:
        NotebookClient(probe, timeout=120, kernel_name="python3").execute()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    assert marker.exists() and make_sources.wheel_url() in marker.read_text()


def test_outside_ipython_the_install_cell_cannot_install(tmp_path):
    """Where plain Python runs the learner's cells with ``dlcourse`` hidden (``dlcourse-grade``'s
    out-of-kernel runner), does the install cell stop at ``get_ipython`` before any pip call, and
    does that runner give it no IPython?"""
    grade = pytest.importorskip("dlcourse_grade", reason="the grader is not installed (pip install ./grader)")
    nb = nbformat.read(COURSE / "source" / "ex01_perceptron" / "ex01_perceptron.ipynb", as_version=4)
    cell = _install_cell(nb).source
    for call in ("subprocess", "os.system", "urllib", "!pip", "%pip", "sys.executable"):
        assert call not in cell, f"the install cell may install only through IPython's %pip: {call}"
    script = tmp_path / "plain.py"
    script.write_text('import sys\nsys.modules["dlcourse"] = None\n' + cell)
    proc = subprocess.run([sys.executable, "-I", str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode != 0 and proc.stderr.strip().splitlines()[-1] == (
        "NameError: name 'get_ipython' is not defined"), proc.stderr
    runner = Path(grade.__file__).with_name("_verify_runner.py").read_text()
    assert "get_ipython" not in runner and "IPython" not in runner, "the runner would run the install"


# ---------------------------------------------------------------------------------------------
# Binder opens student notebooks only


def _instructor_lines() -> set[str]:
    """Lines of the solutions and hidden tests that appear nowhere public (the chapters, the package,
    the notebooks' given code and text)."""
    public = set()
    for path in [*ROOT.glob("chapters/*.md"), *ROOT.glob("dlcourse/**/*.py")]:
        public.update(line.strip() for line in path.read_text(errors="replace").split("\n"))
    secrets = set()
    for a in ASSIGNMENTS:
        nb = nbformat.read(COURSE / "source" / a / f"{a}.ipynb", as_version=4)
        for cell in nb.cells:
            region = None
            for line in cell.source.split("\n"):
                text = line.strip()
                if "BEGIN SOLUTION" in text or "BEGIN HIDDEN TESTS" in text:
                    region = True
                elif "END SOLUTION" in text or "END HIDDEN TESTS" in text:
                    region = None
                elif region and len(text) >= 20:
                    secrets.add(text)
                elif not region and not (cell.metadata.get("nbgrader") or {}).get("solution"):
                    public.add(text)
    return secrets - public


def test_binder_installs_nothing_of_the_instructor():
    """Do Binder's files install only the learner package (no grader, no nbgrader) and open
    only the student notebooks, with no JupyterHub button that would pull the whole repository?"""
    post = (ROOT / "binder" / "postBuild").read_text()
    reqs = (ROOT / "binder" / "requirements.txt").read_text()
    for text in (post, reqs):
        code = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
        assert "grader" not in code and "nbgrader" not in code, code
    assert 'pip install --no-cache-dir ".[all]"' in post and "-e " not in post
    assert "binder/student_home.sh --delete-instructor-files" in post
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert not config["launch_buttons"].get("jupyterhub_url"), "a JupyterHub button nbgitpulls exercises/source too"
    assert make_sources.binder_url("notebooks/ex01_perceptron.ipynb").endswith(
        "?urlpath=lab/tree/notebooks/ex01_perceptron.ipynb")


@pytest.mark.grading
@pytest.mark.slow
def test_binder_home_holds_the_student_notebooks_and_no_instructor_file(tmp_path):
    """Run binder/student_home.sh in a copy of the checkout: are the six released notebooks in notebooks/,
    and is every instructor file (exercises/, grader/, tests/, .git, solutions, hidden tests) gone?"""
    if shutil.which("nbgrader", path=str(BIN)) is None:
        pytest.skip("nbgrader is not installed in this environment (pip install ./grader)")
    home = tmp_path / "home"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (home / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, home / rel)
    (home / ".git").mkdir()  # repo2docker's copy has the history; the script must remove it
    (home / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    script = home / "binder" / "student_home.sh"
    refused = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and (home / "exercises").exists(), "without the flag it deletes nothing"
    env = {**os.environ, "NBGRADER": str(BIN / "nbgrader"), "DLCOURSE_PROGRESS": "0"}
    proc = subprocess.run(["bash", str(script), "--delete-instructor-files"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert sorted(p.name for p in (home / "notebooks").iterdir()) == sorted(f"{a}.ipynb" for a in ASSIGNMENTS)
    for gone in ("exercises", "grader", "tests", "benchmarks", "docs", ".git", "build", "_build"):
        assert not (home / gone).exists(), f"{gone} is left in the learner's home"
    assert (home / "chapters").is_dir() and (home / "dlcourse").is_dir() and (home / "binder" / "postBuild").exists()
    secrets = _instructor_lines()
    assert len(secrets) > 50
    for path in home.rglob("*"):
        if not path.is_file():
            continue
        assert "dlcourse_grade" not in path.parts and path.suffix not in {".db"}, path
        lines = {line.strip() for line in path.read_text(errors="replace").split("\n")}
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            lines = {line.strip() for c in nb.cells for line in c.source.split("\n")}
            assert "BEGIN SOLUTION" not in "\n".join(lines) and "BEGIN HIDDEN TESTS" not in "\n".join(lines), path
        leaked = sorted(secrets & lines)
        assert not leaked, f"{path.relative_to(home)} holds instructor lines: {leaked[:3]}"
    for a in ASSIGNMENTS:
        nb = nbformat.read(home / "notebooks" / f"{a}.ipynb", as_version=4)
        assert _install_cell(nb).source, a
