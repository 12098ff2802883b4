"""Content of ex07_training: an L-layer network by hand, its training loop, and a scalar autograd engine."""

from . import Given, Markdown, Solution, Written

CHAPTER = ("05_backprop", "Backpropagation and the training loop")
COVERS = (
    "the forward pass of an L-layer ReLU network with its caches, backpropagation for any depth, "
    "the gradient step, a mini-batch training loop that must reach 90 % on held-out digits, and the "
    "core of a scalar autograd engine (the backward of each operation, a topological order, the "
    "backward pass over a whole graph); a written answer on the order of the backward pass"
)

IMPORTS = ["import numpy as np"]

INTRO = r"""
# Exercise 7: backpropagation and the training loop, built yourself

Following the chapter *Backpropagation and the training loop*, you write every piece of
training a network without a framework: the forward pass of a network of any depth, keeping
what the backward pass needs; backpropagation by the layer recursion; the gradient step; and
the loop that shuffles the data, cuts it into mini-batches and repeats for several epochs. Your
loop then has to learn the handwritten digits. Last, you write the heart of an autograd engine:
the chain rule on a graph of scalar operations.

Write each body where it says `YOUR CODE HERE` (delete the `raise NotImplementedError()`).
The test cell after each function names the first failing input and, where it can confirm it,
the likely cause; each call of your function may run 5 seconds (20 for the digits). Calling
`dlcourse` inside your functions earns no points. Run the next cells first.
"""

CELLS = [
    Markdown(r"""
## The network

A network of $L$ dense layers is given as `params`, a list of pairs `(W, b)`: layer $l$ has
$W_l$ of shape $(D_{l-1}, D_l)$ and $\mathbf{b}_l$ of shape $(D_l,)$, and the rows of $X$ are the
samples ($A_0 = X$, shape $(N, D_0)$). Every layer but the last is followed by ReLU; the last
one's output is the network's output (the logits, one score per class):

$$Z_l = A_{l-1}W_l + \mathbf{b}_l,\qquad A_l = \mathrm{ReLU}(Z_l)\ \ (l < L),\qquad \text{out} = Z_L.$$

Two helpers are given: `relu`, and `softmax_cross_entropy`, the mean cross-entropy of the
logits for integer labels together with its gradient with respect to the logits,
$\partial L/\partial Z_L = (\mathrm{softmax}(Z_L) - Y)/N$ (the losses chapter derives it; here
you only use it).
"""),
    Given("helpers", r'''
# Given helpers (read-only).
def relu(Z):
    """max(Z, 0), element-wise (a new array)."""
    return np.maximum(Z, 0)


def softmax_cross_entropy(Z, y):
    """Mean softmax cross-entropy of the logits Z (N, K) for integer labels y (N,), and dL/dZ (N, K)."""
    N, rows = Z.shape[0], np.arange(Z.shape[0])
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # log-softmax, stable
    loss = -log_P[rows, y].mean()
    dZ = np.exp(log_P)
    dZ[rows, y] -= 1.0
    return loss, dZ / N
'''),
    Markdown(r"""
## 1. The forward pass, with caches

Return the output and a **cache**: for each layer, in order, the pair `(A_prev, Z)` of its
input $A_{l-1}$ and its pre-activation $Z_l$. The backward pass needs exactly these: $A_{l-1}$
for $\partial L/\partial W_l$ and $Z_l$ for $\mathrm{ReLU}'(Z_l)$. The last layer has no ReLU,
and a network with one layer ($L = 1$) has none at all. Do not change the arrays you are given.
"""),
    Solution("mlp_forward", r'''
def mlp_forward(X, params):
    """Forward pass of an L-layer ReLU network, keeping a cache per layer.

    Parameters
    ----------
    X : ndarray, shape (N, D0)
    params : list of L pairs (W, b), W of shape (D_{l-1}, D_l), b of shape (D_l,)

    Returns
    -------
    out : ndarray, shape (N, D_L)
        Z_L, the last layer's output (no ReLU).
    cache : list of L pairs (A_prev, Z)
        A_prev (N, D_{l-1}) the layer's input, Z (N, D_l) its pre-activation.
    """
    ### BEGIN SOLUTION
    A_prev, cache = X, []
    for l, (W, b) in enumerate(params):
        Z = A_prev @ W + b
        cache.append((A_prev, Z))
        A_prev = Z if l == len(params) - 1 else relu(Z)
    return A_prev, cache
    ### END SOLUTION
''', ["mlp_forward_caches_match_reference"]),
    Markdown(r"""
## 2. Backpropagation for any depth

Call $\delta_l = \partial L/\partial Z_l$ (shape $(N, D_l)$). You get $\delta_L$ = `dout`, the
gradient of the loss with respect to the output. Each layer then gives

$$\frac{\partial L}{\partial W_l} = A_{l-1}^{\top}\delta_l,\qquad
\frac{\partial L}{\partial \mathbf{b}_l} = \sum_{n}\delta_{l,n},\qquad
\delta_{l-1} = \bigl(\delta_l W_l^{\top}\bigr)\odot \mathrm{ReLU}'(Z_{l-1}),$$

with $\mathrm{ReLU}'(z) = 1$ for $z > 0$ and $0$ otherwise. Go from $l = L$ down to $l = 1$ and
return the gradients in the layout of `params`: a list of `(dW, db)`, one pair per layer, in
layer order. `dout` already holds the $1/N$ of a mean loss: `db` is a sum over the rows. The check
compares with the reference to rounding, which the recursion meets exactly.
"""),
    Solution("mlp_backward", r'''
def mlp_backward(dout, cache, params):
    """Gradients of every W and b by the layer recursion.

    Parameters
    ----------
    dout : ndarray, shape (N, D_L)
        dL/dZ_L, the gradient of the loss with respect to the network's output.
    cache : list of L pairs (A_prev, Z), from mlp_forward
    params : list of L pairs (W, b)

    Returns
    -------
    grads : list of L pairs (dW, db), dW of W's shape and db of b's shape
    """
    ### BEGIN SOLUTION
    grads = [None] * len(params)
    delta = dout
    for l in range(len(params) - 1, -1, -1):
        A_prev = cache[l][0]
        grads[l] = (A_prev.T @ delta, delta.sum(axis=0))
        if l > 0:
            W = params[l][0]
            delta = (delta @ W.T) * (cache[l - 1][1] > 0)
    return grads
    ### END SOLUTION
''', ["mlp_backward_matches_reference"]),
    Markdown(r"""
## 3. The gradient step

Plain gradient descent moves every parameter against its gradient:
$W \leftarrow W - \eta\,\partial L/\partial W$ and the same for $\mathbf{b}$, with the learning rate
$\eta$ = `lr`. Return the new parameters as a new list of pairs; the arrays in `params` must stay
as they were (no `W -= ...`).
"""),
    Solution("sgd_update", r'''
def sgd_update(params, grads, lr):
    """One gradient-descent step on every layer.

    Parameters
    ----------
    params : list of L pairs (W, b)
    grads : list of L pairs (dW, db), of the same shapes
    lr : float

    Returns
    -------
    list of L pairs (W - lr * dW, b - lr * db)
    """
    ### BEGIN SOLUTION
    return [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]
    ### END SOLUTION
''', ["sgd_update_matches_reference"]),
    Markdown(r"""
## 4. The training loop

Put the pieces together. Make the generator **once**, `rng = np.random.default_rng(seed)`, before
the first epoch. In each epoch draw a new order of the rows, `order = rng.permutation(N)`, and
walk through it in mini-batches of `batch_size` rows (`order[0:batch_size]`, then the next ones;
the last batch holds what is left, even if it is smaller). For each batch: forward pass, the
loss and its gradient with `softmax_cross_entropy`, backward pass, gradient step. Return the
trained parameters.

Two checks grade this function. The first compares your parameters after training with the
reference loop's on small problems (with the same seed the shuffles are the same, so the
numbers must agree). The second trains on 1,200 of the handwritten digits (64 pixels scaled to
[0, 1], 10 classes) for 10 epochs and scores your network on the other 597 digits, which it
never saw: it must classify at least 90 % of them correctly.
"""),
    Solution("train_mlp", r'''
def train_mlp(X, y, params, lr, epochs, batch_size, seed):
    """Mini-batch gradient descent on the mean softmax cross-entropy.

    Parameters
    ----------
    X : ndarray, shape (N, D0)
    y : ndarray, shape (N,), integer labels in 0..K-1
    params : list of L pairs (W, b), the starting point (not modified)
    lr : float
    epochs : int
    batch_size : int
    seed : int
        Seed of the generator that shuffles the rows.

    Returns
    -------
    list of L pairs (W, b), the trained parameters
    """
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    N = X.shape[0]
    for epoch in range(epochs):
        order = rng.permutation(N)
        for start in range(0, N, batch_size):
            idx = order[start:start + batch_size]
            out, cache = mlp_forward(X[idx], params)
            loss, dout = softmax_cross_entropy(out, y[idx])
            params = sgd_update(params, mlp_backward(dout, cache, params), lr)
    return params
    ### END SOLUTION
''', ["training_loop_matches_reference", "training_reaches_accuracy"]),
    Markdown(r"""
## 5. An autograd engine: one operation at a time

An autograd engine records every scalar operation as a node of a graph. Here a graph is plain
data: `nodes` is a list of triples `(op, inputs, data)`, where `inputs` holds the indices of the
nodes the operation was applied to and `data` is its value. `op` is one of `"leaf"` (an input,
no inputs), `"+"`, `"-"`, `"*"`, `"/"` (two inputs `(a, b)`, in that order), or `"exp"`, `"log"`,
`"tanh"`, `"relu"` and `"**p"` (the power $x^p$ with the number `p` written after `**`, as in
`"**2"`, `"**-1"` or `"**0.5"`; `float(op[2:])` reads it), which have one input $x$.

The backward of an operation is one step of the chain rule: given the gradient of the final
output with respect to this node, `out_grad`, it returns what that makes for each input,
`out_grad` times the local derivative $\partial\,\text{out}/\partial\,\text{input}$. You get the
inputs' values and the node's own value `out` (handy: $\frac{d}{dx}e^x = e^x$ = out and
$\tanh'(x) = 1 - \text{out}^2$). Take $\mathrm{ReLU}'(0) = 0$, as PyTorch does.
"""),
    Solution("op_backward", r'''
def op_backward(op, inputs, out, out_grad):
    """The chain-rule step of one operation.

    Parameters
    ----------
    op : str
        "+", "-", "*", "/", "**p", "exp", "log", "tanh" or "relu".
    inputs : tuple of floats
        The inputs' values: (a, b) for the four arithmetic ops, (x,) for the others.
    out : float
        The operation's value.
    out_grad : float
        d(final output)/d(out).

    Returns
    -------
    tuple of floats, one per input
        out_grad * d(out)/d(input).
    """
    ### BEGIN SOLUTION
    g = out_grad
    if op == "+":
        return (g, g)
    if op == "-":
        return (g, -g)
    if op == "*":
        a, b = inputs
        return (g * b, g * a)
    if op == "/":
        a, b = inputs
        return (g / b, -g * a / b ** 2)
    x = inputs[0]
    if op.startswith("**"):
        p = float(op[2:])
        return (g * p * x ** (p - 1),)
    if op == "exp":
        return (g * out,)
    if op == "log":
        return (g / x,)
    if op == "tanh":
        return (g * (1 - out ** 2),)
    if op == "relu":
        return (g * (1.0 if x > 0 else 0.0),)
    raise ValueError(f"unknown op {op!r}")
    ### END SOLUTION
''', ["op_backward_matches_reference"]),
    Markdown(r"""
## 6. A topological order

The backward pass may handle a node only once every node that uses it has passed its gradient
on. Any order in which each node comes **after all of its inputs** (a topological order),
read backwards, does that. Return one such order, as a list of node indices, of exactly the
nodes that `output` depends on (`output` itself included, so it comes last; nodes that do not
lead to `output` are left out). The nodes are given in no particular order, and any valid order
earns the points.

A depth-first search gives one: visit a node's inputs first, then append the node. One of the
graphs is a chain of 5,000 nodes, deeper than Python's recursion limit, so use a loop with a
stack of your own rather than a recursive function.
"""),
    Solution("topological_order", r'''
def topological_order(nodes, output):
    """The nodes that output depends on, each after all of its inputs.

    Parameters
    ----------
    nodes : list of (op, inputs, data)
    output : int
        Index of the final node.

    Returns
    -------
    list of int
        Node indices; each appears once, after the indices in its inputs; output is last.
    """
    ### BEGIN SOLUTION
    order, state = [], {}
    stack = [output]
    while stack:
        i = stack[-1]
        if i not in state:
            state[i] = "open"
            stack.extend(j for j in nodes[i][1] if j not in state)
            continue
        stack.pop()
        if state[i] == "open":
            state[i] = "done"
            order.append(i)
    return order
    ### END SOLUTION
''', ["topological_order_is_valid"]),
    Markdown(r"""
## 7. The backward pass over a graph

Now the whole engine: the gradient of `output` with respect to every node. Start from
$\partial\,\text{output}/\partial\,\text{output} = 1$ and 0 for every other node, visit the nodes
in reverse topological order and let each pass its gradient to its inputs with `op_backward`.
A node used several times (in $x \cdot x$, or by two later nodes) receives the **sum** of what
each use passes to it: add (`+=`) into its gradient, never overwrite it. Nodes that `output`
does not depend on keep gradient 0. Return one float per node, indexed like `nodes`.
"""),
    Solution("graph_backward", r'''
def graph_backward(nodes, output):
    """d(output)/d(node) for every node of the graph.

    Parameters
    ----------
    nodes : list of (op, inputs, data)
    output : int

    Returns
    -------
    ndarray, shape (len(nodes),), float64
    """
    ### BEGIN SOLUTION
    grad = np.zeros(len(nodes))
    grad[output] = 1.0
    for i in reversed(topological_order(nodes, output)):
        op, inputs, data = nodes[i]
        if op == "leaf":
            continue
        passed = op_backward(op, tuple(nodes[j][2] for j in inputs), data, grad[i])
        for j, g in zip(inputs, passed):
            grad[j] += g
    return grad
    ### END SOLUTION
''', ["graph_backward_matches_reference"]),
    Written("backward_order_answer", 2, r"""
## 8. Written answer: why the order, and why the sum

In `graph_backward`, what goes wrong if a node passes its gradient on before every node that
uses it has passed theirs to it? Answer with the graph $y = x \cdot x + x$ (three operations on
one leaf $x$): which gradient would be wrong, and what is the right $dy/dx$? Then say in one or
two sentences why `mlp_backward` needs no topological sort.
""", r"""
A node's gradient is the sum of the contributions of all its users. If $x$ passed its gradient on
(or if we read it) before all three uses had added theirs, it would be incomplete: with
$u = x \cdot x$ and $y = u + x$, $dy/dx = 2x + 1$; after only the "+" node it would be 1, and if
`=` overwrote instead of `+=` it would be $2x$ or $1$, depending on the order. In `mlp_backward`
the graph is a chain of layers, so the reverse layer order $L, L-1, \dots, 1$ is already a reverse
topological order (each layer is used only by the next one), and the matrix products sum the
contributions of all units at once.
"""),
]
