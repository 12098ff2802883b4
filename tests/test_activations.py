"""Activations: checked against SymPy, central differences and PyTorch, and on odd inputs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TORCH_DEVICES
from hypothesis import given, settings, strategies as st

from dlcourse import activations as A
from dlcourse.gradcheck import numerical_derivative, numerical_gradient

from dlcourse.xcheck.activations import instances

#: Every registered activation and variant by label: the tests below run on each of them.
ALL = {act.label: act for act in instances()}
ELEMENTWISE = [n for n, a in A.ACTIVATIONS.items() if a.elementwise]
#: Element-wise activations including non-default parameters, by label.
VARIANTS = {label: a for label, a in ALL.items() if a.elementwise}
SOFTMAXES = {label: a for label, a in ALL.items() if not a.elementwise}
RTOL_NUMERIC = 1e-6  # central differences in float64
ATOL_NUMERIC = 1e-8  # round-off of a central difference: ~1e-16 * |f| / eps
RTOL_EXACT = 1e-12  # two float64 evaluations of the same formula


def away_from_kinks(rng, shape, scale=4.0, gap=1e-2):
    """Seeded points with |z| >= gap, so that no step lands across a kink at 0."""
    z = rng.normal(0, scale, size=shape)
    return np.where(np.abs(z) < gap, gap + np.abs(z), z)


# ---------------------------------------------------------------- SymPy and central differences

@pytest.mark.parametrize("label", VARIANTS)
def test_matches_sympy(label, rng):
    """Do the function and its derivative equal SymPy's (lambdified) expressions?"""
    calculus = pytest.importorskip("dlcourse.calculus", reason="SymPy is not installed")
    z = away_from_kinks(rng, (50,), scale=3.0)
    act = VARIANTS[label]
    ref_f = np.broadcast_to(calculus.numpy_function(act.name, **act.param_values())(z), z.shape)
    ref_df = np.broadcast_to(calculus.numpy_function(act.name, derivative=True, **act.param_values())(z), z.shape)
    np.testing.assert_allclose(act(z), ref_f, rtol=RTOL_EXACT, atol=1e-15, err_msg=f"{label} vs SymPy")
    np.testing.assert_allclose(act.derivative(z), ref_df, rtol=RTOL_EXACT, atol=1e-15,
                               err_msg=f"{label}' vs SymPy's derivative")


@pytest.mark.parametrize("alpha", [0.2, 1.7])
@pytest.mark.parametrize("name,cls", [("leaky_relu", A.LeakyReLUFunction), ("elu", A.ELUFunction)])
def test_parametrised_matches_sympy(name, cls, alpha, rng):
    """Does a non-default alpha give SymPy's derivative too?"""
    calculus = pytest.importorskip("dlcourse.calculus", reason="SymPy is not installed")
    z = away_from_kinks(rng, (40,))
    ref = calculus.numpy_function(name, derivative=True, alpha=alpha)(z)
    np.testing.assert_allclose(cls(alpha).derivative(z), ref, rtol=RTOL_EXACT)


@pytest.mark.parametrize("label", VARIANTS)
def test_derivative_matches_central_differences(label, rng):
    """Does .derivative(z) agree with (f(z + eps) - f(z - eps)) / 2 eps?"""
    act = VARIANTS[label]
    z = away_from_kinks(rng, (5, 8))
    np.testing.assert_allclose(act.derivative(z), numerical_derivative(act, z), rtol=RTOL_NUMERIC,
                               atol=ATOL_NUMERIC, err_msg=label)


@pytest.mark.parametrize("label", list(VARIANTS) + list(SOFTMAXES))
def test_vjp_matches_central_differences(label, rng):
    """Is vjp(z, dout) the gradient of sum(f(z) * dout)?"""
    act = {**VARIANTS, **SOFTMAXES}[label]
    z = away_from_kinks(rng, (3, 4))
    dout = rng.standard_normal(z.shape)
    num = numerical_gradient(lambda v: np.sum(act(v) * dout), z)
    np.testing.assert_allclose(act.vjp(z, dout), num, rtol=RTOL_NUMERIC, atol=ATOL_NUMERIC, err_msg=label)


@pytest.mark.parametrize("label", SOFTMAXES)
def test_jacobian_and_jvp_match_central_differences(label, rng):
    """Is derivative(z) the Jacobian (softmax axis last), and jvp(z, v) the product J v?"""
    act = SOFTMAXES[label]
    z = rng.normal(size=(3, 4))
    v = rng.standard_normal(z.shape)
    jac = act.derivative(z)
    zm = np.moveaxis(z, act.axis, -1)
    assert jac.shape == zm.shape + (zm.shape[-1],)
    for idx in np.ndindex(zm.shape[:-1]):
        def f_row(row, idx=idx):
            full = zm.copy()
            full[idx] = row
            return np.moveaxis(act(np.moveaxis(full, -1, act.axis)), act.axis, -1)[idx]
        num = np.stack([numerical_gradient(lambda r, i=i: f_row(r)[i], zm[idx]) for i in range(zm.shape[-1])])
        np.testing.assert_allclose(jac[idx], num, rtol=RTOL_NUMERIC, atol=ATOL_NUMERIC,
                                   err_msg=f"{label}: Jacobian of sample {idx}")
    expected_jvp = np.moveaxis(np.einsum("...ij,...j->...i", jac, np.moveaxis(v, act.axis, -1)), -1, act.axis)
    np.testing.assert_allclose(act.jvp(z, v), expected_jvp, rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- PyTorch

@pytest.mark.parametrize("device", TORCH_DEVICES)
@pytest.mark.parametrize("label", [label for label, a in ALL.items() if a.torch and a.torch_autograd])
def test_matches_torch(label, device, rng):
    """Do the values and the backpropagated gradient equal PyTorch's in float64?"""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    from dlcourse.xcheck.activations import torch_function

    act = ALL[label]
    z = rng.normal(0, 5, size=(4, 5))
    z[0] = [-1e4, -30.0, 0.5, 30.0, 1e4]
    dout = rng.standard_normal(z.shape)
    zt = torch.tensor(z, dtype=torch.float64, device=device, requires_grad=True)
    out = torch_function(torch, act, device)(zt)
    out.backward(torch.tensor(dout, dtype=torch.float64, device=device))
    np.testing.assert_allclose(act(z), out.detach().cpu().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(act.vjp(z, dout), zt.grad.cpu().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("device", TORCH_DEVICES)
def test_step_matches_torch_heaviside(device, rng):
    """Is step(z) PyTorch's heaviside(z, 0), with step(0) = 0 (the strict rule)?"""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    z = np.concatenate([rng.normal(size=20), [0.0, -0.0, 1e-300, -1e-300]])
    from dlcourse.xcheck.activations import torch_function

    ref = torch_function(torch, A.step, device)(torch.tensor(z, dtype=torch.float64, device=device)).cpu().numpy()
    np.testing.assert_array_equal(A.step(z), ref)


# ---------------------------------------------------------------- extreme and odd inputs

EXTREMES = [-1e4, -1e3, -50.0, -1e-30, 0.0, 1e-30, 50.0, 1e3, 1e4]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("label", list(VARIANTS) + list(SOFTMAXES))
def test_extreme_inputs_are_finite_and_silent(label, dtype):
    """For |z| up to 1e4, is every output finite, the dtype kept, and no FP warning raised?"""
    act = {**VARIANTS, **SOFTMAXES}[label]
    z = np.array([EXTREMES, EXTREMES[::-1]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        outs = {"f": act(z), "derivative": act.derivative(z), "vjp": act.vjp(z, np.ones_like(z))}
    for what, out in outs.items():
        assert out.dtype == dtype, f"{label} {what}: dtype {out.dtype}, expected {np.dtype(dtype)}"
        assert np.all(np.isfinite(out)), f"{label} {what} not finite: {out}"


@pytest.mark.parametrize("label", VARIANTS)
def test_limits_at_infinity(label):
    """Does each activation give its mathematical limit at -inf and +inf, without warnings?"""
    act = VARIANTS[label]
    z = np.array([-np.inf, np.inf])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        f, df = act(z), act.derivative(z)
    expected = act.limits()  # (f(-inf), f(+inf), f'(-inf), f'(+inf)), as the activation declares
    np.testing.assert_array_equal(f, expected[:2], err_msg=f"{label}(+-inf)")
    np.testing.assert_array_equal(df, expected[2:], err_msg=f"{label}'(+-inf)")


def test_leaky_relu_with_zero_slope_at_minus_infinity():
    """Is LeakyReLU(0)(-inf) the limit 0 rather than 0 * inf = NaN?"""
    with np.errstate(invalid="raise"):
        np.testing.assert_array_equal(A.LeakyReLUFunction(0.0)(np.array([-np.inf, -2.0, 3.0])), [0.0, 0.0, 3.0])


def test_softmax_limits_at_infinity():
    """Does softmax share the mass among +inf entries and give -inf entries zero?"""
    z = np.array([[np.inf, 1.0, np.inf], [-np.inf, 0.0, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        np.testing.assert_array_equal(A.softmax(z), [[0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])
        np.testing.assert_allclose(A.log_softmax(z)[1], [-np.inf, np.log(0.5), np.log(0.5)])


@pytest.mark.parametrize("label", list(VARIANTS) + list(SOFTMAXES))
def test_nan_propagates(label):
    """Does a NaN input give NaN output (in its own softmax row only)?"""
    act = {**VARIANTS, **SOFTMAXES}[label]
    z = np.array([[np.nan, 1.0, -2.0], [0.5, 1.0, -2.0]])
    out, df = act(z), act.vjp(z, np.ones_like(z))
    assert np.isnan(out[0, 0]) and np.isnan(df[0, 0]), f"{label}: NaN did not propagate"
    if label.startswith(("softmax(-1)", "log_softmax(-1)")):
        assert np.all(np.isfinite(out[1])), "a NaN in one sample must not spoil another"


@pytest.mark.parametrize("label", VARIANTS)
def test_shapes_and_types(label):
    """Do lists, ints, 0-d arrays, scalars and empty arrays give the documented types?"""
    act = VARIANTS[label]
    assert act([1, -2]).dtype == np.float64 and act([1, -2]).shape == (2,)
    assert act(np.array([1, 2], dtype=np.int64)).dtype == np.float64
    zero_d = act(np.array(0.5))
    assert isinstance(zero_d, np.ndarray) and zero_d.shape == ()
    assert np.ndim(act(0.5)) == 0 and not isinstance(act(0.5), np.ndarray)
    for shape in [(0,), (3, 0)]:
        empty = np.zeros(shape, dtype=np.float32)
        assert act(empty).shape == shape and act(empty).dtype == np.float32
        assert act.derivative(empty).shape == shape


@pytest.mark.parametrize("label", SOFTMAXES)
def test_softmax_shapes_and_errors(label):
    """Does softmax keep empty arrays, and reject 0-d input and a bad axis with ValueError?"""
    act = SOFTMAXES[label]
    assert act(np.zeros((0, 3))).shape == (0, 3)
    with pytest.raises(ValueError, match="0-d"):
        act(np.array(1.0))
    with pytest.raises(ValueError, match=r"axis 2 is out of range for z of shape \(2, 2\)"):
        type(act)(axis=2)(np.ones((2, 2)))
    with pytest.raises(TypeError, match="axis must be an integer"):
        type(act)(axis=1.5)


def test_softmax_normalises_each_sample(rng):
    """Does every row sum to 1 (the notes' batch-wide softmax is a trap), and axis=0 every column?"""
    z = rng.normal(0, 10, size=(5, 7))
    np.testing.assert_allclose(A.softmax(z).sum(axis=1), np.ones(5), rtol=1e-12)
    np.testing.assert_allclose(A.SoftmaxFunction(axis=0)(z).sum(axis=0), np.ones(7), rtol=1e-12)
    np.testing.assert_allclose(np.exp(A.log_softmax(z)), A.softmax(z), rtol=1e-12)
    np.testing.assert_allclose(A.softmax(z + 1e4), A.softmax(z), rtol=1e-9, err_msg="shift invariance")


@pytest.mark.parametrize("bad", ["abc", [1 + 2j], [[1, 2], [3]], None])
def test_bad_input_is_a_type_error(bad):
    """Is non-numeric input rejected with a TypeError that names z?"""
    with pytest.raises(TypeError, match="z"):
        A.sigmoid(bad)


def test_other_errors():
    """Do a dout of the wrong shape, an unknown name and a bad alpha give clear ValueErrors?"""
    with pytest.raises(ValueError, match=r"dout must have the shape of z \(3,\); got \(2,\)"):
        A.tanh.vjp(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match=r"unknown activation 'nope'.*relu"):
        A.get("nope")
    for cls, alpha in [(A.LeakyReLUFunction, -1.0), (A.ELUFunction, float("nan"))]:
        with pytest.raises(ValueError, match="alpha"):
            cls(alpha)
    assert A.get("ReLU") is A.relu and A.get(A.elu) is A.elu and A.get(None) is A.linear


def test_every_activation_is_registered():
    """Is every public activation instance in ACTIVATIONS under its own name, with formulas?"""
    public = {n: getattr(A, n) for n in A.__all__ if isinstance(getattr(A, n), A.ActivationFunction)}
    assert public == {n: A.ACTIVATIONS[n] for n in public} and set(public) == set(A.ACTIVATIONS)
    for act in A.ACTIVATIONS.values():
        assert act.formula and act.derivative_formula, f"{act.name} lacks its LaTeX formulas"


# ---------------------------------------------------------------- element-wise properties

finite = st.floats(-1e4, 1e4, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(finite)
def test_elementwise_identities(v):
    """Do sigmoid(z) + sigmoid(-z) = 1, tanh(z) = 2 sigmoid(2z) - 1 (scaled AND shifted),
    relu(z) - relu(-z) = z and softplus(z) - softplus(-z) = z hold?"""
    z = np.array([v])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert A.sigmoid(z) + A.sigmoid(-z) == pytest.approx(1.0, abs=1e-15)
        assert A.tanh(z) == pytest.approx(2 * A.sigmoid(2 * z) - 1, abs=1e-15)
        assert A.relu(z) - A.relu(-z) == pytest.approx(z)
        assert A.softplus(z) - A.softplus(-z) == pytest.approx(z, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(finite)
def test_derivative_bounds(v):
    """Are sigmoid' in [0, 1/4], tanh' in [0, 1] and softplus' = sigmoid everywhere?"""
    z = np.array([v])
    assert 0 <= A.sigmoid.derivative(z)[0] <= 0.25
    assert 0 <= A.tanh.derivative(z)[0] <= 1
    assert A.softplus.derivative(z)[0] == A.sigmoid(z)[0]


# ---------------------------------------------------------------- the registry


class _Softsign(A.ActivationFunction):
    r"""Softsign :math:`z / (1 + |z|)`: a throw-away activation that exists only in the test below."""

    name, layer = "softsign_for_test", "SoftsignForTest"
    formula, derivative_formula = r"f(z) = \frac{z}{1 + |z|}", r"f'(z) = \frac{1}{(1 + |z|)^2}"
    torch = "torch.nn.functional.softsign"

    def limits(self):
        return (-1, 1, 0, 0)

    def sympy(self, x):
        import sympy as sp

        return x / (1 + sp.Abs(x))

    def _forward(self, z):
        return _limits_kept(z, -1.0, 1.0, lambda v: v / (1 + np.abs(v)))

    def _derivative(self, z):
        return _limits_kept(z, 0.0, 0.0, lambda v: 1 / (1 + np.abs(v)) ** 2)


def _limits_kept(z, at_neg, at_pos, f):
    out = f(np.where(np.isinf(z), 0.0, z))
    return np.where(np.isposinf(z), at_pos, np.where(np.isneginf(z), at_neg, out)).astype(z.dtype, copy=False)


@pytest.fixture
def softsign():
    """Register the throw-away activation for one test, and remove it (and its layer) afterwards."""
    from dlcourse.layers import activation as layer_module

    A.register(_Softsign)
    yield A.ACTIVATIONS[_Softsign.name]
    A.unregister(_Softsign.name)
    layer_module.LAYER_CLASSES.pop(_Softsign.name, None)


def test_one_declaration_reaches_layer_sympy_and_xcheck(softsign, rng):
    """Does registering one class give its layer, its SymPy table entry and its cross-check rows?"""
    from dlcourse import layers as L
    from dlcourse.gradcheck import check_layer

    assert A.get(softsign.name) is softsign
    layer = L.layer_class(softsign.name)()
    assert type(layer).__name__ == "SoftsignForTest" and L.Activation(softsign.name).fn is softsign
    result = check_layer(layer, away_from_kinks(rng, (4, 3)), tol=RTOL_NUMERIC)
    assert result.ok, str(result)

    calculus = pytest.importorskip("dlcourse.calculus", reason="SymPy is not installed")
    assert softsign.name in calculus.activation_exprs()
    z = away_from_kinks(rng, (20,))
    np.testing.assert_allclose(calculus.numpy_function(softsign.name, derivative=True)(z), softsign.derivative(z),
                               rtol=RTOL_EXACT)

    pytest.importorskip("torch", reason="PyTorch is not installed")
    from dlcourse.xcheck import core
    from dlcourse.xcheck import activations as XA, layers as XL

    rows = [core.compare("activations", "cpu", c) for c in XA.comparisons("cpu")
            if c.operation.startswith(softsign.name)]
    rows += [core.compare("layers", "cpu", c) for c in XL.comparisons("cpu")
             if c.operation.startswith("SoftsignForTest")]
    assert [r.operation for r in rows] == [softsign.name, f"{softsign.name}.derivative",
                                           "SoftsignForTest() layer: out, dx"]
    assert all(r.ok for r in rows), rows


def test_registering_a_taken_name_is_refused():
    """Is a second class under an existing name refused, so one name means one activation?"""
    class Impostor(A.ActivationFunction):
        name = "relu"

    with pytest.raises(ValueError, match="already registered"):
        A.register(Impostor)
    with pytest.raises(TypeError, match="ActivationFunction subclass"):
        A.register(object)
