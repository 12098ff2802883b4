"""Chapter 10 (colour images, augmentation, residual connections, GPUs): every claim of its prose,
captions and alt text checked against the values the executed notebook glued."""

from __future__ import annotations

import re

import numpy as np
import pytest

from test_chapters_part2 import _glued, _source

CHAPTER = "10_images"


def _g(executed_notebooks, *names):
    return {name: _glued(executed_notebooks, CHAPTER, name) for name in names}


def _alt(figure: str) -> str:
    return re.search(r"\{glue:figure\} " + figure + r"\n:alt: ([^\n]+)", _source(CHAPTER)).group(1)


@pytest.mark.book
def test_glued_pipeline_numbers(executed_notebooks):
    """1,000 images of four classes; the resize known answer 0.75; the CNN's parameter count is the package's."""
    from dlcourse import image_models
    from dlcourse.data import images

    g = _g(executed_notebooks, "n_images", "resize_corner", "image_cnn_params")
    assert g["n_images"] == 4 * 250
    tiny = np.array([[0.0, 1.0], [2.0, 3.0]])
    assert g["resize_corner"] == float(images.bilinear_resize(tiny, (4, 4))[1, 1]) == 0.75
    net = image_models.image_cnn(4, seed=0)
    assert g["image_cnn_params"] == net.num_parameters() == net.summary(input_shape=(3, 16, 16)).total_params


@pytest.mark.book
def test_glued_augmentation_supports_the_prose(executed_notebooks):
    """Without augmentation: near-zero training loss, validation loss high (overconfident); with it: higher
    training loss, lower validation loss, clearly higher validation accuracy, so validation chooses it; the
    test accuracy, read once, is close to the validation accuracy; the alt text's rough numbers hold."""
    g = _g(executed_notebooks, "noaug_train_loss", "noaug_val_loss", "noaug_val_acc", "aug_train_loss",
           "aug_val_loss", "aug_val_acc", "aug_chosen", "image_test_accuracy")
    assert g["noaug_train_loss"] < 0.05 and g["noaug_val_loss"] > 1.5            # "memorised"
    assert g["aug_train_loss"] > 5 * g["noaug_train_loss"]
    assert g["aug_val_loss"] < g["noaug_val_loss"] / 2
    assert g["aug_val_acc"] > g["noaug_val_acc"] + 15                             # "large enough ... unlikely luck"
    assert g["aug_chosen"] == 1
    assert abs(g["image_test_accuracy"] - g["aug_val_acc"]) < 6                   # "close to its validation accuracy"
    alt = _alt("augmentation_curves_figure")
    assert "climbs to about 2.2" in alt and abs(g["noaug_val_loss"] - 2.2) < 0.3
    assert "falls to about 0.4" in alt and abs(g["aug_val_loss"] - 0.4) < 0.15
    assert "climbs past 0.8 by the last epochs" in alt and g["aug_val_acc"] / 100 > 0.8
    assert "the other levels off near 0.55" in alt and abs(g["noaug_val_acc"] / 100 - 0.55) < 0.06


@pytest.mark.book
def test_glued_new_image_probability(executed_notebooks):
    """The new triangle gets a probability in [0, 1], printed with the others (the prose claims no more)."""
    g = _g(executed_notebooks, "new_true_prob", "new_predicted_is_true")
    assert 0 <= g["new_true_prob"] <= 1 and g["new_predicted_is_true"] in (0, 1)


@pytest.mark.book
def test_glued_residual_experiment_supports_the_prose(executed_notebooks):
    """The residual layer passes its gradient check; with gain 1 the residual net's first loss is huge and the
    plain one's is ln 3; with gain 0.5 the plain net's first-layer gradient is ~0 and it stays at chance
    (loss ln 3, accuracy 1/3), while the residual one keeps an O(1) gradient and trains to a low loss."""
    g = _g(executed_notebooks, "residual_gradcheck", "plain_gain1_first_loss", "res_gain1_first_loss",
           "plain_grad_first", "residual_grad_first", "plain_final_loss", "plain_final_acc", "residual_final_loss",
           "residual_final_acc", "chance_loss")
    assert g["residual_gradcheck"] < 1e-6
    assert abs(g["chance_loss"] - np.log(3)) < 1e-12
    assert g["res_gain1_first_loss"] > 100 and abs(g["plain_gain1_first_loss"] - np.log(3)) < 0.05
    assert g["plain_grad_first"] < 1e-10 and g["residual_grad_first"] > 0.1
    assert abs(g["plain_final_loss"] - g["chance_loss"]) < 0.01 and abs(g["plain_final_acc"] - 100 / 3) < 5
    assert g["residual_final_loss"] < 0.2 and g["residual_final_acc"] > 90
    alt = _alt("residual_figure")
    assert "stays flat near 1.1" in alt and "falls close to zero" in alt and "about 1e-15" in alt
    assert 1e-17 < g["plain_grad_first"] < 1e-13


@pytest.mark.book
def test_glued_gpu_section_supports_the_prose(executed_notebooks):
    """Batching makes the product cheaper per sample; every cross-check row agrees; CUDA rows only with a GPU."""
    g = _g(executed_notebooks, "matmul_us_sample_1", "matmul_us_sample_512", "matmul_batch_gain",
           "xcheck_rows_ok", "xcheck_cpu_rows", "xcheck_cuda_rows", "xcheck_max_rel")
    assert g["matmul_us_sample_512"] < g["matmul_us_sample_1"]
    assert abs(g["matmul_batch_gain"] - g["matmul_us_sample_1"] / g["matmul_us_sample_512"]) < 1e-9
    assert g["matmul_batch_gain"] > 1.5
    assert g["xcheck_rows_ok"] == 1 and g["xcheck_cpu_rows"] > 0 and g["xcheck_max_rel"] < 1e-6
    assert g["xcheck_cuda_rows"] in (0, g["xcheck_cpu_rows"])


def test_chapter10_sources_follow_the_conventions():
    """Header, goals, summary, hidden answers, the graded note naming ex06_cnn, no function definitions."""
    import ast

    from test_chapters_part2 import _code_cells

    text = _source(CHAPTER)
    assert text.startswith("---\njupytext:") and "name: python3" in text.split("---")[1]
    assert "After this chapter you will be able to" in text and "## Summary" in text
    assert "## Check yourself" in text and ":::{dropdown} Answers" in text
    assert "ex06_cnn" in text[text.index("Graded exercise"):]
    for _, code in _code_cells(text):
        assert not [n for n in ast.walk(ast.parse(code)) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    glued = set()
    for options, code in _code_cells(text):
        names = re.findall(r'glue\("([a-z0-9_]+_figure)"', code)
        if names:
            assert "hide-input" in options
        glued.update(names)
    shown = re.findall(r"```\{glue:figure\} ([a-z0-9_]+)\n:alt: ([^\n]+)\n:name: [^\n]+\n\n(.*?)\n```", text, flags=re.S)
    assert {name for name, _, _ in shown} == glued and len(glued) == 4
    assert all(len(alt) > 40 and len(caption.strip()) > 40 for _, alt, caption in shown)
