"""Chapter 5 (backpropagation and the training loop): its source, and the claims its prose makes.

The source checks read ``chapters/05_backprop.md`` and need no build. The ``book`` tests
read what the one shared book build executed (``executed_notebooks``): the glued numbers
the prose quotes, checked against thresholds the prose states and against independent
recomputations (PyTorch autograd, the package retrained from the same seeds).
"""

from __future__ import annotations

import ast
import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from test_chapters_part1 import FLOAT_TOL, MAX_EXECUTION_SECONDS, _code_cells, _glued_value, _markdown_lines

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "05_backprop"
#: Largest relative error of the recursion against central differences (eps = 1e-6, float64):
#: rounding alone gives up to about 1e-7 on small entries, a wrong gradient 1e-2 or more.
NUMERIC_REL_TOL = 1e-5
#: The recursion against PyTorch and against the scalar engine compute the same products: rounding only.
SAME_PRODUCTS_TOL = 1e-10
#: The three training loops: the same steps, summed in a different order at most.
LOOPS_TOL = 1e-10


def _source() -> str:
    return (ROOT / "chapters" / f"{CHAPTER}.md").read_text(encoding="utf-8")


def _get(executed: Path, name: str):
    return _glued_value(executed, CHAPTER, name)


# --- sources (no build needed) -------------------------------------------------------


def test_chapter_has_header_one_h1_goals_checks_summary_and_graded_note():
    """Is the chapter a MyST notebook with one H1, goals, hidden answers, a summary and the ex07 note?"""
    text = _source()
    assert text.startswith("---\njupytext:") and "name: python3" in text.split("---")[1]
    levels = [len(m.group(1)) for line in _markdown_lines(text.split("---", 2)[2])
              if (m := re.match(r"^(#+) ", line))]
    assert levels.count(1) == 1 and levels[0] == 1, f"expected exactly one H1, first; got {levels}"
    for previous, current in zip(levels, levels[1:]):
        assert current <= previous + 1, f"heading level jumps from {previous} to {current}"
    assert "After this chapter you will be able to" in text
    assert "Check yourself" in text and "{dropdown}" in text
    assert "## Summary" in text
    assert "ex07" in text[text.index("Graded exercise"):], "the graded-exercise note must name ex07"


def test_chapter_defines_no_top_level_functions_and_hides_plotting_input():
    """Does every function come from the package, and is every cell that glues a figure tagged hide-input?"""
    for options, code in _code_cells(_source()):
        tree = ast.parse(code)
        defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        assert not defined, f"the chapter defines {defined}; such code belongs in dlcourse"
        if re.search(r'glue\("[a-z0-9_]*_figure"', code):
            assert re.search(r"tags: \[(hide|remove)-input\]", options), f"plotting cell not hidden:\n{code[:200]}"


def test_chapter_draws_the_graph_with_the_package_and_shows_the_engine_source():
    """Is the graph figure drawn by dlcourse.plots.graph, and the engine shown from its real source?"""
    code = "\n".join(code for _, code in _code_cells(_source()))
    assert "draw_graph(" in code and "from dlcourse.plots.graph import draw_graph" in code
    assert "inspect.getsource(Value.backward)" in code, "the engine's backward must be shown from the package"
    assert "xcheck.run([\"autograd\"]" in code, "the engine must be cross-checked against PyTorch in the chapter"


def test_toc_puts_the_chapter_right_after_derivatives():
    """Does _toc.yml list chapters/05_backprop directly after chapters/04_derivatives?"""
    files = re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text(encoding="utf-8"))
    assert "chapters/05_backprop" in files, "the chapter is not in _toc.yml"
    i = files.index("chapters/05_backprop")
    assert files[i - 1] == "chapters/04_derivatives", f"chapter 5 follows {files[i - 1]}"


# --- the executed book ----------------------------------------------------------------


@pytest.mark.book
def test_chapter_executed_without_errors_or_stderr(executed_notebooks):
    """Did every code cell run, with no error output and nothing on stderr?"""
    import nbformat

    path = executed_notebooks / "chapters" / f"{CHAPTER}.ipynb"
    assert path.exists(), f"{path} was not executed by the book build"
    nb = nbformat.read(path, as_version=4)
    if all(c.get("execution_count") is None for c in nb.cells if c.cell_type == "code"):
        # myst-nb 1.4 writes the unexecuted notebook when it takes the outputs from jupyter-cache
        # (a build after a prose-only edit); the outputs it rendered are the cache's
        jupyter_cache = pytest.importorskip("jupyter_cache", reason="the outputs live in jupyter-cache")
        cache = jupyter_cache.get_cache(str(executed_notebooks.parent / ".jupyter_cache"))
        _, nb = cache.merge_match_into_notebook(nb)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    assert cells
    for cell in cells:
        assert cell.get("execution_count") is not None, f"cell did not run:\n{cell.source[:200]}"
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{out.get('ename')}: {out.get('evalue')}"
            assert not (out["output_type"] == "stream" and out.get("name") == "stderr"), out.get("text")


@pytest.mark.book
def test_graph_example_matches_torch_autograd(executed_notebooks):
    """Are the glued loss and dL/dw1 of the neuron graph what PyTorch autograd computes, and the figure's 0.2893?"""
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this check")
    x = torch.tensor([1.0, 0.5], dtype=torch.float64)            # the chapter's inputs ...
    w = torch.tensor([0.6, -0.4], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.1, dtype=torch.float64)
    loss = (torch.tanh(x @ w + b) - 1.0) ** 2                   # ... and target y = 1
    loss.backward()
    assert abs(_get(executed_notebooks, "graph_loss") - loss.item()) <= 1e-12
    assert abs(_get(executed_notebooks, "graph_dw1") - w.grad[0].item()) <= 1e-12
    assert f"{_get(executed_notebooks, 'graph_loss'):.4f}" == "0.2893", "the figure's alt text quotes 0.2893"
    assert _get(executed_notebooks, "graph_dw1_by_hand_gap") <= 1e-12, "the chain rule by hand must match the engine"


@pytest.mark.book
def test_deep_network_gradients_agree_with_central_differences_and_torch(executed_notebooks):
    """Does the recursion on the 4-8-6-5-3 network agree with central differences, PyTorch and the engine?"""
    assert _get(executed_notebooks, "deep_num_params") == (4 + 1) * 8 + (8 + 1) * 6 + (6 + 1) * 5 + (5 + 1) * 3
    numeric = _get(executed_notebooks, "deep_max_rel_error_numeric")
    assert 0 < numeric < NUMERIC_REL_TOL, f"recursion vs central differences: {numeric:.1e}"
    torch_error = _get(executed_notebooks, "deep_max_rel_error_torch")
    assert torch_error < SAME_PRODUCTS_TOL, f"recursion vs PyTorch: {torch_error:.1e}"
    assert torch_error < numeric, "the prose says PyTorch agrees more closely than central differences"
    assert _get(executed_notebooks, "engine_vs_recursion") < SAME_PRODUCTS_TOL
    weights = 4 * 8 + 8 * 6 + 6 * 5 + 5 * 3
    assert _get(executed_notebooks, "engine_nodes") > 5 * 2 * weights, "one product and one sum per weight and sample"
    assert _get(executed_notebooks, "deep_torch_device") in ("cpu", "cuda")


@pytest.mark.book
def test_engine_crosscheck_rows_all_pass(executed_notebooks):
    """Did every autograd cross-check row in the chapter pass, a whole number of devices' worth of rows?"""
    from dlcourse.xcheck import autograd as xcheck_autograd

    rows = _get(executed_notebooks, "engine_rows")
    assert _get(executed_notebooks, "engine_rows_ok") is True
    per_device = xcheck_autograd.NUM_GRAPHS + 1                  # the random graphs and the deep chain
    assert rows >= per_device and rows % per_device == 0, f"{rows} rows for {per_device} comparisons per device"
    assert _get(executed_notebooks, "engine_max_abs_error") < SAME_PRODUCTS_TOL


@pytest.mark.book
def test_three_training_loops_agree(executed_notebooks):
    """Do the NumPy loop, train.train and fit end with the same weights and the same per-epoch losses?"""
    assert _get(executed_notebooks, "loops_weight_gap") < LOOPS_TOL
    assert _get(executed_notebooks, "loops_loss_gap") < LOOPS_TOL


@pytest.mark.book
def test_xor_result_the_prose_states_reproduces(executed_notebooks):
    """Does fit from the chapter's seeds give the glued final loss, 100% accuracy, and the alt text's 0.7 and 0.002?"""
    from dlcourse import data
    from dlcourse.layers import Dense, Sigmoid, Tanh
    from dlcourse.network import Sequential

    X, y = data.logic_gate("XOR")
    net = Sequential([Dense(2, 4, init="xavier_normal", seed=3), Tanh(),
                      Dense(4, 1, init="xavier_normal", seed=4), Sigmoid()])
    epochs = _get(executed_notebooks, "xor_num_epochs")
    history = net.fit(X, y, loss="binary_cross_entropy", optimizer=0.5, epochs=epochs, batch_size=None,
                      seed=0, progress=False)
    assert abs(_get(executed_notebooks, "xor_final_loss") - history["loss"][-1]) <= FLOAT_TOL
    assert abs(_get(executed_notebooks, "xor_first_loss") - history["loss"][0]) <= FLOAT_TOL
    assert _get(executed_notebooks, "xor_trained_accuracy") == float(np.mean(net.predict(X) == y)) == 1.0
    assert abs(history["loss"][0] - 0.7) < 0.05 and abs(history["loss"][-1] - 0.002) < 0.0005, \
        "the loss figure's alt text says the loss falls from about 0.7 to about 0.002"


@pytest.mark.book
def test_chapter_execution_time_within_budget(executed_notebooks):
    """Did jupyter-cache record the chapter executing in under 40 seconds?"""
    db = executed_notebooks.parent / ".jupyter_cache" / "global.db"
    if not db.exists():
        pytest.skip(f"no jupyter-cache database at {db} (execution mode is not 'cache')")
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT uri, data FROM nbcache").fetchall()
    times = [json.loads(data).get("execution_seconds") for uri, data in rows if uri.endswith(f"chapters/{CHAPTER}.md")]
    if not times:
        pytest.skip(f"jupyter-cache holds no record for {CHAPTER}")
    assert times[-1] < MAX_EXECUTION_SECONDS, f"{CHAPTER} took {times[-1]:.1f} s"


@pytest.mark.book
def test_every_figure_has_alt_text(book_html):
    """Does every figure on the built page carry a describing alt text (the graph and the training loops)?"""
    html = (book_html / "chapters" / f"{CHAPTER}.html").read_text(encoding="utf-8")
    images = [tag for tag in re.findall(r"<img\b[^>]*>", html) if "_static/" not in tag]
    assert len(images) >= 2, f"expected the graph and the training figure; found {len(images)} images"
    for tag in images:
        alt = re.search(r'alt="([^"]*)"', tag)
        assert alt and len(alt.group(1)) > 20, f"image without a describing alt text: {tag[:120]}"
