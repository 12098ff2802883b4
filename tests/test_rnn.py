"""The recurrent cell of the CNN chapter's closing section, checked against PyTorch autograd."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import rnn

torch = pytest.importorskip("torch", reason="the RNN is checked against PyTorch")

N, T, D, H = 3, 6, 4, 5
RTOL, ATOL = 1e-10, 1e-12


def _weights(rng, scale=0.5):
    return (rng.standard_normal((N, T, D)), rng.standard_normal((N, H)),
            scale * rng.standard_normal((D, H)), scale * rng.standard_normal((H, H)),
            scale * rng.standard_normal(H))


def _torch_unrolled(x, h0, W_xh, W_hh, b):
    """The same recurrence written with torch ops, every hidden state kept for autograd."""
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, h0, W_xh, W_hh, b)]
    tx, th0, tWx, tWh, tb = tensors
    states, prev = [], th0
    for t in range(x.shape[1]):
        prev = torch.tanh(tx[:, t] @ tWx + prev @ tWh + tb)
        prev.retain_grad()
        states.append(prev)
    return tensors, states


def test_forward_matches_torch_nn_rnn(rng):
    """Does rnn_forward give nn.RNN's hidden states when b = b_ih + b_hh?"""
    x, h0, W_xh, W_hh, b = _weights(rng)
    h, _ = rnn.rnn_forward(x, h0, W_xh, W_hh, b)
    layer = torch.nn.RNN(D, H, batch_first=True, nonlinearity="tanh").double()
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.tensor(W_xh.T))
        layer.weight_hh_l0.copy_(torch.tensor(W_hh.T))
        layer.bias_ih_l0.copy_(torch.tensor(b / 2))
        layer.bias_hh_l0.copy_(torch.tensor(b / 2))
        expected, _ = layer(torch.tensor(x), torch.tensor(h0)[None])
    np.testing.assert_allclose(h, expected.numpy(), rtol=RTOL, atol=ATOL,
                               err_msg="hidden states differ from torch.nn.RNN")


def test_backward_matches_autograd(rng):
    """Does backpropagation through time give autograd's gradients for every input and weight?"""
    x, h0, W_xh, W_hh, b = _weights(rng)
    dh = rng.standard_normal((N, T, H))
    h, cache = rnn.rnn_forward(x, h0, W_xh, W_hh, b)
    grads = rnn.rnn_backward(dh, cache)
    tensors, states = _torch_unrolled(x, h0, W_xh, W_hh, b)
    (torch.stack(states, dim=1) * torch.tensor(dh)).sum().backward()
    for name, ours, tensor in zip(("dx", "dh0", "dW_xh", "dW_hh", "db"), grads, tensors):
        np.testing.assert_allclose(ours, tensor.grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=f"{name} differs from autograd")


def test_backward_matches_central_differences(rng):
    """Does dW_hh agree with central differences of the loss sum(dh * h)?"""
    x, h0, W_xh, W_hh, b = _weights(rng)
    dh = rng.standard_normal((N, T, H))
    _, cache = rnn.rnn_forward(x, h0, W_xh, W_hh, b)
    analytic = rnn.rnn_backward(dh, cache).dW_hh
    eps, numeric = 1e-6, np.zeros_like(W_hh)
    for idx in np.ndindex(*W_hh.shape):
        plus, minus = W_hh.copy(), W_hh.copy()
        plus[idx] += eps
        minus[idx] -= eps
        f_plus = np.sum(dh * rnn.rnn_forward(x, h0, W_xh, plus, b)[0])
        f_minus = np.sum(dh * rnn.rnn_forward(x, h0, W_xh, minus, b)[0])
        numeric[idx] = (f_plus - f_minus) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_gradient_norms_match_autograd(rng):
    """Are the per-step gradient norms those autograd finds when the loss is sum(h_T)?"""
    x, h0, W_xh, W_hh, b = _weights(rng)
    _, cache = rnn.rnn_forward(x, h0, W_xh, W_hh, b)
    norms = rnn.gradient_norms_through_time(cache)
    _, states = _torch_unrolled(x, h0, W_xh, W_hh, b)
    states[-1].sum().backward()
    expected = [float(torch.linalg.norm(s.grad)) if s.grad is not None else 0.0 for s in states]
    np.testing.assert_allclose(norms, expected, rtol=1e-10)


def test_gradients_vanish_for_small_recurrent_weights():
    """Does a gradient shrink by orders of magnitude over 30 steps when W_hh has singular values 0.5?"""
    layer = rnn.RNN(2, 8, recurrent_scale=0.5, seed=1)
    layer.forward(np.random.default_rng(2).standard_normal((4, 30, 2)))
    norms = layer.gradient_norms()
    assert norms[0] < 1e-6 * norms[-1], f"first-step norm {norms[0]:.3g} vs last {norms[-1]:.3g}"
    assert np.all(np.diff(norms) > 0), "norms should grow monotonically towards the last step"


def test_layer_backward_fills_grads_like_the_function(rng):
    """Does RNN.backward store the same gradients as rnn_backward in each Parameter?"""
    layer = rnn.RNN(D, H, seed=rng)
    x = rng.standard_normal((N, T, D))
    dh = rng.standard_normal((N, T, H))
    h = layer.forward(x)
    dx = layer.backward(dh)
    _, cache = rnn.rnn_forward(x, np.zeros((N, H)), layer.W_xh.data, layer.W_hh.data, layer.b.data)
    ref = rnn.rnn_backward(dh, cache)
    assert h.shape == (N, T, H)
    np.testing.assert_allclose(dx, ref.dx)
    np.testing.assert_allclose(layer.W_hh.grad, ref.dW_hh)
    assert [p.name for p in layer.parameters()] == ["W_xh", "W_hh", "b"]


def test_initial_recurrent_weights_have_the_requested_singular_values():
    """Is every singular value of the initial W_hh equal to recurrent_scale?"""
    layer = rnn.RNN(3, 6, recurrent_scale=0.7, seed=0)
    np.testing.assert_allclose(np.linalg.svd(layer.W_hh.data, compute_uv=False), 0.7, rtol=1e-12)


def test_lstm_cell_matches_torch(rng):
    """Does lstm_cell_forward give nn.LSTMCell's h and c (gate order i, f, g, o)?"""
    x, h, c = rng.standard_normal((N, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    cell = torch.nn.LSTMCell(D, H).double()
    W = np.concatenate([cell.weight_ih.detach().numpy().T, cell.weight_hh.detach().numpy().T])
    b = (cell.bias_ih + cell.bias_hh).detach().numpy()
    h_next, c_next, gates = rnn.lstm_cell_forward(x, h, c, W, b)
    with torch.no_grad():
        th, tc = cell(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
    np.testing.assert_allclose(h_next, th.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(c_next, tc.numpy(), rtol=RTOL, atol=ATOL)
    assert set(gates) == {"input", "forget", "cell", "output"}


@pytest.mark.parametrize("bad", ["x", "W_hh", "dh"])
def test_bad_shapes_raise_value_error_naming_the_argument(rng, bad):
    """Is a wrong shape reported with the argument's name?"""
    x, h0, W_xh, W_hh, b = _weights(rng)
    with pytest.raises(ValueError, match=bad):
        if bad == "x":
            rnn.rnn_forward(x[0], h0, W_xh, W_hh, b)
        elif bad == "W_hh":
            rnn.rnn_forward(x, h0, W_xh, W_hh[:, :-1], b)
        else:
            _, cache = rnn.rnn_forward(x, h0, W_xh, W_hh, b)
            rnn.rnn_backward(np.zeros((N, T, H + 1)), cache)


def test_import_does_not_load_torch():
    """Does importing dlcourse.rnn leave torch unloaded (in a fresh interpreter)?"""
    import subprocess
    import sys

    code = "import sys, dlcourse.rnn; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
