"""The residual layer out = x + f(x): central differences, a PyTorch twin with copied weights, Sequential,
and the chapter-10 networks of dlcourse.image_models."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import data, gradcheck, image_models
from dlcourse.layers import BatchNorm, Conv2D, Dense, ReLU, Residual, Tanh
from dlcourse.network import Sequential


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


@pytest.mark.parametrize("make, shape", [
    (lambda: Residual([Dense(4, 4, seed=0), Tanh()]), (3, 4)),
    (lambda: Residual(Dense(5, 5, seed=1)), (2, 5)),
    (lambda: Residual([Dense(4, 6, seed=0), Tanh(), Dense(6, 4, seed=1)]), (3, 4)),
    (lambda: Residual([Residual([Dense(3, 3, seed=2), Tanh()]), Dense(3, 3, seed=3)]), (4, 3)),
    (lambda: Residual([Conv2D(2, 2, 3, padding="same", seed=0), Tanh()]), (2, 2, 5, 5)),
])
def test_residual_backward_matches_central_differences(make, shape):
    """Do dx and every parameter's gradient of x + f(x) equal central differences?"""
    check = gradcheck.check_layer(make(), _x(shape))
    assert check.ok, str(check)


def test_residual_with_relu_branch_and_identity_path():
    """With a zero branch, is the layer the identity, forward and backward?"""
    block = Residual([Dense(3, 3, init="zeros", seed=0), ReLU()])
    x, dout = _x((4, 3)), _x((4, 3), seed=1)
    np.testing.assert_array_equal(block.forward(x), x)
    np.testing.assert_array_equal(block.backward(dout), dout)
    assert block.backward(dout, need_dx=False) is None


def test_residual_matches_a_pytorch_twin_with_copied_weights():
    """Do forward, dx and the weight gradients equal PyTorch's x + f(x) with the same weights?"""
    torch = pytest.importorskip("torch")
    inner1, inner2 = Dense(4, 6, seed=0), Dense(6, 4, seed=1)
    block = Residual([inner1, ReLU(), inner2])
    x, dout = _x((5, 4)), _x((5, 4), seed=2)
    out = block.forward(x)
    dx = block.backward(dout)
    lin1, lin2 = torch.nn.Linear(4, 6).double(), torch.nn.Linear(6, 4).double()
    with torch.no_grad():
        for lin, dense in ((lin1, inner1), (lin2, inner2)):
            lin.weight.copy_(torch.tensor(dense.W.data.T))
            lin.bias.copy_(torch.tensor(dense.b.data))
    xt = torch.tensor(x, requires_grad=True)
    outt = xt + lin2(torch.relu(lin1(xt)))
    outt.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, outt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(inner1.W.grad, lin1.weight.grad.numpy().T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(inner2.b.grad, lin2.bias.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_residual_in_sequential_parameters_summary_weights_and_fit():
    """Does Sequential see the branch's parameters and buffers, print it, and train through it?"""
    net = Sequential([Dense(2, 8, seed=0), ReLU(), Residual([Dense(8, 8, seed=1), BatchNorm(8), ReLU()]),
                      Dense(8, 2, seed=2)])
    assert len(list(net.parameters())) == 2 + 4 + 2
    assert net.summary().total_params == net.num_parameters() == 24 + 72 + 16 + 18
    assert "Residual([Dense(8, 8), BatchNorm" in repr(net)
    assert len(net.get_weights()) == 8 + 2                       # batch-norm running statistics
    X, y = data.moons(80, noise=0.1, seed=0)
    history = net.fit(X, y, loss="cross_entropy", optimizer="adam", epochs=15, seed=0, progress=False)
    assert history["loss"][-1] < history["loss"][0]


def test_residual_rejects_shape_changing_branches_and_early_backward():
    with pytest.raises(ValueError, match="same shape"):
        Residual([Dense(3, 4, seed=0)]).output_shape((3,))
    with pytest.raises(ValueError, match="same shape"):
        Residual([Dense(3, 4, seed=0)]).forward(_x((2, 3)))
    with pytest.raises(RuntimeError, match="before forward"):
        Residual([Dense(3, 3, seed=0)]).backward(_x((2, 3)))
    with pytest.raises(ValueError, match="at least one"):
        Residual([])
    with pytest.raises(TypeError, match="Layer"):
        Residual([np.zeros(3)])


# ----------------------------------------------------------------------------- image_models

def test_deep_mlp_plain_and_residual_share_initial_weights():
    plain = image_models.deep_mlp(5, 8, 2, 3, residual=False, seed=0, gain=0.5)
    res = image_models.deep_mlp(5, 8, 2, 3, residual=True, seed=0, gain=0.5)
    for a, b in zip(plain.parameters(), res.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert sum(isinstance(layer, Residual) for layer in res) == 5 and len(plain) == 2 + 10 + 2


def test_first_layer_gradient_norm_matches_central_differences():
    """Is the measured norm that of the gradient of the mean loss with respect to the first W?"""
    from dlcourse import losses

    X, y = data.spirals(30, n_classes=3, seed=0)
    net = image_models.deep_mlp(3, 5, 2, 3, residual=True, seed=0)
    norm = image_models.first_layer_gradient_norm(net, X, y)
    W = net[0].W

    def loss_at(w):
        saved = W.data.copy()
        W.data[...] = w
        value = losses.sparse_categorical_cross_entropy(y, net.forward(X, training=True))
        W.data[...] = saved
        return value

    numeric = gradcheck.numerical_gradient(loss_at, W.data.copy())
    np.testing.assert_allclose(norm, np.linalg.norm(numeric), rtol=1e-6)


def test_image_cnn_shapes_and_a_short_training_run(tmp_path):
    """Does the colour CNN map (N, 3, 16, 16) to K probabilities and learn a little in a few epochs?"""
    net = image_models.image_cnn(4, seed=0)
    assert net.output_shape((3, 16, 16)) == (4,) and net.num_parameters() == 224 + 1168 + 1028
    with pytest.raises(ValueError, match="divisible by 4"):
        image_models.image_cnn(4, size=(18, 16))
    X, y, _ = data.load_image_folder(data.write_shapes_folder(tmp_path / "s", per_class=20, seed=0))
    norm = data.ChannelNormalizer().fit(X[::2])
    history = image_models.train_image_cnn(net, X[::2], y[::2], norm, (X[1::2], y[1::2]), epochs=3, augment={})
    assert len(history["val_accuracy"]) == 3 and history["loss"][-1] < history["loss"][0]
    assert all(isinstance(v, float) for v in history["val_loss"])
