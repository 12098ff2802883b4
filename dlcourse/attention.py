r"""Scaled dot-product attention in NumPy: every position reads every other in one step.

Each of T positions asks a *query* (a row of :math:`Q`) and offers a *key* (a row of
:math:`K`) and a *value* (a row of :math:`V`). Here, and only in this module and chapter
11, :math:`K` is the matrix of keys, not the number of classes. The scores are dot
products of queries with keys, scaled by :math:`1/\sqrt{d}` (``d`` the width of a query
and of a key); a softmax over each row turns them into weights that sum to one, and each
output row is the weighted average of the value rows:

.. math::

    A = \operatorname{softmax}\left(\frac{Q K^{\top}}{\sqrt{d}}\right), \qquad
    \text{output} = A V.

The score matrix has :math:`T_q \times T_k` entries, so time and memory grow with the
square of the sequence length. A mask sets chosen scores to :math:`-\infty` before the
softmax, so those weights are exactly zero; the *causal* mask lets position :math:`i`
read only positions :math:`j \le i`.

The result is ``torch.nn.functional.scaled_dot_product_attention``'s (without dropout),
with the same meaning of a boolean mask: ``True`` where a query may read a key.

Shapes: any leading batch dimensions ``...``, then T_q queries, T_k keys and values,
d the width of queries and keys, d_v the width of values.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array

__all__ = ["softmax_rows", "causal_mask", "scaled_dot_product_attention"]


def softmax_rows(scores) -> np.ndarray:
    r"""Softmax over the last axis, computed stably.

    Subtracting each row's maximum before :math:`\exp` changes nothing mathematically
    (the common factor cancels) but keeps every exponent at most 0, so no entry
    overflows. Entries equal to :math:`-\infty` get weight 0. A row whose entries are
    all :math:`-\infty` has no defined softmax and raises ``ValueError``.

    Parameters
    ----------
    scores : array_like, shape (..., T_k)

    Returns
    -------
    weights : ndarray, shape (..., T_k)
        Non-negative, each row summing to one.
    """
    scores = as_float_array(scores, "scores")
    if scores.ndim < 1:
        raise ValueError(f"scores must have at least one axis (..., T_k); got shape {scores.shape}")
    top = scores.max(axis=-1, keepdims=True)
    if np.any(np.isneginf(top)):
        raise ValueError("a row of scores is masked everywhere: every query must be allowed to read at least one key")
    e = np.exp(scores - top)
    return e / e.sum(axis=-1, keepdims=True)


def causal_mask(t_q: int, t_k: int | None = None) -> np.ndarray:
    """The boolean mask, shape (T_q, T_k), that lets query ``i`` read keys ``j <= i``.

    ``True`` on and below the diagonal (aligned at the top left, as PyTorch's
    ``is_causal=True``).
    """
    t_k = t_q if t_k is None else t_k
    if t_q < 1 or t_k < 1:
        raise ValueError(f"a causal mask needs at least one query and one key; got T_q = {t_q}, T_k = {t_k}")
    return np.tril(np.ones((t_q, t_k), dtype=bool))


def scaled_dot_product_attention(Q, K, V, mask=None, causal: bool = False):
    r"""Scaled dot-product attention, :math:`\operatorname{softmax}(Q K^{\top} / \sqrt{d})\, V`.

    Parameters
    ----------
    Q : array_like, shape (..., T_q, d)
        Queries, one row per position that reads.
    K : array_like, shape (..., T_k, d)
        Keys, one row per position that is read (a matrix of keys, not a class count).
    V : array_like, shape (..., T_k, d_v)
        Values, the rows that are averaged.
    mask : array_like of bool, shape broadcastable to (..., T_q, T_k), optional
        ``True`` where query ``i`` may read key ``j`` (PyTorch's boolean ``attn_mask``).
    causal : bool
        Also apply :func:`causal_mask`, so position ``i`` reads only positions ``j <= i``.

    Returns
    -------
    output : ndarray, shape (..., T_q, d_v)
        Each row the weighted average of the value rows.
    weights : ndarray, shape (..., T_q, T_k)
        The attention weights :math:`A`: each row non-negative and summing to one,
        exactly zero where masked.
    """
    Q, K, V = as_float_array(Q, "Q"), as_float_array(K, "K"), as_float_array(V, "V")
    for name, arr, letters in (("Q", Q, "(..., T_q, d)"), ("K", K, "(..., T_k, d)"), ("V", V, "(..., T_k, d_v)")):
        if arr.ndim < 2:
            raise ValueError(f"{name} must have shape {letters} (at least 2-D); got shape {arr.shape}")
    if Q.shape[-1] != K.shape[-1]:
        raise ValueError(f"queries and keys must have the same width d: Q has shape {Q.shape} (d = {Q.shape[-1]}), "
                         f"K has shape {K.shape} (d = {K.shape[-1]})")
    if K.shape[-2] != V.shape[-2]:
        raise ValueError(f"K and V need one row per key (the same T_k): K has shape {K.shape}, V has shape {V.shape}")
    if not (Q.shape[:-2] == K.shape[:-2] == V.shape[:-2]):
        raise ValueError(f"Q, K and V must have the same leading (batch) dimensions; got shapes "
                         f"{Q.shape}, {K.shape}, {V.shape}")
    t_q, t_k, d = Q.shape[-2], K.shape[-2], Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d)
    allowed = np.ones((t_q, t_k), dtype=bool)
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be boolean (True where a query may read a key); got dtype {mask.dtype}")
        try:
            allowed = np.broadcast_to(mask, scores.shape)
        except ValueError:
            raise ValueError(f"mask must broadcast to the score shape {scores.shape} (..., T_q, T_k); "
                             f"got shape {mask.shape}") from None
    if causal:
        allowed = allowed & causal_mask(t_q, t_k)
    scores = np.where(allowed, scores, -np.inf)
    weights = softmax_rows(scores)
    return weights @ V, weights
