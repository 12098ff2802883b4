"""One description per autograded part of the course's seven nbgrader assignments.

Both graders read these descriptions: the notebooks' test cells
(:func:`dlcourse.checks.check`, in the learner's kernel) and the out-of-kernel
grader ``dlcourse-grade``. Nothing about a part is written anywhere else.

The description API
-------------------
``ASSIGNMENTS``
    The assignment names in course order: ``ex01_perceptron`` ... ``ex07_training``. Each
    is a module here whose ``PARTS`` list holds its :class:`Part` s in notebook order.
``parts(assignment) -> list[Part]``, ``get_part(grade_id) -> Part``, ``all_parts()``
    Look-ups. Grade ids are unique across the course; a part's ``grade_id`` is the
    nbgrader ``grade_id`` of the test cell that scores it.
``value_part(assignment, function) -> Part | None``
    The first part of an assignment that checks ``function``'s values.

A :class:`Part` (see :mod:`dlcourse.checks.spec`) states: ``assignment``,
``grade_id``, ``function`` (the name the learner defines) and ``params`` (its
parameter names), ``reference`` (trusted, same signature), ``points``, the visible
inputs (``fixed()`` cases and ``draw(rng)`` random ones; the hidden set lives with the
instructor's grader, ``dlcourse_grade.hidden``), ``tolerance`` (by dtype), ``dtype``
(rule for the result's dtype), ``outputs`` (names of tuple components), ``mistakes``
(known mistakes with their feedback), ``depends_on`` (the learner's earlier
functions this one calls), ``stability`` (warnings fail the case) and ``partial``
(each tuple component earns its share).

How an out-of-kernel grader uses a part::

    part = get_part("sigmoid_matches_reference")
    cases = dlcourse_grade.hidden.cases(part, seed=s)   # visible + hidden, plain data
    # in the isolated process, for each case c (dlcourse not importable there):
    #     args, kwargs = c.materialize()   (FunctionSpec -> function: ship callables.py)
    #     call learner_fn(*args, **kwargs) with warnings recorded, compare args after,
    #     send back value / error text / warning messages / mutated argument names
    outcomes = [Outcome(value=..., error=..., warnings=..., mutated=...)]   # dlcourse.checks.verdict
    report = grade_outcomes(part, cases, outcomes)   # report.score, report.text, report.diagnoses

Inputs are data only: ndarrays, Python numbers and strings, tuples of these, and
:class:`~dlcourse.checks.callables.FunctionSpec` (a function argument described
by a name and arrays). ``Case.kind`` describes a case in words and is the only thing
feedback shows about a hidden case. Random draws come from
``numpy.random.default_rng([seed, crc32(grade_id), hidden])`` (``Part.rng``), so a
seed reproduces every draw; ``seed=None`` is the fixed seed the notebooks use.

The references are ``dlcourse`` functions where the package has an exact twin
(activations, losses, layers, conv and pool kernels) and small functions in the
assignment's module otherwise (single optimizer steps, the perceptron rule); the
tests check the latter against ``dlcourse`` and PyTorch.
"""

from __future__ import annotations

import importlib

from ..spec import Case, Mistake, Part, Tolerance, case

__all__ = ["ASSIGNMENTS", "Part", "Case", "Mistake", "Tolerance", "case", "parts", "get_part",
           "all_parts", "value_part", "assignment_points"]

ASSIGNMENTS = ("ex01_perceptron", "ex02_mlp", "ex03_derivatives", "ex04_losses", "ex05_optimizers", "ex06_cnn",
               "ex07_training")


def parts(assignment: str) -> list[Part]:
    """The autograded parts of ``assignment`` in notebook order."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}; expected one of {', '.join(ASSIGNMENTS)}")
    return list(importlib.import_module(f"{__name__}.{assignment}").PARTS)


def all_parts() -> list[Part]:
    """Every part of every assignment, in course order."""
    return [p for a in ASSIGNMENTS for p in parts(a)]


def get_part(grade_id: str) -> Part:
    """The part whose test cell has nbgrader grade id ``grade_id``."""
    for a in ASSIGNMENTS:
        for p in parts(a):
            if p.grade_id == grade_id:
                return p
    raise KeyError(f"no exercise part has grade id {grade_id!r}")


def value_part(assignment: str, function: str) -> Part | None:
    """The first part of ``assignment`` that checks the values of ``function`` (not its stability)."""
    return next((p for p in parts(assignment) if p.function == function and not p.stability), None)


def assignment_points(assignment: str) -> float:
    """The autograded points of ``assignment`` (written answers not included)."""
    return float(sum(p.points for p in parts(assignment)))
