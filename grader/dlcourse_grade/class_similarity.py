"""Learner-to-learner similarity for the instructor: which submissions share code with which.

``dlcourse-grade similarity ASSIGNMENT --course DIR [--threshold X] [--out DIR]``.

For each student, the code cells of ``submitted/<student>/<assignment>/*.ipynb`` are read
with the grader's intake rules (regular files only, no links: :func:`.submission.plain_file`;
nothing over :attr:`.sandbox.Limits.notebook_bytes`; :func:`.repair.parse` for the JSON).
A code cell identical to one of the released notebook's (the starter code and the tests
every learner has) is dropped, and the released code is copydetect's *boilerplate*, so
what is left to compare is what learners wrote. `copydetect
<https://github.com/blingenf/copydetect>`_ (winnowed fingerprints of the tokenised code:
names become ``V``/``F``, so renaming does not hide a copy) compares every pair of
students. Two files are written (by default into ``<course>/dlcourse-grade/<assignment>/``):

* ``similarity.json``: the pairs where either direction reaches the threshold, with
  ``a``, ``b``, ``a_to_b`` (the share of a's code found in b's), ``b_to_a``, and the
  top-level functions the shared code lies in (``functions_a``, ``functions_b``);
* ``similarity.html``: copydetect's report, made offline (no CDN stylesheet or script:
  a small inline style and script take their place) with the learners' code HTML-escaped.

A reported pair is a lead for a human to read, never a verdict or a score.
"""

from __future__ import annotations

import ast
import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from .course import load_course
from .repair import Ungradable, parse
from .sandbox import Limits
from .submission import plain_file, shown

__all__ = ["THRESHOLD", "Pair", "learner_code", "released_code", "class_similarity", "offline_html"]

#: Share of one learner's (non-starter) code found in another's that reports a pair.
THRESHOLD = 0.4
#: copydetect's k-gram length (characters of tokenised code); shorter matches are noise.
NOISE = 25


@dataclass
class Pair:
    a: str
    b: str
    a_to_b: float
    b_to_a: float
    functions_a: list[str]
    functions_b: list[str]


def _cells(path: Path, limit: int) -> list[str] | None:
    """The code cells' sources of one notebook read like the grader does, or None (not read)."""
    if plain_file(path, notebook=True) is not None:
        return None
    try:
        if path.stat().st_size > limit:
            return None
        data, _ = parse(path.read_bytes())
    except (OSError, Ungradable, RecursionError, ValueError):
        return None
    out = []
    for cell in data.get("cells", []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            out.append("".join(str(s) for s in src) if isinstance(src, list) else str(src))
    return out


def released_code(course_root: Path, assignment: str, release_dir: Path | None = None) -> list[str]:
    """The code cells of the released notebooks (falling back to the source ones)."""
    cells: list[str] = []
    for folder in ([release_dir] if release_dir else []) + [course_root / "release" / assignment,
                                                           course_root / "source" / assignment]:
        if folder and folder.is_dir():
            for nb in sorted(folder.glob("*.ipynb")):
                cells += _cells(nb, Limits().notebook_bytes) or []
            if cells:
                return cells
    return cells


def learner_code(folder: Path, released: list[str], limit: int | None = None) -> str:
    """A student's code cells minus those identical to a released one, as one Python text."""
    limit = Limits().notebook_bytes if limit is None else limit
    given = {c.strip() for c in released}
    parts = []
    for nb in sorted(folder.glob("*.ipynb")):
        for src in _cells(nb, limit) or []:
            if src.strip() and src.strip() not in given:
                parts.append(src.rstrip() + "\n")
    return "\n\n".join(parts)


def _functions(code: str, spans) -> list[str]:
    """Top-level functions (and classes) whose lines hold any of the character ``spans``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    starts = [0]
    for line in code.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    def line_of(pos):
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1
    lines = set()
    for start, end in spans:
        lines |= set(range(line_of(int(start)), line_of(max(int(start), int(end) - 1)) + 1))
    return sorted({n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                   and lines & set(range(n.lineno, (n.end_lineno or n.lineno) + 1))})


_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
_REMOTE_TAG = re.compile(r"<(link|script)\b[^>]*\b(?:href|src)\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>(?:\s*</script>)?",
                         re.IGNORECASE)
_REMOTE_ANY = re.compile(r"\b(?:href|src|action|poster|data)\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE)
_OFFLINE_STYLE = """<style>
    body { font-family: system-ui, sans-serif; margin: 0 1em; }
    .container { margin: auto; } .row { display: flex; flex-wrap: wrap; gap: 1em; }
    .col, .col-md-6, .col-md-4, .col-12 { flex: 1 1 0; min-width: 300px; }
    .btn { padding: .3em .8em; border: 1px solid #888; border-radius: 4px; background: #eee; cursor: pointer; }
    .collapse:not(.show) { display: none; }
    pre { white-space: pre-wrap; background: #f8f8f8; padding: .5em; }
    img { max-width: 100%; }
  </style>"""
_OFFLINE_SCRIPT = """<script>
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-bs-toggle=collapse]");
  if (!b) { return; }
  var t = document.querySelector(b.getAttribute("data-bs-target"));
  if (t) { t.classList.toggle("show"); }
});
</script>"""


def offline_html(html: str) -> str:
    """copydetect's report without anything fetched from the network (its CDN CSS and JS)."""
    html = _REMOTE_TAG.sub("", html)
    html = html.replace("</head>", _OFFLINE_STYLE + "\n</head>", 1).replace("</body>", _OFFLINE_SCRIPT + "\n</body>", 1)
    if _REMOTE_ANY.search(html):
        raise ValueError("the similarity report still references a remote resource")
    return html


def class_similarity(course_root: str | os.PathLike, assignment: str, threshold: float = THRESHOLD,
                     out: str | os.PathLike | None = None) -> tuple[list[Pair], Path, Path]:
    """Compare every pair of students' code for ``assignment``; write the JSON and HTML (see module doc)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    from copydetect import CopyDetector  # imported here: matplotlib is slow to load, and headless

    course = load_course(course_root)
    root = course.root
    submitted = Path(course.path("submitted", "_", assignment)).parent.parent
    release = Path(course.path("release", ".", assignment))
    released = released_code(root, assignment, release if release.is_dir() else None)
    students = sorted(p.name for p in (submitted.iterdir() if submitted.is_dir() else ())
                      if not p.is_symlink() and (p / assignment).is_dir() and not (p / assignment).is_symlink())
    if not released and not students:
        raise ValueError(f"{assignment}: no released notebook and no submissions under {root}")
    out_dir = Path(out) if out is not None else root / "dlcourse-grade" / assignment
    out_dir.mkdir(parents=True, exist_ok=True)
    pairs: list[Pair] = []
    with tempfile.TemporaryDirectory(prefix="dlcourse-similarity-") as tmp:
        tmp = Path(tmp)
        boiler = tmp / "released.py"
        boiler.write_text("\n\n".join(released), encoding="utf-8")
        files, who, names = [], {}, set()
        for s in students:
            code = learner_code(submitted / s / assignment, released)
            if not code.strip():
                continue
            name = _SAFE.sub("_", shown(s))[:80] or "student"
            while name in names:
                name += "_"
            names.add(name)
            path = tmp / "students" / name / f"{assignment}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code, encoding="utf-8")
            files.append(str(path))
            who[str(path)] = (s, code)
        # display_t >= 0: copydetect shows a pair's code unescaped when it shares nothing (sim 0)
        det = CopyDetector(extensions=["py"], noise_t=NOISE, guarantee_t=NOISE, display_t=max(threshold, 0.0),
                           autoopen=False, silent=True, out_file=str(out_dir / "similarity.html"))
        for f in files:
            det.add_file(f)
        det.add_file(str(boiler), type="boilerplate")
        html = ""
        if len(files) >= 2:
            det.run()
            index = {f: k for k, f in enumerate(det.test_files)}
            for i, fa in enumerate(files):
                for fb in files[i + 1:]:
                    a_to_b, b_to_a = (float(x) for x in det.similarity_matrix[index[fa], det.ref_files.index(fb)])
                    if max(a_to_b, b_to_a) < threshold:
                        continue
                    slices = det.slice_matrix.get((fa, fb))
                    sa, sb = (slices if slices is not None else
                              list(reversed(det.slice_matrix.get((fb, fa), [[], []]))))
                    spans_a = list(zip(*sa)) if len(sa) else []
                    spans_b = list(zip(*sb)) if len(sb) else []
                    (a, code_a), (b, code_b) = who[fa], who[fb]
                    pairs.append(Pair(a, b, round(a_to_b, 4), round(b_to_a, 4),
                                      _functions(code_a, spans_a), _functions(code_b, spans_b)))
            with warnings.catch_warnings():  # copydetect 0.5 reads its template with a deprecated call
                warnings.simplefilter("ignore", DeprecationWarning)
                html = det.generate_html_report(output_mode="return") or ""
    pairs.sort(key=lambda p: -max(p.a_to_b, p.b_to_a))
    json_path, html_path = out_dir / "similarity.json", out_dir / "similarity.html"
    json_path.write_text(json.dumps({
        "assignment": assignment, "threshold": threshold, "students": students,
        "note": "a lead for a human to read, never a verdict or a score",
        "pairs": [p.__dict__ for p in pairs]}, indent=1), encoding="utf-8")
    if not html:
        html = ("<!DOCTYPE HTML><html><head><meta charset='UTF-8'><title>Copy Detection Report</title></head>"
                "<body><p>Fewer than two submissions with code of their own: nothing compared.</p></body></html>")
    html_path.write_text(offline_html(html), encoding="utf-8")
    return pairs, json_path, html_path
