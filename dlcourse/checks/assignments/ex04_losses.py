"""ex04_losses: MSE, MAE, Huber, binary and categorical cross-entropy, and their gradients.

References: :mod:`dlcourse.losses` (PyTorch's default reductions: the mean over all
elements for MSE/MAE/Huber/BCE, the mean over the batch for categorical cross-entropy).
"""

from __future__ import annotations

import numpy as np

from ..spec import EXACT, Mistake, Part, case

A = "ex04_losses"
LN10 = float(np.log(10.0))


def _losses():
    from dlcourse import losses

    return losses


def ref_mse(y_true, y_pred):
    return _losses().mse(y_true, y_pred)


def ref_mae(y_true, y_pred):
    return _losses().mae(y_true, y_pred)


def ref_huber(y_true, y_pred, delta=1.0):
    return _losses().Huber(delta)(y_true, y_pred)


def ref_bce(y_true, p):
    return _losses().binary_cross_entropy(y_true, p)


def ref_cce(Y, P):
    return _losses().categorical_cross_entropy(Y, P)


def ref_mse_gradient(y_true, y_pred):
    return _losses().mse.gradient(y_true, y_pred)


def ref_bce_gradient(y_true, p):
    return _losses().binary_cross_entropy.gradient(y_true, p)


def ref_softmax_ce_gradient(Y, Z):
    return _losses().cross_entropy_with_logits.gradient(Y, Z)


# ---- inputs ------------------------------------------------------------------------------
def _reg_fixed():
    return [case(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 1.0, 3.0, 6.0]), kind="N = 4 targets"),
            case(np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]]), np.array([[0.5, 1.0], [0.0, 1.0], [0.5, 3.0]]),
                 kind="(N, D) = (3, 2) targets", tags={"2-D"}),
            case(np.array([[1.0, 0.5, -2.0], [0.0, 3.0, 1.0]], dtype=np.float32),
                 np.array([[1.5, 0.5, -1.0], [0.25, 2.0, 1.0]], dtype=np.float32), kind="float32 targets", tags={"2-D"})]


def _reg_draw(rng):
    shape = (int(rng.integers(3, 7)), int(rng.integers(1, 4)))
    return case(rng.normal(size=shape), rng.normal(scale=2.0, size=shape), kind=f"random {shape} targets", tags={"2-D"})


def _huber_fixed():
    t = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    p = np.array([-3.0, -1.0, -0.4, 0.2, 0.8, 2.5])
    return [case(t, p, 1.0, kind="residuals on both sides of delta = 1"),
            case(t, p, 0.5, kind="delta = 0.5"),
            case(t, p, 2.0, kind="delta = 2")]


def _huber_draw(rng):
    shape = (int(rng.integers(3, 7)), 2)
    return case(rng.normal(size=shape), rng.normal(scale=3.0, size=shape), float(rng.choice([0.5, 1.0, 1.5])),
                kind=f"random {shape} targets", tags={"2-D"})


def _probs(rng, shape):
    return rng.uniform(0.02, 0.98, size=shape)


def _bce_fixed():
    return [case(np.array([1.0, 0.0, 1.0, 0.0]), np.array([0.9, 0.2, 0.3, 0.6]), kind="four labels"),
            case(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.999, 0.001], [0.5, 0.5]]), kind="(2, 2) labels",
                 tags={"confident", "2-D"}),
            case(np.array([0.2, 0.9, 0.5]), np.array([0.3, 0.6, 0.5]), kind="soft targets (between 0 and 1)",
                 tags={"soft targets"})]


def _bce_draw(rng):
    shape = (int(rng.integers(3, 8)),)
    return case(rng.integers(0, 2, size=shape).astype(np.float64), _probs(rng, shape), kind=f"{shape[0]} random labels")


def _onehot(rng, n, k):
    return np.eye(k)[rng.integers(0, k, size=n)]


def _row_probs(rng, n, k):
    e = rng.uniform(0.1, 1.0, size=(n, k))
    return e / e.sum(axis=1, keepdims=True)


def _cce_fixed():
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return [case(Y, np.array([[0.7, 0.2, 0.1], [0.1, 0.001, 0.899]]), kind="two samples, three classes"),
            case(np.array([[0.0, 0.0, 1.0]]), np.array([[0.2, 0.3, 0.5]]), kind="one sample (N = 1)", tags={"N = 1"}),
            case(np.array([[0.1, 0.9], [0.6, 0.4], [0.5, 0.5]]), np.array([[0.2, 0.8], [0.7, 0.3], [0.1, 0.9]]),
                 kind="soft targets (rows of Y sum to 1, not one-hot)", tags={"soft targets"})]


def _cce_draw(rng):
    n, k = int(rng.integers(3, 7)), int(rng.integers(2, 6))
    return case(_onehot(rng, n, k), _row_probs(rng, n, k), kind=f"N = {n}, K = {k}")


def _logits_fixed():
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    return [case(Y, np.array([[2.0, 1.0, 0.1], [0.5, 0.5, 0.5]]), kind="two samples, three classes"),
            case(np.array([[0.0, 1.0, 0.0]]), np.array([[800.0, -50.0, 1000.0]]), kind="one sample with large logits",
                 tags={"N = 1", "large logits"}),
            case(np.array([[0.3, 0.7], [0.5, 0.5]]), np.array([[1.0, -1.0], [0.2, 0.4]]), kind="soft targets",
                 tags={"soft targets"})]


def _logits_draw(rng):
    n, k = int(rng.integers(3, 7)), int(rng.integers(2, 6))
    return case(_onehot(rng, n, k), rng.normal(scale=2.0, size=(n, k)), kind=f"N = {n}, K = {k} logits")


def _log10_mistake():
    return Mistake.transforms("log10 instead of ln", "losses use the natural log np.log, not np.log10 "
                              "(-log(0.001) is 6.91, not 3)", lambda e: e / LN10)


def _softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


SUM_NOT_MEAN = "PyTorch's default reduction is the mean over all elements: divide the sum by y_pred.size"
PARTS = [
    Part(A, "mse_matches_reference", "mse", ("y_true", "y_pred"), ref_mse, 1, _reg_fixed, _reg_draw, 3,
         dtype="float",
         mistakes=(Mistake.calls("sum, not mean", "a sum where a mean over all elements was asked (divide by y_pred.size)",
                                 lambda t, p: np.sum((p - t) ** 2)),
                   Mistake.calls("root taken", "MSE has no square root (that is RMSE)",
                                 lambda t, p: np.sqrt(np.mean((p - t) ** 2))),
                   Mistake.calls("1/(2n) convention", "this exercise uses 1/n (PyTorch's mse_loss), not 1/(2n)",
                                 lambda t, p: np.mean((p - t) ** 2) / 2)),
         title="mean of the squared errors over all elements"),
    Part(A, "mae_matches_reference", "mae", ("y_true", "y_pred"), ref_mae, 1, _reg_fixed, _reg_draw, 3,
         dtype="float",
         mistakes=(Mistake.calls("abs missing", "take the absolute value of each error before the mean",
                                 lambda t, p: np.mean(p - t)),
                   Mistake.calls("squared", "MAE uses |error|, not error squared", lambda t, p: np.mean((p - t) ** 2))),
         title="mean of the absolute errors over all elements"),
    Part(A, "huber_matches_reference", "huber", ("y_true", "y_pred", "delta"), ref_huber, 1, _huber_fixed,
         _huber_draw, 3, dtype="float",
         mistakes=(Mistake.calls("smooth L1 scaling", "that is PyTorch's smooth_l1_loss (Huber divided by delta); "
                                 "the linear branch is delta * (|r| - delta / 2)",
                                 lambda t, p, d=1.0: ref_huber(t, p, d) / d),
                   Mistake.calls("half missing", "the quadratic branch is 0.5 * r**2 and the linear one "
                                 "delta * (|r| - 0.5 * delta)",
                                 lambda t, p, d=1.0: np.mean(np.where(np.abs(p - t) <= d, (p - t) ** 2,
                                                                      d * (np.abs(p - t) - d))))),
         title="Huber loss with threshold delta, mean over all elements"),
    Part(A, "bce_matches_reference", "binary_cross_entropy", ("y_true", "p"), ref_bce, 1, _bce_fixed, _bce_draw, 3,
         dtype="float", mistakes=(_log10_mistake(),
                                  Mistake.calls("(1 - y) term missing", "binary cross-entropy has two terms: "
                                                "-(y log p + (1 - y) log(1 - p)); the (1 - y) log(1 - p) term is missing",
                                                lambda y, p: -np.mean(y * np.log(p))),
                                  Mistake.calls("sign flipped", "the loss is minus the mean log-likelihood: "
                                                "-mean(y log p + (1 - y) log(1 - p))",
                                                lambda y, p: np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))),
         title="binary cross-entropy with natural logs, mean over all elements"),
    Part(A, "cce_matches_reference", "categorical_cross_entropy", ("Y", "P"), ref_cce, 1, _cce_fixed, _cce_draw, 3,
         dtype="float",
         mistakes=(_log10_mistake(),
                   Mistake.calls("mean over all elements", "average over the N samples only (sum over the K "
                                 "classes, then divide by N), not over all N * K entries",
                                 lambda Y, P: -np.mean(Y * np.log(P))),
                   Mistake.calls("one-hot assumed", "Y may hold soft targets (each row sums to 1 but is not one-hot): "
                                 "use -sum(Y * log P) / N, not the log-probability of the argmax class",
                                 lambda Y, P: -np.mean(np.log(P[np.arange(len(P)), np.argmax(Y, axis=1)]))),
                   Mistake.calls("sum, not mean", "average over the N samples: divide the sum by N",
                                 lambda Y, P: -np.sum(Y * np.log(P)))),
         title="categorical cross-entropy, sum over classes, mean over the batch"),
    Part(A, "mse_gradient_matches_reference", "mse_gradient", ("y_true", "y_pred"), ref_mse_gradient, 1,
         _reg_fixed, _reg_draw, 3, dtype="float", tolerance=EXACT, analytic=True,
         mistakes=(Mistake.calls("mean missing", SUM_NOT_MEAN, lambda t, p: 2 * (p - t)),
                   Mistake.sign_flipped(),
                   Mistake.scaled(0.5, "factor 2 missing", "d/dy_pred of (y_pred - y)**2 is 2 (y_pred - y): the "
                                  "factor 2 is missing"),
                   Mistake.calls("divided by N only", "divide by the number of elements y_pred.size, not by "
                                 "len(y_pred) (the rows)", lambda t, p: 2 * (p - t) / len(p))),
         title="dL/dy_pred = 2 (y_pred - y_true) / n, shape of y_pred"),
    Part(A, "bce_gradient_matches_reference", "bce_gradient", ("y_true", "p"), ref_bce_gradient, 1, _bce_fixed,
         _bce_draw, 3, dtype="float", tolerance=EXACT, analytic=True,
         mistakes=(Mistake.calls("mean missing", SUM_NOT_MEAN, lambda t, p: (p - t) / (p * (1 - p))),
                   Mistake.sign_flipped()),
         title="dL/dp = (p - y) / (p (1 - p)) / n"),
    Part(A, "softmax_ce_gradient_matches_reference", "softmax_cross_entropy_gradient", ("Y", "Z"),
         ref_softmax_ce_gradient, 1, _logits_fixed, _logits_draw, 3, dtype="float", tolerance=EXACT, analytic=True,
         mistakes=(Mistake.calls("softmax missing", "the gradient with respect to the logits is "
                                 "(softmax(Z) - Y) / N: apply softmax to Z first", lambda Y, Z: (Z - Y) / len(Z)),
                   Mistake.calls("wrong axis", "softmax over the wrong axis: normalise each row (axis=1)",
                                 lambda Y, Z: (_softmax(Z.T).T - Y) / len(Z)),
                   Mistake.calls("mean missing", "off by a factor of the batch size N: the loss is the mean over the "
                                 "N samples, so divide softmax(Z) - Y by N", lambda Y, Z: _softmax(Z) - Y),
                   Mistake.sign_flipped()),
         title="gradient of mean cross-entropy w.r.t. the logits: (softmax(Z) - Y) / N"),
]
