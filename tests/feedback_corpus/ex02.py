from . import correct, mistake

SIG, SIGS, TANH, RELU = ("sigmoid_matches_reference", "sigmoid_is_stable", "tanh_matches_reference",
                         "relu_matches_reference")
SM, SMS, DENSE, MLP = ("softmax_matches_reference", "softmax_is_stable", "dense_forward_matches_reference",
                       "mlp_forward_matches_reference")
SOFTMAX = ("def softmax(Z):\n    e = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
           "    return e / e.sum(axis=1, keepdims=True)\n")
ENTRIES = [
    mistake(SIG, "exp(z) instead of exp(-z)", "def sigmoid(z):\n    return 1 / (1 + np.exp(z))", "sign in the exponent"),
    mistake(SIG, "float64 constant promotes float32", "def sigmoid(z):\n    return np.float64(1.0) / (1 + np.exp(-z))",
            None, "promotes the whole result"),
    mistake(SIG, "tanh form off by the half", "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(z))", None),
    mistake(SIGS, "naive sigmoid overflows", "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))", "overflow"),
    correct(SIG, "stable where-split", "def sigmoid(z):\n    z = np.asarray(z)\n"
            "    e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))"),
    # no overflow, but 1 + tanh(z/2) cancels for z < 0: 0 where sigmoid(-730) is 9e-318, 0.1% off at z = -30
    mistake(SIGS, "tanh identity", "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(0.5 * z))", None, "values differ"),
    mistake(TANH, "2 sigmoid(z) - 1", "def tanh(z):\n    return 2 / (1 + np.exp(-z)) - 1", "scaled wrongly"),
    mistake(TANH, "sigmoid(2z) - 0.5", "def tanh(z):\n    return 1 / (1 + np.exp(-2 * z)) - 0.5", "shifted sigmoid"),
    correct(TANH, "2 sigmoid(2z) - 1 written out", "def tanh(z):\n    return 2 / (1 + np.exp(-2 * z)) - 1"),
    mistake(RELU, "mask returned", "def relu(z):\n    return (z > 0).astype(z.dtype)", "mask returned"),
    mistake(RELU, "np.max instead of np.maximum", "def relu(z):\n    return np.max(z, 0)", None),
    mistake(RELU, "float64 result", "def relu(z):\n    return np.maximum(z, 0).astype(np.float64)", None,
            "wrong dtype: expected float32"),
    correct(RELU, "z * (z > 0)", "def relu(z):\n    return z * (z > 0)"),
    mistake(SM, "columns normalised", "def softmax(Z):\n    e = np.exp(Z)\n    return e / e.sum(axis=0, keepdims=True)",
            "wrong axis"),
    mistake(SM, "whole batch normalised", "def softmax(Z):\n    e = np.exp(Z - Z.max())\n    return e / e.sum()",
            "whole batch"),
    mistake(SM, "keepdims missing", "def softmax(Z):\n    e = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
            "    return e / e.sum(axis=1)", "keepdims"),
    mistake(SMS, "no max subtracted", "def softmax(Z):\n    e = np.exp(Z)\n    return e / e.sum(axis=1, keepdims=True)",
            "overflow"),
    correct(SM, "log-sum-exp form", "def softmax(Z):\n    m = Z.max(axis=-1, keepdims=True)\n"
            "    return np.exp(Z - m - np.log(np.sum(np.exp(Z - m), axis=-1, keepdims=True)))"),
    correct(SMS, "row loop", "def softmax(Z):\n    out = np.empty_like(Z)\n    for i, row in enumerate(Z):\n"
            "        e = np.exp(row - row.max())\n        out[i] = e / e.sum()\n    return out"),
    mistake(DENSE, "bias missing", "def dense_forward(X, W, b):\n    return X @ W", "bias missing"),
    mistake(DENSE, "W transposed", "def dense_forward(X, W, b):\n    return X @ W.T + b", "matrix product"),
    mistake(DENSE, "result transposed", "def dense_forward(X, W, b):\n    return (X @ W + b).T", "transposed"),
    correct(DENSE, "einsum", "def dense_forward(X, W, b):\n    return np.einsum('nd,dk->nk', X, W) + b"),
    mistake(MLP, "no softmax", "def mlp_forward(X, W1, b1, W2, b2):\n    return np.maximum(X @ W1 + b1, 0) @ W2 + b2",
            "no softmax"),
    mistake(MLP, "no hidden activation", SOFTMAX + "def mlp_forward(X, W1, b1, W2, b2):\n"
            "    return softmax((X @ W1 + b1) @ W2 + b2)", "no hidden activation"),
    mistake(MLP, "sigmoid hidden layer", SOFTMAX + "def mlp_forward(X, W1, b1, W2, b2):\n"
            "    return softmax((1 / (1 + np.exp(-(X @ W1 + b1)))) @ W2 + b2)", "sigmoid hidden layer"),
    correct(MLP, "inline everything", "def mlp_forward(X, W1, b1, W2, b2):\n    H = np.maximum(0, X @ W1 + b1)\n"
            "    Z = H @ W2 + b2\n    Z = Z - Z.max(1, keepdims=True)\n    return np.exp(Z) / np.exp(Z).sum(1, keepdims=True)"),
]
