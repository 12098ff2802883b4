"""ex07_training: an L-layer MLP by hand (forward with caches, backward for any depth, the update,
a mini-batch training loop) and the core of a scalar autograd engine.

The network: ``params`` is a tuple of ``(W, b)`` pairs, ``W`` (D_in, D_out), ``Z = A W + b``,
ReLU after every layer but the last (its output is the logits). References: the package's
dense kernels (:func:`dlcourse.layers.dense.dense_forward` / ``dense_backward``),
:class:`dlcourse.optim.SGD`, and :func:`dlcourse.train.train` on a
:class:`dlcourse.network.Sequential` for the loop.

The graph: ``nodes`` is a tuple of ``(op, inputs, data)`` in any order (``op`` is ``"leaf"``,
``"+"``, ``"-"``, ``"*"``, ``"/"``, ``"**p"``, ``"exp"``, ``"log"``, ``"tanh"`` or ``"relu"``;
``inputs`` a tuple of node indices), so that a graph is plain data. References:
:class:`dlcourse.autograd.Value` built from the nodes. A topological order is graded by a
criterion (any valid order earns the points), not by equality.
"""

from __future__ import annotations

import zlib

import numpy as np

from ..spec import EXACT, Case, Mistake, Part, Tolerance, case

A = "ex07_training"
OPS2, OPS1 = ("+", "-", "*", "/"), ("**2", "**3", "**-1", "**0.5", "exp", "log", "tanh", "relu")


# ---- the network: references ------------------------------------------------------------
def ref_forward(X, params):
    """``(out, cache)``: the logits and, per layer, the pair (A_prev, Z)."""
    from dlcourse.activations import relu
    from dlcourse.layers.dense import dense_forward

    A_prev, cache = np.asarray(X), []
    for l, (W, b) in enumerate(params):
        Z, _ = dense_forward(A_prev, W, b)
        cache.append((A_prev, Z))
        A_prev = Z if l == len(params) - 1 else relu(Z)
    return A_prev, cache


def ref_backward(dout, cache, params):
    """Per layer ``(dW, db)``: delta_L = dout, delta_{l-1} = (delta_l W_l^T) * relu'(Z_{l-1})."""
    from dlcourse.activations import relu
    from dlcourse.layers.dense import DenseCache, dense_backward

    grads, delta = [None] * len(params), dout
    for l in reversed(range(len(params))):
        dA_prev, dW, db = dense_backward(delta, DenseCache(cache[l][0], params[l][0]), need_dx=l > 0)
        grads[l] = (dW, db)
        if l > 0:
            delta = dA_prev * relu.derivative(cache[l - 1][1])
    return grads


def ref_update(params, grads, lr):
    """One plain gradient step on every W and b (:class:`dlcourse.optim.SGD`)."""
    from dlcourse.optim import SGD
    from dlcourse.parameter import Parameter

    ps = [(Parameter(np.array(W, copy=True), "W"), Parameter(np.array(b, copy=True), "b")) for W, b in params]
    for (pW, pb), (dW, db) in zip(ps, grads):
        pW.grad, pb.grad = np.array(dW, copy=True), np.array(db, copy=True)
    SGD([p for pair in ps for p in pair], lr=lr).step()
    return [(pW.data, pb.data) for pW, pb in ps]


def ref_train(X, y, params, lr, epochs, batch_size, seed):
    """The package's training loop on the same network: SGD, softmax cross-entropy from the logits."""
    from dlcourse.layers import Dense, ReLU
    from dlcourse.losses import cross_entropy_with_logits
    from dlcourse.network import Sequential
    from dlcourse.optim import SGD
    from dlcourse.train import train

    layers = []
    for l, (W, b) in enumerate(params):
        dense = Dense(*np.shape(W), dtype=np.asarray(W).dtype)
        dense.W.data, dense.b.data = np.array(W, copy=True), np.array(b, copy=True)
        layers += [dense] if l == len(params) - 1 else [dense, ReLU()]
    model = Sequential(layers)
    train(model, cross_entropy_with_logits, SGD(model.parameters(), lr=lr), X, y, epochs=epochs,
          batch_size=batch_size, seed=seed, progress=False)
    return [(d.W.data, d.b.data) for d in layers if isinstance(d, Dense)]


# ---- the network: mistaken versions (plain NumPy, for the diagnoses) --------------------------
def _forward(X, params, relu_last=False, relu_hidden=True, cache_activation=False):
    A_prev, cache = X, []
    for l, (W, b) in enumerate(params):
        Z = A_prev @ W + b
        last = l == len(params) - 1
        A = np.maximum(Z, 0) if (relu_last if last else relu_hidden) else Z
        cache.append((A_prev, A if cache_activation else Z))
        A_prev = A
    return A_prev, cache


def _backward(dout, cache, params, mask=True, mask_output=False, db_mean=False):
    grads, delta = [None] * len(params), dout * (cache[-1][1] > 0) if mask_output else dout
    for l in reversed(range(len(params))):
        A_prev = cache[l][0]
        db = delta.mean(axis=0) if db_mean else delta.sum(axis=0)
        grads[l] = (A_prev.T @ delta, db)
        if l > 0:
            delta = delta @ params[l][0].T * ((cache[l - 1][1] > 0) if mask else 1.0)
    return grads


def _update(params, grads, lr, sign=-1.0, use_lr=True):
    step = lr if use_lr else 1.0
    return [(W + sign * step * dW, b + sign * step * db) for (W, b), (dW, db) in zip(params, grads)]


def _ce_gradient(Z, y):
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1.0
    return P / len(y)


def _train(X, y, params, lr, epochs, batch_size, seed, shuffle=True, fresh_rng=False, drop_last=False,
           shuffle_y=True):
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    for _ in range(epochs):
        if fresh_rng:
            rng = np.random.default_rng(seed)
        order = rng.permutation(n) if shuffle else np.arange(n)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            idx = order[start:start + batch_size]
            xb, yb = X[idx], (y[idx] if shuffle_y else y[start:start + batch_size])
            out, cache = _forward(xb, params)
            params = _update(params, _backward(_ce_gradient(out, yb), cache, params), lr)
    return params


# ---- the network: inputs ----------------------------------------------------------------------
def init_params(rng, sizes, dtype=np.float64):
    """He-normal weights and small biases for layer sizes ``(D, H1, ..., K)``, as a tuple of pairs."""
    return tuple((rng.normal(scale=np.sqrt(2.0 / m), size=(m, k)).astype(dtype),
                  rng.normal(scale=0.1, size=k).astype(dtype)) for m, k in zip(sizes[:-1], sizes[1:]))


def _net(rng, n, sizes, kind, tags=()):
    return case(rng.normal(size=(n, sizes[0])), init_params(rng, sizes), kind=kind, tags=tags)


def _forward_fixed():
    rng = np.random.default_rng(70)
    return [_net(rng, 4, (3, 5, 2), "one hidden layer (L = 2)"),
            _net(rng, 5, (4, 6, 5, 4, 3), "three hidden layers (L = 4)", {"deep"}),
            _net(rng, 3, (3, 2), "no hidden layer (L = 1): no ReLU at all", {"L = 1"})]


def _sizes(rng):
    return tuple(int(s) for s in rng.integers(2, 6, size=int(rng.integers(3, 6))))


def _forward_draw(rng):
    sizes = _sizes(rng)
    return _net(rng, int(rng.integers(2, 7)), sizes, f"random network of sizes {sizes}")


def _as_backward(c: Case) -> Case:
    X, params = c.args
    out, cache = ref_forward(X, params)
    dout = np.random.default_rng(zlib.crc32(c.kind.encode())).normal(size=out.shape)
    return Case((dout, tuple(cache), params), {}, c.kind, c.hidden, c.tags)


def _backward_fixed():
    return [_as_backward(c) for c in _forward_fixed()]


def _backward_draw(rng):
    return _as_backward(_forward_draw(rng))


def _update_fixed():
    rng = np.random.default_rng(71)
    out = []
    for sizes, lr in (((3, 4, 2), 0.1), ((2, 3, 3, 2), 0.5)):
        params = init_params(rng, sizes)
        grads = tuple((rng.normal(size=W.shape), rng.normal(size=b.shape)) for W, b in params)
        out.append(case(params, grads, lr, kind=f"a network of sizes {sizes}, lr {lr}"))
    return out


def _update_draw(rng):
    params = init_params(rng, _sizes(rng))
    grads = tuple((rng.normal(size=W.shape), rng.normal(size=b.shape)) for W, b in params)
    return case(params, grads, float(rng.choice([0.01, 0.1, 1.0])), kind="random parameters and gradients")


def train_case(rng, n, sizes, lr, epochs, batch_size, seed, kind, tags=()):
    X = rng.normal(size=(n, sizes[0]))
    y = rng.integers(0, sizes[-1], size=n)
    return case(X, y, init_params(rng, sizes), lr, epochs, batch_size, seed, kind=kind, tags=tags)


def _train_fixed():
    rng = np.random.default_rng(72)
    return [train_case(rng, 20, (3, 6, 3), 0.1, 3, 8, 0, "N = 20 in batches of 8 (the last has 4), 3 epochs",
                       {"last batch smaller"}),
            train_case(rng, 12, (3, 5, 4, 3), 0.2, 2, 4, 7, "a deeper network, N = 12 in batches of 4, 2 epochs",
                       {"deep"})]


def _train_draw(rng):
    sizes = _sizes(rng)
    return train_case(rng, int(rng.integers(8, 25)), sizes, 0.1, int(rng.integers(1, 4)), int(rng.integers(3, 9)),
                      int(rng.integers(0, 1000)), f"random data, sizes {sizes}")


#: The digits task of the accuracy part: what the learner's loop must reach on held-out digits.
DIGITS_ACCURACY = 0.9


def digits_case(split_seed: int, hidden: int, kind: str):
    """Train on 1,200 digits (pixels / 16), judged on the other 597: 10 epochs, batches of 32, lr 0.1."""
    from dlcourse.data import digits

    X, y = digits(scale=True)
    order = np.random.default_rng(split_seed).permutation(len(y))
    train, test = order[:1200], order[1200:]
    params = init_params(np.random.default_rng(split_seed + 1), (64, hidden, 10))
    return case(X[train], y[train], params, 0.1, 10, 32, split_seed, kind=kind, tags={"digits"},
                judge_data=(X[test], y[test]))


def _digits_fixed():
    return [digits_case(0, 32, "1,200 handwritten digits, one hidden layer of 32")]


def _accuracy(params, X):
    A = X
    for l, (W, b) in enumerate(params):
        A = A @ W + b
        A = A if l == len(params) - 1 else np.maximum(A, 0)
    return A.argmax(axis=1)


def reaches_accuracy(c, got) -> str:
    """Criterion: the returned parameters classify the held-out digits with accuracy >= DIGITS_ACCURACY."""
    X_test, y_test = c.judge_data
    shapes = [(np.shape(W), np.shape(b)) for W, b in c.args[2]]
    try:
        params = [(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)) for W, b in got]
    except (TypeError, ValueError):
        return f"expected a list of {len(shapes)} (W, b) pairs, as params is; got {type(got).__name__}"
    if [(W.shape, b.shape) for W, b in params] != shapes:
        return f"expected (W, b) pairs of the shapes of params, {shapes}; got {[(W.shape, b.shape) for W, b in params]}"
    if not all(np.isfinite(W).all() and np.isfinite(b).all() for W, b in params):
        return "your trained weights hold NaN or inf: training diverged (is the step W - lr * dW?)"
    with np.errstate(all="ignore"):
        acc = float(np.mean(_accuracy(params, X_test) == y_test))
    if acc < DIGITS_ACCURACY:
        return (f"accuracy on the {len(y_test)} held-out digits is {acc:.3f}; a working loop reaches at least "
                f"{DIGITS_ACCURACY} with these settings")
    return ""


# ---- the graph: references -----------------------------------------------------------------
def _order_all(nodes):
    """Every node index, each after its inputs (Kahn's algorithm; trusted inputs)."""
    users = [[] for _ in nodes]
    missing = [len(set(n[1])) for n in nodes]
    for i, n in enumerate(nodes):
        for j in set(n[1]):
            users[j].append(i)
    ready, order = [i for i, m in enumerate(missing) if m == 0], []
    while ready:
        i = ready.pop()
        order.append(i)
        for u in users[i]:
            missing[u] -= 1
            if missing[u] == 0:
                ready.append(u)
    return order


def _apply(op, ins):
    """The Value made by ``op`` from the Values ``ins``."""
    if op in OPS2:
        a, b = ins
        return a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b
    (a,) = ins
    if op.startswith("**"):
        return a ** float(op[2:])
    return getattr(a, op)()


def build_values(nodes):
    """One :class:`dlcourse.autograd.Value` per node, computed from its inputs' Values."""
    from dlcourse.autograd import Value

    vals = [None] * len(nodes)
    for i in _order_all(nodes):
        op, inputs, data = nodes[i]
        vals[i] = Value(float(data)) if op == "leaf" else _apply(op, [vals[j] for j in inputs])
    return vals


def ref_op_backward(op, inputs, out, out_grad):
    """What ``op``'s backward adds to each input's grad, from :class:`dlcourse.autograd.Value`."""
    from dlcourse.autograd import Value

    ins = [Value(float(x)) for x in inputs]
    node = _apply(op, ins)
    node.grad = float(out_grad)
    node._backward()  # the op's own chain-rule step, nothing else
    return tuple(v.grad for v in ins)


def ref_topological_order(nodes, output):
    """The package's order of the output's graph, as node indices."""
    vals = build_values(nodes)
    index = {id(v): i for i, v in enumerate(vals)}
    return [index[id(v)] for v in vals[output].topological_order()]


def ref_graph_backward(nodes, output):
    """d(output)/d(node) for every node, by :meth:`dlcourse.autograd.Value.backward`."""
    vals = build_values(nodes)
    vals[output].backward()
    return np.array([v.grad for v in vals], dtype=np.float64)


def ancestors(nodes, output) -> set:
    """The output and every node it depends on."""
    seen, stack = {output}, [output]
    while stack:
        for j in nodes[stack.pop()][1]:
            if j not in seen:
                seen.add(j)
                stack.append(j)
    return seen


def valid_order(c, got) -> str:
    """Criterion: ``got`` lists each node the output depends on exactly once, every node after its inputs."""
    nodes, output = c.args
    try:
        order = np.asarray(got)
    except Exception:  # noqa: BLE001 - whatever was returned
        return f"expected a list of node indices, got {type(got).__name__}"
    if order.ndim != 1 or (order.size and order.dtype.kind not in "iu"):
        return f"expected a flat list of integer node indices, got an array of shape {order.shape}, dtype {order.dtype}"
    order = [int(i) for i in order]
    need = ancestors(nodes, output)
    if len(set(order)) != len(order):
        return "a node appears twice in your order: visit each node once (keep a set of visited nodes)"
    if set(order) - need:
        extra = sorted(set(order) - need)[:3]
        return f"node {extra[0]} is in your order, but the output does not depend on it (only its ancestors belong)"
    if need - set(order):
        return f"node {sorted(need - set(order))[0]} is missing: the output depends on it"
    where = {i: k for k, i in enumerate(order)}
    for i in order:
        for j in nodes[i][1]:
            if where[j] > where[i]:
                hint = " (your order is reversed: the output comes last)" if order[0] == output else ""
                return f"node {i} comes before its input {j}: every node must come after all of its inputs{hint}"
    return ""


# ---- the graph: mistaken op backward (plain Python, for the diagnoses) --------------------------
def _op_backward(op, inputs, out, out_grad, wrong=""):
    g = 1.0 if wrong == "chain" else out_grad
    x = inputs[0]
    if op in OPS2:
        a, b = inputs
        if op == "/":
            return g / b, (g * a / b ** 2 if wrong == "div" else -g * a / b ** 2)
        return {"+": (g, g), "-": (g, g if wrong == "sub" else -g), "*": (g * b, g * a)}[op]
    if op.startswith("**"):
        p = float(op[2:])
        return (g * p * x ** (p if wrong == "pow" else p - 1),)
    local = {"exp": lambda: out, "log": lambda: 1 / out if wrong == "log" else 1 / x,
             "tanh": lambda: 1 - (x * x if wrong == "tanh" else out * out),
             "relu": lambda: float(x >= 0 if wrong == "relu" else x > 0)}[op]
    return (g * local(),)


def _wrong_op(name, message, wrong):
    return Mistake.calls(name, message, lambda op, inputs, out, out_grad: _op_backward(op, inputs, out, out_grad, wrong))


def _op(op, inputs, out_grad, tags=()):
    from dlcourse.autograd import Value

    out = _apply(op, [Value(float(x)) for x in inputs]).data
    return case(op, tuple(float(x) for x in inputs), out, float(out_grad), kind=f"the op {op!r}", tags=tags)


def _op_fixed():
    pairs = {"+": (1.5, -2.0), "-": (0.5, 3.0), "*": (-1.5, 2.5), "/": (3.0, -1.5)}
    singles = {"**2": -1.5, "**3": 0.5, "**-1": 2.0, "**0.5": 2.25, "exp": 0.7, "log": 2.5, "tanh": 0.8,
               "relu": 1.2}
    out = [_op(op, xs, -0.75) for op, xs in pairs.items()] + [_op(op, (x,), 1.5) for op, x in singles.items()]
    return out + [_op("relu", (-0.4,), 2.0), _op("relu", (0.0,), 2.0, {"relu at 0"})]


def _valid_input(rng, op):
    """Inputs on which ``op`` is defined and well away from its edges."""
    x = float(rng.uniform(0.3, 2.5) * rng.choice([-1, 1]))
    if op in ("log", "**0.5"):
        x = abs(x)
    if op in OPS2:
        return x, float(rng.uniform(0.3, 2.5) * rng.choice([-1, 1]))
    return (x,)


def _op_draw(rng):
    op = str(rng.choice(OPS2 + OPS1))
    return _op(op, _valid_input(rng, op), float(rng.normal()))


# ---- the graph: random expression graphs ---------------------------------------------------------
def random_graph(rng, n_ops: int, n_unused: int = 0):
    """``(nodes, output)``: a random expression of ``n_ops`` operations on 2-3 leaves, shuffled.

    Each operation takes the latest node and, for two inputs, any earlier one (so the graph is
    deep and nodes have several users); ``n_unused`` extra nodes, made after the output from
    any nodes, hang off the graph without reaching it.
    """
    from dlcourse.autograd import Value

    vals = [Value(round(float(rng.uniform(0.4, 1.6) * rng.choice([-1, 1])), 2)) for _ in range(int(rng.integers(2, 4)))]
    nodes = [("leaf", (), v.data) for v in vals]
    size = len(nodes) + max(n_ops, 1) + n_unused
    while len(nodes) < size:
        op = str(rng.choice(OPS2 + OPS1))
        k = len(nodes)
        last = k - 1 if k <= size - n_unused else int(rng.integers(0, k))
        picks = [last] + ([int(rng.integers(0, k))] if op in OPS2 else [])
        if op in OPS2 and rng.random() < 0.5:
            picks.reverse()
        a, b = vals[picks[0]].data, vals[picks[-1]].data
        if (op == "/" and abs(b) < 0.3) or (op in ("log", "**0.5") and a < 0.2) or (op == "**-1" and abs(a) < 0.3) \
                or (op == "exp" and a > 3) or (op in ("*", "**2", "**3") and abs(a) * max(abs(b), abs(a)) ** 2 > 50) \
                or (op == "relu" and a < 0 and rng.random() < 0.8):
            continue
        vals.append(_apply(op, [vals[j] for j in picks]))
        nodes.append((op, tuple(picks), vals[-1].data))
    output = len(nodes) - 1 - n_unused  # the nodes after it may use it, it never uses them
    perm = rng.permutation(len(nodes))
    where = {int(old): new for new, old in enumerate(perm)}
    shuffled = [None] * len(nodes)
    for old, (op, ins, data) in enumerate(nodes):
        shuffled[where[old]] = (op, tuple(where[j] for j in ins), float(data))
    return tuple(shuffled), where[output]


def chain_graph(n: int):
    """A chain of ``n`` nodes: x, then alternately tanh(.) and (. * 1.1 leaf): deeper than any recursion limit."""
    from dlcourse.autograd import Value

    v, c = Value(0.5), Value(1.1)
    nodes = [("leaf", (), 0.5), ("leaf", (), 1.1)]
    for k in range(n):
        prev = len(nodes) - 1 if k else 0
        v = v.tanh() if k % 2 else v * c
        nodes.append(("tanh", (prev,), v.data) if k % 2 else ("*", (prev, 1), v.data))
    return tuple(nodes), len(nodes) - 1


def _graph(rng, n_ops, n_unused, kind, tags=()):
    nodes, output = random_graph(rng, n_ops, n_unused)
    return case(nodes, output, kind=kind, tags=tags)


def _graph_fixed():
    rng = np.random.default_rng(73)
    chain_nodes, chain_out = chain_graph(5000)
    return [case((("leaf", (), 3.0), ("*", (0, 0), 9.0)), 1, kind="x * x: a node used twice by one op",
                 tags={"shared input"}),
            _graph(rng, 6, 0, "a small expression in shuffled order", {"shared input"}),
            _graph(rng, 12, 3, "an expression with 3 nodes the output does not use", {"unused nodes", "shared input"}),
            case(chain_nodes, chain_out, kind="a chain of 5,000 nodes (deeper than Python's recursion limit)",
                 tags={"long chain"})]


def _graph_draw(rng):
    n_ops = int(rng.integers(5, 25))
    return _graph(rng, n_ops, int(rng.integers(0, 3)), f"a random expression of {n_ops} operations",
                  {"unused nodes", "shared input"})


RELU0 = "relu'(0) is taken as 0 (as in PyTorch): the local derivative is 1 only for x > 0"
PARTS = [
    Part(A, "mlp_forward_caches_match_reference", "mlp_forward", ("X", "params"), ref_forward, 2,
         _forward_fixed, _forward_draw, 3, dtype="float", outputs=("out", "cache"), partial=True,
         mistakes=(Mistake.calls("ReLU on the output layer", "the last layer is linear: its Z is the output "
                                 "(the logits), with no ReLU", lambda X, p: _forward(X, p, relu_last=True)),
                   Mistake.calls("cache holds the activation", "cache the pre-activation Z of each layer (the "
                                 "backward pass needs relu'(Z)), not its activation A",
                                 lambda X, p: _forward(X, p, cache_activation=True)),
                   Mistake.calls("no ReLU", "apply ReLU after every hidden layer (all layers but the last)",
                                 lambda X, p: _forward(X, p, relu_hidden=False))),
         title="the logits and, per layer, the cache (A_prev, Z) of an L-layer ReLU network"),
    Part(A, "mlp_backward_matches_reference", "mlp_backward", ("dout", "cache", "params"), ref_backward, 2,
         _backward_fixed, _backward_draw, 3, dtype="float", tolerance=EXACT, analytic=True,
         mistakes=(Mistake.calls("ReLU derivative missing", "going down a layer, multiply delta W^T by relu'(Z) "
                                 "of the layer below, (Z > 0)", lambda d, c, p: _backward(d, c, p, mask=False)),
                   Mistake.calls("ReLU derivative at the output", "the output layer has no ReLU: delta_L is dout "
                                 "itself", lambda d, c, p: _backward(d, c, p, mask_output=True)),
                   Mistake.calls("db is a mean", "db is the sum of delta over the rows (dout already holds "
                                 "the 1/N of the loss)", lambda d, c, p: _backward(d, c, p, db_mean=True))),
         title="(dW, db) of every layer by the recursion delta_{l-1} = (delta_l W_l^T) * relu'(Z_{l-1})"),
    Part(A, "sgd_update_matches_reference", "sgd_update", ("params", "grads", "lr"), ref_update, 1,
         _update_fixed, _update_draw, 2, dtype="float",
         mistakes=(Mistake.calls("wrong direction", "step against the gradient: W - lr * dW",
                                 lambda p, g, lr: _update(p, g, lr, sign=1.0)),
                   Mistake.calls("learning rate missing", "multiply each gradient by lr",
                                 lambda p, g, lr: _update(p, g, lr, use_lr=False))),
         title="one gradient step W - lr dW, b - lr db on every layer, params left unchanged"),
    Part(A, "training_loop_matches_reference", "train_mlp",
         ("X", "y", "params", "lr", "epochs", "batch_size", "seed"), ref_train, 2, _train_fixed, _train_draw, 2,
         dtype="float",
         mistakes=(Mistake.calls("no shuffling", "shuffle the rows every epoch: order = rng.permutation(N)",
                                 lambda *a: _train(*a, shuffle=False)),
                   Mistake.calls("the same order every epoch", "make the generator once, before the epochs "
                                 "(np.random.default_rng(seed)), and draw a new permutation from it each epoch",
                                 lambda *a: _train(*a, fresh_rng=True)),
                   Mistake.calls("last batch dropped", "the last batch holds the rows that are left over, even "
                                 "if fewer than batch_size", lambda *a: _train(*a, drop_last=True)),
                   Mistake.calls("labels not shuffled", "index X and y with the same shuffled indices",
                                 lambda *a: _train(*a, shuffle_y=False))),
         depends_on=("mlp_forward", "mlp_backward", "sgd_update"),
         title="the trained parameters equal the reference loop's on a fixed seed"),
    Part(A, "training_reaches_accuracy", "train_mlp",
         ("X", "y", "params", "lr", "epochs", "batch_size", "seed"), ref_train, 1, _digits_fixed, None, 0,
         dtype="float", criterion=reaches_accuracy, time_limit=20.0,
         depends_on=("mlp_forward", "mlp_backward", "sgd_update"),
         title=f"trained on 1,200 digits, the network classifies held-out digits with accuracy >= {DIGITS_ACCURACY}"),
    Part(A, "op_backward_matches_reference", "op_backward", ("op", "inputs", "out", "out_grad"), ref_op_backward, 2,
         _op_fixed, _op_draw, 4, dtype="any",
         mistakes=(_wrong_op("chain rule missing", "multiply the local derivative by out_grad (the chain rule)",
                             "chain"),
                   _wrong_op("tanh' of the input", "tanh'(x) = 1 - tanh(x)**2 = 1 - out**2, not 1 - x**2", "tanh"),
                   _wrong_op("log' of the output", "d log(x)/dx = 1/x of the input x, not 1/out", "log"),
                   _wrong_op("sign of a / b", "d(a/b)/db = -a / b**2 (negative)", "div"),
                   _wrong_op("sign of a - b", "d(a - b)/db = -1", "sub"),
                   _wrong_op("exponent not lowered", "d(x**p)/dx = p * x**(p - 1)", "pow"),
                   _wrong_op("relu'(0)", RELU0, "relu")),
         title="the gradient each op passes to its inputs: out_grad times the local derivative"),
    Part(A, "topological_order_is_valid", "topological_order", ("nodes", "output"), ref_topological_order, 1,
         _graph_fixed, _graph_draw, 3, dtype="any", criterion=valid_order,
         title="each node the output depends on, once, after all of its inputs"),
    Part(A, "graph_backward_matches_reference", "graph_backward", ("nodes", "output"), ref_graph_backward, 2,
         _graph_fixed, _graph_draw, 3, dtype="float", tolerance=Tolerance(rtol=1e-9, atol=1e-12),
         mistakes=(Mistake.transforms("output not seeded", "start with grad[output] = 1 (d out / d out) and 0 "
                                      "everywhere else", lambda e: np.zeros_like(e)),),
         depends_on=("topological_order", "op_backward"),
         title="d output / d node for every node, by the chain rule in reverse topological order"),
]
