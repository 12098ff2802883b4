from . import correct, mistake

FW, BW, UP, TR, ACC, OP, TO, GB = (
    "mlp_forward_caches_match_reference", "mlp_backward_matches_reference", "sgd_update_matches_reference",
    "training_loop_matches_reference", "training_reaches_accuracy", "op_backward_matches_reference",
    "topological_order_is_valid", "graph_backward_matches_reference")

FORWARD = '''
def mlp_forward(X, params):
    A, cache = X, []
    for l, (W, b) in enumerate(params):
        A_prev = A
        Z = A_prev @ W + b
        last = l == len(params) - 1
        A = {out}
        cache.append((A_prev, {cached}))
    return A, cache
'''
BACKWARD = '''
def mlp_backward(dout, cache, params):
    grads = []
    delta = {first}
    for l in reversed(range(len(params))):
        A_prev, Z = cache[l]
        grads.insert(0, ({dW}, {db}))
        if l:
            delta = delta @ params[l][0].T * (cache[l - 1][1] > 0)
    return grads
'''
TRAIN = '''
def train_mlp(X, y, params, lr, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    params = [(W, b) for W, b in params]
    for _ in range(epochs):
        order = {order}
        for s in range(0, len(X), batch_size):
            idx = order[s:s + batch_size]
            xb, yb = X[idx], {yb}
            acts, Zs = [xb], []
            for l, (W, b) in enumerate(params):
                Zs.append(acts[-1] @ W + b)
                acts.append(np.maximum(Zs[-1], 0) if l < len(params) - 1 else Zs[-1])
            P = np.exp(Zs[-1] - Zs[-1].max(axis=1, keepdims=True))
            P /= P.sum(axis=1, keepdims=True)
            P[np.arange(len(yb)), yb] -= 1
            delta = P / len(yb)
            new = [None] * len(params)
            for l in range(len(params) - 1, -1, -1):
                W, b = params[l]
                new[l] = (W - lr * (acts[l].T @ delta), b - lr * delta.sum(axis=0))
                delta = (delta @ W.T) * (Zs[l - 1] > 0) if l else None
            params = new
    return params
'''
OP_BACKWARD = '''
def op_backward(op, inputs, out, out_grad):
    x = inputs[0]
    y = inputs[-1]
    if op.startswith("**"):
        p = float(op[2:])
        return (out_grad * p * x ** (p - 1),)
    local = {{"+": lambda: (1.0, 1.0), "-": lambda: (1.0, -1.0), "*": lambda: (y, x),
             "/": lambda: (1 / y, {div}), "exp": lambda: (out,), "log": lambda: (1 / x,),
             "tanh": lambda: (1 - out ** 2,), "relu": lambda: ({relu},)}}[op]()
    return tuple({scale} * d for d in local)
'''
TOPO_KAHN = '''
def topological_order(nodes, output):
    keep, todo = {output}, [output]
    while todo:
        for j in nodes[todo.pop()][1]:
            if j not in keep:
                keep.add(j)
                todo.append(j)
    keep = KEEP
    waiting = {i: len(set(nodes[i][1])) for i in keep}
    users = {i: [] for i in keep}
    for i in keep:
        for j in set(nodes[i][1]):
            users[j].append(i)
    ready = [i for i in keep if waiting[i] == 0]
    order = []
    while ready:
        i = ready.pop()
        order.append(i)
        for u in users[i]:
            waiting[u] -= 1
            if waiting[u] == 0:
                ready.append(u)
    return ORDER
'''
GRAPH = '''
def graph_backward(nodes, output):
    order, stack, seen = [], [(output, False)], set()
    while stack:
        i, done = stack.pop()
        if done:
            order.append(i)
        elif i not in seen:
            seen.add(i)
            stack.append((i, True))
            stack.extend((j, False) for j in nodes[i][1])
    grad = np.zeros(len(nodes))
    grad[output] = 1.0
    for i in reversed(order):
        op, ins, out = nodes[i]
        g = grad[i]
        xs = [nodes[j][2] for j in ins]
        if op == "+": parts = [g, g]
        elif op == "-": parts = [g, -g]
        elif op == "*": parts = [g * xs[1], g * xs[0]]
        elif op == "/": parts = [g / xs[1], -g * xs[0] / xs[1] ** 2]
        elif op.startswith("**"): parts = [g * float(op[2:]) * xs[0] ** (float(op[2:]) - 1)]
        elif op == "exp": parts = [g * out]
        elif op == "log": parts = [g / xs[0]]
        elif op == "tanh": parts = [g * (1 - out * out)]
        elif op == "relu": parts = [g * (xs[0] > 0)]
        else: parts = []
        for j, p in zip(ins, parts):
            grad[j] {assign} p
    return grad
'''

ENTRIES = [
    mistake(FW, "the activation cached", FORWARD.format(out="Z if last else np.maximum(Z, 0)", cached="A"),
            "cache holds the activation"),
    mistake(FW, "ReLU after the last layer too", FORWARD.format(out="np.maximum(Z, 0)", cached="Z"),
            "ReLU on the output layer"),
    correct(FW, "activations kept in a list", "def mlp_forward(X, params):\n    acts, cache = [X], []\n"
            "    for l, (W, b) in enumerate(params):\n        Z = acts[-1] @ W + b\n        cache.append((acts[-1], Z))\n"
            "        acts.append(Z if l + 1 == len(params) else np.where(Z > 0, Z, 0.0))\n    return acts[-1], cache"),
    mistake(BW, "db as a mean", BACKWARD.format(first="dout", dW="A_prev.T @ delta", db="delta.mean(axis=0)"),
            "db is a mean"),
    mistake(BW, "ReLU mask on the output", BACKWARD.format(first="dout * (cache[-1][1] > 0)", dW="A_prev.T @ delta",
                                                          db="delta.sum(axis=0)"), "ReLU derivative at the output"),
    mistake(BW, "dW transposed", BACKWARD.format(first="dout", dW="delta.T @ A_prev", db="delta.sum(axis=0)"), None,
            "wrong shape"),
    correct(BW, "np.where for relu' and a reversed list", BACKWARD.format(first="dout", dW="A_prev.T @ delta",
                                                                           db="np.sum(delta, axis=0)")),
    mistake(UP, "in place", "def sgd_update(params, grads, lr):\n    for (W, b), (dW, db) in zip(params, grads):\n"
            "        W -= lr * dW\n        b -= lr * db\n    return params", "input mutated in place"),
    mistake(UP, "gradient ascent", "def sgd_update(params, grads, lr):\n"
            "    return [(W + lr * dW, b + lr * db) for (W, b), (dW, db) in zip(params, grads)]", "wrong direction"),
    correct(UP, "index loop", "def sgd_update(params, grads, lr):\n    new = []\n    for i in range(len(params)):\n"
            "        new.append((params[i][0] - lr * grads[i][0], params[i][1] - lr * grads[i][1]))\n    return new"),
    mistake(TR, "no shuffling", TRAIN.format(order="np.arange(len(X))", yb="y[idx]"), "no shuffling"),
    mistake(TR, "labels in the old order", TRAIN.format(order="rng.permutation(len(X))", yb="y[s:s + batch_size]"),
            "labels not shuffled"),
    correct(TR, "one function, all inline", TRAIN.format(order="rng.permutation(len(X))", yb="y[idx]")),
    correct(ACC, "one function, all inline", TRAIN.format(order="rng.permutation(len(X))", yb="y[idx]")),
    mistake(OP, "sign of d(a/b)/db", OP_BACKWARD.format(div="x / y ** 2", relu="float(x > 0)", scale="out_grad"),
            "sign of a / b"),
    mistake(OP, "out_grad forgotten", OP_BACKWARD.format(div="-x / y ** 2", relu="float(x > 0)", scale="1.0")
            .replace("return (out_grad * p", "return (p"), "chain rule missing"),
    mistake(OP, "relu'(0) = 1", OP_BACKWARD.format(div="-x / y ** 2", relu="float(x >= 0)", scale="out_grad"),
            "relu'(0)"),
    correct(OP, "table of local derivatives", OP_BACKWARD.format(div="-x / y ** 2", relu="float(x > 0)",
                                                                  scale="out_grad")),
    mistake(TO, "output first", TOPO_KAHN.replace("KEEP", "keep").replace("ORDER", "order[::-1]"), None, "reversed"),
    mistake(TO, "every node, not only the ancestors", TOPO_KAHN.replace("KEEP", "set(range(len(nodes)))")
            .replace("ORDER", "order"), None, "does not depend on it"),
    correct(TO, "Kahn's algorithm on the ancestors", TOPO_KAHN.replace("KEEP", "keep").replace("ORDER", "order")),
    mistake(GB, "gradients overwritten", GRAPH.format(assign="="), None),
    correct(GB, "one function, iterative post-order", GRAPH.format(assign="+=")),
]
