"""The scalar autograd engine (:mod:`dlcourse.autograd`) against PyTorch autograd.

Each random graph is a short program drawn from a seeded generator: a few leaves, then
5 to 20 steps, each one operation of the engine (``+ - * /``, ``**`` a number, unary
``-``, ``exp``, ``log``, ``tanh``, ``relu``, ``sigmoid``, and Python numbers on either
side) applied to earlier nodes, recent ones more often so the graph grows deep, and
reused nodes so gradients must add up. The output is the sum of every node no other
node uses, so every node matters. The *same* Python functions then run on Values and
on 0-d float64 tensors with ``requires_grad``; each row compares the output and the
gradient of every node (leaves and, through ``retain_grad``, intermediates).

Steps are drawn so that both sides stay finite and away from the edges of the domain:
``log`` only of values above 0.05, divisors at least 0.1 in size, fractional powers of
positive bases, ``exp`` below 5 and every node below 1e4 in size.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Value
from .core import Comparison

#: Random graphs per device, and the seed they are drawn from (rows can be reproduced).
NUM_GRAPHS = 24
SEED = 21
#: Levels of the deep-chain row, y <- y + 0.001 tanh(y): three ops and one reuse of y per level.
CHAIN_LEVELS = 700

#: name -> (number of node operands, whether it takes a number c, the function for Values and tensors)
OPS = {
    "a + b": (2, False, lambda a, b, c: a + b),
    "a - b": (2, False, lambda a, b, c: a - b),
    "a * b": (2, False, lambda a, b, c: a * b),
    "a / b": (2, False, lambda a, b, c: a / b),
    "a + c": (1, True, lambda a, c: a + c),
    "c + a": (1, True, lambda a, c: c + a),
    "c - a": (1, True, lambda a, c: c - a),
    "c * a": (1, True, lambda a, c: c * a),
    "a / c": (1, True, lambda a, c: a / c),
    "c / a": (1, True, lambda a, c: c / a),
    "a ** p": (1, True, lambda a, c: a ** c),
    "-a": (1, False, lambda a, c: -a),
    "exp": (1, False, lambda a, c: a.exp()),
    "log": (1, False, lambda a, c: a.log()),
    "tanh": (1, False, lambda a, c: a.tanh()),
    "relu": (1, False, lambda a, c: a.relu()),
    "sigmoid": (1, False, lambda a, c: a.sigmoid()),
}
_EXPONENTS = (2, 3, -1, 0.5, 1.5, -2)


def _allowed(name: str, operands: list[float], c: float) -> bool:
    """Is this step far from where the operation (or its derivative) is undefined or huge?"""
    a = operands[0]
    if name == "log":
        return a > 0.05
    if name == "exp":
        return a < 5.0
    if name == "a / b":
        return abs(operands[1]) >= 0.1
    if name == "c / a":
        return abs(a) >= 0.1
    if name == "a ** p":
        return (a > 0.05 if c != int(c) else True) and (abs(a) >= 0.1 if c < 0 else True)
    return True


def random_program(rng: np.random.Generator) -> tuple[list[float], list[tuple]]:
    """Leaves and steps ``(op name, operand indices, number)`` of one random graph."""
    leaves = [float(v) for v in rng.uniform(-2.0, 2.0, size=int(rng.integers(2, 6)))]
    nodes = [Value(v) for v in leaves]
    steps: list[tuple] = []
    names = list(OPS)
    num_steps = int(rng.integers(5, 21))
    while len(steps) < num_steps:
        name = names[int(rng.integers(len(names)))]
        arity, takes_c, fn = OPS[name]
        recent = rng.random() < 0.7
        picks = [len(nodes) - 1 - int(rng.integers(min(4, len(nodes)))) if recent
                 else int(rng.integers(len(nodes))) for _ in range(arity)]
        c = float(rng.choice(_EXPONENTS)) if name == "a ** p" else round(rng.choice([-1, 1]) * rng.uniform(0.5, 3), 2)
        if not _allowed(name, [nodes[i].data for i in picks], c):
            continue
        out = fn(*[nodes[i] for i in picks], c)
        if abs(out.data) < 1e4:
            nodes.append(out)
            steps.append((name, picks, c))
    return leaves, steps


def run_program(leaves: list, steps: list[tuple]) -> tuple[list, object]:
    """Every node of the program and its output (the sum of the nodes no step uses), for Values or tensors."""
    nodes = list(leaves)
    for name, picks, c in steps:
        nodes.append(OPS[name][2](*[nodes[i] for i in picks], c))
    used = {i for _, picks, _ in steps for i in picks}
    sinks = [n for i, n in enumerate(nodes) if i not in used]
    out = sinks[0]
    for n in sinks[1:]:
        out = out + n
    return nodes, out


def chain_program(levels: int) -> list[tuple]:
    """Steps of ``y <- y + 0.001 * tanh(y)`` repeated ``levels`` times on one leaf: deep, and y is used twice."""
    steps: list[tuple] = []
    y = 0  # index of the running node; step j makes node 1 + j
    for _ in range(levels):
        n = 1 + len(steps)
        steps += [("tanh", [y], 0.0), ("c * a", [n], 0.001), ("a + b", [y, n + 1], 0.0)]
        y = n + 2
    return steps


def _compare_program(label: str, leaves: list[float], steps: list[tuple], device: str) -> Comparison:
    import torch

    nodes, out = run_program([Value(v) for v in leaves], steps)
    out.backward()
    t_leaves = [torch.tensor(v, dtype=torch.float64, device=device, requires_grad=True) for v in leaves]
    t_nodes, t_out = run_program(t_leaves, steps)
    for t in t_nodes[len(leaves):]:
        t.retain_grad()
    t_out.backward()
    ours = [np.array(out.data), np.array([n.grad for n in nodes])]
    theirs = [t_out, torch.stack([t.grad for t in t_nodes])]
    return Comparison(label, ours, theirs)


def comparisons(device: str):
    """Yield one :class:`Comparison` per random graph, and one for a deep chain, on ``device``."""
    rng = np.random.default_rng(SEED)
    for g in range(NUM_GRAPHS):
        leaves, steps = random_program(rng)
        yield _compare_program(f"random graph {g:02d} ({len(leaves)} leaves, {len(steps)} ops)",
                               leaves, steps, device)
    yield _compare_program(f"deep chain ({3 * CHAIN_LEVELS} ops)", [0.3], chain_program(CHAIN_LEVELS), device)
