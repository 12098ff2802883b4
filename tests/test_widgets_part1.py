"""The explorers of chapters 2-4, driven headless: set a control, check the state and the figure follow."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ipywidgets", reason="the explorers need ipywidgets")
pytest.importorskip("matplotlib", reason="the explorers draw with matplotlib")

from dlcourse import data  # noqa: E402
from dlcourse.widgets import activation_explorer, init_explorer, perceptron_explorer  # noqa: E402

#: Central-difference step and tolerance for the activation explorer's slope.
EPS = 1e-6
SLOPE_TOL = 1e-6


def _strict_step_oracle(X, w, b):
    """The perceptron's output written out independently of dlcourse: 1 where w.x + b > 0."""
    return np.array([1 if x[0] * w[0] + x[1] * w[1] + b > 0 else 0 for x in X])


def test_perceptron_explorer_follows_its_sliders():
    """When the sliders move to the AND solution, do the predictions, the accuracy and the image follow?"""
    e = perceptron_explorer("AND", w1=0.0, w2=0.0, b=0.0)
    image_before, updates_before = e.image.value, e.updates
    assert e.state["accuracy"] == 0.75, "all-zero parameters predict 0 everywhere (strict step)"
    e.controls["w1"].value = 1.0
    e.controls["w2"].value = 1.0
    e.controls["b"].value = -1.5
    assert e.updates == updates_before + 3, "every slider change must run the callback"
    X, y = data.logic_gate("AND")
    np.testing.assert_array_equal(e.state["predictions"], _strict_step_oracle(X, [1.0, 1.0], -1.5))
    np.testing.assert_array_equal(e.state["predictions"], y)
    assert e.state["accuracy"] == 1.0
    assert e.image.value != image_before, "the figure must be redrawn"
    assert e.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_perceptron_explorer_uses_the_strict_step_on_the_line():
    """Does a point exactly on the boundary (z = 0) get output 0, as the strict step says?"""
    e = perceptron_explorer("AND", w1=1.0, w2=0.0, b=-1.0)
    X = e.state["X"]
    on_line = X[:, 0] == 1.0
    np.testing.assert_array_equal(e.state["z"][on_line], 0.0)
    np.testing.assert_array_equal(e.state["predictions"][on_line], 0)


@pytest.mark.parametrize("w1, w2, b", [(1.0, 1.0, -0.5), (-1.0, 1.0, 0.0), (2.0, -2.0, 1.0), (0.5, 0.5, -0.5)])
def test_perceptron_explorer_never_solves_xor(w1, w2, b):
    """On XOR, does every slider setting leave at least one of the four points wrong?"""
    e = perceptron_explorer("XOR", w1=w1, w2=w2, b=b)
    X, y = data.logic_gate("XOR")
    np.testing.assert_array_equal(e.state["targets"], y)
    np.testing.assert_array_equal(e.state["predictions"], _strict_step_oracle(X, [w1, w2], b))
    assert e.state["accuracy"] <= 0.75


def test_perceptron_explorer_gate_dropdown_changes_targets():
    """Does switching the gate from AND to OR change the targets and the accuracy of the same line?"""
    e = perceptron_explorer("AND", w1=1.0, w2=1.0, b=-0.5)
    assert e.state["accuracy"] == 0.5, "this line computes OR: wrong on (0, 1) and (1, 0) for AND"
    e.controls["gate"].value = "OR"
    np.testing.assert_array_equal(e.state["targets"], data.logic_gate("OR")[1])
    assert e.state["accuracy"] == 1.0


def test_perceptron_explorer_rejects_unknown_gate():
    """Is an unknown gate name an error that names the choices?"""
    with pytest.raises(ValueError, match="gate must be one of"):
        perceptron_explorer("MAYBE")


@pytest.mark.parametrize("name, z0", [("sigmoid", 0.0), ("tanh", 0.7), ("elu", -1.3), ("swish", 1.1),
                                      ("softplus", -2.0), ("relu", 2.0)])
def test_activation_explorer_slope_is_the_derivative(name, z0):
    """Is the explorer's slope at z0 the central-difference derivative of the function it plots?"""
    e = activation_explorer("linear")
    e.controls["name"].value = name
    e.controls["z0"].value = z0
    f = e.state["activation"]
    numeric = (float(f(z0 + EPS)) - float(f(z0 - EPS))) / (2 * EPS)
    assert abs(e.state["slope"] - numeric) < SLOPE_TOL, f"{name}'({z0}): {e.state['slope']} vs {numeric}"
    assert e.state["value"] == pytest.approx(float(f(z0)))


def test_activation_explorer_sigmoid_peak_and_alpha_control():
    """Is sigmoid'(0) 0.25, and does alpha set the left slope of leaky ReLU (and only matter there)?"""
    e = activation_explorer("sigmoid", z0=0.0)
    assert e.state["slope"] == 0.25
    assert e.controls["alpha"].disabled
    e.controls["name"].value = "leaky_relu"
    assert not e.controls["alpha"].disabled
    e.controls["z0"].value = -2.0
    e.controls["alpha"].value = 0.2
    assert e.state["slope"] == pytest.approx(0.2)
    assert e.state["value"] == pytest.approx(-0.4)


def test_init_explorer_zero_weights_kill_the_signal():
    """With zero weights, is every hidden layer's output exactly constant (std 0)?"""
    e = init_explorer("tanh", "xavier_normal", depth=5)
    assert min(e.state["stds"]) > 0.05
    e.controls["init"].value = "zeros"
    assert e.state["stds"] == [0.0] * 5


def test_init_explorer_he_keeps_relu_signal_and_small_weights_lose_it():
    """Does He keep a ReLU stack's spread steady while N(0, 0.01^2) weights make it vanish?"""
    e = init_explorer("relu", "he_normal", depth=8)
    stds = e.state["stds"]
    assert len(stds) == 8
    assert 0.3 < stds[-1] / stds[0] < 3.0, f"He init should keep the scale: {stds}"
    e.controls["init"].value = "normal"
    stds = e.state["stds"]
    assert stds[-1] < 1e-6 * stds[0], f"small weights should shrink the signal: {stds}"
    e.controls["depth"].value = 3
    assert len(e.state["stds"]) == 3


def test_explorer_widget_holds_controls_image_and_readout():
    """Does the displayable box contain every control, the image and the readout?"""
    e = perceptron_explorer()
    box = e.widget
    controls_row, image, readout = box.children
    assert list(controls_row.children) == list(e.controls.values())
    assert image is e.image and readout is e.readout
    assert "<table>" in readout.value


def test_importing_widgets_loads_neither_ipywidgets_nor_matplotlib():
    """Does `import dlcourse.widgets` stay cheap until an explorer is built?"""
    code = ("import sys, dlcourse, dlcourse.widgets; "
            "print(sorted(m for m in ('ipywidgets', 'matplotlib', 'torch', 'sympy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
