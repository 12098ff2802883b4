"""Every loss against PyTorch: the value and the gradient with respect to the prediction.

Each row compares ``[loss(y_true, y_pred), loss.gradient(y_true, y_pred)]`` with the
PyTorch value (default reduction) and the autograd gradient, in float64. Extra rows cover
probabilities exactly 0 and 1, logits of :math:`\\pm 10^4` and non-default parameters.
"""

from __future__ import annotations

import numpy as np

from .. import losses as L
from .core import Comparison

#: Seed of every input here, so a failure can be reproduced.
SEED = 4321
N, K = 6, 4


def _data():
    """Seeded targets and predictions of every kind the losses take."""
    rng = np.random.default_rng(SEED)
    labels = rng.integers(0, K, size=N)
    probs = rng.dirichlet(np.ones(K), size=N)
    return {
        "real_t": rng.normal(size=(N, K)), "real_p": rng.normal(size=(N, K)) * 2,
        "pm1": rng.choice([-1.0, 1.0], size=(N, K)), "scores": rng.normal(size=(N, K)) * 1.5,
        "bin_t": rng.integers(0, 2, size=(N, K)).astype(np.float64),
        "bin_p": rng.uniform(0.02, 0.98, size=(N, K)),
        "bin_edge_t": np.array([1.0, 0.0, 1.0, 0.0, 0.3]), "bin_edge_p": np.array([0.0, 1.0, 1.0, 0.0, 0.5]),
        "logits": rng.normal(size=(N, K)) * 3,
        "big_logits": np.array([[1e4, -1e4, 0.0, 5.0], [-1e4, 1e4, 1e4, -3.0]]),
        "labels": labels, "one_hot": np.eye(K)[labels], "probs": probs,
        "soft": rng.dirichlet(np.ones(K), size=N),
    }


def _torch_cases(torch, d):
    """(label, our loss, y_true, y_pred, torch function of (y_true tensor, y_pred tensor))."""
    F = torch.nn.functional

    def clamped_log(p):
        return torch.clamp(torch.log(p), min=-100)

    return [
        ("mse", L.mse, d["real_t"], d["real_p"], lambda t, p: F.mse_loss(p, t)),
        ("mae", L.mae, d["real_t"], d["real_p"], lambda t, p: F.l1_loss(p, t)),
        ("huber", L.huber, d["real_t"], d["real_p"], lambda t, p: F.huber_loss(p, t)),
        ("huber(delta=0.5)", L.Huber(0.5), d["real_t"], d["real_p"], lambda t, p: F.huber_loss(p, t, delta=0.5)),
        ("hinge", L.hinge, d["pm1"], d["scores"], lambda t, p: torch.relu(1 - t * p).mean()),
        ("binary_cross_entropy", L.binary_cross_entropy, d["bin_t"], d["bin_p"],
         lambda t, p: F.binary_cross_entropy(p, t)),
        ("binary_cross_entropy (p = 0 or 1)", L.binary_cross_entropy, d["bin_edge_t"], d["bin_edge_p"],
         lambda t, p: F.binary_cross_entropy(p, t)),
        ("binary_cross_entropy_with_logits", L.binary_cross_entropy_with_logits, d["bin_t"], d["logits"],
         lambda t, p: F.binary_cross_entropy_with_logits(p, t)),
        ("binary_cross_entropy_with_logits (+-1e4)", L.binary_cross_entropy_with_logits,
         np.array([1.0, 0.0, 0.0, 1.0]), np.array([1e4, 1e4, -1e4, -1e4]),
         lambda t, p: F.binary_cross_entropy_with_logits(p, t)),
        ("categorical_cross_entropy", L.categorical_cross_entropy, d["one_hot"], d["probs"],
         lambda t, p: -(t * clamped_log(p)).sum(dim=1).mean()),
        ("categorical_cross_entropy (soft targets)", L.categorical_cross_entropy, d["soft"], d["probs"],
         lambda t, p: -(t * clamped_log(p)).sum(dim=1).mean()),
        ("sparse_categorical_cross_entropy", L.sparse_categorical_cross_entropy, d["labels"], d["probs"],
         lambda t, p: F.nll_loss(clamped_log(p), t)),
        ("cross_entropy_with_logits (labels)", L.cross_entropy_with_logits, d["labels"], d["logits"],
         lambda t, p: F.cross_entropy(p, t)),
        ("cross_entropy_with_logits (probabilities)", L.cross_entropy_with_logits, d["soft"], d["logits"],
         lambda t, p: F.cross_entropy(p, t)),
        ("cross_entropy_with_logits (+-1e4)", L.cross_entropy_with_logits, np.array([0, 2]), d["big_logits"],
         lambda t, p: F.cross_entropy(p, t)),
        ("kl_divergence", L.kl_divergence, d["soft"], d["probs"],
         lambda t, p: F.kl_div(torch.log(p), t, reduction="batchmean")),
    ]


def comparisons(device: str):
    """Yield one :class:`Comparison` per loss case on ``device``: ``[value, gradient]``."""
    import torch

    for label, loss, y_true, y_pred, fn in _torch_cases(torch, _data()):
        t_dtype = torch.int64 if np.asarray(y_true).dtype.kind in "iu" else torch.float64
        tt = torch.tensor(y_true, dtype=t_dtype, device=device)
        pt = torch.tensor(y_pred, dtype=torch.float64, device=device, requires_grad=True)
        value = fn(tt, pt)
        value.backward()
        yield Comparison(label, [np.float64(loss(y_true, y_pred)), loss.gradient(y_true, y_pred)],
                         [value, pt.grad])
