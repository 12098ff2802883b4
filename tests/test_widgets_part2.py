"""Explorers of the losses and optimizers chapters, driven headless through their controls."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ipywidgets", reason="the explorers are ipywidgets")
pytest.importorskip("matplotlib", reason="the explorers draw with matplotlib")

from dlcourse import losses, optim, surfaces  # noqa: E402
from dlcourse.parameter import Parameter  # noqa: E402
from dlcourse.widgets import losses as loss_widgets  # noqa: E402
from dlcourse.widgets import optim as optim_widgets  # noqa: E402

PNG_MAGIC = b"\x89PNG"


def test_loss_explorer_best_constants_follow_mean_and_median():
    """Does moving the outlier slider move the MSE choice to the new mean and leave MAE at the median?"""
    explorer = loss_widgets.loss_explorer(outlier=0.0)
    before = explorer.updates
    explorer.controls["outlier"].value = 14.0
    y = loss_widgets.targets_with_outlier(14.0)
    assert explorer.updates == before + 1, "changing a control should run update() once"
    spacing = (y.max() - y.min()) / 2000
    assert abs(explorer.state["best"]["MSE"] - y.mean()) <= spacing
    assert abs(explorer.state["best"]["MAE"] - np.median(y)) <= spacing
    assert bytes(explorer.image.value).startswith(PNG_MAGIC)


def test_loss_explorer_huber_lies_between_median_and_mean():
    """With an outlier, is Huber's constant between MAE's and MSE's, and does a larger delta move it up?"""
    explorer = loss_widgets.LossExplorer(outlier=10.0, delta=0.5)
    small = explorer.state["best"]["Huber"]
    assert explorer.state["best"]["MAE"] <= small <= explorer.state["best"]["MSE"]
    explorer.controls["delta"].value = 3.0
    assert explorer.state["best"]["Huber"] > small


def test_loss_explorer_matches_direct_minimisation():
    """Is the explorer's Huber constant the minimiser of dlcourse's Huber loss over constants?"""
    explorer = loss_widgets.LossExplorer(outlier=6.0, delta=1.0)
    y = explorer.state["targets"]
    c = explorer.state["best"]["Huber"]
    huber = losses.Huber(delta=1.0)
    for other in (c - 0.01, c + 0.01):
        assert huber(y, np.full_like(y, c)) <= huber(y, np.full_like(y, other))


def test_loss_explorer_rejects_non_positive_delta():
    """Is delta <= 0 refused with a message naming delta?"""
    with pytest.raises(ValueError, match="delta"):
        loss_widgets.LossExplorer(delta=0.0)


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.45, 0.9, 1.05])
def test_gradient_descent_trace_is_the_closed_form(lr):
    """Does the trace equal x0 * (1 - 2 lr)^k, the closed form of gradient descent on x^2?"""
    trace = optim_widgets.gradient_descent_trace(lr, 20, x0=10.0)
    np.testing.assert_allclose(trace, 10.0 * (1 - 2 * lr) ** np.arange(21), rtol=1e-12)


def test_learning_rate_explorer_reports_divergence_and_convergence():
    """Does the explorer call 0.1 converging (0.1153 after 20 steps) and 1.05 diverging?"""
    explorer = optim_widgets.learning_rate_explorer(lr=0.1, steps=20)
    assert explorer.state["behaviour"] == "converges"
    assert abs(explorer.state["final"] - 10 * 0.8**20) < 1e-12
    assert "0.1153" in explorer.readout.value
    explorer.controls["lr"].value = 1.05
    assert explorer.state["behaviour"] == "diverges"
    assert abs(explorer.state["final"]) > 10.0
    explorer.controls["lr"].value = 0.9
    assert explorer.state["behaviour"] == "oscillates"
    assert bytes(explorer.image.value).startswith(PNG_MAGIC)


def test_classify_learning_rate_rejects_negative_rates():
    """Is a negative learning rate refused?"""
    with pytest.raises(ValueError, match="lr"):
        optim_widgets.classify_learning_rate(-0.1)


def test_optimizer_explorer_path_is_run_optimizer():
    """Is the explorer's path the one surfaces.run_optimizer gives for the same settings?"""
    explorer = optim_widgets.optimizer_explorer(surface="valley", optimizer="adam", lr=0.2)
    explorer.controls["steps"].value = 50
    expected = surfaces.run_optimizer("valley", "adam", steps=50, lr=0.2)
    np.testing.assert_allclose(explorer.state["trajectory"].points, expected.points)
    assert explorer.controls["momentum"].disabled, "Adam takes no momentum argument"


def test_optimizer_explorer_momentum_reaches_sgd():
    """Does the momentum slider change SGD's path exactly as optim.SGD(momentum=...) would?"""
    explorer = optim_widgets.OptimizerExplorer(surface="valley", optimizer="sgd", lr=0.05, momentum=0.0,
                                               steps=30)
    explorer.controls["momentum"].value = 0.8
    assert not explorer.controls["momentum"].disabled
    p = Parameter(np.array(surfaces.valley.start, dtype=float))
    opt = optim.SGD([p], lr=0.05, momentum=0.8)
    for _ in range(30):
        p.grad = np.array(surfaces.valley.gradient(*p.data))
        opt.step()
    np.testing.assert_allclose(explorer.state["trajectory"].points[-1], p.data, rtol=1e-12)


def test_optimizer_explorer_flags_divergence():
    """Does a huge learning rate for plain SGD on Rosenbrock end as 'diverged' in the readout?"""
    explorer = optim_widgets.OptimizerExplorer(surface="rosenbrock", optimizer="sgd", lr=1.0, momentum=0.0)
    assert explorer.state["diverged"]
    assert "diverged" in explorer.readout.value


def test_optimizer_explorer_rejects_unknown_names():
    """Are an unknown surface and an unknown optimizer refused with their names?"""
    with pytest.raises(ValueError, match="surface"):
        optim_widgets.OptimizerExplorer(surface="volcano")
    with pytest.raises(ValueError, match="optimizer"):
        optim_widgets.OptimizerExplorer(optimizer="lion")
