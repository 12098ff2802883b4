"""Every activation against PyTorch: forward values and gradients (our ``vjp`` vs autograd).

Inputs are float64, seeded, and include :math:`\\pm 10^4`. Each row compares the forward
output and the gradient of ``sum(f(z) * dout)`` with respect to ``z``; the softmax rows
also compare the Jacobian and (log-softmax) the Jacobian-vector product.
"""

from __future__ import annotations

import numpy as np

from .. import activations as A
from .core import Comparison

#: Seed of every input here, so a failure can be reproduced.
SEED = 1234


def _inputs(shape=(4, 6)) -> tuple[np.ndarray, np.ndarray]:
    """A seeded input with extreme and tiny values in its first row, and an upstream gradient."""
    rng = np.random.default_rng(SEED)
    z = rng.normal(0.0, 3.0, size=shape)
    z[0, :6] = [-1e4, -40.0, -1e-3, 2e-3, 40.0, 1e4][: shape[1]]
    return z, rng.standard_normal(shape)


def _torch_pairs(torch):
    """(label, our activation, torch function) for every activation and non-default parameters."""
    F = torch.nn.functional
    return [
        ("linear", A.linear, lambda t: t * 1),
        ("sigmoid", A.sigmoid, torch.sigmoid),
        ("tanh", A.tanh, torch.tanh),
        ("relu", A.relu, torch.relu),
        ("leaky_relu", A.leaky_relu, F.leaky_relu),
        ("leaky_relu(alpha=0.2)", A.LeakyReLU(0.2), lambda t: F.leaky_relu(t, 0.2)),
        ("elu", A.elu, F.elu),
        ("elu(alpha=0.5)", A.ELU(0.5), lambda t: F.elu(t, alpha=0.5)),
        ("swish", A.swish, F.silu),
        ("softplus", A.softplus, F.softplus),
        ("softmax(axis=-1)", A.softmax, lambda t: F.softmax(t, dim=-1)),
        ("softmax(axis=0)", A.Softmax(axis=0), lambda t: F.softmax(t, dim=0)),
        ("log_softmax(axis=-1)", A.log_softmax, lambda t: F.log_softmax(t, dim=-1)),
        ("log_softmax(axis=0)", A.LogSoftmax(axis=0), lambda t: F.log_softmax(t, dim=0)),
    ]


def _forward_and_grad(torch, fn, z, dout, device):
    zt = torch.tensor(z, dtype=torch.float64, device=device, requires_grad=True)
    out = fn(zt)
    out.backward(torch.tensor(dout, dtype=torch.float64, device=device))
    return out, zt.grad


def comparisons(device: str):
    """Yield one :class:`Comparison` per activation (and per extra check) on ``device``."""
    import torch

    z, dout = _inputs()
    zt = torch.tensor(z, dtype=torch.float64, device=device)
    # step: torch.heaviside has no autograd, so only the forward pass is compared
    yield Comparison("step", A.step(z), torch.heaviside(zt, torch.zeros((), dtype=torch.float64, device=device)))
    for label, act, fn in _torch_pairs(torch):
        out, grad = _forward_and_grad(torch, fn, z, dout, device)
        yield Comparison(label, [act(z), act.vjp(z, dout)], [out, grad])
        if act.name not in ("softmax", "log_softmax"):
            # the element-wise derivative is the gradient for dout = 1
            _, ones_grad = _forward_and_grad(torch, fn, z, np.ones_like(z), device)
            yield Comparison(f"{label}.derivative", act.derivative(z), ones_grad)
    yield from _jacobian_rows(torch, device)


def _jacobian_rows(torch, device):
    """Per-sample Jacobians of softmax / log-softmax, and the log-softmax JVP."""
    from torch.autograd.functional import jacobian, jvp

    F = torch.nn.functional
    z, v = _inputs((3, 5))
    for act, fn in ((A.softmax, F.softmax), (A.log_softmax, F.log_softmax)):
        ours = act.derivative(z)  # shape (N, K, K)
        theirs = torch.stack([
            jacobian(lambda r: fn(r, dim=-1), torch.tensor(row, dtype=torch.float64, device=device))
            for row in z
        ])
        yield Comparison(f"{act.name}.derivative (Jacobian)", ours, theirs)
        zt = torch.tensor(z, dtype=torch.float64, device=device)
        vt = torch.tensor(v, dtype=torch.float64, device=device)
        _, theirs_jvp = jvp(lambda t: fn(t, dim=-1), zt, vt)
        yield Comparison(f"{act.name}.jvp", act.jvp(z, v), theirs_jvp)
