"""Flatten, hand-made filters, the digits CNN and its PyTorch twin."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dlcourse import filters
from dlcourse.gradcheck import check_layer
from dlcourse.layers.conv import Conv2D
from dlcourse.layers.flatten import Flatten
from dlcourse.layers.pool import AvgPool2D, MaxPool2D
from dlcourse.models import digits_cnn, train_digits_cnn

GRAD_TOL = 1e-6


@pytest.mark.parametrize("layer", [Conv2D(2, 3, 3, stride=2, padding=1, seed=0), MaxPool2D(2, 1),
                                   AvgPool2D((2, 3), 1), Flatten()], ids=repr)
def test_layers_pass_the_package_gradient_check(layer, rng):
    """Does every CNN layer's backward agree with dlcourse.gradcheck's central differences?"""
    result = check_layer(layer, rng.standard_normal((2, 2, 5, 6)))
    assert result.ok, str(result)


def test_flatten_matches_torch_order(rng):
    """Does Flatten order features channel, row, column as torch.nn.Flatten, and undo it in backward?"""
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 4, 5))
    layer = Flatten()
    out = layer.forward(x)
    np.testing.assert_array_equal(out, torch.nn.Flatten()(torch.tensor(x)).numpy())
    assert layer.output_shape((3, 4, 5)) == (60,)
    np.testing.assert_array_equal(layer.backward(out), x)
    with pytest.raises(ValueError, match=r"\(N, C \* H \* W\)"):
        layer.backward(np.zeros((2, 59)))


def test_edge_filters_see_their_edges():
    """Does the vertical-edge filter respond to a vertical step only, and the horizontal one to a horizontal step?"""
    vertical_step = np.zeros((6, 6))
    vertical_step[:, 3:] = 1.0
    maps = filters.feature_maps(vertical_step, ["vertical_edge", "horizontal_edge", "sobel_x", "blur"],
                                padding=0)
    assert maps.shape == (4, 4, 4)
    assert np.all(maps[0][:, 1:3] > 0) and np.all(maps[0][:, [0, 3]] == 0)
    np.testing.assert_array_equal(maps[1], 0.0)
    np.testing.assert_allclose(maps[2], 4.0 / 3.0 * maps[0])  # Sobel weighs the centre row 2 of 4
    horizontal = filters.feature_maps(vertical_step.T, ["horizontal_edge", "vertical_edge"], padding=0)
    np.testing.assert_array_equal(horizontal[0], maps[0].T)
    np.testing.assert_array_equal(horizontal[1], 0.0)


def test_filter_sums_and_errors():
    """Do edge filters sum to 0, blur and sharpen to 1, and bad names or shapes raise?"""
    for name in ("vertical_edge", "horizontal_edge", "sobel_x", "sobel_y"):
        assert filters.get_filter(name).sum() == 0.0
    for name in ("blur", "sharpen"):
        assert filters.get_filter(name).sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(filters.get_filter("sobel_y"), filters.get_filter("sobel_x").T)
    with pytest.raises(ValueError, match="unknown filter"):
        filters.get_filter("emboss")
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        filters.feature_maps(np.zeros((1, 5, 5)))


def test_plots_return_figures():
    """Do plot_feature_maps and plot_filters draw one panel per map or filter, the filters on one shared
    colour scale symmetric about zero with a colour bar?"""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = filters.plot_feature_maps(np.eye(8))
    assert sum(ax.get_visible() for ax in fig.axes) == len(filters.FILTERS) + 1
    layer = Conv2D(2, 5, 3, seed=0)
    fig2 = filters.plot_filters(layer)
    panels = [ax for ax in fig2.axes if ax.get_visible() and ax.images]
    assert len(panels) == 5
    limit = float(np.abs(layer.W.data.mean(axis=1)).max())
    assert all(np.allclose(ax.images[0].get_clim(), (-limit, limit)) for ax in panels)
    assert len(fig2.axes) == 6, "one colour bar beside the five panels"
    plt.close(fig)
    plt.close(fig2)


def test_importing_does_not_load_torch_or_matplotlib():
    """Do the CNN modules import without loading torch or matplotlib?"""
    code = ("import sys, dlcourse.layers.conv, dlcourse.layers.pool, dlcourse.filters, dlcourse.models, "
            "dlcourse.torch_models; print(sorted(m for m in ('torch', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_digits_cnn_shapes_and_parameter_count():
    """Does the digits CNN map (1, 8, 8) to 10 classes with as many parameters as its torch twin?"""
    torch = pytest.importorskip("torch")
    from dlcourse.torch_models import digits_cnn_torch

    net = digits_cnn(seed=0)
    assert net.output_shape((1, 8, 8)) == (10,)
    assert net.num_parameters() == sum(p.numel() for p in digits_cnn_torch(0).parameters())


def test_digits_cnn_matches_torch_twin(rng):
    """With copied weights, do our CNN's probabilities and every gradient equal PyTorch's in float64?"""
    torch = pytest.importorskip("torch")
    from dlcourse.losses import cross_entropy_with_logits
    from dlcourse.network import Sequential
    from dlcourse.torch_models import copy_weights, digits_cnn_torch

    net = digits_cnn(seed=3)
    model = digits_cnn_torch(seed=3, dtype=torch.float64)
    copy_weights(net, model)
    X, y = rng.random((6, 1, 8, 8)), rng.integers(0, 10, size=6)
    logits_net = Sequential(net.layers[:-1])  # the same layers without the Softmax
    logits = logits_net.forward(X)
    logits_net.backward(cross_entropy_with_logits.gradient(y, logits))
    tlogits = model(torch.tensor(X))
    torch.nn.functional.cross_entropy(tlogits, torch.tensor(y)).backward()
    np.testing.assert_allclose(net.forward(X, training=False), torch.softmax(tlogits, 1).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    for p, t in zip(net.parameters(), model.parameters()):
        grad = t.grad.numpy().T if p.data.ndim == 2 else t.grad.numpy()
        np.testing.assert_allclose(p.grad, grad, rtol=1e-8, atol=1e-12, err_msg=p.name)


def test_digits_cnn_passes_gradient_check(rng):
    """Does backpropagation through the whole CNN agree with central differences?"""
    from dlcourse.network import Sequential

    net = digits_cnn(seed=1)
    # 1e-4, not 1e-6: with ~1,900 parameters a few +-eps steps cross a ReLU or max-pool kink;
    # the exact comparison with PyTorch above holds to 1e-8.
    result = check_layer(Sequential(net.layers[:-1]), rng.random((2, 1, 8, 8)), tol=1e-4)
    assert result.ok, str(result)


@pytest.mark.slow
def test_digits_cnn_reaches_97_percent():
    """Does the digits CNN trained with the fixed seed reach at least 97% test accuracy?"""
    net, history, accuracy = train_digits_cnn(seed=0, progress=False)
    print(f"digits CNN: test accuracy {accuracy:.4f}, fit {history.fit_time:.1f} s")
    assert accuracy >= 0.97, f"test accuracy {accuracy:.4f} after {len(history.epoch)} epochs"


@pytest.mark.slow
def test_torch_twin_trains_to_the_same_level():
    """Does the PyTorch twin, trained with the same recipe and split, also reach 97%?"""
    pytest.importorskip("torch")
    from dlcourse.torch_models import train_digits_cnn_torch

    _, history, accuracy = train_digits_cnn_torch(seed=0)
    assert accuracy >= 0.97, f"torch test accuracy {accuracy:.4f}"
