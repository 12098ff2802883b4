from . import correct, mistake

S, P, U, T = ("step_matches_reference", "predict_matches_reference", "update_matches_reference",
              "training_matches_reference")
ENTRIES = [
    mistake(S, ">= at zero", "def step(z):\n    return np.where(z >= 0, 1.0, 0.0)", ">= instead of >"),
    mistake(S, "np.sign", "def step(z):\n    return np.sign(z)", "np.sign"),
    mistake(S, "returns z itself", "def step(z):\n    return np.maximum(z, 0)", None),
    mistake(S, "python max on an array", "def step(z):\n    return 1.0 if np.max(z) > 0 else 0.0", None,
            "wrong shape"),
    correct(S, "float64 result (any real dtype is allowed)",
            "def step(z):\n    return np.where(z > 0, np.float64(1), np.float64(0))"),
    correct(S, "bool array", "def step(z):\n    return np.asarray(z) > 0"),
    correct(S, "heaviside", "def step(z):\n    return np.heaviside(z, 0.0)"),
    mistake(P, ">= in predict", "def perceptron_predict(X, w, b):\n    return (X @ w + b >= 0).astype(float)",
            ">= instead of >"),
    mistake(P, "bias missing", "def perceptron_predict(X, w, b):\n    return (X @ w > 0).astype(float)", "bias missing"),
    mistake(P, "net input returned", "def perceptron_predict(X, w, b):\n    return X @ w + b", "no step"),
    mistake(P, "keeps a column", "def perceptron_predict(X, w, b):\n    return (X @ w[:, None] + b > 0).astype(float)",
            None, "wrong shape: expected shape (4,), got shape (4, 1)"),
    correct(P, "loop over rows", "def perceptron_predict(X, w, b):\n"
            "    return np.array([1.0 if sum(xi * wi for xi, wi in zip(x, w)) + b > 0 else 0.0 for x in X])"),
    mistake(U, "error sign flipped", "def perceptron_update(x, y, w, b, lr):\n"
            "    err = float(x @ w + b > 0) - y\n    return w + lr * err * x, b + lr * err", "error sign flipped"),
    mistake(U, "no learning rate", "def perceptron_update(x, y, w, b, lr):\n"
            "    err = y - float(x @ w + b > 0)\n    return w + err * x, b + err", "learning rate missing"),
    mistake(U, "bias from the new weights", "def perceptron_update(x, y, w, b, lr):\n"
            "    w2 = w + lr * (y - float(x @ w + b > 0)) * x\n"
            "    return w2, b + lr * (y - float(x @ w2 + b > 0))", "error recomputed"),
    mistake(U, "bias never updated", "def perceptron_update(x, y, w, b, lr):\n"
            "    return w + lr * (y - float(x @ w + b > 0)) * x, b", None),
    mistake(U, ">= in the update", "def perceptron_update(x, y, w, b, lr):\n"
            "    err = y - float(x @ w + b >= 0)\n    return w + lr * err * x, b + lr * err", ">= instead of >"),
    mistake(U, "w changed in place", "def perceptron_update(x, y, w, b, lr):\n"
            "    err = y - float(x @ w + b > 0)\n    w += lr * err * x\n    return w, b + lr * err",
            "input mutated in place"),
    correct(U, "if/else on the prediction", "def perceptron_update(x, y, w, b, lr):\n"
            "    y_hat = 1 if np.dot(x, w) + b > 0 else 0\n    if y_hat == y:\n        return w.copy(), b\n"
            "    return w + lr * (y - y_hat) * x, b + lr * (y - y_hat)"),
    mistake(T, "starts from ones", "def train_perceptron(X, y, lr=0.1, epochs=10):\n"
            "    w, b = np.ones(X.shape[1]), 0.0\n    for _ in range(epochs):\n        for xi, yi in zip(X, y):\n"
            "            e = yi - float(xi @ w + b > 0)\n            w, b = w + lr * e * xi, b + lr * e\n    return w, b"),
    mistake(T, "batch update", "def train_perceptron(X, y, lr=0.1, epochs=10):\n"
            "    w, b = np.zeros(X.shape[1]), 0.0\n    for _ in range(epochs):\n"
            "        e = y - (X @ w + b > 0)\n        w, b = w + lr * e @ X, b + lr * e.sum()\n    return w, b"),
    mistake(T, "stops at the first clean epoch too late (one epoch less)", "def train_perceptron(X, y, lr=0.1, epochs=10):\n"
            "    w, b = np.zeros(X.shape[1]), 0.0\n    for _ in range(epochs - 1):\n        for xi, yi in zip(X, y):\n"
            "            e = yi - float(xi @ w + b > 0)\n            w, b = w + lr * e * xi, b + lr * e\n    return w, b"),
    correct(T, "early stop when an epoch makes no change", "def train_perceptron(X, y, lr=0.1, epochs=10):\n"
            "    w, b = np.zeros(X.shape[1]), 0.0\n    for _ in range(epochs):\n        changed = False\n"
            "        for xi, yi in zip(X, y):\n            e = yi - float(xi @ w + b > 0)\n            if e:\n"
            "                w, b, changed = w + lr * e * xi, b + lr * e, True\n        if not changed:\n            break\n"
            "    return w, b"),
]
