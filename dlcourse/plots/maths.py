"""Mathematics rendered for the book: derivations and the derivative-rules table as Markdown.

A notebook cell that returns ``IPython.display.Markdown`` is rendered by MyST-NB
as Markdown, so inline ``$...$`` and display ``$$...$$`` maths become typeset
formulas. These helpers turn the objects of :mod:`dlcourse.calculus` (SymPy) into
such Markdown; they compute nothing themselves.
"""

from __future__ import annotations

__all__ = ["derivation_markdown", "rules_table_markdown"]


def derivation_markdown(derivation) -> str:
    """A numbered list of a derivation's steps, then all its lines as one aligned display.

    Parameters
    ----------
    derivation : dlcourse.calculus.Derivation
        Its steps are checked with ``derivation.check()``; a step SymPy cannot prove
        equal to the previous one is marked in bold.

    Returns
    -------
    str
        Markdown with LaTeX maths.
    """
    checks = derivation.check()
    items = []
    for i, (step, check) in enumerate(zip(derivation.steps, checks), start=1):
        mark = "" if check.ok else " (**not equal to the previous line**)"
        items.append(f"{i}. {step.explanation}{mark}")
    return "\n".join(items) + "\n\n$$\n" + derivation.latex() + "\n$$\n"


def rules_table_markdown(rule_checks) -> str:
    """The derivative-rules table, one row per verified rule.

    Parameters
    ----------
    rule_checks : list of dlcourse.calculus.RuleCheck
        As returned by ``dlcourse.calculus.verify_rules()``.

    Returns
    -------
    str
        A Markdown table: rule, formula, example, its derivative, and whether SymPy agrees
        ("yes" or "**no**").
    """
    import sympy as sp

    lines = ["| rule | formula | example $f(x)$ | $f'(x)$ | SymPy |",
             "| --- | --- | --- | --- | --- |"]
    for check in rule_checks:
        r = check.rule
        agrees = "yes" if check.ok else "**no**"
        f, claimed = (sp.latex(e, fold_func_brackets=True, ln_notation=True) for e in (r.f, r.claimed))  # \sin x, not \sin(x)
        lines.append(f"| {r.name} | ${r.rule}$ | ${f}$ | ${claimed}$ | {agrees} |")
    return "\n".join(lines) + "\n"
