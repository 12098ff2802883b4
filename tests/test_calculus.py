"""calculus: SymPy forms, identities, step-by-step derivations and the derivative-rules table."""

from __future__ import annotations

import numpy as np
import pytest

sp = pytest.importorskip("sympy", reason="SymPy is not installed")
from dlcourse import activations as A  # noqa: E402
from dlcourse import calculus as C  # noqa: E402

x = C.x


def test_identities_hold():
    """Does SymPy prove sigmoid' = s(1 - s), tanh' = 1 - tanh^2 = sech^2 and the others?"""
    found = {i.name: i.holds for i in C.identities()}
    assert len(found) >= 5 and all(found.values()), found


def test_a_false_identity_is_not_proven():
    """Does the prover refuse the notes' trap tanh(x) = sigmoid(x) shifted only, 2 sigma(x) - 1?"""
    assert not C._equal(sp.tanh(x), 2 / (1 + sp.exp(-x)) - 1)


@pytest.mark.parametrize("make", [C.sigmoid_derivation, C.tanh_derivation])
def test_derivations_are_proven_step_by_step(make):
    """Is every step of the derivation proven equal to the one before it?"""
    derivation = make()
    checks = derivation.check()
    assert len(checks) == len(derivation) >= 6
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    for explanation, expr in derivation:  # renderable: text and a LaTeX-printable expression
        assert explanation and sp.latex(expr)
    assert derivation.latex().startswith("\\begin{aligned}")


def test_sigmoid_derivation_ends_in_s_times_one_minus_s():
    """Does the sigmoid derivation start at d/dx sigma and end at sigma (1 - sigma)?"""
    d = C.sigmoid_derivation()
    sigma = 1 / (1 + sp.exp(-x))
    first = C._meaning(d.steps[0].expr, d.definitions)
    last = C._meaning(d.steps[-1].expr, d.definitions)
    assert sp.simplify(first - sp.diff(sigma, x)) == 0
    assert sp.simplify(last - sigma * (1 - sigma)) == 0


def test_sign_slip_is_caught():
    """Is the notes' slip (-1/u^2)(e^-x), which drops the sign of du/dx, flagged?"""
    d = C.sigmoid_derivation()
    u = [s for s in d.definitions if isinstance(s, sp.Symbol)][0]
    slipped = list(d.steps)
    index = next(i for i, s in enumerate(slipped) if "Power rule" in s.explanation)
    slipped[index] = C.DerivationStep("Power rule (with the sign of du/dx dropped)",
                            sp.Mul(-1 / u ** 2, sp.exp(-x), evaluate=False))
    checks = C.check_derivation(slipped, d.definitions)
    assert [c.index for c in checks if not c.ok][0] == index
    assert not checks[index].ok


def test_tanh_derivation_reaches_sech_squared():
    """Does the tanh derivation end at sech^2 after passing through 1 - tanh^2?"""
    d = C.tanh_derivation()
    assert d.steps[-1].expr == sp.sech(x) ** 2
    assert any(s.expr == 1 - sp.tanh(x) ** 2 for s in d.steps)


def test_rules_table_is_verified():
    """Is every row of the derivative-rules table proven by SymPy, covering the course's rules?"""
    checks = C.verify_rules()
    assert all(c.ok for c in checks), [c.rule.name for c in checks if not c.ok]
    names = {c.rule.name for c in checks}
    for needed in ["constant", "power", "sum", "product", "quotient", "chain", "exponential", "a^x",
                   "natural log", "log_a", "sin", "cos", "tan", "sec", "csc", "cot", "sinh", "cosh",
                   "tanh", "sech", "csch", "coth"]:
        assert needed in names, f"the table lacks the {needed} rule"
    assert all("=" in c.rule.rule for c in checks), "every row states its rule as an equation"


def test_a_wrong_rule_is_caught():
    """Does verify_rule reject a wrong claim, e.g. d/dx ln x = x or d/dx cos x = sin x?"""
    for f, wrong in [(sp.log(x), x), (sp.cos(x), sp.sin(x)), (2 ** x, x * 2 ** (x - 1)),
                     (sp.sec(x), -sp.sec(x) * sp.tan(x)), (sp.cot(x), sp.csc(x) ** 2),
                     (sp.sech(x), sp.sech(x) * sp.tanh(x)), (sp.coth(x), sp.csch(x) ** 2)]:
        assert not C.verify_rule(C.DerivativeRule("wrong", "", f, wrong)).ok


@pytest.mark.parametrize("name", [n for n in A.ACTIVATIONS if n not in ("softmax", "log_softmax")])
def test_lambdified_versions_match_the_package(name, rng):
    """Do the lambdified NumPy functions equal the package's activations on moderate inputs?"""
    z = rng.uniform(-5, 5, size=30)
    z = np.where(np.abs(z) < 1e-2, 0.5, z)
    act = A.ACTIVATIONS[name]
    np.testing.assert_allclose(np.broadcast_to(C.numpy_function(name)(z), z.shape), act(z), rtol=1e-12)
    np.testing.assert_allclose(np.broadcast_to(C.numpy_function(name, True)(z), z.shape), act.derivative(z),
                               rtol=1e-12, atol=1e-15)


def test_softmax_expressions(rng):
    """Do the symbolic softmax / log-softmax and their Jacobian match the package?"""
    z_syms, s = C.softmax_exprs(3)
    _, ls = C.softmax_exprs(3, log=True)
    z = rng.normal(size=3)
    subs = dict(zip(z_syms, z))
    np.testing.assert_allclose([float(e.subs(subs)) for e in s], A.softmax(z), rtol=1e-12)
    np.testing.assert_allclose([float(e.subs(subs)) for e in ls], A.log_softmax(z), rtol=1e-12)
    jac = np.array([[float(sp.diff(si, zj).subs(subs)) for zj in z_syms] for si in s])
    np.testing.assert_allclose(jac, A.softmax.derivative(z), rtol=1e-10, atol=1e-15)


def test_unknown_names_raise():
    """Do unknown activation or loss names give a ValueError listing the valid ones?"""
    with pytest.raises(ValueError, match="sigmoid"):
        C.activation_expr("softmax")
    with pytest.raises(ValueError, match="mse"):
        C.loss_expr("nope")


def test_softmax_cross_entropy_gradient_is_p_minus_y():
    """Does SymPy show d/dz of cross-entropy(softmax(z)) = softmax(z) * sum(y) - y (= p - y for one-hot)?"""
    syms, grads = C.loss_derivative_expr("cross_entropy_with_logits", k=3)
    _, s = C.softmax_exprs(3)
    z_syms = C.softmax_exprs(3)[0]
    s = [e.subs(dict(zip(z_syms, syms["y_hat"]))) for e in s]
    total = sum(syms["y"])
    for g, sk, yk in zip(grads, s, syms["y"]):
        assert sp.simplify(g - (sk * total - yk)) == 0


def test_sigmoid_of_logits_bce_gradient():
    """Does SymPy show d/dz BCE(sigmoid(z)) = sigmoid(z) - y?"""
    syms, g = C.loss_derivative_expr("binary_cross_entropy_with_logits")
    assert sp.simplify(g - (1 / (1 + sp.exp(-syms["y_hat"])) - syms["y"])) == 0
