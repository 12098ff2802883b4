from . import correct, mistake

SD, TD, SY, NG, BP = ("sigmoid_derivative_matches_reference", "tanh_derivative_matches_reference",
                      "sympy_derivative_matches_reference", "numerical_gradient_matches_reference",
                      "backprop_matches_reference")
BACKPROP = '''
def two_layer_backward(X, Y, W1, b1, W2, b2):
    N = X.shape[0]
    A1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    Z2 = A1 @ W2 + b2
    P = np.exp(Z2 - Z2.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    dZ2 = (P - Y) / N
    dZ1 = (dZ2 @ W2.T) * {local}
    return X.T @ dZ1, dZ1.sum(0), A1.T @ dZ2, dZ2.sum(0)
'''
FD_BACKPROP = '''
def two_layer_backward(X, Y, W1, b1, W2, b2):
    def loss(W1, b1, W2, b2):
        A1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
        Z2 = A1 @ W2 + b2
        Z2 = Z2 - Z2.max(1, keepdims=True)
        return -np.mean(np.sum(Y * (Z2 - np.log(np.exp(Z2).sum(1, keepdims=True))), axis=1))
    params = [W1.copy(), b1.copy(), W2.copy(), b2.copy()]
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + 1e-5
            up = loss(*params)
            p[idx] = old - 1e-5
            down = loss(*params)
            p[idx] = old
            g[idx] = (up - down) / 2e-5
        grads.append(g)
    return tuple(grads)
'''
ENTRIES = [
    mistake(SD, "derivative of the activation", "def sigmoid_derivative(z):\n    return z * (1 - z)",
            "derivative fed the activation"),
    mistake(SD, "sigmoid itself", "def sigmoid_derivative(z):\n    return 1 / (1 + np.exp(-z))", None),
    mistake(SD, "finite differences", "def sigmoid_derivative(z):\n    s = lambda v: 1 / (1 + np.exp(-v))\n"
            "    h = 1e-5\n    return (s(z + h) - s(z - h)) / (2 * h)", None, "finite-difference estimate cannot"),
    correct(SD, "exp form", "def sigmoid_derivative(z):\n    e = np.exp(-np.abs(z))\n    return e / (1 + e) ** 2"),
    correct(SD, "s * (1 - s)", "def sigmoid_derivative(z):\n    s = 1 / (1 + np.exp(-z))\n    return s * (1 - s)"),
    mistake(TD, "1 - z**2", "def tanh_derivative(z):\n    return 1 - z ** 2", "derivative fed the activation"),
    mistake(TD, "square missing", "def tanh_derivative(z):\n    return 1 - np.tanh(z)", "square missing"),
    mistake(TD, "the sigmoid's derivative", "def tanh_derivative(z):\n    s = 1 / (1 + np.exp(-z))\n    return s * (1 - s)",
            "sigmoid's derivative"),
    correct(TD, "sech squared", "def tanh_derivative(z):\n    return 1 / np.cosh(z) ** 2"),
    mistake(SY, "expression not differentiated", "import sympy as sp\n"
            "def derivative_with_sympy(expression, z):\n    x = sp.Symbol('x')\n"
            "    return sp.lambdify(x, sp.sympify(expression), 'numpy')(np.asarray(z, float))", "f instead of f'"),
    mistake(SY, "second derivative", "import sympy as sp\n"
            "def derivative_with_sympy(expression, z):\n    x = sp.Symbol('x')\n"
            "    return np.asarray(sp.lambdify(x, sp.diff(sp.sympify(expression), x, 2), 'numpy')(np.asarray(z, float)), float)"),
    correct(SY, "diff then evaluate point by point", "import sympy as sp\n"
            "def derivative_with_sympy(expression, z):\n    x = sp.Symbol('x')\n"
            "    d = sp.diff(sp.sympify(expression), x)\n"
            "    return np.array([float(d.subs(x, float(v)).evalf(30)) for v in np.ravel(z)]).reshape(np.shape(z))"),
    mistake(NG, "one-sided difference", "def numerical_gradient(f, x, eps=1e-6):\n    g = np.zeros_like(x, dtype=float)\n"
            "    fx = f(x)\n    for i in np.ndindex(x.shape):\n        xp = x.astype(float)\n        xp[i] += eps\n"
            "        g[i] = (f(xp) - fx) / eps\n    return g", "one-sided difference"),
    mistake(NG, "x changed and not restored", "def numerical_gradient(f, x, eps=1e-6):\n    g = np.zeros_like(x)\n"
            "    for i in np.ndindex(x.shape):\n        x[i] += eps\n        up = f(x)\n        x[i] -= 2 * eps\n"
            "        down = f(x)\n        g[i] = (up - down) / (2 * eps)\n    return g", "input mutated in place"),
    mistake(NG, "only 1-D x", "def numerical_gradient(f, x, eps=1e-6):\n    g = np.zeros(len(x))\n"
            "    for i in range(len(x)):\n        e = np.zeros(len(x))\n        e[i] = eps\n"
            "        g[i] = (f(x + e) - f(x - e)) / (2 * eps)\n    return g", None),
    correct(NG, "flat view with restore", "def numerical_gradient(f, x, eps=1e-6):\n    x = np.array(x, dtype=float)\n"
            "    flat = x.reshape(-1)\n    g = np.zeros_like(flat)\n    for i in range(flat.size):\n        old = flat[i]\n"
            "        flat[i] = old + eps\n        up = f(x)\n        flat[i] = old - eps\n        down = f(x)\n"
            "        flat[i] = old\n        g[i] = (up - down) / (2 * eps)\n    return g.reshape(x.shape)"),
    mistake(BP, "sigmoid' of the activation", BACKPROP.format(local="(1 / (1 + np.exp(-A1))) * (1 - 1 / (1 + np.exp(-A1)))"),
            "derivative fed the activation"),
    mistake(BP, "mean missing", BACKPROP.replace("/ N", "/ 1").format(local="A1 * (1 - A1)"), "mean missing"),
    mistake(BP, "finite differences", FD_BACKPROP, None, "finite-difference estimate cannot"),
    correct(BP, "s(z)(1 - s(z)) of the pre-activation", BACKPROP.format(
        local="(1 / (1 + np.exp(-(X @ W1 + b1)))) * (1 - 1 / (1 + np.exp(-(X @ W1 + b1))))")),
]
