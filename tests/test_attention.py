"""Scaled dot-product attention (chapter on sequences), checked against PyTorch and by its defining properties."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import attention


def _qkv(rng, batch=(2,), t_q=4, t_k=5, d=3, d_v=2):
    return (rng.standard_normal((*batch, t_q, d)), rng.standard_normal((*batch, t_k, d)),
            rng.standard_normal((*batch, t_k, d_v)))


def _torch():
    return pytest.importorskip("torch", reason="attention is cross-checked against torch.nn.functional")


@pytest.mark.parametrize("causal", [False, True])
def test_matches_torch_scaled_dot_product_attention(rng, causal):
    """Is the output torch.nn.functional.scaled_dot_product_attention's (float64), with and without is_causal?"""
    torch = _torch()
    Q, K, V = _qkv(rng, batch=(2, 3))
    out, weights = attention.scaled_dot_product_attention(Q, K, V, causal=causal)
    expected = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(Q), torch.tensor(K), torch.tensor(V), is_causal=causal).numpy()
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    assert weights.shape == (2, 3, 4, 5)


def test_matches_torch_with_a_boolean_mask(rng):
    """Does a boolean mask mean what PyTorch's attn_mask means (True: may read)?"""
    torch = _torch()
    Q, K, V = _qkv(rng)
    mask = rng.random((4, 5)) < 0.6
    mask[:, 0] = True                                     # every query reads at least one key
    out, _ = attention.scaled_dot_product_attention(Q, K, V, mask=mask)
    expected = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(Q), torch.tensor(K), torch.tensor(V), attn_mask=torch.tensor(mask)).numpy()
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


def test_weights_rows_sum_to_one_and_are_non_negative(rng):
    Q, K, V = _qkv(rng)
    _, weights = attention.scaled_dot_product_attention(Q, K, V)
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=1e-15)


def test_output_is_the_weighted_average_of_the_values(rng):
    """Is output = weights @ V, with weights = softmax(Q K^T / sqrt(d)) computed the textbook way?"""
    Q, K, V = _qkv(rng, batch=())
    out, weights = attention.scaled_dot_product_attention(Q, K, V)
    scores = Q @ K.T / np.sqrt(Q.shape[-1])
    naive = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(weights, naive, rtol=1e-13)
    np.testing.assert_allclose(out, naive @ V, rtol=1e-13)


def test_causal_mask_is_respected(rng):
    """With causal=True, is every weight above the diagonal exactly zero, and does row 0 read only key 0?"""
    Q, K, V = _qkv(rng, t_q=5, t_k=5)
    out, weights = attention.scaled_dot_product_attention(Q, K, V, causal=True)
    assert np.all(weights[..., np.triu_indices(5, k=1)[0], np.triu_indices(5, k=1)[1]] == 0.0)
    np.testing.assert_array_equal(weights[..., 0, 0], 1.0)
    np.testing.assert_allclose(out[..., 0, :], V[..., 0, :], rtol=0, atol=0)
    # changing a later value cannot change an earlier output
    V2 = V.copy()
    V2[..., 3, :] += 100.0
    out2, _ = attention.scaled_dot_product_attention(Q, K, V2, causal=True)
    np.testing.assert_array_equal(out2[..., :3, :], out[..., :3, :])


def test_mask_gives_zero_weight_where_false(rng):
    Q, K, V = _qkv(rng)
    mask = np.ones((4, 5), dtype=bool)
    mask[1, 2:] = False
    _, weights = attention.scaled_dot_product_attention(Q, K, V, mask=mask)
    assert np.all(weights[:, 1, 2:] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-15)


def test_adding_a_constant_to_a_score_row_changes_nothing(rng):
    """Is the softmax invariant to a constant added to a row (the reason subtracting the maximum is allowed)?"""
    scores = rng.standard_normal((3, 6))
    shifted = scores + np.array([[5.0], [-300.0], [1000.0]])
    np.testing.assert_allclose(attention.softmax_rows(shifted), attention.softmax_rows(scores), rtol=1e-12)


def test_softmax_is_stable_for_huge_scores():
    """Do scores of 1000 (exp overflows float64) give finite weights, thanks to the row maximum?"""
    weights = attention.softmax_rows(np.array([[1000.0, 1000.0, 0.0]]))
    assert np.all(np.isfinite(weights))
    np.testing.assert_allclose(weights, [[0.5, 0.5, 0.0]], atol=1e-300)


def test_worked_example_by_hand():
    """The three-token example: Q = K = V = [[1, 0], [0, 1], [1, 1]], row 0 worked by hand."""
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    out, weights = attention.scaled_dot_product_attention(X, X, X)
    e = np.exp(1 / np.sqrt(2))
    np.testing.assert_allclose(weights[0], [e / (2 * e + 1), 1 / (2 * e + 1), e / (2 * e + 1)], rtol=1e-14)
    np.testing.assert_allclose(out[0], [2 * e / (2 * e + 1), (e + 1) / (2 * e + 1)], rtol=1e-14)


@pytest.mark.parametrize("args, match", [
    ((np.ones(3), np.ones((4, 3)), np.ones((4, 2))), r"Q must have shape \(\.\.\., T_q, d\)"),
    ((np.ones((2, 3)), np.ones((4, 2)), np.ones((4, 2))), r"same width d.*d = 3.*d = 2"),
    ((np.ones((2, 3)), np.ones((4, 3)), np.ones((5, 2))), r"same T_k"),
    ((np.ones((1, 2, 3)), np.ones((2, 4, 3)), np.ones((2, 4, 2))), r"leading \(batch\) dimensions"),
])
def test_bad_shapes_raise_value_error_saying_what_was_expected(args, match):
    with pytest.raises(ValueError, match=match):
        attention.scaled_dot_product_attention(*args)


def test_bad_masks_raise_value_error():
    Q, K, V = np.ones((2, 3)), np.ones((4, 3)), np.ones((4, 2))
    with pytest.raises(ValueError, match=r"mask must broadcast to the score shape \(2, 4\)"):
        attention.scaled_dot_product_attention(Q, K, V, mask=np.ones((3, 4), dtype=bool))
    with pytest.raises(ValueError, match="mask must be boolean"):
        attention.scaled_dot_product_attention(Q, K, V, mask=np.ones((2, 4)))
    with pytest.raises(ValueError, match="masked everywhere"):
        attention.scaled_dot_product_attention(Q, K, V, mask=np.zeros((2, 4), dtype=bool))


def test_import_does_not_load_torch():
    import subprocess
    import sys

    code = "import sys, dlcourse.attention; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
