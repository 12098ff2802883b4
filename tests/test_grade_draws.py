"""Issue 18: every autograded part is judged on inputs drawn at grading time, and stability on values.

The oracle for "a lookup table earns nothing" is the reference itself: a cheat that
answers every input a learner can know (the visible cases at the course seed, the hidden
fixed cases and the hidden draws at the course seed, all public in this repository) with the
reference's output, and anything else with the closest stored answer, is judged by
:func:`dlcourse.checks.judge.grade_outcomes` on the cases the grader draws for a student.
"""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.checks import assignments
from dlcourse.checks import call as call_module
from dlcourse.checks.callables import FunctionSpec
from dlcourse.checks.judge import grade_outcomes
from dlcourse.checks.verdict import Outcome

hidden = pytest.importorskip("dlcourse_grade.hidden", reason="the grader distribution (dlcourse-grade) is not installed")

GRADING_SEEDS = (123456789, 2 ** 40 + 17)  # what classrun.student_seed gives: any seed but the course's (None)
PARTS = assignments.all_parts()


def _key(value):
    """A hashable fingerprint of an argument (arrays by dtype, shape and bytes)."""
    if isinstance(value, np.ndarray):
        return ("nd", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, FunctionSpec):
        return ("fn", value.name, tuple(sorted((k, _key(v)) for k, v in value.params.items())))
    if isinstance(value, (tuple, list)):
        return ("seq", tuple(_key(v) for v in value))
    return ("py", type(value).__name__, repr(value))


def _case_key(c):
    return (_key(c.args), tuple(sorted((k, _key(v)) for k, v in c.kwargs.items())))


def _shapes(c):
    return tuple(np.shape(a) if isinstance(a, np.ndarray) else type(a).__name__ for a in c.args)


def lookup_cheat(part):
    """The learner's lookup table: every input they can know, answered with the reference's output."""
    known = part.cases(None) + hidden.hidden_cases(part, None)
    table = {_case_key(c): part.expected(c) for c in known}
    by_shape = {_shapes(c): part.expected(c) for c in known}
    first = part.expected(known[0])

    def answer(c):
        return table.get(_case_key(c), by_shape.get(_shapes(c), first))
    return answer, table


def _grading_time_cases(part, seed):
    return hidden.cases(part, seed)


@pytest.mark.parametrize("part", PARTS, ids=[p.grade_id for p in PARTS])
def test_every_part_draws_inputs_at_grading_time(part):
    """Does the grader run every part on inputs that depend on the student's seed (not only fixed ones)?"""
    drawn = (part.draw is not None and part.n_draws > 0) or (
        hidden.hidden_for(part).draw is not None and hidden.hidden_for(part).n_draws > 0)
    assert drawn, f"{part.grade_id}: every case is fixed, so a lookup table of their answers would pass"
    a, b = (_grading_time_cases(part, s) for s in GRADING_SEEDS)
    assert {_case_key(c) for c in a} != {_case_key(c) for c in b}, f"{part.grade_id}: two students get the same cases"


@pytest.mark.parametrize("part", PARTS, ids=[p.grade_id for p in PARTS])
def test_lookup_table_of_known_answers_scores_zero(part):
    """Does a function that answers from a table of every public input (and guesses otherwise) earn 0 on the part?"""
    answer, table = lookup_cheat(part)
    for seed in GRADING_SEEDS:
        cases = _grading_time_cases(part, seed)
        unknown = [c for c in cases if _case_key(c) not in table]
        assert unknown, f"{part.grade_id}: every grading-time case of seed {seed} is in the public table"
        outcomes = [Outcome(value=answer(c)) for c in cases]
        report = grade_outcomes(part, cases, outcomes)
        assert report.score == 0.0, (f"{part.grade_id}: the lookup table scored {report.score}/{part.points} "
                                     f"with seed {seed}:\n{report.text}")


@pytest.mark.parametrize("part", PARTS, ids=[p.grade_id for p in PARTS])
def test_reference_scores_full_on_grading_time_cases(part):
    """Is the reference itself right on every drawn case (the draws are valid inputs)?"""
    for seed in GRADING_SEEDS:
        cases = _grading_time_cases(part, seed)
        outcomes = []
        for c in cases:
            args, kwargs = c.materialize()
            r = call_module.call(part.reference, args, kwargs, c.materialize(), part.params)
            outcomes.append(Outcome(value=r["value"], error=r["error"], warnings=tuple(r["warnings"])))
        report = grade_outcomes(part, cases, outcomes)
        assert report.score == part.points, f"{part.grade_id} (seed {seed}): the reference scored {report.score}\n{report.text}"


# ---- stability judged on values --------------------------------------------------------------------
def _naive_sigmoid_errstate(z):
    with np.errstate(all="ignore"):
        return 1 / (1 + np.exp(-z))


def _naive_sigmoid_filterwarnings(z):
    import warnings
    warnings.filterwarnings("ignore")
    return 1 / (1 + np.exp(-z))


def _exp_ratio_sigmoid(z):
    with np.errstate(all="ignore"):
        return np.exp(z) / (1 + np.exp(z))


def _clipped_sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))


def _naive_softmax(Z):
    with np.errstate(all="ignore"):
        e = np.exp(Z)
        return e / e.sum(axis=1, keepdims=True)


def _log_sigmoid_softmax(Z):  # exp(log(softmax)) with log taken of the naive ratio: -inf, then 0 or nan
    with np.errstate(all="ignore"):
        return np.exp(np.log(np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)))


def _mask_sigmoid(z):
    z = np.asarray(z)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1 + e)
    return out


def _where_sigmoid(z):  # both branches computed: overflow warnings, right values
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


def _logaddexp_sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))


def _loop_sigmoid(z):
    import math
    flat = [1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v)) for v in np.ravel(z).tolist()]
    return np.array(flat, dtype=np.asarray(z).dtype).reshape(np.shape(z))


def _max_softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _transposed_softmax(Z):  # columns, then back: an unusual but right layout
    Zt = Z.T
    e = np.exp(Zt - np.max(Zt, axis=0))
    return (e / np.sum(e, axis=0)).T


STABILITY = [  # (part, function, full marks?)
    ("sigmoid_is_stable", _naive_sigmoid_errstate, False),
    ("sigmoid_is_stable", _naive_sigmoid_filterwarnings, False),
    ("sigmoid_is_stable", _exp_ratio_sigmoid, False),
    ("sigmoid_is_stable", _clipped_sigmoid, False),
    ("softmax_is_stable", _naive_softmax, False),
    ("softmax_is_stable", _log_sigmoid_softmax, False),
    ("sigmoid_is_stable", _mask_sigmoid, True),
    ("sigmoid_is_stable", _where_sigmoid, True),
    ("sigmoid_is_stable", _logaddexp_sigmoid, True),
    ("sigmoid_is_stable", _loop_sigmoid, True),
    ("softmax_is_stable", _max_softmax, True),
    ("softmax_is_stable", _transposed_softmax, True),
]


def _recorded(part, cases, fn):
    import warnings
    outcomes = []
    with warnings.catch_warnings():  # a learner's filterwarnings("ignore") must not leak into other tests
        for c in cases:
            args, kwargs = c.materialize()
            r = call_module.call(fn, args, kwargs, c.materialize(), part.params)
            outcomes.append(Outcome(value=r["value"], error=r["error"], warnings=tuple(r["warnings"]),
                                    mutated=tuple(r["mutated"])))
    return outcomes


def test_the_parts_that_promise_stability_are_the_ones_tested_here():
    """Is every part with ``stability=True`` one of those the cheats below are run against?"""
    assert {p.grade_id for p in PARTS if p.stability} == {gid for gid, _, _ in STABILITY}


@pytest.mark.parametrize("gid,fn,honest", STABILITY, ids=[f.__name__.strip("_") for _, f, _ in STABILITY])
def test_stability_is_judged_on_values(gid, fn, honest):
    """Does a naive formula with its warnings silenced lose the stability part, and a stable one keep it?"""
    part = assignments.get_part(gid)
    for seed in GRADING_SEEDS:
        cases = _grading_time_cases(part, seed)
        report = grade_outcomes(part, cases, _recorded(part, cases, fn))
        expected = part.points if honest else 0.0
        assert report.score == expected, f"{fn.__name__} on {gid} (seed {seed}): {report.score}\n{report.text}"
        if not honest:  # it fails on values the grader drew, not only on the fixed ones
            n = hidden.hidden_for(part).n_draws
            assert any(not v.ok for v in report.verdicts[-n:]), report.text


def test_drawn_extreme_inputs_cover_both_dtypes_and_signs():
    """Do the stability draws reach |z| >= 1e30 with both signs in float32 and float64, and the subnormal window?"""
    for gid in ("sigmoid_is_stable", "softmax_is_stable"):
        part = assignments.get_part(gid)
        draws = [c for s in range(40) for c in hidden.hidden_cases(part, s)[-hidden.hidden_for(part).n_draws:]]
        for dtype in (np.float32, np.float64):
            zs = np.concatenate([c.args[0].ravel().astype(np.float64) for c in draws if c.args[0].dtype == dtype])
            assert zs.max() > 1e30 and zs.min() < -1e30, (gid, dtype)
        z64 = np.concatenate([c.args[0].ravel() for c in draws if c.args[0].dtype == np.float64])
        if gid == "sigmoid_is_stable":
            with np.errstate(under="ignore"):
                tiny = np.exp(z64[(z64 > -745) & (z64 < -709)])
            assert tiny.size and (tiny < np.finfo(np.float64).tiny).all()
