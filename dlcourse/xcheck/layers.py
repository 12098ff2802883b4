"""Layers against ``torch.nn``: forward output, input gradient and parameter gradients.

Our weights are copied into the torch module (``nn.Linear`` stores ``W.T``), both get
the same float64 input and upstream gradient ``dout``, and the row compares the
output, ``dx`` and every parameter gradient (and for batch norm the running
statistics). Dropout is compared in evaluation mode (identity) and, in training
mode, through its own mask: torch's masks come from torch's generator, so the check
is that our output equals ``x * mask / (1 - p)`` with the mask recovered from our
output, and that torch's output has the same form.
"""

from __future__ import annotations

import numpy as np

from .. import layers as L
from .core import Comparison

#: Seed of every input here, so a failure can be reproduced.
SEED = 4321


def _t(torch, a, device, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, device=device, requires_grad=grad)


def _run_torch(torch, module, x, dout, device):
    xt = _t(torch, x, device, grad=True)
    out = module(xt)
    out.backward(_t(torch, dout, device))
    return out, xt.grad


def _dense(torch, device, rng):
    layer = L.Dense(5, 3, seed=SEED)
    layer.b.data[:] = rng.normal(size=3)
    x, dout = rng.normal(size=(4, 5)), rng.normal(size=(4, 3))
    out = layer.forward(x)
    dx = layer.backward(dout)
    lin = torch.nn.Linear(5, 3).double().to(device)
    with torch.no_grad():
        lin.weight.copy_(_t(torch, layer.W.data.T, device))
        lin.bias.copy_(_t(torch, layer.b.data, device))
    out_t, dx_t = _run_torch(torch, lin, x, dout, device)
    yield Comparison("Dense(5, 3): out, dx, dW, db", [out, dx, layer.W.grad, layer.b.grad],
                     [out_t, dx_t, lin.weight.grad.T, lin.bias.grad])


def _activation_pairs(torch, device):
    """(label, our layer, torch function): every registered activation's generated layer and variant."""
    from .activations import instances, torch_function

    pairs = [(repr(L.layer_class(act.name)(**act.param_values())), L.layer_class(act.name)(**act.param_values()),
              torch_function(torch, act, device))
             for act in instances() if act.torch is not None and act.torch_autograd]
    return pairs + [('Activation("relu")', L.Activation("relu"), torch.relu)]


def _activations(torch, device, rng):
    x, dout = rng.normal(0, 3, size=(4, 6)), rng.normal(size=(4, 6))
    x[0] = [-1e4, -40.0, -1e-3, 2e-3, 40.0, 1e4]
    for label, ours, theirs in _activation_pairs(torch, device):
        out = ours.forward(x)
        dx = ours.backward(dout)
        out_t, dx_t = _run_torch(torch, theirs, x, dout, device)
        yield Comparison(f"{label} layer: out, dx", [out, dx], [out_t, dx_t])


def _dropout(torch, device, rng):
    x, dout = rng.normal(size=(8, 5)), rng.normal(size=(8, 5))
    ours = L.Dropout(0.3, seed=SEED)
    out, dx = ours.forward(x, training=False), ours.backward(dout)
    theirs = torch.nn.Dropout(0.3).to(device).eval()
    out_t, dx_t = _run_torch(torch, theirs, x, dout, device)
    yield Comparison("Dropout(0.3) eval: out, dx", [out, dx], [out_t, dx_t])
    # training: both must equal x * keep / (1 - p) for their own keep mask
    out = ours.forward(x, training=True)
    keep = out != 0
    theirs.train()
    out_t = theirs(_t(torch, x, device)).detach().cpu().numpy()
    keep_t = out_t != 0
    yield Comparison("Dropout(0.3) train: out = x*mask/(1-p)", [out, out_t],
                     [x * keep / 0.7, x * keep_t / 0.7])


def _batchnorm_pair(torch, device, rng, shape):
    c = shape[1]
    ours = L.BatchNorm(c, momentum=0.2, eps=1e-5)
    ours.gamma.data[:] = rng.normal(1, 0.5, size=c)
    ours.beta.data[:] = rng.normal(size=c)
    bn_cls = torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d
    theirs = bn_cls(c, momentum=0.2, eps=1e-5).double().to(device)
    with torch.no_grad():
        theirs.weight.copy_(_t(torch, ours.gamma.data, device))
        theirs.bias.copy_(_t(torch, ours.beta.data, device))
    return ours, theirs


def _batchnorm(torch, device, rng):
    for shape in ((6, 4), (3, 2, 4, 5)):
        ours, theirs = _batchnorm_pair(torch, device, rng, shape)
        name = f"BatchNorm{'1d' if len(shape) == 2 else '2d'}"
        for step in range(2):  # two training steps: running statistics accumulate
            x = rng.normal(2.0, 3.0, size=shape)
            dout = rng.normal(size=shape)
            out, dx = ours.forward(x, training=True), ours.backward(dout)
            theirs.train()
            theirs.weight.grad = theirs.bias.grad = None
            out_t, dx_t = _run_torch(torch, theirs, x, dout, device)
            yield Comparison(
                f"{name} train step {step + 1}: out, dx, dgamma, dbeta, running mean/var",
                [out, dx, ours.gamma.grad, ours.beta.grad, ours.running_mean, ours.running_var],
                [out_t, dx_t, theirs.weight.grad, theirs.bias.grad, theirs.running_mean, theirs.running_var])
        x, dout = rng.normal(2.0, 3.0, size=shape), rng.normal(size=shape)
        out, dx = ours.forward(x, training=False), ours.backward(dout)
        theirs.eval()
        theirs.weight.grad = theirs.bias.grad = None
        out_t, dx_t = _run_torch(torch, theirs, x, dout, device)
        yield Comparison(f"{name} eval: out, dx, dgamma, dbeta", [out, dx, ours.gamma.grad, ours.beta.grad],
                         [out_t, dx_t, theirs.weight.grad, theirs.bias.grad])


def comparisons(device: str):
    """Yield the layer comparisons on ``device`` (float64)."""
    import torch

    rng = np.random.default_rng(SEED)
    for group in (_dense, _activations, _dropout, _batchnorm):
        yield from group(torch, device, rng)
