"""Tests of dlcourse.surfaces: gradients vs central differences, minima, the runner."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import optim, surfaces

SURFACES = list(surfaces.SURFACES.values())
H = 1e-6


def _points(surface, rng, shape=(7, 5)):
    (x0, x1), (y0, y1) = surface.box
    return rng.uniform(x0, x1, shape), rng.uniform(y0, y1, shape)


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_gradient_matches_central_differences(surface, rng):
    """Does each surface's gradient agree with central differences at random points of its box?"""
    x, y = _points(surface, rng)
    dx, dy = surface.gradient(x, y)
    num_dx = (surface.value(x + H, y) - surface.value(x - H, y)) / (2 * H)
    num_dy = (surface.value(x, y + H) - surface.value(x, y - H)) / (2 * H)
    scale = 1 + np.abs(surface.value(x, y))
    np.testing.assert_allclose(dx / scale, num_dx / scale, rtol=0, atol=1e-6)
    np.testing.assert_allclose(dy / scale, num_dy / scale, rtol=0, atol=1e-6)


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_minimum_is_a_minimum(surface, rng):
    """Is the gradient zero at the stated minimum, and is no grid point of the box lower?"""
    np.testing.assert_allclose(surface.gradient(*surface.minimum), [0.0, 0.0], atol=1e-12)
    X, Y, Z = surface.grid(101)
    assert X.shape == Y.shape == Z.shape == (101, 101)
    assert surface.value(*surface.minimum) <= Z.min() + 1e-12


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_vectorised_and_stable(surface):
    """Do value and gradient broadcast (scalar x, array y) and stay finite without warnings at +-1e4?"""
    y = np.linspace(-1e4, 1e4, 9)
    with np.errstate(all="raise"):
        f = surface.value(1e4, y)
        dx, dy = surface.gradient(-1e4, y)
    assert f.shape == dx.shape == dy.shape == (9,)
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(dx)) and np.all(np.isfinite(dy))
    (x0, x1), (y0, y1) = surface.box
    assert x0 <= surface.start[0] <= x1 and y0 <= surface.start[1] <= y1


def test_run_optimizer_matches_torch_on_rosenbrock():
    """Is run_optimizer's Adam path on Rosenbrock the same as torch.optim.Adam fed the same gradient?"""
    torch = pytest.importorskip("torch")
    path = surfaces.run_optimizer("rosenbrock", "adam", steps=50, lr=0.05)
    xy = torch.tensor(surfaces.rosenbrock.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([xy], lr=0.05)
    expected = [xy.detach().numpy().copy()]
    for _ in range(50):
        x, y = xy
        loss = (1 - x) ** 2 + 100 * (y - x**2) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        expected.append(xy.detach().numpy().copy())
    assert path.points.shape == (51, 2) and path.values.shape == (51,)
    np.testing.assert_allclose(path.points, np.array(expected), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(path.values, surfaces.rosenbrock.value(*path.points.T))


def test_run_optimizer_accepts_class_name_and_factory():
    """Do a class, a name and a factory give the same path, starting at the start point?"""
    a = surfaces.run_optimizer(surfaces.valley, optim.SGD, steps=20, lr=0.1, momentum=0.9)
    b = surfaces.run_optimizer("valley", "sgd", steps=20, lr=0.1, momentum=0.9)
    c = surfaces.run_optimizer("valley", lambda p: optim.SGD(p, lr=0.1, momentum=0.9), steps=20)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.points, c.points)
    np.testing.assert_array_equal(a.points[0], surfaces.valley.start)


def test_optimizers_reach_the_minima():
    """Does gradient descent find the bowl's minimum, escape the saddle to (0, sqrt 2), and Adam solve Beale?"""
    bowl = surfaces.run_optimizer("bowl", "sgd", steps=200, lr=0.1)
    np.testing.assert_allclose(bowl.points[-1], surfaces.bowl.minimum, atol=1e-8)
    saddle = surfaces.run_optimizer("saddle", "sgd", steps=500, lr=0.05)
    np.testing.assert_allclose(saddle.points[-1], surfaces.saddle.minimum, atol=1e-6)
    beale = surfaces.run_optimizer("beale", "adam", steps=1000, lr=0.1)
    np.testing.assert_allclose(beale.points[-1], surfaces.beale.minimum, atol=1e-3)


def test_divergence_is_flagged_without_warnings():
    """Does a too-large learning rate on Rosenbrock stop with diverged=True and NaN rows, without warnings?"""
    with np.errstate(all="raise"):
        path = surfaces.run_optimizer("rosenbrock", "sgd", steps=100, lr=0.01)
    assert path.diverged
    assert np.isnan(path.points[-1]).all() and np.isfinite(path.points[0]).all()


def test_bad_arguments():
    """Are an unknown surface, a badly shaped start, negative steps and kwargs with a factory refused?"""
    with pytest.raises(ValueError, match="surface"):
        surfaces.get("himmelblau")
    with pytest.raises(ValueError, match="start"):
        surfaces.run_optimizer("bowl", "sgd", start=(1.0, 2.0, 3.0), lr=0.1)
    with pytest.raises(ValueError, match="steps"):
        surfaces.run_optimizer("bowl", "sgd", steps=-1, lr=0.1)
    with pytest.raises(TypeError, match="factory"):
        surfaces.run_optimizer("bowl", lambda p: optim.SGD(p, lr=0.1), lr=0.1)
