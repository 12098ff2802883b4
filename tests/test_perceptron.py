"""The perceptron: the strict step, the Rosenblatt rule, the trace, convergence and its failure on XOR."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dlcourse.data import logic_gate
from dlcourse.perceptron import ConvergenceWarning, Perceptron


def test_first_and_update_is_at_input_1_1():
    """On AND with zero weights and lr 0.1, is the first update at [1, 1] giving w = [0.1, 0.1], b = 0.1?"""
    p = Perceptron(lr=0.1).fit(*logic_gate("AND"))
    first = p.updates_[0]
    np.testing.assert_array_equal(first.x, [1, 1])
    assert (first.prediction, first.error) == (0, 1)
    np.testing.assert_allclose(first.weights, [0.1, 0.1])
    assert first.bias == pytest.approx(0.1)
    # the three inputs before it are predicted 0 by the strict step (z = 0 is not > 0)
    assert [s.prediction for s in p.trace_[:3]] == [0, 0, 0]


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND"])
def test_separable_gates_converge(gate):
    """Do AND, OR and NAND converge, and does the result classify all four inputs?"""
    X, y = logic_gate(gate)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = Perceptron(lr=0.1, max_epochs=50).fit(X, y)
    assert p.converged_ and p.errors_[-1] == 0
    np.testing.assert_array_equal(p.predict(X), y)
    assert p.score(X, y) == 1.0


def test_xor_reports_non_convergence_after_max_epochs():
    """On XOR does fit stop after max_epochs, set converged_ False and warn, instead of looping?"""
    X, y = logic_gate("XOR")
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        p = Perceptron(max_epochs=25).fit(X, y)
    assert not p.converged_ and p.n_epochs_ == 25
    assert len(p.errors_) == 25 and min(p.errors_) > 0
    assert p.score(X, y) < 1.0


def test_trace_replays_the_rosenblatt_rule():
    """Does every trace step follow w <- w + lr*e*x, b <- b + lr*e with the strict step?"""
    X, y = logic_gate("OR")
    lr = 0.25
    p = Perceptron(lr=lr).fit(X, y)
    w, b = np.zeros(2), 0.0
    for s in p.trace_:
        prediction = int(s.x @ w + b > 0)
        assert s.prediction == prediction and s.error == s.target - prediction
        w, b = w + lr * s.error * s.x, b + lr * s.error
        np.testing.assert_allclose(s.weights, w)
        assert s.bias == pytest.approx(b)
    assert len(p.trace_) == 4 * p.n_epochs_
    np.testing.assert_allclose(p.weights_, w)
    assert "Epoch 1  input [0, 0]" in p.format_trace()


def test_decision_boundary_points_lie_on_the_line():
    """Do the decision-boundary points satisfy w . x + b = 0 and separate the AND inputs?"""
    X, y = logic_gate("AND")
    p = Perceptron().fit(X, y)
    x1, x2 = p.decision_boundary((-1, 2), num=5)
    np.testing.assert_allclose(p.weights_[0] * x1 + p.weights_[1] * x2 + p.bias_, 0, atol=1e-12)
    assert x1.shape == x2.shape == (5,)


def test_decision_boundary_vertical_and_degenerate():
    """Is a vertical line returned when w2 = 0, and an error raised when both weights are 0?"""
    p = Perceptron()
    p.weights_, p.bias_ = np.array([2.0, 0.0]), -1.0
    x1, x2 = p.decision_boundary()
    np.testing.assert_allclose(x1, 0.5)
    p.weights_ = np.zeros(2)
    with pytest.raises(ValueError, match="no decision boundary"):
        p.decision_boundary()


def test_shuffled_training_is_seeded():
    """Does shuffle=True with the same seed give the same trace?"""
    X, y = logic_gate("NAND")
    a = Perceptron(shuffle=True, seed=3).fit(X, y)
    b = Perceptron(shuffle=True, seed=3).fit(X, y)
    assert [s.index for s in a.trace_] == [s.index for s in b.trace_]
    np.testing.assert_array_equal(a.weights_, b.weights_)


@pytest.mark.parametrize("X, y, match", [
    (np.zeros((4, 2)), np.array([0, 1, 2, 1]), "0/1 labels"),
    (np.zeros((4, 2)), np.array([0, 1, 1]), r"shape \(4,\)"),
    (np.array([[0.0, np.nan]]), np.array([1]), "finite"),
    (np.zeros(4), np.zeros(4), r"\(N, D\)"),
])
def test_bad_input_is_refused(X, y, match):
    """Are bad labels, mismatched lengths, NaN and 1-D X refused with a clear message?"""
    with pytest.raises(ValueError, match=match):
        Perceptron().fit(X, y)


def test_predict_before_fit_and_bad_hyper_parameters():
    """Does predict before fit raise, and are lr <= 0 and max_epochs < 1 refused?"""
    with pytest.raises(RuntimeError, match="not fitted"):
        Perceptron().predict(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="lr"):
        Perceptron(lr=0)
    with pytest.raises(ValueError, match="max_epochs"):
        Perceptron(max_epochs=0)
