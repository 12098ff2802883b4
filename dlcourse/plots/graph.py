"""The computational graph of a :class:`dlcourse.autograd.Value`, drawn with matplotlib alone.

Nodes are laid out by depth (topological level): every computed node one column to
the right of its deepest input, each leaf just left of its first use, the output last. Each node is a box with
its operation (or label), its forward value and its gradient; each arrow goes from an
input to the node computed from it. No graphviz binary is needed.
"""

from __future__ import annotations

import math

from . import OKABE_ITO

__all__ = ["draw_graph", "graph_layout"]

#: Box size and spacing, in data units (one column per depth, one row per node).
_BOX_W, _BOX_H = 0.78, 0.62
_DX, _DY = 1.25, 0.85


def graph_layout(value) -> dict:
    """Position ``(x, y)`` of every node of the graph ending at ``value``.

    ``x`` is the column times the column spacing: a computed node's column is its depth
    (the longest path from a leaf), a leaf sits just left of the first node that uses
    it, and the output is last. Columns are filled from the output leftwards, each node
    at the mean height of the nodes that use it, which keeps most arrows short and
    uncrossed.

    Returns
    -------
    dict
        ``{Value: (x, y)}``, one entry per node.
    """
    order = value.topological_order()
    users: dict = {node: [] for node in order}
    column: dict = {}
    for node in order:  # inputs come first, so their column is known
        column[node] = 1 + max(column[i] for i in node.inputs) if node.inputs else 0
        for k, child in enumerate(node.inputs):
            users[child].append((node, k))
    for node in order:
        if not node.inputs and users[node]:
            column[node] = min(column[u] for u, _ in users[node]) - 1
    by_column: dict[int, list] = {}
    for node in order:
        by_column.setdefault(column[node], []).append(node)
    pos: dict = {}
    for c in sorted(by_column, reverse=True):
        nodes = by_column[c]
        if c != column[value]:  # the output is alone in the last column
            nodes.sort(key=lambda n: (-sum(pos[u][1] for u, _ in users[n]) / len(users[n]),
                                      min(k for _, k in users[n])))
        for k, node in enumerate(nodes):
            pos[node] = (c * _DX, ((len(nodes) - 1) / 2 - k) * _DY)
    return pos


def _node_text(node, fmt: str) -> str:
    name = node.label or node.op or "leaf"
    if node.label and node.op:
        name = f"{node.label} ({node.op})"
    return f"{name}\ndata {node.data:{fmt}}\ngrad {node.grad:{fmt}}"


def _draw_node(ax, node, pos: dict, *, is_output: bool, fmt: str) -> None:
    """One node's box and text, and an arrow from each of its inputs."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    x, y = pos[node]
    ax.add_patch(FancyBboxPatch(
        (x - _BOX_W / 2, y - _BOX_H / 2), _BOX_W, _BOX_H, boxstyle="round,pad=0.02,rounding_size=0.08",
        facecolor="white" if node.inputs else OKABE_ITO["sky_blue"], alpha=0.9, zorder=2,
        edgecolor=OKABE_ITO["vermillion"] if is_output else OKABE_ITO["blue"], linewidth=2 if is_output else 1.2))
    ax.text(x, y, _node_text(node, fmt), ha="center", va="center", fontsize=7.5, zorder=3)
    for k, child in enumerate(node.inputs):
        cx, cy = pos[child]
        start, end = (cx + _BOX_W / 2, cy), (x - _BOX_W / 2, y)
        length = math.dist(start, end)
        # an arrow over more than one column bows over the boxes between (its peak is rad * length / 2);
        # the same input used again (x * x) bows the other way
        rad = min(0.9 / length, 0.5) if x - cx > 1.5 * _DX else 0.0
        rad -= 0.35 * node.inputs[:k].count(child)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, lw=1.0, zorder=1,
                                     connectionstyle=f"arc3,rad={rad}", color=OKABE_ITO["black"]))


def draw_graph(value, ax=None, *, fmt: str = ".4g", max_nodes: int = 200):
    """Draw the graph that computed ``value``: one box per node (op, data, grad), one arrow per edge.

    Call ``value.backward()`` first to show the gradients. A node used twice by one
    operation (``x * x``) gets two arrows, curved apart.

    Parameters
    ----------
    value : dlcourse.autograd.Value
        The output node.
    ax : matplotlib Axes, optional
        Where to draw; a new figure sized to the graph when omitted.
    fmt : str
        Format of the numbers in the boxes.
    max_nodes : int
        Refuse larger graphs (they would not be legible).

    Returns
    -------
    matplotlib Axes
        With exactly one text artist per node (``ax.texts``) and one arrow patch per edge.
    """
    pos = graph_layout(value)
    if len(pos) > max_nodes:
        raise ValueError(f"value: the graph has {len(pos)} nodes, more than max_nodes={max_nodes} can show legibly")
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    if ax is None:
        import matplotlib.pyplot as plt

        n_cols = round(max(xs) / _DX) + 1
        n_rows = round((max(ys) - min(ys)) / _DY) + 1
        _, ax = plt.subplots(figsize=(min(1.9 * n_cols + 0.4, 24), min(0.95 * n_rows + 0.9, 24)))
    for node in pos:
        _draw_node(ax, node, pos, is_output=node is value, fmt=fmt)
    ax.set_xlim(min(xs) - _BOX_W, max(xs) + _BOX_W)
    ax.set_ylim(min(ys) - _BOX_H / 2 - 0.5, max(ys) + _BOX_H / 2 + 0.5)  # room for the bowed arrows
    ax.set_axis_off()
    return ax
