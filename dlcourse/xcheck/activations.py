"""Every registered activation against PyTorch: forward values and gradients (our ``vjp`` vs autograd).

The rows come from :data:`dlcourse.activations.ACTIVATIONS`: each entry names its torch
function (``act.torch``, ``act.torch_kwargs()``), and :func:`torch_function` resolves it.

Inputs are float64, seeded, and include :math:`\\pm 10^4`. Each row compares the forward
output and the gradient of ``sum(f(z) * dout)`` with respect to ``z``; the softmax rows
also compare the Jacobian and (log-softmax) the Jacobian-vector product.
"""

from __future__ import annotations

import importlib

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


def instances():
    """Every registered activation with its default parameters and each of its ``variants``."""
    for act in A.ACTIVATIONS.values():
        yield act
        for params in act.variants:
            yield A.get(act, **params)


def torch_function(torch, act, device: str = "cpu"):
    """The PyTorch equivalent of ``act``: the function named by ``act.torch`` with ``act.torch_kwargs()``.

    The one place where a dlcourse activation meets its torch counterpart; the tests call it too.
    """
    if act.torch is None:
        raise ValueError(f"activation {act.name!r} names no PyTorch equivalent (its torch attribute is None)")
    module_name, _, attr = act.torch.rpartition(".")
    fn = getattr(importlib.import_module(module_name), attr)
    kwargs = dict(act.torch_kwargs())
    if act.torch == "torch.heaviside":  # its value at 0 must be a tensor
        kwargs["values"] = torch.tensor(kwargs["values"], dtype=torch.float64, device=device)
    return lambda t: fn(t, **kwargs)


def _forward_and_grad(torch, fn, z, dout, device):
    zt = torch.tensor(z, dtype=torch.float64, device=device, requires_grad=True)
    out = fn(zt)
    out.backward(torch.tensor(dout, dtype=torch.float64, device=device))
    return out, zt.grad


def comparisons(device: str):
    """Yield one :class:`Comparison` per registered activation and variant (and per extra check) on ``device``."""
    import torch

    z, dout = _inputs()
    for act in instances():
        if act.torch is None:
            continue
        fn = torch_function(torch, act, device)
        if not act.torch_autograd:  # e.g. torch.heaviside: only the forward pass is compared
            yield Comparison(act.label, act(z), fn(torch.tensor(z, dtype=torch.float64, device=device)))
            continue
        out, grad = _forward_and_grad(torch, fn, z, dout, device)
        yield Comparison(act.label, [act(z), act.vjp(z, dout)], [out, grad])
        if act.elementwise:
            # the element-wise derivative is the gradient for dout = 1
            _, ones_grad = _forward_and_grad(torch, fn, z, np.ones_like(z), device)
            yield Comparison(f"{act.label}.derivative", act.derivative(z), ones_grad)
    yield from _jacobian_rows(torch, device)


def _jacobian_rows(torch, device):
    """Per-sample Jacobians of softmax / log-softmax, and the log-softmax JVP."""
    from torch.autograd.functional import jacobian, jvp

    z, v = _inputs((3, 5))
    for act in A.ACTIVATIONS.values():
        if act.elementwise or act.torch is None:
            continue
        fn = torch_function(torch, act, device)
        ours = act.derivative(z)  # shape (N, K, K)
        theirs = torch.stack([
            jacobian(fn, torch.tensor(row, dtype=torch.float64, device=device)) for row in z
        ])
        yield Comparison(f"{act.name}.derivative (Jacobian)", ours, theirs)
        zt = torch.tensor(z, dtype=torch.float64, device=device)
        vt = torch.tensor(v, dtype=torch.float64, device=device)
        _, theirs_jvp = jvp(fn, zt, vt)
        yield Comparison(f"{act.name}.jvp", act.jvp(z, v), theirs_jvp)
