"""The shared plot style and the plotting helpers of chapters 1-4."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the plotting helpers need matplotlib")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from dlcourse import plots  # noqa: E402
from dlcourse.plots import animation, boundary  # noqa: E402


def test_importing_plots_does_not_load_matplotlib():
    """Do `import dlcourse` and `import dlcourse.plots` leave matplotlib unloaded?"""
    code = "import sys, dlcourse, dlcourse.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_use_style_sets_the_okabe_ito_cycle():
    """After use_style(), is the colour cycle the Okabe-Ito palette, strongest colours first?"""
    plots.use_style()
    cycle = [c.upper() for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert cycle == [c.upper() for c in plots.PALETTE]
    assert set(plots.PALETTE) == set(plots.OKABE_ITO.values())
    assert plots.PALETTE[-1] == plots.OKABE_ITO["yellow"], "yellow is weak on white: it comes last"


def test_color_by_index_and_name_and_errors():
    """Does color() wrap indices, look names up, and reject unknown names and other types?"""
    assert plots.color(0) == plots.color(len(plots.PALETTE)) == plots.PALETTE[0]
    assert plots.color("vermillion") == "#D55E00"
    with pytest.raises(ValueError, match="unknown colour"):
        plots.color("magenta")
    with pytest.raises(TypeError, match="must be an int or a colour name"):
        plots.color(1.5)


@pytest.mark.parametrize("n, cap", [(5, 10), (100, 30), (31, 30), (2, 2), (1000, 7)])
def test_cap_frames_keeps_first_last_and_order(n, cap):
    """Does cap_frames keep at most `cap` frames, in order, always with the first and the last?"""
    kept = animation.cap_frames(list(range(n)), cap)
    assert len(kept) == min(n, cap)
    assert kept[0] == 0 and kept[-1] == n - 1
    assert kept == sorted(set(kept))


def test_cap_frames_rejects_bad_caps():
    """Is a cap below 2, or not an int, a clear error?"""
    with pytest.raises(ValueError, match="at least 2"):
        animation.cap_frames([1, 2, 3], 1)
    with pytest.raises(TypeError, match="max_frames must be an int"):
        animation.cap_frames([1, 2, 3], 2.5)


def test_animate_embeds_capped_frames_with_alt_text():
    """Does animate() store at most max_frames PNG frames in the JavaScript player, with the alt text?"""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2), dpi=40)
    (line,) = ax.plot([0, 1], [0, 0])
    html = animation.animate(fig, lambda k: line.set_ydata([0, k]), list(range(50)), max_frames=6,
                             alt="A line tilting upwards.", as_html=False)
    assert len(re.findall(r"frames\[\d+\] = \"data:image/png;base64", html)) == 6
    assert 'alt="A line tilting upwards."' in html
    assert not plt.get_fignums(), "the figure must be closed so it is not shown twice"


def test_line_points_lie_on_the_boundary(rng):
    """Do the two points of line_points satisfy w1 x1 + w2 x2 + b = 0 (and vertical lines too)?"""
    for _ in range(20):
        w, b = rng.normal(size=2), rng.normal()
        pts = boundary.line_points(w, b, (-1.0, 2.0))
        np.testing.assert_allclose(pts @ w + b, 0.0, atol=1e-12)
    vertical = boundary.line_points([2.0, 0.0], -1.0, (-1, 2))
    np.testing.assert_allclose(vertical[:, 0], 0.5)
    assert boundary.line_points([0.0, 0.0], 1.0, (-1, 2)) is None


def test_decision_boundary_regions_match_the_classifier():
    """Are the coloured regions the classifier's own labels (probabilities thresholded at 0.5)?"""
    import matplotlib.pyplot as plt

    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1])
    proba = lambda P: 1 / (1 + np.exp(-(P[:, 0] + P[:, 1] - 1)))  # noqa: E731
    ax = boundary.plot_decision_boundary(proba, X, y, resolution=50)
    xx, yy, points = boundary.grid_for(X, 50, 0.5)
    expected = (points.sum(axis=1) > 1).astype(int)
    np.testing.assert_array_equal(boundary._labels_from(proba(points), len(points)), expected)
    assert ax.get_xlim() == (xx.min(), xx.max())
    plt.close("all")


def test_bad_shapes_are_named():
    """Do the plotting helpers reject data that is not (N, 2) and say what they got?"""
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\).*\(3, 3\)"):
        boundary.grid_for(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="weights must hold two numbers"):
        boundary.line_points([1.0, 2.0, 3.0], 0.0, (0, 1))
