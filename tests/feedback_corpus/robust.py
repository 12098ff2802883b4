"""Things a checker must survive: odd return values, endless loops, floods of output, undefined names."""

from . import mistake

ENTRIES = [
    mistake("relu_matches_reference", "returns a list", "def relu(z):\n    return np.maximum(z, 0).tolist()", None,
            "wrong dtype"),
    mistake("softmax_matches_reference", "returns a ragged list",
            "def softmax(Z):\n    return [list(r[:i + 1]) for i, r in enumerate(Z)]", None, "ragged"),
    mistake("mse_gradient_matches_reference", "returns a scalar", "def mse_gradient(y_true, y_pred):\n    return 1.0",
            None, "wrong shape"),
    mistake("mse_matches_reference", "returns None", "def mse(y_true, y_pred):\n    np.mean((y_pred - y_true) ** 2)",
            None, "forget `return`"),
    mistake("tanh_matches_reference", "returns complex", "def tanh(z):\n    return np.tanh(z) + 0j", None, "complex"),
    mistake("sigmoid_matches_reference", "returns an object", "def sigmoid(z):\n    return object()", None,
            "expected numbers"),
    mistake("relu_matches_reference", "returns a generator", "def relu(z):\n    return (max(v, 0) for v in z)", None,
            "generator"),
    mistake("dense_forward_matches_reference", "returns a huge array",
            "def dense_forward(X, W, b):\n    return np.zeros((4000, 4000))", None, "wrong shape"),
    mistake("momentum_step_matches_reference", "returns a dict",
            "def momentum_step(w, grad, velocity, lr, momentum):\n    return {'w': w}", None, "expected a tuple of 2"),
    mistake("conv_output_size_matches_reference", "returns a huge list",
            "def conv_output_size(n, k, stride=1, padding=0):\n    return list(range(100000))", None, "expected an integer"),
    mistake("step_matches_reference", "endless loop", "def step(z):\n    while True:\n        pass", "time limit",
            "did not return within"),
    mistake("sgd_step_matches_reference", "endless loop that swallows exceptions",
            "def sgd_step(w, grad, lr):\n    while True:\n        try:\n            w = w - 0\n        except BaseException:\n"
            "            pass", "time limit", "did not return within"),
    mistake("mae_matches_reference", "prints 5,000 lines",
            "def mae(y_true, y_pred):\n    for i in range(5000):\n        print('debug', i)\n"
            "    return np.mean(y_pred - y_true)", "abs missing"),
    mistake("predict_matches_reference", "calls a function whose cell failed",
            "def perceptron_predict(X, w, b):\n    return step_function(X @ w + b)", "run the cell that defines it"),
    mistake("dense_forward_matches_reference", "W @ X", "def dense_forward(X, W, b):\n    return W @ X + b",
            "do not broadcast"),
    mistake("softmax_matches_reference", "broadcast error from a missing keepdims",
            "def softmax(Z):\n    e = np.exp(Z)\n    return e / e.sum(axis=1)", "keepdims=True"),
]
