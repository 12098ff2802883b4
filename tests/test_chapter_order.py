"""Does a chapter call only what it or an earlier chapter teaches?

Each chapter's executed code cells (the ``{code-cell}`` blocks of ``chapters/NN_*.md``) are
parsed with :mod:`ast`. Every reference to a ``dlcourse`` object (a function, class,
module attribute, through any import alias or a plain ``name = dlcourse...`` assignment),
every loss or optimizer named as a string (``loss="mse"``, ``optimizer="adam"``,
``losses.get("hinge")``), a number given as ``optimizer`` (plain gradient descent), the
keyword arguments that switch on a later idea (``momentum=``, ``scheduler=`` ...) and every
``.fit(...)`` call is looked up in :data:`TAUGHT`, the one table of what is taught where.
A chapter fails when it uses something taught in a later chapter, unless the code cell is
tagged ``preview`` (``:tags: [preview]``), which the chapter's prose must announce. A
``dlcourse`` name that the table does not cover fails too, so the table stays complete.

No build is needed: the chapters' sources are read directly.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_DIR = ROOT / "chapters"

# ----------------------------------------------------------------------------- the table

#: What is taught where: a dotted ``dlcourse`` name (a module, or an object in one) -> the
#: number of the chapter that teaches it. A reference is looked up by its longest prefix in
#: this table, so ``dlcourse.optim.SGD`` overrides ``dlcourse.optim``. Plotting, widgets and
#: data helpers only show or load things; they count as known from chapter 1.
TAUGHT: dict[str, int] = {
    # infrastructure: figures, widgets, data sets
    "dlcourse.plots": 1,
    "dlcourse.widgets": 1,
    "dlcourse.data": 1,
    "dlcourse.neuron": 1,
    "dlcourse.layers.Dense": 1,            # chapter 1: a neuron is a dense layer of one unit
    # chapter 2: the perceptron
    "dlcourse.perceptron": 2,
    "dlcourse.activations.step": 2,
    "dlcourse.activations.sigmoid": 2,     # the smooth step at the end of chapter 2
    # chapter 3: layers, activations, networks, initialisation
    "dlcourse.activations": 3,
    "dlcourse.layers": 3,
    "dlcourse.network": 3,
    "dlcourse.init": 3,
    "dlcourse.diagnostics": 3,
    # chapter 4: derivatives, gradient checking, the cross-check with PyTorch
    "dlcourse.calculus": 4,
    "dlcourse.gradcheck": 4,
    "dlcourse.xcheck": 4,
    "dlcourse.losses.mse": 4,              # the squared error of the 2-2-1 example
    # chapter 5: backpropagation for any depth, autograd, the training loop
    "dlcourse.autograd": 5,
    "dlcourse.train": 5,
    "dlcourse.network.Sequential.fit": 5,
    "dlcourse.losses.binary_cross_entropy": 5,
    "dlcourse.optim.SGD": 5,               # plain gradient descent; its options are chapter 7 (KEYWORDS)
    # chapter 6: losses
    "dlcourse.losses": 6,
    # chapter 7: optimizers and schedules
    "dlcourse.optim": 7,
    "dlcourse.schedules": 7,
    "dlcourse.surfaces": 7,
    "dlcourse.parameter": 7,
    # chapter 8: regularisation and model selection
    "dlcourse.regularization": 8,
    "dlcourse.callbacks": 8,
    "dlcourse.layers.Dropout": 8,
    "dlcourse.layers.BatchNorm": 8,
    # chapter 9: convolutional networks
    "dlcourse.filters": 9,
    "dlcourse.models": 9,
    "dlcourse.torch_models": 9,
    "dlcourse.layers.Conv2D": 9,
    "dlcourse.layers.MaxPool2D": 9,
    "dlcourse.layers.AvgPool2D": 9,
    "dlcourse.layers.Flatten": 9,
    "dlcourse.layers.conv": 9,
    "dlcourse.layers.pool": 9,
    "dlcourse.layers._conv_kernels": 9,
    # chapter 10: colour images, augmentation, residual connections
    "dlcourse.image_models": 10,
    "dlcourse.layers.Residual": 10,
    "dlcourse.layers.residual": 10,
    # chapter 11: sequences and attention
    "dlcourse.rnn": 11,
    "dlcourse.attention": 11,
}

#: Losses named as strings (``loss="..."``, ``losses.get("...")``) -> the chapter that teaches them.
LOSS_NAMES: dict[str, int] = {"mse": 4, "binary_cross_entropy": 5}
#: Any other loss name is taught in the losses chapter.
LOSSES_CHAPTER = 6
#: Optimizers named as strings -> chapter; a number given as ``optimizer`` is plain SGD.
OPTIMIZER_NAMES: dict[str, int] = {"sgd": 5}
OPTIMIZERS_CHAPTER = 7
#: Keyword arguments that switch on a later idea: (callee, keyword) -> chapter. A callee
#: ``"*"`` means any call (``fit``, ``train.train``, ...).
KEYWORDS: dict[tuple[str, str], int] = {
    ("dlcourse.optim.SGD", "momentum"): 7,
    ("dlcourse.optim.SGD", "nesterov"): 7,
    ("dlcourse.optim.SGD", "dampening"): 7,
    ("dlcourse.optim.SGD", "weight_decay"): 7,
    ("*", "scheduler"): 7,
    ("*", "callbacks"): 8,
}
#: Methods called on any object (a network): name -> chapter.
METHODS: dict[str, int] = {"fit": 5}

PREVIEW_TAG = "preview"


# ----------------------------------------------------------------------------- reading chapters

@dataclass(frozen=True)
class Cell:
    index: int          # 0-based among the chapter's code cells
    tags: tuple
    code: str


@dataclass(frozen=True)
class Use:
    """One use of a taught thing in a chapter: what (``dlcourse.optim.Adam``, ``loss:hinge``), where, taught where."""

    what: str
    cell: int
    line: int
    taught_in: int | None   # None: not in the table
    preview: bool


def chapter_number(path: Path) -> int:
    match = re.match(r"(\d+)_", path.name)
    assert match, f"chapter file {path.name} does not start with its number"
    return int(match.group(1))


def chapter_files() -> list[Path]:
    return sorted(CHAPTER_DIR.glob("[0-9][0-9]_*.md"))


def code_cells(text: str) -> list[Cell]:
    """The ``{code-cell}`` blocks of a MyST notebook, with their tags (``:tags: [...]`` or a YAML header)."""
    cells = []
    for i, body in enumerate(re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, flags=re.S | re.M)):
        tags: list[str] = []
        yaml_block = re.match(r"---\n(.*?)\n---\n", body, flags=re.S)
        if yaml_block:
            options, code = yaml_block.group(1), body[yaml_block.end():]
            found = re.search(r"^tags:\s*\[([^\]]*)\]", options, flags=re.M)
        else:
            lines = body.splitlines()
            head = [line for line in lines if line.startswith(":")]
            options = "\n".join(head)
            code = "\n".join(line for line in lines if not line.startswith(":"))
            found = re.search(r"^:tags:\s*\[([^\]]*)\]", options, flags=re.M)
        if found:
            tags = [t.strip().strip("'\"") for t in found.group(1).split(",") if t.strip()]
        cells.append(Cell(i, tuple(tags), code))
    return cells


# ----------------------------------------------------------------------------- the detector

def _dotted(node) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; None when the chain does not start at a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _resolve(node, aliases: dict[str, str]) -> str | None:
    """The dotted ``dlcourse`` name of ``node``: an alias chain, or a method of an instance (``net.fit``)."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call):
        made_by = _resolve(node.value.func, aliases)    # Standardizer().fit -> ...Standardizer.fit
        return f"{made_by}.{node.attr}" if made_by else None
    parts = _dotted(node)
    if not parts or parts[0] not in aliases:
        return None
    return ".".join([aliases[parts[0]], *parts[1:]])


def lookup(what: str) -> int | None:
    """The chapter that teaches ``what``: a ``loss:``/``optimizer:``/``method:`` entry or the longest dotted prefix."""
    kind, _, name = what.partition(":")
    if kind == "loss" and name:
        return LOSS_NAMES.get(name, LOSSES_CHAPTER)
    if kind == "optimizer" and name:
        return OPTIMIZER_NAMES.get(name, OPTIMIZERS_CHAPTER)
    if kind == "method" and name:
        return METHODS.get(name)
    if kind == "keyword" and name:
        callee, _, keyword = name.rpartition(".")
        return KEYWORDS.get((callee, keyword), KEYWORDS.get(("*", keyword)))
    parts = what.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in TAUGHT:
            return TAUGHT[key]
    return None


def _string_uses(call: ast.Call, callee: str | None) -> list[str]:
    """Losses and optimizers a call names as strings or numbers, and later-chapter keywords it passes."""
    found = []
    for kw in call.keywords:
        value = kw.value
        if kw.arg == "loss" and isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.append(f"loss:{value.value.lower()}")
        if kw.arg == "optimizer" and isinstance(value, ast.Constant):
            if isinstance(value.value, str):
                found.append(f"optimizer:{value.value.lower()}")
            elif isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
                found.append("optimizer:sgd")     # a learning rate: plain gradient descent
        if kw.arg and ((callee or "*"), kw.arg) in KEYWORDS or ("*", kw.arg) in KEYWORDS:
            found.append(f"keyword:{callee or '*'}.{kw.arg}")
    first = call.args[0] if call.args else None
    if callee and isinstance(first, ast.Constant) and isinstance(first.value, str):
        if callee == "dlcourse.losses.get":
            found.append(f"loss:{first.value.lower()}")
        elif callee == "dlcourse.optim.get":
            found.append(f"optimizer:{first.value.lower()}")
    return found


def uses_in_chapter(cells: list[Cell]) -> list[Use]:
    """Every use of a taught thing, in order; imports and aliases carry over from cell to cell."""
    aliases: dict[str, str] = {}
    results: set[str] = set()      # names bound to what a dlcourse call returned
    uses: list[Use] = []
    for cell in cells:
        tree = ast.parse(cell.code)
        preview = PREVIEW_TAG in cell.tags
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == "dlcourse":
                        aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else "dlcourse"
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dlcourse":
                for a in node.names:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        found: list[tuple[int, str]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                # `f = losses.mse` names the object; `net = Sequential(...)` an instance of the class,
                # so that `net.fit` resolves to `dlcourse.network.Sequential.fit`
                made = isinstance(node.value, ast.Call)
                target = _resolve(node.value.func if made else node.value, aliases)
                if target and target.split(".")[0] == "dlcourse":
                    aliases[node.targets[0].id] = target
                    if made:
                        results.add(node.targets[0].id)
                    else:
                        results.discard(node.targets[0].id)
            if isinstance(node, (ast.Name, ast.Attribute)) and isinstance(getattr(node, "ctx", None), ast.Load):
                parent = parents.get(node)
                if isinstance(parent, ast.Attribute) and parent.value is node:
                    continue                              # only the whole chain a.b.c counts
                if isinstance(node, ast.Name) and node.id in results:
                    continue                              # a value made earlier (a network, a History): its
                target = _resolve(node, aliases)          # methods count, `plot_history(history)` does not
                if target and target.split(".")[0] == "dlcourse":
                    found.append((node.lineno, target))
            if isinstance(node, ast.Call):
                callee = _resolve(node.func, aliases)
                found += [(node.lineno, s) for s in _string_uses(node, callee)]
                if isinstance(node.func, ast.Attribute) and callee is None and node.func.attr in METHODS:
                    found.append((node.lineno, f"method:{node.func.attr}"))
        for line, what in sorted(found):
            uses.append(Use(what, cell.index, line, lookup(what), preview))
    return uses


def forward_uses(number: int, cells: list[Cell]) -> list[Use]:
    """Uses of something a later chapter teaches, outside preview cells."""
    return [u for u in uses_in_chapter(cells)
            if u.taught_in is not None and u.taught_in > number and not u.preview]


def _describe(chapter: str, uses: list[Use]) -> str:
    return "\n".join(f"  {chapter}, code cell {u.cell + 1}, line {u.line}: {u.what} (taught in chapter {u.taught_in})"
                     for u in uses)


# ----------------------------------------------------------------------------- the tests

CHAPTERS = chapter_files()


def test_chapters_are_found_and_numbered_in_toc_order():
    """Are there chapters, numbered 1, 2, 3, ... without gaps, and does _toc.yml list them in that order?"""
    numbers = [chapter_number(p) for p in CHAPTERS]
    assert numbers == list(range(1, len(numbers) + 1)), f"chapter numbers {numbers}"
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    listed = re.findall(r"file:\s*chapters/(\d\d_[\w-]+)", toc)
    assert listed == [p.stem for p in CHAPTERS], f"_toc.yml lists {listed}; files are {[p.stem for p in CHAPTERS]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_no_chapter_calls_what_a_later_chapter_teaches(path):
    """Does the chapter use only what it or an earlier chapter teaches (or mark the cell as a preview)?"""
    cells = code_cells(path.read_text(encoding="utf-8"))
    assert cells, f"{path.name} has no code cells"
    bad = forward_uses(chapter_number(path), cells)
    assert not bad, (f"{path.stem} uses what later chapters teach; move it, or tag the cell "
                     f"`:tags: [{PREVIEW_TAG}]` and say in the prose that it is a preview:\n"
                     + _describe(path.stem, bad))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_dlcourse_name_a_chapter_uses_is_in_the_table(path):
    """Is every dlcourse name the chapter uses covered by TAUGHT (so the order check cannot miss it)?"""
    uses = uses_in_chapter(code_cells(path.read_text(encoding="utf-8")))
    missing = sorted({u.what for u in uses if u.taught_in is None})
    assert not missing, f"{path.stem} uses names that TAUGHT in {Path(__file__).name} does not cover: {missing}"


def test_preview_cells_are_announced_and_needed():
    """Does every chapter with preview cells say "preview" in its prose, and does each preview cell need the tag?"""
    for path in CHAPTERS:
        text = path.read_text(encoding="utf-8")
        previews = [c for c in code_cells(text) if PREVIEW_TAG in c.tags]
        if not previews:
            continue
        prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
        assert re.search(r"\bpreview\b", prose, flags=re.I), f"{path.stem} tags preview cells but its prose never says so"
        for cell in previews:
            assert forward_uses(chapter_number(path), [Cell(cell.index, (), cell.code)]), (
                f"{path.stem}, code cell {cell.index + 1} is tagged {PREVIEW_TAG} but uses nothing from a later chapter")


# ----------------------------------------------------------------------------- the detector's own tests

PLANTED = '''
```{code-cell} ipython3
from dlcourse import optim as o
from dlcourse.layers import Conv2D
from dlcourse.network import Sequential
import dlcourse.schedules

net = Sequential([])
opt = o.Adam(list(net.parameters()), lr=0.01)
net.fit(X, y, loss="hinge", optimizer="rmsprop")
dlcourse.schedules.StepLR(opt, step_size=3)
layer = Conv2D(1, 2, 3)
sgd = o.SGD([], lr=0.1, momentum=0.9)
nets = {"a": net}
nets["a"].fit(X, y)
```

```{code-cell} ipython3
:tags: [preview]

net.fit(X, y, loss="sparse_categorical_cross_entropy", optimizer="adam")
```
'''


def test_detector_catches_planted_forward_calls():
    """Does the detector flag each forward use planted in a chapter-3 cell, and spare the preview cell?"""
    cells = code_cells(PLANTED)
    assert [c.tags for c in cells] == [(), ("preview",)]
    flagged = {u.what: u.taught_in for u in forward_uses(3, cells)}
    expected = {"dlcourse.optim.Adam": 7, "dlcourse.network.Sequential.fit": 5, "method:fit": 5,
                "loss:hinge": 6, "optimizer:rmsprop": 7,
                "dlcourse.schedules.StepLR": 7, "dlcourse.layers.Conv2D": 9, "keyword:dlcourse.optim.SGD.momentum": 7,
                "dlcourse.optim.SGD": 5}
    assert flagged == expected, f"flagged {flagged}"
    in_preview = [u for u in uses_in_chapter(cells) if u.preview]
    assert {u.what for u in in_preview} == {"dlcourse.network.Sequential.fit", "loss:sparse_categorical_cross_entropy",
                                           "optimizer:adam"}
    assert not forward_uses(9, cells), "in chapter 9 every planted use is already taught"


def test_detector_follows_aliases_across_cells_and_assignments():
    """Does an import in one cell and a ``name = dlcourse...`` alias in another still resolve to the taught name?"""
    text = ('```{code-cell} ipython3\nfrom dlcourse import losses\nce = losses.cross_entropy_with_logits\n```\n\n'
            '```{code-cell} ipython3\n---\ntags: [hide-input]\n---\nvalue = ce(t, z)\nbce = losses.binary_cross_entropy\n```\n')
    uses = uses_in_chapter(code_cells(text))
    assert [(u.what, u.taught_in) for u in uses] == [
        ("dlcourse.losses.cross_entropy_with_logits", 6),
        ("dlcourse.losses.cross_entropy_with_logits", 6),
        ("dlcourse.losses.binary_cross_entropy", 5)]
    assert [u.what for u in forward_uses(5, code_cells(text))] == ["dlcourse.losses.cross_entropy_with_logits"] * 2


def test_unknown_dlcourse_names_are_reported():
    """Is a dlcourse module the table does not cover reported as missing rather than silently allowed?"""
    uses = uses_in_chapter(code_cells("```{code-cell} ipython3\nimport dlcourse\ndlcourse.brand_new.thing()\n```\n"))
    assert [(u.what, u.taught_in) for u in uses] == [("dlcourse.brand_new.thing", None)]
