"""Convolution and pooling, forward and backward, against ``torch.nn.functional`` in float64.

Every configuration comes from a seeded generator (stride 1-3, padding 0-2, kernel
1-5, channels 1-4, batch 1-3, non-square inputs and kernels) and is spelled out in
the row's name, so a failing row can be reproduced by hand. Each row compares the
forward output and every gradient (``dx``, and ``dw``, ``db`` for the convolution)
for a random upstream gradient.
"""

from __future__ import annotations

import numpy as np

from ..layers import conv as _conv
from ..layers import pool as _pool
from .core import Comparison

#: Number of random configurations per operation.
NUM_CONFIGS = 24
_SEED = 5


def _conv_config(rng: np.random.Generator) -> dict:
    """A random valid convolution set-up: the kernel always fits the padded input."""
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    ph, pw = (int(p) for p in rng.integers(0, 3, size=2))
    h = int(rng.integers(max(kh - 2 * ph, 1), 10))
    w = int(rng.integers(max(kw - 2 * pw, 1), 10))
    if h == w:  # keep the inputs non-square, where H and W are easiest to mix up
        w += 1
    return dict(n=int(rng.integers(1, 4)), c=int(rng.integers(1, 5)), f=int(rng.integers(1, 5)),
                h=h, w=w, kernel=(kh, kw), stride=tuple(int(s) for s in rng.integers(1, 4, size=2)),
                padding=(ph, pw))


def _pool_config(rng: np.random.Generator) -> dict:
    kh, kw = (int(k) for k in rng.integers(1, 6, size=2))
    h, w = int(rng.integers(kh, kh + 6)), int(rng.integers(kw, kw + 6))
    if h == w:
        w += 1
    return dict(n=int(rng.integers(1, 4)), c=int(rng.integers(1, 5)), h=h, w=w, kernel=(kh, kw),
                stride=tuple(int(s) for s in rng.integers(1, 4, size=2)))


def _conv_comparison(cfg: dict, rng: np.random.Generator, device: str) -> Comparison:
    import torch
    import torch.nn.functional as F

    x = rng.standard_normal((cfg["n"], cfg["c"], cfg["h"], cfg["w"]))
    w = rng.standard_normal((cfg["f"], cfg["c"]) + cfg["kernel"])
    b = rng.standard_normal(cfg["f"])
    out, cache = _conv.conv2d_forward(x, w, b, cfg["stride"], cfg["padding"])
    dout = rng.standard_normal(out.shape)
    dx, dw, db = _conv.conv2d_backward(dout, cache)
    tx, tw, tb = (torch.tensor(a, device=device, requires_grad=True) for a in (x, w, b))
    tout = F.conv2d(tx, tw, tb, stride=cfg["stride"], padding=cfg["padding"])
    tout.backward(torch.tensor(dout, device=device))
    name = f"conv2d x{x.shape} w{w.shape} stride={cfg['stride']} padding={cfg['padding']!r}"
    return Comparison(name, [out, dx, dw, db], [tout, tx.grad, tw.grad, tb.grad])


def _pool_comparison(kind: str, cfg: dict, rng: np.random.Generator, device: str) -> Comparison:
    import torch
    import torch.nn.functional as F

    x = rng.standard_normal((cfg["n"], cfg["c"], cfg["h"], cfg["w"]))
    if kind == "max_pool2d" and rng.random() < 0.3:
        x = np.round(x)  # many ties: both sides must send the gradient to the first maximum
    forward, backward = {
        "max_pool2d": (_pool.max_pool2d_forward, _pool.max_pool2d_backward),
        "avg_pool2d": (_pool.avg_pool2d_forward, _pool.avg_pool2d_backward),
    }[kind]
    out, cache = forward(x, cfg["kernel"], cfg["stride"])
    dout = rng.standard_normal(out.shape)
    dx = backward(dout, cache)
    tx = torch.tensor(x, device=device, requires_grad=True)
    tout = getattr(F, kind)(tx, cfg["kernel"], cfg["stride"])
    tout.backward(torch.tensor(dout, device=device))
    name = f"{kind} x{x.shape} kernel={cfg['kernel']} stride={cfg['stride']}"
    return Comparison(name, [out, dx], [tout, tx.grad])


def comparisons(device: str):
    """Yield the conv2d, max_pool2d and avg_pool2d comparisons on ``device`` (float64)."""
    rng = np.random.default_rng(_SEED)
    for _ in range(NUM_CONFIGS):
        yield _conv_comparison(_conv_config(rng), rng, device)
    same = dict(n=2, c=3, f=4, h=7, w=6, kernel=(3, 5), stride=(1, 1), padding="same")
    yield _conv_comparison(same, rng, device)
    for kind in ("max_pool2d", "avg_pool2d"):
        for _ in range(NUM_CONFIGS):
            yield _pool_comparison(kind, _pool_config(rng), rng, device)
