"""Losses: values and gradients against SymPy, central differences and PyTorch; stability; errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import TORCH_DEVICES

from dlcourse import activations as A
from dlcourse import losses as L
from dlcourse.gradcheck import numerical_gradient

RTOL_NUMERIC, ATOL_NUMERIC = 1e-6, 1e-8  # central differences in float64
RTOL_EXACT = 1e-12
N, K = 5, 4
ELEMENTWISE = ["mse", "mae", "huber", "hinge", "binary_cross_entropy", "binary_cross_entropy_with_logits"]
ROWS = ["categorical_cross_entropy", "sparse_categorical_cross_entropy", "cross_entropy_with_logits",
        "kl_divergence"]


def make_case(name, rng, shape=(N, K)):
    """Seeded (y_true, y_pred) for loss ``name``, away from every kink of the loss."""
    if name in ("mse", "mae", "huber"):
        t = rng.normal(size=shape)
        r = rng.uniform(0.1, 3.0, size=shape) * rng.choice([-1, 1], size=shape)
        r = np.where(np.abs(np.abs(r) - 1.0) < 0.05, r * 1.2, r)  # not at |r| = delta
        return t, t + r
    if name == "hinge":
        t = rng.choice([-1.0, 1.0], size=shape)
        margin = rng.uniform(-2, 3, size=shape)
        margin = np.where(np.abs(margin - 1) < 0.05, margin + 0.2, margin)  # not at the hinge
        return t, margin * t
    if name == "binary_cross_entropy":
        return rng.uniform(0, 1, size=shape), rng.uniform(0.05, 0.95, size=shape)
    if name == "binary_cross_entropy_with_logits":
        return rng.integers(0, 2, size=shape).astype(float), rng.normal(0, 3, size=shape)
    probs = rng.dirichlet(np.ones(shape[-1]), size=shape[0])
    labels = rng.integers(0, shape[-1], size=shape[0])
    return {"categorical_cross_entropy": (np.eye(shape[-1])[labels], probs),
            "sparse_categorical_cross_entropy": (labels, probs),
            "cross_entropy_with_logits": (labels, rng.normal(0, 3, size=shape)),
            "kl_divergence": (rng.dirichlet(np.ones(shape[-1]), size=shape[0]), probs)}[name]


# ---------------------------------------------------------------- known answers from the course

def test_known_answers():
    """Do the course's worked examples come out right (natural logs throughout)?"""
    cce = L.categorical_cross_entropy([[1, 0, 0]], [[0.7, 0.2, 0.1]])
    assert cce == pytest.approx(-math.log(0.7)) and round(cce, 4) == 0.3567
    bce = L.binary_cross_entropy([1, 0, 1], [0.9, 0.1, 0.2])
    assert bce == pytest.approx(-(math.log(0.9) + math.log(0.9) + math.log(0.2)) / 3) and round(bce, 4) == 0.6067
    confident_wrong = L.sparse_categorical_cross_entropy([0], [[0.001, 0.998, 0.001]])
    # the notes' value 3 is the base-10 log; losses use the natural log
    assert round(confident_wrong, 2) == 6.91 and confident_wrong == pytest.approx(-math.log(0.001))


def test_mse_convention():
    """Is MSE the plain mean (PyTorch), i.e. twice the 1/(2m) convention some texts use?"""
    t, p = np.array([1.0, 2.0, 3.0]), np.array([1.5, 1.0, 5.0])
    half_convention = np.sum((p - t) ** 2) / (2 * t.size)
    assert L.mse(t, p) == pytest.approx(2 * half_convention)


# ---------------------------------------------------------------- three oracles

@pytest.mark.parametrize("name", list(L.LOSSES))
def test_gradient_matches_central_differences(name, rng):
    """Does .gradient agree with central differences of the value?"""
    loss = L.LOSSES[name]
    t, p = make_case(name, rng)
    num = numerical_gradient(lambda v: loss(t, v), p)
    np.testing.assert_allclose(loss.gradient(t, p), num, rtol=RTOL_NUMERIC, atol=ATOL_NUMERIC, err_msg=name)


def _sympy_reference(name, t, p):
    """Value and gradient from calculus.loss_expr, reduced as PyTorch does."""
    sp = pytest.importorskip("sympy", reason="SymPy is not installed")
    from dlcourse import calculus

    syms, expr = calculus.loss_expr(name, k=p.shape[-1])
    if name in ELEMENTWISE:
        f = sp.lambdify([syms["y"], syms["y_hat"]], expr, "numpy")
        df = sp.lambdify([syms["y"], syms["y_hat"]], sp.diff(expr, syms["y_hat"]), "numpy")
        return np.mean(f(t, p)), np.broadcast_to(df(t, p), p.shape) / p.size
    if name == "sparse_categorical_cross_entropy":  # loss_expr uses label 0: permute each row
        t = np.eye(p.shape[-1])[t]
        name = "categorical_cross_entropy"
        syms, expr = calculus.loss_expr(name, k=p.shape[-1])
    args = [*syms["y"], *syms["y_hat"]]
    f = sp.lambdify(args, expr, "numpy")
    grads = [sp.lambdify(args, sp.diff(expr, v), "numpy") for v in syms["y_hat"]]
    values, gradient = [], np.zeros_like(p)
    for n in range(p.shape[0]):
        row = [*t[n], *p[n]]
        values.append(f(*row))
        gradient[n] = [g(*row) for g in grads]
    return np.mean(values), gradient / p.shape[0]


@pytest.mark.parametrize("name", list(L.LOSSES))
def test_matches_sympy(name, rng):
    """Do the value and gradient equal SymPy's derivative of the per-sample formula?"""
    loss = L.LOSSES[name]
    t, p = make_case(name, rng)
    if name == "cross_entropy_with_logits":
        t = np.eye(K)[t]  # the SymPy form takes one-hot targets
    value, gradient = _sympy_reference(name, t, p)
    assert loss(t, p) == pytest.approx(value, rel=RTOL_EXACT), name
    np.testing.assert_allclose(loss.gradient(t, p), gradient, rtol=1e-10, atol=1e-15, err_msg=name)


def _torch_loss(torch, name):
    F = torch.nn.functional

    def clamped_log(p):
        return torch.clamp(torch.log(p), min=-100)

    return {
        "mse": lambda t, p: F.mse_loss(p, t), "mae": lambda t, p: F.l1_loss(p, t),
        "huber": lambda t, p: F.huber_loss(p, t), "hinge": lambda t, p: torch.relu(1 - t * p).mean(),
        "binary_cross_entropy": lambda t, p: F.binary_cross_entropy(p, t),
        "binary_cross_entropy_with_logits": lambda t, p: F.binary_cross_entropy_with_logits(p, t),
        "categorical_cross_entropy": lambda t, p: -(t * clamped_log(p)).sum(1).mean(),
        "sparse_categorical_cross_entropy": lambda t, p: F.nll_loss(clamped_log(p), t),
        "cross_entropy_with_logits": lambda t, p: F.cross_entropy(p, t),
        "kl_divergence": lambda t, p: F.kl_div(torch.log(p), t, reduction="batchmean"),
    }[name]


def torch_value_and_grad(name, t, p, device):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    t_dtype = torch.int64 if np.asarray(t).dtype.kind in "iu" else torch.float64
    tt = torch.tensor(t, dtype=t_dtype, device=device)
    pt = torch.tensor(p, dtype=torch.float64, device=device, requires_grad=True)
    value = _torch_loss(torch, name)(tt, pt)
    value.backward()
    return value.item(), pt.grad.cpu().numpy()


@pytest.mark.parametrize("device", TORCH_DEVICES)
@pytest.mark.parametrize("name", list(L.LOSSES))
def test_matches_torch(name, device, rng):
    """Do the value (PyTorch's default reduction) and the gradient equal PyTorch's in float64?"""
    loss = L.LOSSES[name]
    t, p = make_case(name, rng)
    value, grad = torch_value_and_grad(name, t, p, device)
    assert loss(t, p) == pytest.approx(value, rel=1e-12), name
    np.testing.assert_allclose(loss.gradient(t, p), grad, rtol=1e-10, atol=1e-15, err_msg=name)


@pytest.mark.parametrize("device", TORCH_DEVICES)
def test_non_default_delta_and_soft_targets_match_torch(device, rng):
    """Do Huber(delta=0.3) and cross-entropy with probability targets match PyTorch too?"""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    t, p = rng.normal(size=(N, K)), rng.normal(size=(N, K))
    pt = torch.tensor(p, device=device, requires_grad=True)
    value = torch.nn.functional.huber_loss(pt, torch.tensor(t, device=device), delta=0.3)
    value.backward()
    assert L.Huber(0.3)(t, p) == pytest.approx(value.item(), rel=1e-12)
    np.testing.assert_allclose(L.Huber(0.3).gradient(t, p), pt.grad.cpu().numpy(), rtol=1e-12)
    soft = rng.dirichlet(np.ones(K), size=N)
    value, grad = torch_value_and_grad("cross_entropy_with_logits", soft, p, device)
    assert L.cross_entropy_with_logits(soft, p) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(L.cross_entropy_with_logits.gradient(soft, p), grad, rtol=1e-10, atol=1e-15)


# ---------------------------------------------------------------- consistency between losses

def test_cross_entropy_family_agrees(rng):
    """Are sparse, one-hot and from-logits cross-entropy the same loss, and is the
    softmax + cross-entropy gradient (softmax(z) - y) / N?"""
    z = rng.normal(0, 2, size=(N, K))
    labels = rng.integers(0, K, size=N)
    one_hot, s = np.eye(K)[labels], A.softmax(z)
    expected = L.categorical_cross_entropy(one_hot, s)
    assert L.sparse_categorical_cross_entropy(labels, s) == pytest.approx(expected, rel=1e-12)
    assert L.cross_entropy_with_logits(labels, z) == pytest.approx(expected, rel=1e-12)
    assert L.cross_entropy_with_logits(one_hot, z) == pytest.approx(expected, rel=1e-12)
    chained = A.softmax.vjp(z, L.categorical_cross_entropy.gradient(one_hot, s))
    np.testing.assert_allclose(L.cross_entropy_with_logits.gradient(labels, z), chained, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(L.cross_entropy_with_logits.gradient(labels, z), (s - one_hot) / N, rtol=1e-12)


def test_bce_with_logits_is_bce_of_sigmoid(rng):
    """Is BCE-with-logits equal to BCE applied to sigmoid(z), gradients chained?"""
    t, z = rng.uniform(size=(N, K)), rng.normal(size=(N, K))
    p = A.sigmoid(z)
    assert L.binary_cross_entropy_with_logits(t, z) == pytest.approx(L.binary_cross_entropy(t, p), rel=1e-12)
    chained = A.sigmoid.vjp(z, L.binary_cross_entropy.gradient(t, p))
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits.gradient(t, z), chained, rtol=1e-9)


def test_kl_is_cross_entropy_minus_entropy(rng):
    """Is KL(p || q) = H(p, q) - H(p), and zero when q = p?"""
    p, q = rng.dirichlet(np.ones(K), size=N), rng.dirichlet(np.ones(K), size=N)
    entropy = -np.sum(p * np.log(p)) / N
    assert L.kl_divergence(p, q) == pytest.approx(L.categorical_cross_entropy(p, q) - entropy, rel=1e-12)
    assert L.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)


# ---------------------------------------------------------------- stability and odd inputs

def _silent():
    return np.errstate(over="raise", invalid="raise", divide="raise")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probabilities_exactly_zero_and_one(dtype):
    """Are BCE, categorical CE and KL finite and silent for probabilities exactly 0 and 1,
    with the log clamped at -100 as in PyTorch?"""
    t = np.array([1.0, 0.0, 1.0, 0.0], dtype=dtype)
    p = np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype)
    with _silent():
        assert L.binary_cross_entropy(t, p) == pytest.approx((100 + 100 + 0 + 0) / 4)
        grad = L.binary_cross_entropy.gradient(t, p)
        onehot, probs = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=dtype), np.array([[0.0, 1.0], [0.0, 1.0]], dtype=dtype)
        assert L.categorical_cross_entropy(onehot, probs) == pytest.approx(100 / 2)
        assert L.kl_divergence(onehot, probs) == pytest.approx(100 / 2)
        ce_grad = L.categorical_cross_entropy.gradient(onehot, probs)
    assert grad.dtype == dtype and np.all(np.isfinite(grad)) and np.all(np.isfinite(ce_grad))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_of_1e4(dtype):
    """Are the from-logits losses finite, silent and correct for logits of +-1e4?"""
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    with _silent():
        ce = L.cross_entropy_with_logits([0, 0], z)
        ce_grad = L.cross_entropy_with_logits.gradient([0, 0], z)
        bce = L.binary_cross_entropy_with_logits(np.array([1.0, 0.0, 0.0, 1.0], dtype),
                                                 np.array([1e4, 1e4, -1e4, -1e4], dtype))
    # sample 1: log-sum-exp 1e4 minus z_0 = 1e4; sample 2: log-sum-exp 1e4 + ln 2 minus z_0 = -1e4
    assert ce == pytest.approx((0 + 2e4 + math.log(2)) / 2, rel=1e-6)
    assert bce == pytest.approx((0 + 1e4 + 0 + 1e4) / 4)
    assert ce_grad.dtype == dtype and np.all(np.isfinite(ce_grad))


@pytest.mark.parametrize("name", list(L.LOSSES))
def test_float32_gradient_stays_float32(name, rng):
    """Does a float32 prediction give a float32 gradient and a Python float value?"""
    t, p = make_case(name, rng)
    p32 = p.astype(np.float32)
    assert L.LOSSES[name].gradient(t, p32).dtype == np.float32
    value = L.LOSSES[name](t, p32)
    assert type(value) is float and value == pytest.approx(L.LOSSES[name](t, p), rel=1e-5)


def test_scalars_lists_and_nan():
    """Do 0-d inputs and lists work, and does NaN propagate into the value?"""
    assert L.mse(2.0, 3.5) == pytest.approx(2.25)
    assert L.mae([1, 2], [2, 4]) == pytest.approx(1.5)
    assert L.huber(np.array(0.0), np.array(3.0)) == pytest.approx(2.5)
    assert math.isnan(L.mse([1.0, 2.0], [np.nan, 2.0]))
    assert math.isnan(L.binary_cross_entropy([1.0], [np.nan]))


@pytest.mark.parametrize("name", list(L.LOSSES))
def test_empty_input_is_an_error(name):
    """Is an empty batch a ValueError (a mean over nothing is undefined)?"""
    loss = L.LOSSES[name]
    t = np.zeros(0, dtype=int) if name in ("sparse_categorical_cross_entropy", "cross_entropy_with_logits") \
        else np.zeros((0, K))
    with pytest.raises(ValueError, match="empty"):
        loss(t, np.zeros((0, K)))


@pytest.mark.parametrize("name", list(L.LOSSES))
def test_shape_mismatch_names_both_shapes(name):
    """Does a shape mismatch raise ValueError naming both shapes (never a silent broadcast)?"""
    loss = L.LOSSES[name]
    t = np.zeros(3, dtype=int) if name.startswith(("sparse", "cross_entropy")) else np.zeros((3, 1))
    with pytest.raises(ValueError, match=r"\(3,? ?1?\).*\(4, 2\)|\(4, 2\).*\(3,? ?1?\)"):
        loss(t, np.full((4, 2), 0.5))


def test_label_errors():
    """Are an out-of-range label, a fractional label and a non-integer dtype clear errors?"""
    p = np.full((3, 4), 0.25)
    with pytest.raises(ValueError, match=r"label 4 at index \(1,\) is out of range.*K=4.*0\.\.3"):
        L.sparse_categorical_cross_entropy([0, 4, 1], p)
    with pytest.raises(ValueError, match=r"label -1 at index \(2,\)"):
        L.cross_entropy_with_logits(np.array([0, 1, -1]), p)
    with pytest.raises(ValueError, match=r"whole numbers; got label 1\.5"):
        L.sparse_categorical_cross_entropy([0.0, 1.5, 1.0], p)
    with pytest.raises(TypeError, match="labels y_true must be integers"):
        L.sparse_categorical_cross_entropy(np.array(["a", "b", "c"]), p)
    with pytest.raises(ValueError, match=r"hinge labels y_true must be -1 or \+1; got label 0\.0"):
        L.hinge([1.0, 0.0], [0.3, 0.2])


def test_range_and_parameter_errors():
    """Are probabilities outside [0, 1], bad ranks, a bad delta and unknown names rejected?"""
    with pytest.raises(ValueError, match=r"y_pred \(probabilities\) must lie in \[0, 1\]; got 1\.2"):
        L.binary_cross_entropy([1.0, 0.0], [1.2, 0.5])
    with pytest.raises(ValueError, match=r"y_true \(targets\) must lie in \[0, 1\]"):
        L.binary_cross_entropy_with_logits([2.0], [0.5])
    with pytest.raises(ValueError, match=r"shape \(N, K\)"):
        L.categorical_cross_entropy(np.full((2, 2, 2), 0.5), np.full((2, 2, 2), 0.5))
    for delta in (0, -1.0, float("inf"), "1"):
        with pytest.raises(ValueError, match="delta"):
            L.Huber(delta)
    with pytest.raises(ValueError, match="unknown loss 'nope'"):
        L.get("nope")
    with pytest.raises(TypeError, match="y_pred"):
        L.mse([1.0], ["x"])


def test_registry():
    """Is every public loss registered under its name, with aliases like PyTorch's cross_entropy?"""
    public = {n: getattr(L, n) for n in L.__all__ if isinstance(getattr(L, n), L.Loss)}
    assert set(public) == set(L.LOSSES) and all(L.LOSSES[n] is f for n, f in public.items())
    assert L.get("cross_entropy") is L.cross_entropy_with_logits and L.get(L.mse) is L.mse
    for loss in L.LOSSES.values():
        assert loss.formula and loss.gradient_formula, f"{loss.name} lacks its LaTeX formulas"


def test_infinite_logits_and_predictions():
    """Do logits of -inf for other classes give a zero loss silently, and an infinite error an infinite MSE?"""
    z = np.array([[0.0, -np.inf, -np.inf], [-np.inf, 2.0, -np.inf]])
    with _silent():
        assert L.cross_entropy_with_logits([0, 1], z) == 0.0
        assert L.cross_entropy_with_logits(np.eye(3)[[0, 1]], z) == 0.0
        np.testing.assert_array_equal(L.cross_entropy_with_logits.gradient([0, 1], z), np.zeros_like(z))
    assert L.mse([0.0], [np.inf]) == np.inf
