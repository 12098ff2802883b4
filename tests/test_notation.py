"""One notation: the chapters' and the docstrings' formulas use the symbols of ``notation.md``.

``notation.md`` has a table of reserved symbols: each Greek letter, what it means, and the
chapters that use it. This test reads that table and every formula of the chapters (``$...$``
and ``$$...$$`` outside code cells) and of the package's docstrings (``:math:`...``` and
``.. math::`` blocks), and checks that

- every Greek letter in a chapter's formulas is in the table, and listed for that chapter;
- the clashes the book once had do not come back: the learning rate is always eta (never
  gamma, PyTorch's letter), the momentum buffer is not ``b`` (a bias), batch norm's mean is
  not mu (momentum) and its scale and shift are not gamma and beta, beta only appears as
  Adam's beta_1 and beta_2, a step is not ``\\Delta`` (the layer delta of chapter 5), and
  RMSprop's decay is not alpha (leaky ReLU's slope).

Static: no book build needed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md"))
GREEK = re.compile(r"\\((?:var)?(?:alpha|beta|gamma|delta|epsilon|zeta|eta|theta|iota|kappa|lambda|mu|nu|xi|pi|rho|"
                   r"sigma|tau|upsilon|phi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Pi|Sigma|Upsilon|Phi|Psi|"
                   r"Omega))(?![A-Za-z])")

#: (pattern, what it means): formulas that bring back a clash the notation page resolves.
CLASHES = [
    (re.compile(r"\\theta_\{?t-1\}?\s*-\s*\\(?!eta(?![A-Za-z])|tilde\\eta(?![A-Za-z]))[A-Za-z]+"), "a learning rate other than \\eta in an update"),
    (re.compile(r"\(1\s*-\s*\\(?!eta(?![A-Za-z]))[A-Za-z]+\s*\\lambda\)"), "weight decay scaled by a rate other than \\eta"),
    (re.compile(r"\\tilde\\gamma|\\gamma\s*/\s*\\sqrt|\\gamma\s*\\frac|\\gamma\s*\\operatorname\{sign\}"),
     "\\gamma used as a learning rate"),
    (re.compile(r"(?<![\\\w])b_\{?t(-1)?\}?"), "b_t: the momentum buffer written as a bias"),
    (re.compile(r"\\mu_\{?(B|\\text\{run\})"), "\\mu as batch norm's mean (\\mu is the momentum)"),
    (re.compile(r"\\gamma\s*\\hat|\\hat\s*\{?[a-z]\}?\s*\\gamma"), "\\gamma as batch norm's scale"),
    (re.compile(r"\\beta(?!_)"), "\\beta without a subscript (only Adam's \\beta_1, \\beta_2 are reserved)"),
    (re.compile(r"\\Delta\s*\\theta"), "\\Delta as an optimizer's step (\\Delta^{(l)} is the layer delta)"),
    (re.compile(r"\\alpha\s*\\,?\s*v_"), "\\alpha as RMSprop's decay (\\alpha is leaky ReLU's slope)"),
]


def reserved_table() -> dict[str, set[int]]:
    """notation.md's reserved symbols: the Greek command (``gamma``) -> the chapters listed for it."""
    text = (ROOT / "notation.md").read_text(encoding="utf-8")
    section = text[text.index("## Reserved symbols"):]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("$"):
            continue
        chapters = {int(n) for n in re.findall(r"\d+", cells[2])}
        for name in GREEK.findall(cells[0]):
            table[name] = chapters
    return table


def chapter_formulas(text: str) -> list[str]:
    """The formulas of a MyST chapter: ``$$...$$`` and ``$...$`` outside code cells and inline code."""
    text = re.sub(r"```\{code-cell\}.*?```", "", text, flags=re.S)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    display = re.findall(r"\$\$(.*?)\$\$", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    return display + re.findall(r"\$([^$\n]+)\$", text)


def docstring_formulas(source: str) -> list[str]:
    """The formulas of a module's docstrings: ``:math:`...``` roles and ``.. math::`` blocks."""
    formulas = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            doc = ast.get_docstring(node, clean=True) or ""
            formulas += re.findall(r":math:`([^`]*)`", doc)
            formulas += re.findall(r"\.\. math::[^\n]*\n((?:\n|[ \t]+[^\n]*\n?)+)", doc)
    return formulas


def clashes(formulas: list[str]) -> list[str]:
    return [f"{why}: {formula.strip()[:80]!r}" for formula in formulas for pattern, why in CLASHES
            if pattern.search(formula)]


def test_the_checks_can_fail():
    """Do the readers and the clash patterns find planted mistakes (so that the tests below can fail)?"""
    planted = chapter_formulas("text $\\theta_t = \\theta_{t-1} - \\gamma g_t$ and\n$$\nb_t = \\mu b_{t-1}\n$$\n"
                               "```{code-cell} ipython3\n$\\beta$\n```\n")
    assert len(planted) == 2
    found = " ".join(clashes(planted + ["\\gamma \\hat x + \\beta", "\\mu_B", "\\Delta\\theta_t", "\\alpha\\, v_{t-1}",
                                        "(1 - \\gamma\\lambda)"]))
    for why in ("other than \\eta in an update", "bias", "batch norm's scale", "without a subscript",
                "batch norm's mean", "optimizer's step", "RMSprop's decay", "weight decay scaled"):
        assert why in found, why
    assert not clashes(["\\theta_t = \\theta_{t-1} - \\eta\\, m_t", "(1 - \\eta\\lambda)", "\\beta_1 = 0.9",
                        "\\eta_e = \\eta_0 \\gamma^{e}", "\\Delta^{(l)}"])
    assert [f.strip() for f in docstring_formulas('"""A :math:`\\\\gamma` and\n\n.. math::\n    x = \\\\beta\n"""\n')] == \
        ["\\gamma", "x = \\beta"]
    assert GREEK.findall("\\varepsilon + \\epsilon + \\Phi(z) + \\pi") == ["varepsilon", "epsilon", "Phi", "pi"]


def test_the_table_reserves_the_letters_the_issue_named():
    table = reserved_table()
    for name in ("eta", "gamma", "mu", "beta", "alpha", "rho", "lambda", "epsilon", "sigma", "Delta", "tau"):
        assert name in table, f"notation.md reserves no meaning for \\{name}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_formulas_use_only_reserved_symbols_where_listed(path):
    """Is every Greek letter of the chapter's formulas reserved in notation.md for this chapter?"""
    table = reserved_table()
    number = int(path.name[:2])
    unlisted, elsewhere = set(), set()
    for formula in chapter_formulas(path.read_text(encoding="utf-8")):
        for name in GREEK.findall(formula):
            if name not in table:
                unlisted.add(name)
            elif number not in table[name]:
                elsewhere.add(name)
    assert not unlisted, f"{path.name} uses Greek letters notation.md does not reserve: {sorted(unlisted)}"
    assert not elsewhere, (f"{path.name} uses {sorted(elsewhere)}, which notation.md lists for other chapters "
                           f"only: add chapter {number} there if the meaning is the same")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_formulas_bring_back_no_clash(path):
    found = clashes(chapter_formulas(path.read_text(encoding="utf-8")))
    assert not found, "\n".join(found)


def test_docstrings_use_the_books_notation():
    """Do the package's docstrings (what the API pages show) use the reserved symbols as the chapters do?"""
    table = reserved_table()
    problems = []
    for path in sorted((ROOT / "dlcourse").rglob("*.py")):
        formulas = docstring_formulas(path.read_text(encoding="utf-8"))
        problems += [f"{path.relative_to(ROOT)}: {c}" for c in clashes(formulas)]
        problems += [f"{path.relative_to(ROOT)}: \\{name} is not in notation.md's reserved symbols"
                     for formula in formulas for name in GREEK.findall(formula) if name not in table]
    assert not problems, "\n".join(sorted(set(problems)))
