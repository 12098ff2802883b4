"""Chapters 1-4 (introduction, perceptron, MLP, derivatives): sources, executed notebooks, glued numbers.

The source checks read ``chapters/*.md`` and need no build. The ``book`` tests read the
notebooks that the one shared book build executed (``executed_notebooks`` fixture):
MyST-NB writes each chapter's glued values to ``<chapter>.glue.json`` beside its
``.ipynb``, and jupyter-cache records each chapter's execution time.
"""

from __future__ import annotations

import ast
import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ("01_introduction", "02_perceptron", "03_mlp", "04_derivatives")
ASSIGNMENTS = {"01_introduction": "ex01_perceptron", "02_perceptron": "ex01_perceptron",
               "03_mlp": "ex02_mlp", "04_derivatives": "ex03_derivatives"}
#: Each chapter's budget from the issue (seconds of notebook execution).
MAX_EXECUTION_SECONDS = 40.0
#: Tolerance for glued floats that went through ``repr`` and back.
FLOAT_TOL = 1e-12


def _source(chapter: str) -> str:
    return (ROOT / "chapters" / f"{chapter}.md").read_text(encoding="utf-8")


def _markdown_lines(text: str):
    """Lines outside backtick fences (code cells, dropdowns, figures), which never nest here."""
    inside = False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
            continue
        if not inside:
            yield line


def _code_cells(text: str) -> list[tuple[str, str]]:
    """Each code cell as (options, code): options from ``:key: value`` lines or a ``---`` YAML block."""
    cells = []
    for body in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, flags=re.S):
        yaml_block = re.match(r"---\n(.*?)\n---\n", body, flags=re.S)
        if yaml_block:
            cells.append((yaml_block.group(1), body[yaml_block.end():]))
            continue
        lines = body.splitlines()
        options = [line for line in lines if line.startswith(":")]
        cells.append(("\n".join(options), "\n".join(line for line in lines if not line.startswith(":"))))
    return cells


def _glue(executed: Path, chapter: str) -> dict:
    path = executed / "chapters" / f"{chapter}.glue.json"
    assert path.exists(), f"{path} is missing: did {chapter} execute in the book build?"
    return json.loads(path.read_text())


def _glued_value(executed: Path, chapter: str, name: str):
    glued = _glue(executed, chapter)
    assert name in glued, f"{chapter} glues no {name!r}; it glues {sorted(glued)}"
    text = glued[name]["data"]["text/plain"]
    return ast.literal_eval(text)


# --- sources (no build needed) -------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_jupytext_header_and_one_h1(chapter):
    """Is the chapter a MyST notebook with a python3 kernelspec, one H1 and no skipped heading level?"""
    text = _source(chapter)
    assert text.startswith("---\njupytext:"), "the chapter must start with a jupytext header"
    assert "kernelspec:" in text.split("---")[1] and "name: python3" in text.split("---")[1]
    levels = [len(m.group(1)) for line in _markdown_lines(text.split("---", 2)[2])
              if (m := re.match(r"^(#+) ", line))]
    assert levels.count(1) == 1 and levels[0] == 1, f"expected exactly one H1, first; got levels {levels}"
    for previous, current in zip(levels, levels[1:]):
        assert current <= previous + 1, f"heading level jumps from {previous} to {current}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_goals_checks_summary_and_graded_note(chapter):
    """Does the chapter open with goals, hide its check-yourself answers, and end with a summary and its assignment?"""
    text = _source(chapter)
    assert "After this chapter you will be able to" in text
    assert "Check yourself" in text and "{dropdown}" in text, "check-yourself answers must be hidden in a dropdown"
    assert "## Summary" in text
    graded = text[text.index("Graded exercise"):]
    assert ASSIGNMENTS[chapter] in graded, f"the graded-exercise note must name {ASSIGNMENTS[chapter]}"


@pytest.mark.parametrize("chapter, traps", [
    ("02_perceptron", ["strict or non-strict step"]),
    ("03_mlp", ["is He, not Xavier", "softmax normalises each sample", "scaled and shifted"]),
    ("04_derivatives", ["the sign in the sigmoid derivation", "feeding the sigmoid derivative its output"]),
])
def test_common_trap_boxes_are_present(chapter, traps):
    """Is each error of the course notes that the chapter touches taught in a "Common trap" box?"""
    titles = re.findall(r":::\{admonition\} Common trap: ([^\n]*)", _source(chapter))
    for trap in traps:
        assert any(trap in t for t in titles), f"no common-trap box about {trap!r}; boxes: {titles}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapters_define_no_top_level_functions_or_classes(chapter):
    """Do the chapters leave every function and class to the package (no top-level def/class in a code cell)?"""
    for _, code in _code_cells(_source(chapter)):
        tree = ast.parse(code)
        defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        assert not defined, f"{chapter} defines {defined}; such code belongs in dlcourse"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_plotting_cells_hide_their_input(chapter):
    """Is every cell that glues a figure tagged hide-input (or remove-input)?"""
    for options, code in _code_cells(_source(chapter)):
        if re.search(r'glue\("[a-z0-9_]*_figure"', code) or "animate_training(" in code:
            assert re.search(r"tags: \[(hide|remove)-input\]", options), f"plotting cell not hidden:\n{code[:200]}"


def test_toc_lists_part1_chapters_in_order():
    """Does _toc.yml list the introduction, perceptron, MLP and derivatives chapters, in this order?"""
    yaml = pytest.importorskip("yaml")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(str(node["file"]).removesuffix(".md"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    listed = [f for f in files if f.startswith("chapters/") and f.split("/")[-1] in CHAPTERS]
    assert listed == [f"chapters/{c}" for c in CHAPTERS], f"toc order of part 1: {listed}"


# --- the executed book ----------------------------------------------------------------


@pytest.mark.book
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_executed_without_errors_stderr_or_widgets(executed_notebooks, chapter):
    """Did every code cell run, with no error, no stderr and no widget or progress-bar output?"""
    import nbformat

    path = executed_notebooks / "chapters" / f"{chapter}.ipynb"
    assert path.exists(), f"{path} was not executed by the book build"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "no code cells"
    for cell in code:
        assert cell.get("execution_count") is not None, f"cell did not run:\n{cell.source[:200]}"
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{out.get('ename')}: {out.get('evalue')}"
            assert not (out["output_type"] == "stream" and out.get("name") == "stderr"), out.get("text")
            data = out.get("data", {})
            assert "application/vnd.jupyter.widget-view+json" not in data, "a live widget in the build output"
            text = out.get("text", "") + data.get("text/plain", "")
            assert "it/s]" not in text, "a progress bar in the build output"


@pytest.mark.book
def test_glued_single_neuron_matches_package(executed_notebooks):
    """Is the glued single-neuron z the package's weighted sum, 0.13?"""
    from dlcourse.neuron import weighted_sum

    glued = _glued_value(executed_notebooks, "01_introduction", "neuron_z")
    expected = weighted_sum([0.5, -0.2, 0.1], [0.4, 0.7, -0.3], 0.1)
    assert abs(glued - expected) <= FLOAT_TOL
    assert round(glued, 2) == 0.13, "the known answer of the worked example"


@pytest.mark.book
def test_glued_and_trace_matches_package(executed_notebooks):
    """Are the glued AND-trace numbers the package's: first update at [1, 1] to weights [0.1, 0.1], bias 0.1?"""
    from dlcourse import data
    from dlcourse.perceptron import Perceptron

    p = Perceptron(lr=0.1, max_epochs=20).fit(*data.logic_gate("AND"))
    first = p.updates_[0]
    get = lambda name: _glued_value(executed_notebooks, "02_perceptron", name)  # noqa: E731
    assert get("and_first_update_input") == first.x.astype(int).tolist() == [1, 1]
    np.testing.assert_allclose(get("and_first_update_weights"), first.weights, atol=FLOAT_TOL)
    np.testing.assert_allclose(get("and_first_update_weights"), [0.1, 0.1], atol=FLOAT_TOL)
    assert abs(get("and_first_update_bias") - first.bias) <= FLOAT_TOL
    assert abs(get("and_first_update_bias") - 0.1) <= FLOAT_TOL
    assert get("and_epochs") == p.n_epochs_
    np.testing.assert_allclose(get("and_weights_final"), p.weights_, atol=1e-9)
    assert abs(get("and_bias_final") - p.bias_) <= 1e-9
    assert get("xor_converged") is False


@pytest.mark.book
def test_glued_parameter_count_matches_summary(executed_notebooks):
    """Is the glued 4-8-6-3 parameter count what Sequential.summary() counts, 115?"""
    from dlcourse.layers import Dense, ReLU, Softmax
    from dlcourse.network import Sequential

    net = Sequential([Dense(4, 8), ReLU(), Dense(8, 6), ReLU(), Dense(6, 3), Softmax()])
    glued = _glued_value(executed_notebooks, "03_mlp", "mlp_4_8_6_3_params")
    assert glued == net.summary().total_params == net.num_parameters() == 115


@pytest.mark.book
def test_glued_sigmoid_prime_matches_package(executed_notebooks):
    """Is the glued sigmoid'(0) the package's derivative, 0.25?"""
    from dlcourse import activations

    glued = _glued_value(executed_notebooks, "04_derivatives", "sigmoid_prime_0")
    assert glued == float(activations.sigmoid.derivative(0.0)) == 0.25


@pytest.mark.book
def test_glued_derivatives_checks_all_passed(executed_notebooks):
    """Did every SymPy-checked rule and derivation step, the gradient check and the PyTorch cross-check pass?"""
    get = lambda name: _glued_value(executed_notebooks, "04_derivatives", name)  # noqa: E731
    assert get("rules_verified") == get("rules_total") > 0
    assert get("sigmoid_derivation_ok") is True and get("tanh_derivation_ok") is True
    assert get("backprop_max_rel_error") < 1e-7, "hand backprop must agree with central differences"
    assert get("xcheck_activation_rows_ok") is True
    assert get("sigmoid_grad_orders") >= 3, "the deep sigmoid network should show vanishing gradients"
    assert get("backprop_dW2_largest") < 0, "the prose says both entries of dL/dW2 are negative"


@pytest.mark.book
def test_glued_training_results_reproduce(executed_notebooks):
    """Does retraining the chapter's digits network with the same seeds give the glued test accuracy?"""
    from dlcourse import data
    from dlcourse.layers import Dense, ReLU, Softmax
    from dlcourse.network import Sequential

    X, y = data.digits()
    X_rest, X_te, y_rest, y_te = data.train_test_split(X, y, test_size=0.25, seed=0)
    X_tr, X_va, y_tr, y_va = data.train_test_split(X_rest, y_rest, test_size=0.2, seed=1)
    assert len(X_tr) + len(X_va) + len(X_te) == len(X)
    scaler = data.Standardizer().fit(X_tr)
    net = Sequential([Dense(64, 64, init="he_normal", seed=0), ReLU(),
                      Dense(64, 10, init="xavier_normal", seed=1), Softmax()])
    history = net.fit(scaler.transform(X_tr), y_tr, loss="sparse_categorical_cross_entropy", optimizer=0.05,
                      epochs=30, batch_size=32, validation_data=(scaler.transform(X_va), y_va), seed=0,
                      progress=False)
    h = history.history
    # the figure's alt text: training accuracy past 95 % within five epochs, towards 100 %; validation levels
    # off near 95 %; the validation loss levels off well above the falling training loss
    assert h["accuracy"][4] > 0.95 and h["accuracy"][-1] > 0.99
    assert abs(h["val_accuracy"][-1] - 0.95) < 0.02 and max(h["val_accuracy"][15:]) - min(h["val_accuracy"][15:]) < 0.02
    assert h["val_loss"][-1] > 3 * h["loss"][-1] and abs(h["val_loss"][-1] - h["val_loss"][-10]) < 0.05
    # the prose: a gap between training and validation accuracy; validation and test differ by a couple of points
    get = lambda name: _glued_value(executed_notebooks, "03_mlp", name)  # noqa: E731
    assert abs(get("digits_train_accuracy") - h["accuracy"][-1]) <= FLOAT_TOL
    assert abs(get("digits_val_accuracy") - h["val_accuracy"][-1]) <= FLOAT_TOL
    assert get("digits_train_accuracy") - get("digits_val_accuracy") > 0.02
    assert abs(get("digits_test_accuracy") - get("digits_val_accuracy")) < 0.05
    accuracy = net.evaluate(scaler.transform(X_te), y_te)["accuracy"]
    assert abs(_glued_value(executed_notebooks, "03_mlp", "digits_test_accuracy") - accuracy) <= FLOAT_TOL
    assert _glued_value(executed_notebooks, "03_mlp", "xor_mlp_accuracy") == 1.0


@pytest.mark.book
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_execution_time_within_budget(executed_notebooks, chapter):
    """Did jupyter-cache record the chapter executing in under 40 seconds?"""
    db = executed_notebooks.parent / ".jupyter_cache" / "global.db"
    if not db.exists():
        pytest.skip(f"no jupyter-cache database at {db} (execution mode is not 'cache')")
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT uri, data FROM nbcache").fetchall()
    times = [json.loads(data).get("execution_seconds") for uri, data in rows
             if uri.endswith(f"chapters/{chapter}.md")]
    if not times:
        pytest.skip(f"jupyter-cache holds no record for {chapter}")
    assert times[-1] < MAX_EXECUTION_SECONDS, f"{chapter} took {times[-1]:.1f} s"


@pytest.mark.book
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_figure_has_alt_text(book_html, chapter):
    """Does every figure and animation on the built chapter page carry a describing alt text?"""
    html = (book_html / "chapters" / f"{chapter}.html").read_text(encoding="utf-8")
    images = [tag for tag in re.findall(r"<img\b[^>]*>", html) if "_static/" not in tag]  # theme logos
    assert images, f"{chapter} shows no figure"
    for tag in images:
        alt = re.search(r'alt="([^"]*)"', tag)
        assert alt and len(alt.group(1)) > 20, f"image without a describing alt text: {tag[:120]}"
