"""Unit tests of the exercise descriptions and the in-kernel feedback (no nbgrader run).

The learner functions here are written independently of the references: the instructor
solutions are executed from the source notebooks, and each mistake is a small
hand-written function. Oracles: PyTorch float64 (backprop, optimizer steps, schedule),
the known AND-gate trace, and hand-made cases.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

from dlcourse import checks
from dlcourse.checks import assignments
from dlcourse.checks.spec import Case
from dlcourse.checks import GradingFailure, Outcome, Score, check, evaluate, grade_outcomes
from dlcourse_grade import hidden as hidden_tests

ROOT = Path(__file__).resolve().parents[1]


def _solutions(assignment: str) -> dict:
    """Namespace after running every code cell of the source notebook (solutions and hidden tests)."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat comes with nbgrader (the grade extra)")
    if assignment == "ex03_derivatives":
        pytest.importorskip("sympy", reason="ex03 uses SymPy")
    nb = nbformat.read(ROOT / "exercises" / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    ns: dict = {"__name__": "__main__"}
    code = [c.source for c in nb.cells if c.cell_type == "code"
            and not c.metadata.get("nbgrader", {}).get("grade")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for source in code:
            exec(compile(source, f"<{assignment}>", "exec"), ns)
    return ns


@pytest.fixture(scope="module")
def solutions() -> dict:
    return {a: _solutions(a) for a in assignments.ASSIGNMENTS}


def _text(report) -> str:
    return report.text + "\n" + "\n".join(report.diagnoses)


# ---- the descriptions ------------------------------------------------------------------------
def test_grade_ids_are_unique_and_readable():
    """Is every grade id unique across the course and a readable snake_case name?"""
    ids = [p.grade_id for p in assignments.all_parts()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", gid) for gid in ids), ids


@pytest.mark.parametrize("assignment", assignments.ASSIGNMENTS)
def test_each_assignment_has_four_to_eight_parts(assignment):
    """Does every assignment describe 4 to 8 autograded parts?"""
    assert 4 <= len(assignments.parts(assignment)) <= 8


@pytest.mark.parametrize("part", assignments.all_parts(), ids=lambda p: p.grade_id)
def test_part_params_match_the_notebook_signature(part, solutions):
    """Do the part's parameter names match the signature the notebook gives the learner?"""
    fn = solutions[part.assignment][part.function]
    assert tuple(inspect.signature(fn).parameters)[:len(part.params)] == part.params
    for dep in part.depends_on:
        assert dep in solutions[part.assignment], f"{part.grade_id} depends on missing {dep}"


@pytest.mark.parametrize("part", assignments.all_parts(), ids=lambda p: p.grade_id)
def test_draws_are_reproducible_and_hidden_draws_differ(part):
    """Does a seed reproduce every draw, and are the hidden cases other inputs than the visible ones?"""
    def key(cases):
        return [Case.describe(c) + repr([a.tobytes() for a in c.args if isinstance(a, np.ndarray)]) for c in cases]

    assert key(part.cases(seed=5)) == key(part.cases(seed=5))
    hidden = hidden_tests.hidden_cases(part, seed=5)
    assert hidden and all(c.hidden for c in hidden)
    assert not set(key(hidden)) & set(key(part.cases(seed=5)))
    if part.draw is not None and part.n_draws:
        assert key(part.cases(seed=5)) != key(part.cases(seed=6))


@pytest.mark.parametrize("part", assignments.all_parts(), ids=lambda p: p.grade_id)
def test_instructor_solution_passes_visible_and_hidden_cases(part, solutions, capsys):
    """Does the instructor's solution (independent of the reference) pass every case of every part?"""
    report = evaluate(part.grade_id, solutions[part.assignment][part.function], seed=11,
                      hidden_cases=hidden_tests.hidden_cases(part, seed=11))
    assert report.passed, report.text
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("part", assignments.all_parts(), ids=lambda p: p.grade_id)
def test_every_hidden_case_has_a_visible_sibling(part):
    """Does every hidden case (any seed) have a visible case, as the learner sees them, with all its traits?

    Traits are ``Case.tags`` plus those read off the arrays (float32), so hidden inputs
    differ from the visible ones in values, not in kind.
    """
    visible = [c.traits() for c in part.cases()]
    for seed in (None, 1, 2, 3, 4, 5, 17, 123):
        for h in hidden_tests.hidden_cases(part, seed=seed):
            assert any(h.traits() <= v for v in visible), (
                f"{part.grade_id}: hidden case {h.kind!r} (seed {seed}) has traits {sorted(h.traits())} "
                f"that no visible case has together; visible: {[sorted(v) for v in visible]}")


@pytest.mark.parametrize("part", [p for p in assignments.all_parts() if p.mistakes], ids=lambda p: p.grade_id)
def test_every_known_mistake_is_distinguishable(part):
    """Does each known mistake change the answer on at least one visible case (so it is caught, and named)?"""
    from dlcourse.checks.diagnose import differs

    cases = part.cases()
    for mistake in part.mistakes:
        if mistake.on_warning:
            continue
        found = False
        for c in cases:
            expected = part.expected(c)
            try:
                pred = mistake.predict(c, expected)
            except Exception:  # noqa: BLE001 - a mistake that cannot run on this input
                continue
            exps = expected if part.outputs else (expected,)
            preds = pred if part.outputs else (pred,)
            found |= any(differs(p, e, part) for p, e in zip(preds, exps))
        assert found, f"{part.grade_id}: mistake {mistake.name!r} never differs from the reference"


# ---- feedback and diagnoses --------------------------------------------------------------------
def _naive_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_naive_sigmoid_gets_values_but_not_stability_and_prints_nothing_to_stderr(capsys):
    """Does a correct but overflowing sigmoid keep its value points, lose the stability part, and stay off stderr?"""
    assert check("sigmoid_matches_reference", _naive_sigmoid) == 1.0
    with pytest.raises(GradingFailure, match="overflow"):
        check("sigmoid_is_stable", _naive_sigmoid)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("grade_id, fn, cause", [
    ("step_matches_reference", lambda z: np.where(z >= 0, 1.0, 0.0), ">= instead of >"),
    ("softmax_matches_reference", lambda Z: np.exp(Z) / np.exp(Z).sum(axis=0, keepdims=True), "wrong axis"),
    ("sigmoid_derivative_matches_reference", lambda z: z * (1 - z), "derivative fed the activation"),
    ("bce_matches_reference", lambda y, p: -np.mean(y * np.log10(p) + (1 - y) * np.log10(1 - p)), "log10"),
    ("mse_gradient_matches_reference", lambda t, p: -2 * (p - t) / p.size, "sign flipped"),
    ("mse_gradient_matches_reference", lambda t, p: (p - t) / p.size, "factor 2 is missing"),
    ("softmax_ce_gradient_matches_reference",
     lambda Y, Z: np.exp(Z - Z.max(1, keepdims=True)) / np.exp(Z - Z.max(1, keepdims=True)).sum(1, keepdims=True) - Y,
     "divide softmax(Z) - Y by N"),
    ("dense_forward_matches_reference", lambda X, W, b: (X @ W + b).T, "transposed"),
    ("rmsprop_step_matches_reference",
     lambda w, g, s, lr, a=0.99, eps=1e-8: (w - lr * g / np.sqrt(a * s + (1 - a) * g * g + eps), a * s + (1 - a) * g * g),
     "epsilon inside the square root"),
    ("adam_step_matches_reference",
     lambda w, g, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8: (
         w - lr * (b1 * m + (1 - b1) * g) / (np.sqrt(b2 * v + (1 - b2) * g * g) + eps),
         b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g),
     "bias correction missing"),
    ("sgd_step_matches_reference", lambda w, g, lr: w.__isub__(lr * g), "input mutated in place"),
])
def test_known_mistake_is_diagnosed(grade_id, fn, cause):
    """Is each typical mistake named in the feedback, with fewer than full points?"""
    report = evaluate(grade_id, fn)
    assert not report.passed
    assert cause in _text(report), report.text


def test_flipped_kernel_is_diagnosed():
    """Does a true convolution (flipped kernel) get the cross-correlation diagnosis?"""
    from dlcourse.checks.assignments.ex06_cnn import _flipped_conv

    def conv(x, w, b, stride=1, padding=0):  # a learner's loop version of the flipped kernel
        return _flipped_conv(x, w, b, stride, padding)

    conv.__module__ = "__main__"
    # the helper lives in dlcourse, so judge the outcomes directly, as the out-of-kernel grader does
    part = assignments.get_part("conv2d_forward_matches_reference")
    cases = part.cases()
    report = grade_outcomes(part, cases, [Outcome(value=conv(*c.materialize()[0])) for c in cases])
    assert report.score == 0 and "kernel flipped" in _text(report)


def test_shape_is_checked_before_values_and_names_the_shapes():
    """Is a result that would broadcast, shape (N, 1) for (N,), reported as a wrong shape?"""
    report = evaluate("predict_matches_reference", lambda X, w, b: np.where(X @ w[:, None] + b > 0, 1.0, 0.0))
    assert "wrong shape: expected shape (4,), got shape (4, 1)" in report.text, report.text


def test_dtype_is_checked_and_nan_is_named():
    """Are a float32 input answered in float64, and a NaN, both named?"""
    r = evaluate("relu_matches_reference", lambda z: np.maximum(z, 0).astype(np.float64))
    assert "wrong dtype: expected float32" in r.text
    r = evaluate("relu_matches_reference", lambda z: np.where(z > 1, np.nan, np.maximum(z, 0)))
    assert "nan" in r.text and "finite number was expected" in r.text


def test_integer_result_and_missing_return_are_explained():
    """Does a float from / get 'use //', and a None get 'did you forget return'?"""
    assert "use //" in evaluate("conv_output_size_matches_reference", lambda n, k, s=1, p=0: (n + 2 * p - k) / s + 1).text
    assert "forget `return`" in evaluate("mse_matches_reference", lambda t, p: None).text


def test_visible_feedback_shows_input_expected_and_got():
    """Does visible feedback show the failing call and expected vs got?"""
    text = evaluate("mae_matches_reference", lambda t, p: np.mean(p - t)).text
    first = assignments.get_part("mae_matches_reference").cases()[0]
    want = np.mean(np.abs(first.args[1] - first.args[0]))
    assert "First failing input" in text and "mae(y_true=np.array([1., 2., 3., 4.])" in text, text
    assert f"expected {want:.6g}, got {np.mean(first.args[1] - first.args[0]):.6g}" in text, text


def test_hidden_feedback_gives_the_kind_only():
    """Does hidden feedback name the kind of input and never the expected value or the arguments?"""
    part = assignments.get_part("mae_matches_reference")
    cases = hidden_tests.hidden_cases(part)
    outcomes = [Outcome(value=part.expected(c) + 1.0) for c in cases]
    report = grade_outcomes(part, cases, outcomes)
    assert "a hidden test case (zero targets with an outlier)" in report.text
    assert "expected" not in report.text.split("Problem:")[1].split("\n")[0]
    assert str(round(part.expected(cases[0]), 3))[:4] not in report.text


def test_partial_credit_is_the_cells_value():
    """Does a part with several outputs return the right share as the cell's value (repr a bare number)?"""
    def update(x, y, w, b, lr):  # the bias is never updated
        y_hat = float(x @ w + b > 0)
        return w + lr * (y - y_hat) * x, b

    score = check("update_matches_reference", update)
    assert isinstance(score, Score) and score == 1.0 and repr(score) == "1.0"
    hidden = hidden_tests.check("update_matches_reference", update)
    assert hidden == 1.0


def test_zero_raises_visibly_but_hidden_never_raises(capsys):
    """Does a visible check with 0 points raise GradingFailure while a hidden one prints and returns 0?"""
    with pytest.raises(GradingFailure, match="sgd_step_matches_reference: 0 of 1"):
        check("sgd_step_matches_reference", lambda w, g, lr: w + lr * g)
    assert hidden_tests.check("sgd_step_matches_reference", lambda w, g, lr: w + lr * g) == 0.0
    assert "FAILED" in capsys.readouterr().out


def test_unimplemented_function_is_reported_as_not_implemented():
    """Does the untouched stub say 'not implemented yet' rather than a traceback?"""
    def stub(z):
        raise NotImplementedError()

    assert "not implemented yet" in evaluate("tanh_matches_reference", stub).text


# ---- delegation ----------------------------------------------------------------------------------
def test_delegation_through_a_global_alias_is_detected():
    """Does a function that calls dlcourse through a global name earn 0 with the reason?"""
    import dlcourse.activations as act

    ns = {"act": act}
    exec("def relu(z):\n    return act.relu(z)\n", ns)
    report = evaluate("relu_matches_reference", ns["relu"])
    assert report.score == 0 and report.delegated and "uses the reference implementation" in report.text


def test_delegation_by_import_inside_the_function_is_detected():
    """Is an import of dlcourse inside the function poisoned and reported?"""
    ns: dict = {}
    exec("def mse(y_true, y_pred):\n    from dlcourse import losses\n    return losses.mse(y_true, y_pred)\n", ns)
    report = evaluate("mse_matches_reference", ns["mse"])
    assert report.score == 0 and "dlcourse" in report.delegated


def test_delegation_hidden_behind_importlib_is_detected_by_the_call_trace():
    """Does the profile hook catch a call into dlcourse that no name in the code reveals?"""
    ns = {"importlib": importlib}
    exec("def sigmoid(z):\n    m = importlib.import_module('dlc' + 'ourse.activations')\n"
         "    return getattr(m, 'sig' + 'moid')(z)\n", ns)
    report = evaluate("sigmoid_matches_reference", ns["sigmoid"])
    assert report.score == 0 and "activations.py" in report.delegated, report.delegated
    assert sys.getprofile() is None


def test_plain_numpy_function_is_not_flagged():
    """Is an honest NumPy function (which may use the grading module's name space) left alone?"""
    ns = {"np": np, "checks": checks}
    exec("def relu(z):\n    return np.maximum(z, 0)\n", ns)
    assert evaluate("relu_matches_reference", ns["relu"]).passed


# ---- dependencies and version ----------------------------------------------------------------------
def test_dependency_failure_is_pointed_out(solutions, capsys):
    """Does a failing mlp_forward whose relu is broken point at relu?"""
    ns = dict(solutions["ex02_mlp"])
    exec("def relu(z):\n    return np.abs(z)\n", ns)
    mlp_forward = types.FunctionType(solutions["ex02_mlp"]["mlp_forward"].__code__, ns)
    with pytest.raises(GradingFailure, match="uses your `relu`, which fails its own check"):
        check("mlp_forward_matches_reference", mlp_forward)


def test_version_mismatch_is_reported(capsys, monkeypatch):
    """Does start() record the version and report a mismatch, and do checks repeat the note?"""
    line = checks.start("ex04_losses", written_for="0.0.1")
    assert "VERSION MISMATCH" in line
    check("mse_matches_reference", lambda t, p: np.mean((p - t) ** 2))
    assert "written for 0.0.1" in capsys.readouterr().out
    import dlcourse

    assert "MISMATCH" not in checks.start("ex04_losses", written_for=dlcourse.__version__)


def test_outcomes_from_another_process_are_judged_alike():
    """Does judging plain Outcome data (as the out-of-kernel grader sends) give the in-kernel verdicts?"""
    part = assignments.get_part("sigmoid_is_stable")
    cases = part.cases()
    exp = [part.expected(c) for c in cases]
    warned = [Outcome(value=e, warnings=("overflow encountered in exp",)) for e in exp]
    assert grade_outcomes(part, cases, warned, exp).passed  # stability is judged on values, not on warnings
    flushed = [Outcome(value=np.where(np.abs(e) < 1e-300, 0.0, e).astype(e.dtype)) for e in exp]
    assert grade_outcomes(part, cases, flushed, exp).score == 0  # 0 where the answer is a subnormal
    assert grade_outcomes(part, cases, [Outcome(value=e) for e in exp], exp).passed
    mutated = [Outcome(value=e, mutated=("z",)) for e in exp]
    assert "input mutated in place" in _text(grade_outcomes(part, cases, mutated, exp))


# ---- references against independent oracles ----------------------------------------------------------
def test_perceptron_reference_matches_the_known_and_gate_trace():
    """Does the reference give the documented first AND-gate update: w = [0.1, 0.1], b = 0.1?"""
    from dlcourse.checks.assignments.ex01_perceptron import GATE_X, ref_update

    w, b = np.zeros(2), 0.0
    for x, y in zip(GATE_X, [0, 0, 0, 1]):
        w, b = ref_update(x, y, w, b, 0.1)
    np.testing.assert_allclose(w, [0.1, 0.1])
    assert b == pytest.approx(0.1)


def test_backprop_reference_matches_torch_autograd(rng):
    """Does the two-layer backward reference equal PyTorch autograd in float64?"""
    torch = pytest.importorskip("torch", reason="the oracle is PyTorch")
    from dlcourse.checks.assignments.ex03_derivatives import ref_backward

    X, W1, b1, W2, b2 = (rng.normal(size=s) for s in [(5, 3), (3, 4), (4,), (4, 2), (2,)])
    Y = np.eye(2)[rng.integers(0, 2, 5)]
    t = [torch.tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]
    logits = torch.sigmoid(torch.tensor(X) @ t[0] + t[1]) @ t[2] + t[3]
    torch.nn.functional.cross_entropy(logits, torch.tensor(Y)).backward()
    for ours, theirs in zip(ref_backward(X, Y, W1, b1, W2, b2), t):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["momentum", "rmsprop", "adam"])
def test_optimizer_step_references_match_torch_over_steps(name, rng):
    """Do the one-step references, chained with their state, follow torch.optim for 5 steps?"""
    torch = pytest.importorskip("torch", reason="the oracle is PyTorch")
    from dlcourse.checks.assignments import ex05_optimizers as ex

    w0, grads = rng.normal(size=3), rng.normal(size=(5, 3))
    p = torch.tensor(w0, requires_grad=True)
    opt = {"momentum": lambda: torch.optim.SGD([p], lr=0.1, momentum=0.9),
           "rmsprop": lambda: torch.optim.RMSprop([p], lr=0.01, alpha=0.9, eps=1e-3),
           "adam": lambda: torch.optim.Adam([p], lr=0.01, betas=(0.9, 0.99), eps=1e-3)}[name]()
    w, s1, s2 = w0.copy(), np.zeros(3), np.zeros(3)
    for t, g in enumerate(grads, start=1):
        p.grad = torch.tensor(g)
        opt.step()
        if name == "momentum":
            w, s1 = ex.ref_momentum(w, g, s1, 0.1, 0.9)
        elif name == "rmsprop":
            w, s1 = ex.ref_rmsprop(w, g, s1, 0.01, 0.9, 1e-3)
        else:
            w, s1, s2 = ex.ref_adam(w, g, s1, s2, t, 0.01, 0.9, 0.99, 1e-3)
        np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_cosine_reference_matches_torch_scheduler():
    """Does the cosine reference equal torch's CosineAnnealingLR for 25 epochs (past T_max)?"""
    torch = pytest.importorskip("torch", reason="the oracle is PyTorch")
    from dlcourse.checks.assignments.ex05_optimizers import ref_cosine_lr

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    for epoch in range(25):
        assert ref_cosine_lr(epoch, 0.5, 0.01, 10) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9)
        opt.step()
        sched.step()


# ---- nbgrader plugins ---------------------------------------------------------------------------------
def test_feedback_preprocessor_strips_hidden_tests_from_source_and_outputs():
    """Does StripHiddenTests remove the hidden region and every output line that repeats it?"""
    nbformat = pytest.importorskip("nbformat", reason="nbformat comes with nbgrader")
    pytest.importorskip("nbgrader", reason="needs nbgrader")
    from dlcourse_grade.nbgrader_plugins import StripHiddenTests

    cell = nbformat.v4.new_code_cell("check(1)\n### BEGIN HIDDEN TESTS\nsecret_check(2)\n### END HIDDEN TESTS")
    cell.metadata = {"nbgrader": {"grade": True, "grade_id": "t", "points": 1, "solution": False,
                                  "locked": True, "schema_version": 3}}
    cell.outputs = [nbformat.v4.new_output("error", ename="E", evalue="x", traceback=[
        "\x1b[0;32m----> 3\x1b[0m secret_check(2)", "\x1b[0;32m      2\x1b[0m ### BEGIN HIDDEN TESTS", "E: x"]),
        nbformat.v4.new_output("stream", name="stdout", text="ran secret_check(2)\nFAILED t")]
    out, _ = StripHiddenTests().preprocess_cell(cell, {}, 0)
    text = out.source + str(out.outputs)
    assert "secret_check" not in text and "HIDDEN" not in text and "FAILED t" in text and "E: x" in text


def test_late_penalty_is_ten_percent_per_started_day():
    """Is the penalty 10 % of the score per started day late, capped at the score?"""
    pytest.importorskip("nbgrader", reason="needs nbgrader")
    from dlcourse_grade.nbgrader_plugins import PercentPerDayLatePenalty

    plugin = PercentPerDayLatePenalty()
    assert plugin.late_submission_penalty("s", 8.0, 0) is None
    assert plugin.late_submission_penalty("s", 8.0, 60) == pytest.approx(0.8)
    assert plugin.late_submission_penalty("s", 8.0, 86400 * 1.5) == pytest.approx(1.6)
    assert plugin.late_submission_penalty("s", 8.0, 86400 * 30) == pytest.approx(8.0)


def test_check_all_runs_every_visible_check_and_never_raises(solutions, capsys):
    """Does check_all score every part of an assignment, naming missing functions, without raising?"""
    ns = {k: v for k, v in solutions["ex05_optimizers"].items() if k != "cosine_lr"}
    scores = checks.check_all(ns, "ex05_optimizers")
    out = capsys.readouterr().out
    assert scores["cosine_schedule_matches_reference"] == 0.0 and "MISSING" in out
    assert scores["adam_step_matches_reference"] == 3.0 and out.count("PASSED") == 4


# ---- trust: time limits, output, numbers, names (issue 19) -------------------------------------------
def test_a_hanging_function_costs_one_time_limit_and_spares_the_other_checks(capsys):
    """Does an endless step() time out once per part, while check_all still scores the functions that work?"""
    import time

    ns: dict = {"np": np}
    exec("def step(z):\n    while True:\n        pass\n"
         "def perceptron_predict(X, w, b):\n    return np.where(X @ w + b > 0, 1.0, 0.0)\n", ns)
    part = assignments.get_part("step_matches_reference")
    start = time.monotonic()
    report = evaluate(part.grade_id, ns["step"], time_limit=0.3)
    assert time.monotonic() - start < 2 and not report.passed
    assert "did not return within 0.3 s" in report.text and "time limit" in report.text
    assert evaluate("predict_matches_reference", ns["perceptron_predict"]).passed


def test_printed_output_is_captured_capped_and_the_verdict_comes_last():
    """Is what a function prints shown before the verdict, cut to a fixed size?"""
    ns: dict = {"np": np}
    exec("def relu(z):\n    for i in range(20000):\n        print('debug', i)\n    return np.maximum(z, 0)\n", ns)
    text = evaluate("relu_matches_reference", ns["relu"]).text
    assert text.splitlines()[-1].startswith("PASSED") and "| debug 0" in text
    assert len(text) < 5000 and "more lines not shown" in text


def test_numbers_are_shown_with_the_digits_that_differ():
    """Are expected and got printed with enough digits to see that they differ?"""
    from dlcourse.checks.judge import show_pair

    assert show_pair(-1.2484601, -1.2484612) == ("-1.248460", "-1.248461")
    assert show_pair(-1.24846, -1.24846 * (1 + 1e-12)) == ("-1.248460000000", "-1.248460000001")
    assert show_pair(2.5, 3.0) == ("2.5", "3")


def test_a_hint_is_given_only_where_the_mistake_reproduces():
    """Is a known mistake named only when re-applying it reproduces the output on every case?"""
    half = evaluate("mse_gradient_matches_reference", lambda t, p: (p - t) / p.size)
    assert "factor 2 is missing" in half.text
    mixed = evaluate("mse_gradient_matches_reference",
                     lambda t, p: (p - t) / p.size if p.ndim == 1 else 2 * (t - p) / p.size)
    assert not mixed.passed and "Likely cause" not in mixed.text, mixed.text


def test_finite_differences_do_not_earn_analytic_points():
    """Does a gradient from central differences fail the analytic part, and does the feedback say why?"""
    def sigmoid_derivative(z):
        s = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
        return (s(z + 1e-5) - s(z - 1e-5)) / 2e-5

    report = evaluate("sigmoid_derivative_matches_reference", sigmoid_derivative)
    assert not report.passed and "finite-difference estimate cannot" in report.text


def test_name_error_in_a_test_cell_says_what_to_do(capsys):
    """In an IPython shell, does a test cell naming an undefined function say to run (and fix) its cell?"""
    pytest.importorskip("IPython", reason="the hook is for IPython kernels")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_cell("from dlcourse import checks\nchecks.start('ex01_perceptron', 'x')")
        result = shell.run_cell("checks.check('step_matches_reference', step)")
        out = capsys.readouterr().out
        assert result.error_in_exec is not None and "`step` is not defined: run the cell that defines it" in out
    finally:
        shell.set_custom_exc((), None)
        InteractiveShell.clear_instance()
