r"""Symbolic calculus with SymPy: activations, losses, derivations and the rules table.

This module imports SymPy (``import dlcourse`` alone does not). It provides

* :func:`activation_expr` / :func:`activation_derivative_expr`: the activations as SymPy
  expressions of a real symbol and their derivatives; :func:`softmax_exprs` for softmax;
* :func:`loss_expr`: each loss for one sample, before the batch reduction;
* :func:`identities`: the simplifications :math:`\sigma' = \sigma(1-\sigma)`,
  :math:`\tanh' = 1 - \tanh^2 = \operatorname{sech}^2`, ..., each proven by SymPy;
* :func:`sigmoid_derivation` / :func:`tanh_derivation`: step-by-step derivations whose
  steps :func:`check_derivation` proves equal, one to the next;
* :func:`numpy_function`: lambdified NumPy versions (a reference, not a stable kernel);
* :func:`derivative_rules` and :func:`verify_rule`: the table of derivative rules, each row
  verified by SymPy.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import sympy as sp

__all__ = ["x", "activation_expr", "activation_exprs", "activation_derivative_expr", "softmax_exprs", "loss_expr", "loss_derivative_expr",
           "IdentityCheck", "identities", "DerivationStep", "Derivation", "StepCheck", "check_derivation",
           "sigmoid_derivation", "tanh_derivation", "numpy_function", "DerivativeRule", "RuleCheck",
           "derivative_rules", "verify_rule", "verify_rules"]

#: The real variable of every expression here.
x = sp.Symbol("x", real=True)
_u = sp.Symbol("u", positive=True)
_sigma = sp.Function("sigma")


def _sigmoid(v):
    return 1 / (1 + sp.exp(-v))


def _activation(name: str, alpha=None, **params):
    from . import activations

    if alpha is not None:
        params["alpha"] = alpha
    return activations.get(name, **params)


def activation_expr(name: str, var: sp.Symbol = x, alpha=None, **params) -> sp.Expr:
    """The registered activation ``name`` (a key of :data:`dlcourse.activations.ACTIVATIONS`,
    not softmax) as a SymPy expression of ``var``; ``alpha`` defaults to the package's default.

    The expression is the one the activation declares (``ActivationFunction.sympy``); other
    parameters go by keyword (``approximate="tanh"`` for GELU).
    """
    expr = _activation(name, alpha, **params).sympy(var) if name in activation_exprs() else None
    if expr is None:
        raise ValueError(f"no scalar expression for activation {name!r}; expected one of {sorted(activation_exprs())} "
                         "(use softmax_exprs for softmax and log_softmax)")
    return expr


def activation_exprs(var: sp.Symbol = x) -> dict:
    """The SymPy table: every registered activation that has a scalar expression, by name."""
    from . import activations

    table = {}
    for name, act in activations.ACTIVATIONS.items():
        expr = act.sympy(var)
        if expr is not None:
            table[name] = expr
    return table


def activation_derivative_expr(name: str, var: sp.Symbol = x, alpha=None, **params) -> sp.Expr:
    """``d/dvar`` of :func:`activation_expr` (for step: 0 away from the jump)."""
    return sp.diff(activation_expr(name, var, alpha, **params), var)


def softmax_exprs(k: int = 3, log: bool = False) -> tuple[list[sp.Symbol], list[sp.Expr]]:
    """Symbols ``z_1..z_k`` and the ``k`` softmax (or log-softmax) outputs as expressions."""
    z = list(sp.symbols(f"z_1:{k + 1}", real=True))
    total = sum(sp.exp(zj) for zj in z)
    if log:
        return z, [zi - sp.log(total) for zi in z]
    return z, [sp.exp(zi) / total for zi in z]


def loss_expr(name: str, k: int = 3, delta=1) -> tuple[dict, sp.Expr]:
    r"""One sample's loss as a SymPy expression, before the batch reduction.

    Returns ``(symbols, expr)``: ``symbols["y"]`` and ``symbols["y_hat"]`` are a symbol each for
    the element-wise losses and lists of ``k`` symbols for the categorical ones (one-hot /
    probability targets; the sparse loss uses class 0 as the label). For the logits losses
    ``y_hat`` holds the logits.
    """
    y, p = sp.symbols("y yhat", real=True)
    ys = list(sp.symbols(f"y_1:{k + 1}", real=True))
    ps = list(sp.symbols(f"yhat_1:{k + 1}", positive=True))
    d = sp.nsimplify(delta)
    element = {
        "mse": lambda: (p - y) ** 2,
        "mae": lambda: sp.Abs(p - y),
        "huber": lambda: sp.Piecewise((sp.Rational(1, 2) * (p - y) ** 2, sp.Abs(p - y) <= d),
                                      (d * (sp.Abs(p - y) - d / 2), True)),
        "hinge": lambda: sp.Max(0, 1 - y * p),
        "binary_cross_entropy": lambda: -(y * sp.log(p) + (1 - y) * sp.log(1 - p)),
        "binary_cross_entropy_with_logits": lambda: -(y * sp.log(_sigmoid(p)) + (1 - y) * sp.log(1 - _sigmoid(p))),
    }
    rows = {
        "categorical_cross_entropy": lambda: -sum(a * sp.log(b) for a, b in zip(ys, ps)),
        "sparse_categorical_cross_entropy": lambda: -sp.log(ps[0]),
        "cross_entropy_with_logits": lambda: -sum(a * b for a, b in zip(ys, softmax_exprs(k, log=True)[1]))
        .subs(dict(zip(softmax_exprs(k)[0], ps))),
        "kl_divergence": lambda: sum(a * (sp.log(a) - sp.log(b)) for a, b in zip(ys, ps)),
    }
    if name in element:
        return {"y": y, "y_hat": p}, element[name]()
    if name in rows:
        return {"y": ys, "y_hat": ps}, rows[name]()
    raise ValueError(f"unknown loss {name!r}; expected one of {sorted(element) + sorted(rows)}")


def loss_derivative_expr(name: str, k: int = 3, delta=1) -> tuple[dict, list | sp.Expr]:
    """Symbols and the derivative of :func:`loss_expr` with respect to ``y_hat``
    (one expression, or a list of ``k`` for the categorical losses)."""
    syms, expr = loss_expr(name, k, delta)
    if isinstance(syms["y_hat"], list):
        return syms, [sp.diff(expr, v) for v in syms["y_hat"]]
    return syms, sp.diff(expr, syms["y_hat"])


class IdentityCheck(NamedTuple):
    """A claimed equality ``lhs = rhs`` and whether SymPy proves it."""

    name: str
    lhs: sp.Expr
    rhs: sp.Expr
    holds: bool


def _equal(a, b) -> bool:
    """Prove ``a == b`` symbolically (simplify, then rewrite in exponentials)."""
    diff = sp.simplify(a - b)
    if diff == 0:
        return True
    return sp.simplify(diff.rewrite(sp.exp)) == 0


def identities() -> list[IdentityCheck]:
    r"""The simplifications the derivatives chapter shows, each proven by SymPy."""
    s = _sigmoid(x)
    pairs = [
        (r"\sigma'(x) = \sigma(x)(1 - \sigma(x))", sp.diff(s, x), s * (1 - s)),
        (r"\tanh'(x) = 1 - \tanh^2(x)", sp.diff(sp.tanh(x), x), 1 - sp.tanh(x) ** 2),
        (r"\tanh'(x) = \operatorname{sech}^2(x)", sp.diff(sp.tanh(x), x), sp.sech(x) ** 2),
        (r"\tanh(x) = 2\sigma(2x) - 1", sp.tanh(x), 2 * _sigmoid(2 * x) - 1),
        (r"\mathrm{softplus}'(x) = \sigma(x)", sp.diff(sp.log(1 + sp.exp(x)), x), s),
        (r"\mathrm{swish}'(x) = \sigma(x) + x\sigma(x)(1 - \sigma(x))", sp.diff(x * s, x), s + x * s * (1 - s)),
    ]
    return [IdentityCheck(name, lhs, rhs, _equal(lhs, rhs)) for name, lhs, rhs in pairs]


class DerivationStep(NamedTuple):
    """One line of a derivation: what was done (text with inline ``$...$`` LaTeX) and the result."""

    explanation: str
    expr: sp.Expr


class StepCheck(NamedTuple):
    """Whether step ``index`` equals the step before it."""

    index: int
    explanation: str
    ok: bool


class Derivation(NamedTuple):
    r"""A derivation of ``lhs`` (LaTeX): ``steps`` of :class:`DerivationStep`; ``definitions`` maps the
    helper names used in the steps (``u``, :math:`\sigma(x)`) to their meaning."""

    lhs: str
    steps: list
    definitions: dict

    def __iter__(self):  # a derivation reads as its list of (explanation, expr) steps
        return iter(self.steps)

    def __len__(self):
        return len(self.steps)

    def check(self) -> list[StepCheck]:
        return check_derivation(self.steps, self.definitions)

    def latex(self) -> str:
        """The steps as one ``aligned`` LaTeX block, ``lhs &= ...`` then ``&= ...``."""
        lines = [rf"{self.lhs} &= {sp.latex(self.steps[0].expr)}"]
        lines += [rf"&= {sp.latex(s.expr)}" for s in self.steps[1:]]
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


def _meaning(expr, definitions: dict):
    """Evaluate a step: carry out the derivatives, then substitute the helper definitions."""
    out = sp.sympify(expr).doit()
    for _ in range(3):  # definitions may refer to each other
        out = out.subs(definitions).doit()
    return out


def check_derivation(steps, definitions: dict | None = None) -> list[StepCheck]:
    """Prove each step equal to the one before it; the first step is checked against itself.

    Parameters
    ----------
    steps : sequence of (explanation, expr)
    definitions : dict, optional
        Substitutions (helper symbol or function application -> expression) applied before comparing.

    Returns
    -------
    list of StepCheck
        One per step; ``ok`` is False for a step SymPy cannot prove equal to its predecessor.
    """
    definitions = definitions or {}
    checks, previous = [], None
    for i, (text, expr) in enumerate(steps):
        value = _meaning(expr, definitions)
        checks.append(StepCheck(i, text, True if previous is None else _equal(previous, value)))
        previous = value
    return checks


def _mul(*factors):
    """A product SymPy does not tidy, so that the step shows what was done."""
    return sp.Mul(*factors, evaluate=False)


def _factors(*factors):
    """Factors printed side by side (``sp.Mul(evaluate=False)`` would fold them into one fraction)."""
    out = sp.Integer(1)
    for f in factors:
        out = out * sp.UnevaluatedExpr(f)
    return out


def sigmoid_derivation() -> Derivation:
    r"""Derive :math:`\sigma'(x) = \sigma(x)(1 - \sigma(x))` with the chain rule, step by step.

    (A set of notes writes the third step as :math:`(-1/u^2)(e^{-x})`, dropping the sign of
    :math:`du/dx = -e^{-x}`; :func:`check_derivation` flags that step.)
    """
    u, e = _u, sp.exp(-x)
    steps = [
        DerivationStep(r"Start from $\sigma(x) = \frac{1}{1 + e^{-x}}$.", sp.Derivative(_sigmoid(x), x)),
        DerivationStep(r"Let $u = 1 + e^{-x}$, so $\sigma = 1/u$; by the chain rule "
             r"$\frac{d\sigma}{dx} = \frac{d\sigma}{du}\frac{du}{dx}$.",
             _mul(sp.Derivative(1 / u, u), sp.Derivative(1 + e, x))),
        DerivationStep(r"Power rule: $\frac{d}{du}u^{-1} = -\frac{1}{u^2}$; and $\frac{du}{dx} = -e^{-x}$.",
             _mul(-1 / u ** 2, -e)),
        DerivationStep(r"The two minus signs cancel.", e / u ** 2),
        DerivationStep(r"Substitute $u = 1 + e^{-x}$ back.", e / (1 + e) ** 2),
        DerivationStep(r"Split the fraction into two factors.", _factors(1 / (1 + e), e / (1 + e))),
        DerivationStep(r"Write $\frac{e^{-x}}{1 + e^{-x}} = \frac{(1 + e^{-x}) - 1}{1 + e^{-x}} = 1 - \frac{1}{1 + e^{-x}}$.",
             _factors(1 / (1 + e), 1 - 1 / (1 + e))),
        DerivationStep(r"Recognise $\sigma(x) = \frac{1}{1 + e^{-x}}$ in both factors.", _sigma(x) * (1 - _sigma(x))),
    ]
    return Derivation(r"\frac{d\sigma}{dx}", steps, {u: 1 + e, _sigma(x): _sigmoid(x)})


def tanh_derivation() -> Derivation:
    r"""Derive :math:`\tanh' = 1 - \tanh^2 = \operatorname{sech}^2` via sinh/cosh and the quotient rule."""
    sh, ch = sp.sinh(x), sp.cosh(x)
    steps = [
        DerivationStep(r"Start from $\tanh(x)$.", sp.Derivative(sp.tanh(x), x)),
        DerivationStep(r"Write $\tanh x = \frac{\sinh x}{\cosh x}$.", sp.Derivative(sh / ch, x)),
        DerivationStep(r"Quotient rule: $\left(\frac{f}{g}\right)' = \frac{f'g - fg'}{g^2}$.",
             (sp.Derivative(sh, x) * ch - sh * sp.Derivative(ch, x)) / ch ** 2),
        DerivationStep(r"$\sinh' = \cosh$ and $\cosh' = \sinh$.", (_mul(ch, ch) - _mul(sh, sh)) / ch ** 2),
        DerivationStep(r"Split the fraction.", _mul(ch ** 2, 1 / ch ** 2) - sh ** 2 / ch ** 2),
        DerivationStep(r"So $\tanh'(x) = 1 - \tanh^2 x$.", 1 - sp.tanh(x) ** 2),
        DerivationStep(r"Alternatively $\cosh^2 x - \sinh^2 x = 1$ gives $\frac{1}{\cosh^2 x}$.", 1 / ch ** 2),
        DerivationStep(r"That is $\operatorname{sech}^2 x$.", sp.sech(x) ** 2),
    ]
    return Derivation(r"\frac{d}{dx}\tanh x", steps, {})


def numpy_function(name: str, derivative: bool = False, alpha=None, **params) -> Callable:
    """A NumPy function lambdified from :func:`activation_expr` (or its derivative).

    A reference for tests and plots: it is the textbook formula, not the stable kernel
    (e.g. the sigmoid overflows in ``exp(-x)`` for large negative ``x``). NumPy has no
    ``erf``; it comes from SciPy where installed, else from :func:`math.erf`.
    """
    expr = (activation_derivative_expr(name, x, alpha, **params) if derivative
            else activation_expr(name, x, alpha, **params))
    return sp.lambdify(x, expr, modules=[{"erf": _numpy_erf()}, "numpy"])


def _numpy_erf():
    try:
        from scipy.special import erf
    except ImportError:
        import math

        import numpy as np

        erf = np.vectorize(math.erf, otypes=[float])
    return erf


class DerivativeRule(NamedTuple):
    """A row of the derivative-rules table: the rule in LaTeX, an example ``f`` and the claimed ``f'``."""

    name: str
    rule: str
    f: sp.Expr
    claimed: sp.Expr


class RuleCheck(NamedTuple):
    """A verified row: SymPy's derivative of ``f`` and whether it equals the claim."""

    rule: DerivativeRule
    actual: sp.Expr
    ok: bool


def derivative_rules() -> list[DerivativeRule]:
    """The table of derivative rules, each with an example worked by hand."""
    a = sp.Integer(2)
    s2 = sp.sin(x)
    rows = [
        ("constant", r"(c)' = 0", sp.Integer(5), sp.Integer(0)),
        ("power", r"(x^n)' = n x^{n-1}", x ** 3, 3 * x ** 2),
        ("constant multiple", r"(c f)' = c f'", 4 * x ** 2, 8 * x),
        ("sum", r"(f + g)' = f' + g'", x ** 2 + sp.exp(x), 2 * x + sp.exp(x)),
        ("product", r"(f g)' = f' g + f g'", x ** 2 * s2, 2 * x * s2 + x ** 2 * sp.cos(x)),
        ("quotient", r"\left(\frac{f}{g}\right)' = \frac{f' g - f g'}{g^2}", s2 / x,
         (sp.cos(x) * x - s2) / x ** 2),
        ("chain", r"(f \circ g)' = (f' \circ g)\, g'", sp.exp(x ** 2), 2 * x * sp.exp(x ** 2)),
        ("exponential", r"(e^x)' = e^x", sp.exp(x), sp.exp(x)),
        ("a^x", r"(a^x)' = a^x \ln a", a ** x, a ** x * sp.log(a)),
        ("natural log", r"(\ln x)' = \frac{1}{x}", sp.log(x), 1 / x),
        ("log_a", r"(\log_a x)' = \frac{1}{x \ln a}", sp.log(x, 10), 1 / (x * sp.log(10))),
        ("sin", r"(\sin x)' = \cos x", s2, sp.cos(x)),
        ("cos", r"(\cos x)' = -\sin x", sp.cos(x), -s2),
        ("tan", r"(\tan x)' = \sec^2 x", sp.tan(x), sp.sec(x) ** 2),
        ("sec", r"(\sec x)' = \sec x \tan x", sp.sec(x), sp.sec(x) * sp.tan(x)),
        ("csc", r"(\csc x)' = -\csc x \cot x", sp.csc(x), -sp.csc(x) * sp.cot(x)),
        ("cot", r"(\cot x)' = -\csc^2 x", sp.cot(x), -sp.csc(x) ** 2),
        ("sinh", r"(\sinh x)' = \cosh x", sp.sinh(x), sp.cosh(x)),
        ("cosh", r"(\cosh x)' = \sinh x", sp.cosh(x), sp.sinh(x)),
        ("tanh", r"(\tanh x)' = \operatorname{sech}^2 x", sp.tanh(x), sp.sech(x) ** 2),
        ("sech", r"\operatorname{sech}' x = -\operatorname{sech} x \tanh x", sp.sech(x),
         -sp.sech(x) * sp.tanh(x)),
        ("csch", r"\operatorname{csch}' x = -\operatorname{csch} x \coth x", sp.csch(x),
         -sp.csch(x) * sp.coth(x)),
        ("coth", r"(\coth x)' = -\operatorname{csch}^2 x", sp.coth(x), -sp.csch(x) ** 2),
    ]
    return [DerivativeRule(*row) for row in rows]


def verify_rule(rule: DerivativeRule) -> RuleCheck:
    """Differentiate ``rule.f`` with SymPy and prove it equal to ``rule.claimed``."""
    actual = sp.diff(rule.f, x)
    return RuleCheck(rule, actual, _equal(actual, rule.claimed))


def verify_rules(rules=None) -> list[RuleCheck]:
    """:func:`verify_rule` for every row of the table (or of ``rules``)."""
    return [verify_rule(r) for r in (derivative_rules() if rules is None else rules)]


#: Deprecated alias of :class:`DerivationStep` (its old name, which clashed with the step
#: activation and the step layer); kept so that older notebooks run.
Step = DerivationStep
