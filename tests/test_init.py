"""Initialisers: the variances of Xavier and He, fans as in PyTorch, seeding, the single neuron."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import init
from dlcourse.neuron import Neuron, neuron, weighted_sum

SHAPE = (300, 200)  # 60,000 draws: the sample variance is within ~1.5% of the true one


@pytest.mark.parametrize("fn, variance", [
    (init.xavier_normal, 2 / (300 + 200)),
    (init.xavier_uniform, 2 / (300 + 200)),
    (init.he_normal, 2 / 300),
    (init.he_uniform, 2 / 300),
    (lambda s, r: init.normal(s, r, std=0.5), 0.25),
    (lambda s, r: init.uniform(s, r, low=-1.0, high=1.0), 1 / 3),
])
def test_variance_matches_the_formula(fn, variance):
    """Is the sample variance of each initialiser within 3% of its formula (Xavier 2/(in+out), He 2/in)?"""
    w = fn(SHAPE, np.random.default_rng(0))
    assert w.shape == SHAPE
    assert abs(w.mean()) < 0.02 * np.sqrt(variance)  # the mean of 60,000 draws is ~0.004 std from 0
    assert w.var() == pytest.approx(variance, rel=0.03)


def test_uniform_bounds_match_pytorch():
    """Are the Xavier/He uniform bounds those of torch.nn.init for the same weight?"""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    w_torch = torch.empty(200, 300, dtype=torch.float64)  # torch stores (out, in)
    torch.nn.init.xavier_uniform_(w_torch)
    ours = init.xavier_uniform(SHAPE, 0)
    bound = np.sqrt(6 / 500)
    assert np.abs(ours).max() <= bound and np.abs(ours).max() > 0.99 * bound
    assert float(w_torch.abs().max()) <= bound
    torch.nn.init.kaiming_uniform_(w_torch, nonlinearity="relu")
    assert float(w_torch.abs().max()) <= np.sqrt(6 / 300) and np.abs(init.he_uniform(SHAPE, 0)).max() <= np.sqrt(6 / 300)


@pytest.mark.parametrize("shape", [(5, 7), (8, 3, 3, 3), (4, 1, 5, 2)])
def test_fans_match_pytorch(shape):
    """Are fan-in and fan-out those of torch for dense (in, out) and conv (F, C, KH, KW) weights?"""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    torch_shape = shape[::-1] if len(shape) == 2 else shape  # dense: torch stores (out, in)
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(torch_shape))
    assert init.fans(shape) == expected


def test_same_seed_same_weights_and_generators():
    """Does an int seed or a Generator give reproducible weights, and different seeds different ones?"""
    a = init.he_normal((4, 4), 1)
    np.testing.assert_array_equal(a, init.he_normal((4, 4), np.random.default_rng(1)))
    assert not np.array_equal(a, init.he_normal((4, 4), 2))
    np.testing.assert_array_equal(init.zeros((2, 3)), np.zeros((2, 3)))
    assert init.xavier_normal((3, 3), 0, dtype=np.float32).dtype == np.float32


def test_lookup_and_bad_arguments():
    """Does get() find names and aliases, and refuse unknown names and bad seeds?"""
    assert init.get("glorot_uniform") is init.xavier_uniform
    assert init.get("kaiming_normal") is init.he_normal
    with pytest.raises(ValueError, match="unknown init"):
        init.get("lecun")
    with pytest.raises(TypeError, match="rng/seed"):
        init.normal((2, 2), rng="seven")
    with pytest.raises(ValueError, match="non-negative"):
        init.zeros((-1, 2))


def test_neuron_weighted_sum_of_the_intro_example():
    """Do inputs [0.5, -0.2, 0.1], weights [0.4, 0.7, -0.3], bias 0.1 give z = 0.13?"""
    z = weighted_sum([0.5, -0.2, 0.1], [0.4, 0.7, -0.3], 0.1)
    assert z == pytest.approx(0.13)
    out = neuron([0.5, -0.2, 0.1], [0.4, 0.7, -0.3], 0.1, activation="sigmoid")
    assert out.z == pytest.approx(0.13) and out.a == pytest.approx(1 / (1 + np.exp(-0.13)))
    n = Neuron([0.4, 0.7, -0.3], 0.1, "relu")
    assert n([0.5, -0.2, 0.1]) == pytest.approx(0.13)
    np.testing.assert_allclose(n(np.array([[0.5, -0.2, 0.1], [0, 0, -1]])), [0.13, 0.4])
    with pytest.raises(ValueError, match="inputs must have shape"):
        weighted_sum([1.0, 2.0], [0.4, 0.7, -0.3])
