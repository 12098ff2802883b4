from . import correct, mistake

MSE, MAE, HUB, BCE, CCE, MSEG, BCEG, SCEG = (
    "mse_matches_reference", "mae_matches_reference", "huber_matches_reference", "bce_matches_reference",
    "cce_matches_reference", "mse_gradient_matches_reference", "bce_gradient_matches_reference",
    "softmax_ce_gradient_matches_reference")
ENTRIES = [
    mistake(MSE, "RMSE", "def mse(y_true, y_pred):\n    return np.sqrt(np.mean((y_pred - y_true) ** 2))", "root taken"),
    mistake(MSE, "1/(2n)", "def mse(y_true, y_pred):\n    return np.mean((y_pred - y_true) ** 2) / 2", "1/(2n)"),
    mistake(MSE, "sum", "def mse(y_true, y_pred):\n    return np.sum((y_pred - y_true) ** 2)", "sum, not mean"),
    mistake(MSE, "mean over rows only", "def mse(y_true, y_pred):\n    return np.mean(np.sum((y_pred - y_true) ** 2, axis=-1))",
            None),
    correct(MSE, "dot product", "def mse(y_true, y_pred):\n    r = (y_pred - y_true).ravel()\n    return r @ r / r.size"),
    mistake(MAE, "abs missing", "def mae(y_true, y_pred):\n    return np.mean(y_pred - y_true)", "abs missing"),
    mistake(MAE, "squared", "def mae(y_true, y_pred):\n    return np.mean((y_pred - y_true) ** 2)", "squared"),
    correct(MAE, "sqrt of squares", "def mae(y_true, y_pred):\n    return np.mean(np.sqrt((y_pred - y_true) ** 2))"),
    mistake(HUB, "smooth L1", "def huber(y_true, y_pred, delta=1.0):\n    r = np.abs(y_pred - y_true)\n"
            "    return np.mean(np.where(r <= delta, 0.5 * r**2 / delta, r - 0.5 * delta))", "smooth L1 scaling"),
    mistake(HUB, "halves missing", "def huber(y_true, y_pred, delta=1.0):\n    r = np.abs(y_pred - y_true)\n"
            "    return np.mean(np.where(r <= delta, r**2, delta * (r - delta)))", "half missing"),
    mistake(HUB, "delta ignored", "def huber(y_true, y_pred, delta=1.0):\n    r = np.abs(y_pred - y_true)\n"
            "    return np.mean(np.where(r <= 1.0, 0.5 * r**2, r - 0.5))", None),
    correct(HUB, "minimum form", "def huber(y_true, y_pred, delta=1.0):\n    r = np.abs(y_pred - y_true)\n"
            "    q = np.minimum(r, delta)\n    return np.mean(0.5 * q**2 + delta * (r - q))"),
    mistake(BCE, "log10", "def binary_cross_entropy(y_true, p):\n"
            "    return -np.mean(y_true * np.log10(p) + (1 - y_true) * np.log10(1 - p))", "log10"),
    mistake(BCE, "(1 - y) term missing", "def binary_cross_entropy(y_true, p):\n    return -np.mean(y_true * np.log(p))",
            "(1 - y) term missing"),
    mistake(BCE, "minus sign missing", "def binary_cross_entropy(y_true, p):\n"
            "    return np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))", "sign flipped"),
    mistake(BCE, "hard labels assumed", "def binary_cross_entropy(y_true, p):\n"
            "    return -np.mean(np.log(np.where(y_true > 0.5, p, 1 - p)))", None),
    correct(BCE, "clipped", "def binary_cross_entropy(y_true, p):\n    p = np.clip(p, 1e-12, 1 - 1e-12)\n"
            "    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log1p(-p))"),
    mistake(CCE, "one-hot assumed", "def categorical_cross_entropy(Y, P):\n"
            "    return -np.mean(np.log(P[np.arange(len(P)), Y.argmax(axis=1)]))", "one-hot assumed"),
    mistake(CCE, "mean over all entries", "def categorical_cross_entropy(Y, P):\n    return -np.mean(Y * np.log(P))",
            "mean over all elements"),
    mistake(CCE, "sum over the batch", "def categorical_cross_entropy(Y, P):\n    return -np.sum(Y * np.log(P))",
            "sum, not mean"),
    correct(CCE, "einsum", "def categorical_cross_entropy(Y, P):\n    return -np.einsum('nk,nk->', Y, np.log(P)) / Y.shape[0]"),
    mistake(MSEG, "factor 2 missing", "def mse_gradient(y_true, y_pred):\n    return (y_pred - y_true) / y_pred.size",
            "factor 2 is missing"),
    mistake(MSEG, "sign flipped", "def mse_gradient(y_true, y_pred):\n    return 2 * (y_true - y_pred) / y_pred.size",
            "sign flipped"),
    mistake(MSEG, "divided by the rows", "def mse_gradient(y_true, y_pred):\n    return 2 * (y_pred - y_true) / len(y_pred)",
            "divided by N only"),
    mistake(MSEG, "no mean", "def mse_gradient(y_true, y_pred):\n    return 2 * (y_pred - y_true)", "mean missing"),
    correct(MSEG, "float32 kept with a Python constant", "def mse_gradient(y_true, y_pred):\n"
            "    return (y_pred - y_true) * (2.0 / y_pred.size)"),
    mistake(BCEG, "no mean", "def bce_gradient(y_true, p):\n    return (p - y_true) / (p * (1 - p))", "mean missing"),
    mistake(BCEG, "sign flipped", "def bce_gradient(y_true, p):\n    return (y_true - p) / (p * (1 - p)) / p.size",
            "sign flipped"),
    correct(BCEG, "two-term form", "def bce_gradient(y_true, p):\n    return (-y_true / p + (1 - y_true) / (1 - p)) / p.size"),
    mistake(SCEG, "softmax missing", "def softmax_cross_entropy_gradient(Y, Z):\n    return (Z - Y) / len(Z)",
            "softmax missing"),
    mistake(SCEG, "no mean", "def softmax_cross_entropy_gradient(Y, Z):\n"
            "    E = np.exp(Z - Z.max(1, keepdims=True))\n    return E / E.sum(1, keepdims=True) - Y", "mean missing"),
    mistake(SCEG, "unstable softmax", "def softmax_cross_entropy_gradient(Y, Z):\n"
            "    E = np.exp(Z)\n    return (E / E.sum(1, keepdims=True) - Y) / len(Z)", "overflow"),
    mistake(SCEG, "one-hot assumed", "def softmax_cross_entropy_gradient(Y, Z):\n"
            "    E = np.exp(Z - Z.max(1, keepdims=True))\n    P = E / E.sum(1, keepdims=True)\n"
            "    P[np.arange(len(Z)), Y.argmax(1)] -= 1\n    return P / len(Z)", None),
    correct(SCEG, "general form for any Y", "def softmax_cross_entropy_gradient(Y, Z):\n"
            "    Z = Z - Z.max(axis=1, keepdims=True)\n    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)\n"
            "    return (P * Y.sum(axis=1, keepdims=True) - Y) / Z.shape[0]"),
]
