"""Chapter 11 (sequences and attention): the claims of its prose, read from the executed notebook's glued values.

Every ``book`` test reads what the one shared book build glued (``executed_notebooks`` fixture)
and checks it against the package's own computation or against the sentence that states it.
The source checks at the end need no build.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from test_chapters_part2 import FLOAT_TOL, _glued, _source

CHAPTER = "11_sequences"


def _g(executed, *names):
    return {name: _glued(executed, CHAPTER, name) for name in names}


@pytest.mark.book
def test_rnn_gradients_vanish_as_the_moved_section_says(executed_notebooks):
    """Singular values 0.5: the gradient 29 steps back is a vanishing fraction; 0.9 keeps more, still little."""
    g = _g(executed_notebooks, "rnn_vanishing_ratio", "rnn_ratio_09")
    assert g["rnn_vanishing_ratio"] < 1e-6
    assert g["rnn_vanishing_ratio"] < g["rnn_ratio_09"] < 0.05


@pytest.mark.book
def test_gru_step_matches_torch_and_keeps_the_old_state(executed_notebooks):
    """The GRU step agrees with nn.GRUCell to rounding error; with update bias 3 its update gates sit near 1."""
    g = _g(executed_notebooks, "gru_torch_gap", "gru_step_update_mean")
    assert g["gru_torch_gap"] < 1e-12
    assert g["gru_step_update_mean"] > 0.9


@pytest.mark.book
def test_gru_carries_the_gradient_further_back_only_with_gates_near_one(executed_notebooks):
    """Update bias 3: the GRU keeps far more gradient 29 steps back than the RNN (0.9); update bias 0: less than it.
    The glued ratio is the ratio of the glued values, and the figure's alt text orders the curves the same way."""
    from dlcourse import rnn

    g = _g(executed_notebooks, "gru_ratio_bias0", "gru_ratio_bias3", "gru_update_mean_bias0",
           "gru_update_mean_bias3", "gru_over_rnn", "rnn_ratio_09")
    assert g["gru_ratio_bias3"] > g["rnn_ratio_09"] > g["gru_ratio_bias0"]
    assert abs(g["gru_over_rnn"] - g["gru_ratio_bias3"] / g["rnn_ratio_09"]) <= FLOAT_TOL * g["gru_over_rnn"]
    assert g["gru_over_rnn"] > 10
    assert g["gru_update_mean_bias3"] > 0.9 and abs(g["gru_update_mean_bias0"] - 0.5) < 0.1  # "near 1", "one half"
    # alt text: RNN falls "by a few hundred times", GRU bias 0 "by about five orders of magnitude"
    assert 100 <= 1 / g["rnn_ratio_09"] < 1000
    assert 4.5 <= -math.log10(g["gru_ratio_bias0"]) < 5.5
    # the package recomputes the same numbers
    sequence = np.random.default_rng(1).normal(size=(4, 30, 2))
    W, b_x, b_h = rnn.gru_init(2, 16, update_bias=3.0, seed=0)
    norms = rnn.gru_gradient_norms_through_time(rnn.gru_forward(sequence, np.zeros((4, 16)), W, b_x, b_h)[1])
    assert abs(norms[0] / norms[-1] - g["gru_ratio_bias3"]) <= 1e-10


@pytest.mark.book
def test_worked_attention_row_is_what_the_prose_computes(executed_notebooks):
    """Row 1: scores 1/sqrt(2), 0, 1/sqrt(2); exp and their sum; each weight = exp / sum; output = weights @ V;
    the first token attends twice as much to itself and the third as to the second."""
    g = _g(executed_notebooks, *[f"att_{kind}_0{j}" for kind in ("score", "exp", "weight") for j in range(3)],
           "att_exp_sum_0", "att_out_00", "att_out_01", "att_weight_20", "att_max_row_sum_error")
    s = 1 / math.sqrt(2)
    for j, score in enumerate((s, 0.0, s)):
        assert abs(g[f"att_score_0{j}"] - score) <= FLOAT_TOL
        assert abs(g[f"att_exp_0{j}"] - math.exp(score)) <= FLOAT_TOL
    total = sum(g[f"att_exp_0{j}"] for j in range(3))
    assert abs(g["att_exp_sum_0"] - total) <= FLOAT_TOL
    for j in range(3):
        assert abs(g[f"att_weight_0{j}"] - g[f"att_exp_0{j}"] / g["att_exp_sum_0"]) <= FLOAT_TOL
        # the prose divides the printed (3-decimal) numbers: the rounded quotient must be the printed weight
        quotient = round(g[f"att_exp_0{j}"], 3) / round(g["att_exp_sum_0"], 3)
        assert round(quotient, 3) == round(g[f"att_weight_0{j}"], 3)
    w = [g[f"att_weight_0{j}"] for j in range(3)]
    assert abs(g["att_out_00"] - (w[0] + w[2])) <= FLOAT_TOL and abs(g["att_out_01"] - (w[1] + w[2])) <= FLOAT_TOL
    assert abs(w[0] / w[1] - 2) < 0.1 and w[0] == w[2]                       # "twice as much"
    assert abs(sum(w) - 1) <= FLOAT_TOL and g["att_max_row_sum_error"] <= 1e-15
    assert round(w[0], 2) == 0.40 and round(w[1], 2) == 0.20                  # the figure's alt text
    assert 0 < g["att_weight_20"] < 1


@pytest.mark.book
def test_causal_mask_and_cost_and_order_claims(executed_notebooks):
    """Causal: zero above the diagonal, row 2 mostly on itself; T^2 weights; attention ignores order."""
    g = _g(executed_notebooks, "att_causal_above_diagonal", "att_causal_weight_11", "att_scores_30",
           "att_scores_1000", "att_permutation_gap")
    assert g["att_causal_above_diagonal"] == 0.0
    assert 0.5 < g["att_causal_weight_11"] < 1
    assert g["att_scores_30"] == 30 ** 2 and g["att_scores_1000"] == 1000 ** 2
    assert g["att_permutation_gap"] < 1e-12


def test_chapter_states_what_it_does_not_cover_and_defines_k():
    """Does the chapter say that K is the keys matrix here, and name what it does not cover?"""
    text = _source(CHAPTER)
    assert "$K$ is the matrix\nof keys" in text or "$K$ is the matrix of keys" in text
    box = text[text.index("What this book does not cover"):]
    for topic in ("multi-head attention", "positional encodings", "trained"):
        assert topic in box, topic
    assert re.search(r"No assignment covers sequences", text)
    assert "ex07_training" in text[text.index("Graded exercise"):]
