"""Chapters 5-7 (losses, optimizers, CNNs) and the API reference: sources, executed notebooks, glued numbers.

The source checks read ``chapters/*.md`` and ``api/*.md`` and need no build. The ``book``
tests read what the one shared book build produced: MyST-NB writes each chapter's glued
values to ``<chapter>.glue.json`` beside its executed ``.ipynb`` (``executed_notebooks``
fixture), and the HTML pages land in ``_build/html`` (``book_html`` fixture). Every glued
number is compared with the package's own computation, not with a copy of the number.
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
CHAPTERS = ("06_losses", "07_optimizers", "08_regularisation", "09_cnn", "10_images", "11_sequences")
ASSIGNMENTS = {"06_losses": "ex04_losses", "07_optimizers": "ex05_optimizers", "08_regularisation": "ex07_training",
               "09_cnn": "ex06_cnn", "10_images": "ex06_cnn", "11_sequences": "ex07_training"}
#: Each chapter's budget from the issue (seconds of notebook execution).
MAX_EXECUTION_SECONDS = 40.0
#: Glued floats went through ``repr`` and back: exact up to the last bit.
FLOAT_TOL = 1e-12
#: One page per documented module (``api/<page>.md``), and the modules each must document.
API_PAGES = {
    "activations": ["dlcourse.activations"], "losses": ["dlcourse.losses"],
    "calculus": ["dlcourse.calculus"], "gradcheck": ["dlcourse.gradcheck"],
    "parameter": ["dlcourse.parameter"],
    "layers": ["dlcourse.layers.base", "dlcourse.layers.dense", "dlcourse.layers.activation",
               "dlcourse.layers.dropout", "dlcourse.layers.batchnorm", "dlcourse.layers.conv",
               "dlcourse.layers.pool", "dlcourse.layers.flatten"],
    "network": ["dlcourse.network", "dlcourse.callbacks"], "neuron": ["dlcourse.neuron"],
    "perceptron": ["dlcourse.perceptron"], "init": ["dlcourse.init"], "data": ["dlcourse.data"],
    "diagnostics": ["dlcourse.diagnostics"],
    "optim": ["dlcourse.optim.sgd", "dlcourse.optim.adaptive", "dlcourse.optim.adam"],
    "schedules": ["dlcourse.schedules"], "surfaces": ["dlcourse.surfaces"],
    "regularization": ["dlcourse.regularization"], "filters": ["dlcourse.filters"],
    "models": ["dlcourse.models", "dlcourse.torch_models"], "rnn": ["dlcourse.rnn"],
    "xcheck": ["dlcourse.xcheck.core"],
    "images": ["dlcourse.data.images", "dlcourse.data.augment"],
    "image_models": ["dlcourse.image_models", "dlcourse.layers.residual"],
    "attention": ["dlcourse.attention"],
}


def _source(chapter: str) -> str:
    return (ROOT / "chapters" / f"{chapter}.md").read_text(encoding="utf-8")


def _code_cells(text: str) -> list[tuple[str, str]]:
    """Each code cell as (options, code), options being its ``:key: value`` lines."""
    cells = []
    for body in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)\n```", text, flags=re.S):
        lines = body.splitlines()
        options = "\n".join(line for line in lines if line.startswith(":"))
        cells.append((options, "\n".join(line for line in lines if not line.startswith(":"))))
    return cells


def _glued(executed: Path, chapter: str, name: str):
    """The value a chapter glued under ``name``, parsed back from its text form."""
    path = executed / "chapters" / f"{chapter}.glue.json"
    assert path.exists(), f"{path} is missing: did {chapter} execute in the book build?"
    glued = json.loads(path.read_text(encoding="utf-8"))
    assert name in glued, f"{chapter} glues no {name!r}; it glues {sorted(glued)}"
    return ast.literal_eval(glued[name]["data"]["text/plain"])


def _toc_files() -> list[str]:
    yaml = pytest.importorskip("yaml", reason="reading _toc.yml needs PyYAML")
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

    walk(yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8")))
    return files


# --- sources (no build needed) -------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_jupytext_header_goals_checks_summary_and_graded_note(chapter):
    """Is the chapter a MyST notebook that opens with goals, hides its answers, and names its assignment?"""
    text = _source(chapter)
    header = text.split("---")[1]
    assert text.startswith("---\njupytext:") and "name: python3" in header
    assert "After this chapter you will be able to" in text
    assert "## Check yourself" in text and "{dropdown}" in text, "answers must be hidden in a dropdown"
    assert "## Summary" in text
    graded = text[text.index("Graded exercise"):]
    assert ASSIGNMENTS[chapter] in graded, f"the graded-exercise note must name {ASSIGNMENTS[chapter]}"


@pytest.mark.parametrize("chapter, traps", [
    ("06_losses", ["$\\frac{1}{n}$ or $\\frac{1}{2m}$", "base-10"]),
    ("07_optimizers", ["0.1220", "RMSprop's decay, and where $\\epsilon$ goes", "Adam keeps both moments"]),
    ("08_regularisation", ["L2 regularisation is not weight decay"]),
])
def test_common_trap_boxes_are_present(chapter, traps):
    """Is each error of the course notes that the chapter touches taught in a "Common trap" box?"""
    titles = re.findall(r":::\{admonition\} Common trap: ([^\n]*)", _source(chapter))
    for trap in traps:
        assert any(trap in t for t in titles), f"no common-trap box about {trap!r}; boxes: {titles}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapters_define_no_functions_or_classes(chapter):
    """Do the chapters leave every function and class to the package (no def or class in a code cell)?"""
    for _, code in _code_cells(_source(chapter)):
        defined = [n.name for n in ast.walk(ast.parse(code)) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        assert not defined, f"{chapter} defines {defined}; such code belongs in dlcourse"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_figures_are_glued_captioned_and_hidden(chapter):
    """Is every figure glued from a hide-input cell and shown by a glue:figure with alt text and a caption?"""
    text = _source(chapter)
    glued = set()
    for options, code in _code_cells(text):
        names = re.findall(r'glue\("([a-z0-9_]+_figure)"', code)
        if names or "race_animation(" in code:
            assert "hide-input" in options, f"plotting cell not hidden:\n{code[:200]}"
        glued.update(names)
    shown = re.findall(r"```\{glue:figure\} ([a-z0-9_]+)\n:alt: ([^\n]+)\n:name: [^\n]+\n\n(.*?)\n```", text, flags=re.S)
    assert glued, f"{chapter} glues no figure"
    assert {name for name, _, _ in shown} == glued, "every glued figure must be shown, and only those"
    for name, alt, caption in shown:
        assert len(alt) > 40, f"{name}: the alt text should describe the figure"
        assert len(caption.strip()) > 40, f"{name}: the caption should say what to see"


def test_explorers_named_in_chapters_exist():
    """Does every explorer a chapter tells Jupyter users to run exist in dlcourse.widgets?"""
    import importlib

    for chapter in CHAPTERS:
        for module, name in re.findall(r"from (dlcourse\.widgets\.\w+) import (\w+)", _source(chapter)):
            assert callable(getattr(importlib.import_module(module), name)), f"{module}.{name}"


def test_api_pages_document_every_module():
    """Does each API page hold an automodule directive for each module it must document, all importable?"""
    import importlib

    for page, modules in API_PAGES.items():
        text = (ROOT / "api" / f"{page}.md").read_text(encoding="utf-8")
        for module in modules:
            assert f".. automodule:: {module}\n" in text, f"api/{page}.md does not document {module}"
            importlib.import_module(module)


def test_toc_lists_part2_chapters_and_api_reference():
    """Does _toc.yml list this part's chapters in order, one after the other, then the API index and every API page?"""
    files = _toc_files()
    chapters = [f for f in files if f.startswith("chapters/")]
    assert [f for f in chapters if f.split("/")[-1] in CHAPTERS] == [f"chapters/{c}" for c in CHAPTERS]
    start = chapters.index(f"chapters/{CHAPTERS[0]}")
    assert chapters[start:start + len(CHAPTERS)] == [f"chapters/{c}" for c in CHAPTERS], \
        f"{CHAPTERS} must follow one another: {chapters}"
    assert "api/index" in files, "the toc has no API reference"
    missing = [page for page in API_PAGES if f"api/{page}" not in files]
    assert not missing, f"API pages missing from the toc: {missing}"


# --- the executed book ----------------------------------------------------------------


@pytest.mark.book
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_executed_without_errors_stderr_or_widgets(executed_notebooks, book_html, chapter):
    """Did the chapter execute in the book build, with no error, stderr, widget or progress bar in its page?"""
    import nbformat

    path = executed_notebooks / "chapters" / f"{chapter}.ipynb"
    assert path.exists(), f"{path} was not executed by the book build"
    for cell in nbformat.read(path, as_version=4).cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{out.get('ename')}: {out.get('evalue')}"
            assert not (out["output_type"] == "stream" and out.get("name") == "stderr"), out.get("text")
            assert "application/vnd.jupyter.widget-view+json" not in out.get("data", {})
    html = (book_html / "chapters" / f"{chapter}.html").read_text(encoding="utf-8")
    assert "widget-view+json" not in html, "a live widget in the page"
    assert not re.search(r"\d+it/s\]|\|\s*\d+/\d+ \[", html), "a progress bar in the page"
    assert "Traceback (most recent call last)" not in html


@pytest.mark.book
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_execution_time_within_budget(executed_notebooks, chapter):
    """Did jupyter-cache record the chapter executing in under 40 seconds?"""
    db = executed_notebooks.parent / ".jupyter_cache" / "global.db"
    if not db.exists():
        pytest.skip(f"no jupyter-cache database at {db} (execution mode is not 'cache')")
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT uri, data FROM nbcache").fetchall()
    times = [json.loads(data).get("execution_seconds") for uri, data in rows if uri.endswith(f"chapters/{chapter}.md")]
    if not times:
        pytest.skip(f"jupyter-cache holds no record for {chapter}")
    assert times[-1] < MAX_EXECUTION_SECONDS, f"{chapter} took {times[-1]:.1f} s"


@pytest.mark.book
def test_glued_mae_choice_steps_once_then_stays(executed_notebooks):
    """Does the MAE constant step to the neighbouring target and then stay, as the outlier prose says?"""
    y_clean = np.array([1.0, 1.3, 0.8, 1.1, 0.9, 1.2, 1.0])
    medians, steps = {}, {}
    for size in (0, 4, 16):
        y = y_clean.copy()
        y[-1] += size
        medians[size] = float(np.median(y))
        steps[size] = (y.max() - y.min()) / 2000  # best_constant's default grid of 2001 points
    got = {size: _glued(executed_notebooks, "06_losses", f"mae_outlier_{size}") for size in medians}
    for size in medians:
        assert abs(got[size] - medians[size]) <= steps[size], (size, got[size], medians[size])
    assert got[4] - got[0] > 0.05, "the MAE choice must move once the target passes its neighbour"
    assert abs(got[16] - got[4]) <= steps[4] + steps[16], "and then stay however far the outlier goes"


@pytest.mark.book
def test_glued_categorical_cross_entropy_is_0_3567(executed_notebooks):
    """Is the glued cross-entropy of [0.7, 0.2, 0.1] against class 0 the package's value, 0.3567?"""
    from dlcourse import losses

    glued = _glued(executed_notebooks, "06_losses", "cce_example")
    expected = losses.categorical_cross_entropy(np.array([[1.0, 0.0, 0.0]]), np.array([[0.7, 0.2, 0.1]]))
    assert abs(glued - expected) <= FLOAT_TOL
    assert round(glued, 4) == 0.3567, "the known answer of the worked example"
    sparse = losses.sparse_categorical_cross_entropy(np.array([0]), np.array([[0.7, 0.2, 0.1]]))
    assert abs(glued - sparse) <= FLOAT_TOL, "sparse labels must give the same loss"


@pytest.mark.book
def test_glued_binary_cross_entropy_is_0_6067(executed_notebooks):
    """Is the glued binary cross-entropy of [0.9, 0.1, 0.2] against [1, 0, 1] the package's value, 0.6067?"""
    from dlcourse import losses

    glued = _glued(executed_notebooks, "06_losses", "bce_example")
    expected = losses.binary_cross_entropy(np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.1, 0.2]))
    assert abs(glued - expected) <= FLOAT_TOL
    assert round(glued, 4) == 0.6067


@pytest.mark.book
def test_glued_confident_wrong_loss_is_natural_log(executed_notebooks):
    """Is the glued loss of a confident wrong answer -ln(0.001) = 6.91, not the base-10 value 3?"""
    from dlcourse import losses

    glued = _glued(executed_notebooks, "06_losses", "neg_ln_0001")
    assert abs(glued - losses.binary_cross_entropy(np.array([1.0]), np.array([0.001]))) <= FLOAT_TOL
    assert abs(glued - losses.binary_cross_entropy(np.array([0.0]), np.array([0.999]))) <= 1e-9
    assert round(glued, 2) == 6.91 and abs(glued - 3.0) > 1


@pytest.mark.book
def test_glued_gradient_descent_is_0_1153(executed_notebooks):
    """Is the glued x after 20 steps on x^2 what dlcourse's SGD gives, 10 * 0.8^20 = 0.1153 (not 0.1220)?"""
    from dlcourse import optim
    from dlcourse.parameter import Parameter

    x = Parameter(np.array(10.0))
    opt = optim.SGD([x], lr=0.1)
    for _ in range(20):
        x.grad = 2 * x.data
        opt.step()
    glued = _glued(executed_notebooks, "07_optimizers", "gd_x_after_20")
    assert abs(glued - float(x.data)) <= FLOAT_TOL
    assert round(glued, 4) == 0.1153 and abs(glued - 0.1220) > 1e-3
    assert abs(_glued(executed_notebooks, "07_optimizers", "gd_f_after_20") - float(x.data) ** 2) <= FLOAT_TOL


@pytest.mark.book
def test_glued_conv_known_answer(executed_notebooks):
    """Is the glued convolution of 0..8 (3x3) with [[0, 1], [2, 3]] the package's [[19, 25], [37, 43]]?"""
    from dlcourse.layers import conv

    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.arange(4.0).reshape(1, 1, 2, 2)
    glued = _glued(executed_notebooks, "09_cnn", "conv_known_answer")
    assert glued == conv.conv2d_forward(x, w)[0][0, 0].tolist() == conv.conv2d_forward_naive(x, w)[0][0, 0].tolist()
    assert glued == [[19, 25], [37, 43]]


@pytest.mark.book
def test_glued_optimizer_crosscheck_and_cnn_twin_agree(executed_notebooks):
    """Did the chapters' PyTorch comparisons pass: optimizers step for step, the CNN twin with copied weights?"""
    assert _glued(executed_notebooks, "07_optimizers", "optim_xcheck_max_rel") < 1e-8
    assert _glued(executed_notebooks, "09_cnn", "same_weights_gap") < 1e-10
    assert _glued(executed_notebooks, "09_cnn", "cnn_test_accuracy") > 90.0


@pytest.mark.book
def test_glued_batch_size_race_supports_its_conclusion(executed_notebooks):
    """Does the batch-size section's conclusion match its measured curves: each variant's rate chosen inside
    its grid on validation; per epoch single samples lead; per second mini-batches finish five epochs before
    single samples finish one, at a lower validation loss; the full batch is far behind; and the update-by-update
    figure's ordering (full batch lowest, single samples highest) as its caption says?"""
    g = {name: _glued(executed_notebooks, "07_optimizers", name) for name in (
        "bs_lr_batch", "bs_lr_mini", "bs_lr_single", "bs_val_epoch1_single", "bs_val_epoch1_mini",
        "bs_val_final_mini", "bs_val_final_single", "bs_val_final_batch", "bs_seconds_mini_all",
        "bs_seconds_single_epoch", "bs_rate_ratio", "noise_late_full", "noise_late_32", "noise_late_1")}
    text = _source("07_optimizers")
    grids = {name: [float(v) for v in re.findall(r"[\d.e-]+", body)]
             for name, body in re.findall(r'"([a-z -]+\([^)]*\))": \(([^)]*)\),', text)}
    chosen = {"batch (all samples)": g["bs_lr_batch"], "mini-batch (32)": g["bs_lr_mini"],
              "stochastic (1)": g["bs_lr_single"]}
    for name, lr in chosen.items():
        grid = grids[name]
        assert lr in grid and lr not in (min(grid), max(grid)), f"{name}: rate {lr} at the edge of {grid}"
    assert g["bs_val_epoch1_single"] < g["bs_val_epoch1_mini"]            # per epoch, single samples win
    assert g["bs_val_final_single"] < g["bs_val_final_mini"]
    assert g["bs_seconds_mini_all"] < g["bs_seconds_single_epoch"]        # five mini epochs < one single epoch
    assert g["bs_val_final_mini"] < g["bs_val_epoch1_single"]             # ... at a lower validation loss
    assert g["bs_val_final_batch"] > 2 * g["bs_val_final_mini"]
    assert abs(g["bs_rate_ratio"] - g["bs_lr_mini"] / g["bs_lr_single"]) < 1e-12 and g["bs_rate_ratio"] > 1
    assert g["noise_late_full"] < g["noise_late_32"] < g["noise_late_1"]


@pytest.mark.book
def test_glued_regularisation_results_support_the_prose(executed_notebooks):
    """Do the regularisation section's numbers say what its prose, caption and alt text say: L2, dropout and
    early stopping beat no regularisation on mean test accuracy and loss over five draws, batch norm does not
    on accuracy; early stopping returns its best epoch, forty epochs before it stopped; L2 and dropout hold
    the validation rise to a fraction of the baseline's, batch norm does not; single draws can mislead?"""
    g = {name: _glued(executed_notebooks, "08_regularisation", name) for name in (
        "reg_test_acc_none", "reg_test_acc_l2", "reg_test_acc_dropout", "reg_test_acc_batch_norm",
        "reg_test_acc_early", "reg_test_loss_none", "reg_test_loss_l2", "reg_test_loss_dropout",
        "reg_test_loss_batch_norm", "reg_test_loss_early", "reg_no_better_draws", "early_stopped_epoch",
        "early_restored_epoch", "early_last_val", "early_restored_val", "overfit_best_epoch", "overfit_best_val",
        "overfit_final_val", "overfit_final_train", "rise_baseline", "rise_l2", "rise_dropout",
        "rise_batch_norm")}
    for key in ("l2", "dropout", "early"):
        assert g[f"reg_test_acc_{key}"] > g["reg_test_acc_none"], key
        assert g[f"reg_test_loss_{key}"] < g["reg_test_loss_none"], key
    assert g["reg_test_acc_batch_norm"] < g["reg_test_acc_none"]
    assert g["reg_test_loss_batch_norm"] < g["reg_test_loss_none"]
    assert 1 <= g["reg_no_better_draws"] <= 15
    # early stopping: the best epoch is the baseline's (same weights, same data until it stops), patience 40
    assert g["early_restored_epoch"] == g["overfit_best_epoch"]
    assert g["early_stopped_epoch"] - g["early_restored_epoch"] == 40
    assert abs(g["early_restored_val"] - g["overfit_best_val"]) < 1e-9 < g["early_last_val"] - g["early_restored_val"]
    assert g["overfit_final_train"] < 0.1 and g["overfit_final_val"] > 2 * g["overfit_best_val"]
    assert max(g["rise_l2"], g["rise_dropout"]) < 0.5 * g["rise_baseline"] <= g["rise_batch_norm"]
    assert g["rise_batch_norm"] >= 0.75 * g["rise_baseline"]
    text = _source("08_regularisation")
    alt = re.search(r"\{glue:figure\} optim_regularisation_figure\n:alt: ([^\n]+)", text).group(1)
    near = int(re.search(r"minimum near epoch (\d+)", alt).group(1))
    about = float(re.search(r"climbs to about ([\d.]+)", alt).group(1))
    ends = int(re.search(r"ends at epoch (\d+)", alt).group(1))
    assert abs(near - g["overfit_best_epoch"]) <= 5 and abs(about - g["overfit_final_val"]) <= 0.1
    assert ends == g["early_stopped_epoch"]


@pytest.mark.book
def test_glued_shifted_digits_support_the_prose(executed_notebooks):
    """Does the shifted-digits comparison say what the chapter says: trained on centred digits both networks
    fall far below their centred accuracy on shifted digits; with shifted copies, the CNN beats the dense
    network on shifted digits though it has fewer parameters; augmentation helps both?"""
    g = {name: _glued(executed_notebooks, "09_cnn", name) for name in (
        "shift_mean_dense_centred", "shift_mean_cnn_centred", "shift_mean_dense_aug", "shift_mean_cnn_aug",
        "shift_centre_dense_centred", "shift_centre_cnn_centred", "shift_dense_params", "cnn_num_params")}
    for net in ("dense", "cnn"):
        assert g[f"shift_mean_{net}_centred"] < g[f"shift_centre_{net}_centred"] - 30, net  # "lose much"
        assert g[f"shift_mean_{net}_aug"] > g[f"shift_mean_{net}_centred"] + 20, net        # augmentation paid off
    assert g["shift_mean_cnn_aug"] > g["shift_mean_dense_aug"]
    assert g["shift_dense_params"] > g["cnn_num_params"]
    assert g["shift_centre_dense_centred"] > 90  # "on the centred digits a dense network does well too"


@pytest.mark.book
def test_glued_cnn_parameter_count_matches_summary(executed_notebooks):
    """Is the glued CNN parameter count what the package's digits_cnn summary counts?"""
    from dlcourse import models

    net = models.digits_cnn(seed=0)
    glued = _glued(executed_notebooks, "09_cnn", "cnn_num_params")
    assert glued == net.num_parameters() == net.summary(input_shape=(1, 8, 8)).total_params


@pytest.mark.book
def test_reference_pages_exist_in_built_html(book_html):
    """Does the built book hold the API index and one page per module, each with its documented objects?"""
    index = (book_html / "api" / "index.html").read_text(encoding="utf-8")
    for page, modules in API_PAGES.items():
        path = book_html / "api" / f"{page}.html"
        assert path.exists(), f"{path} is missing"
        html = path.read_text(encoding="utf-8")
        for module in modules:
            assert f'id="module-{module}"' in html, f"api/{page}.html has no section for {module}"
        assert html.count('class="sig ') >= 1, f"api/{page}.html documents no object"
        assert f"{page}.html" in index, f"the API index does not link to {page}"
    losses_page = (book_html / "api" / "losses.html").read_text(encoding="utf-8")
    assert 'id="dlcourse.losses.CrossEntropyWithLogits"' in losses_page
    assert "math notranslate" in losses_page, "formulas in docstrings should render as maths"


def test_no_page_refers_to_notes_the_reader_never_sees():
    """Does any page speak of "the notes" (the course notes this book was written from)?"""
    pages = sorted((ROOT / "chapters").glob("*.md")) + [ROOT / name for name in ("index.md", "notation.md", "setup.md")]
    pattern = re.compile(r"\bthe notes\b|\bnotes'", re.IGNORECASE)
    hits = [f"{page.name}:{n}: {line.strip()}" for page in pages
            for n, line in enumerate(page.read_text().splitlines(), 1) if pattern.search(line)]
    assert not hits, "\n".join(hits)
