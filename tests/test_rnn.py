"""The recurrent cells of the sequences chapter (tanh RNN, LSTM step, GRU), checked against PyTorch autograd."""

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


# --- GRU: PyTorch's nn.GRUCell convention (reset, update, candidate) ----------------------------

def _gru_weights(rng, update_bias=0.0):
    W, b_x, b_h = rnn.gru_init(D, H, update_bias=update_bias, seed=rng)
    return rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), W, b_x, b_h


def _torch_gru_cell(W, b_x, b_h):
    cell = torch.nn.GRUCell(D, H).double()
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(W[:D].T))
        cell.weight_hh.copy_(torch.tensor(W[D:].T))
        cell.bias_ih.copy_(torch.tensor(b_x))
        cell.bias_hh.copy_(torch.tensor(b_h))
    return cell


def test_gru_cell_matches_torch_gru_cell(rng):
    """Does gru_cell_forward give nn.GRUCell's next state with copied weights (float64, to 1e-12)?"""
    x, h, W, b_x, b_h = _gru_weights(rng, update_bias=1.0)
    x, h = x[:, 0], 2 * h
    h_next, gates = rnn.gru_cell_forward(x, h, W, b_x, b_h)
    with torch.no_grad():
        expected = _torch_gru_cell(W, b_x, b_h)(torch.tensor(x), torch.tensor(h)).numpy()
    np.testing.assert_allclose(h_next, expected, rtol=0, atol=1e-12, err_msg="GRU step differs from nn.GRUCell")
    assert set(gates) == {"reset", "update", "candidate"}
    np.testing.assert_allclose(h_next, (1 - gates["update"]) * gates["candidate"] + gates["update"] * h, atol=1e-15)


def test_gru_forward_matches_torch_nn_gru(rng):
    """Does gru_forward give nn.GRU's hidden states (batch_first) over a whole sequence?"""
    x, h0, W, b_x, b_h = _gru_weights(rng)
    h, _ = rnn.gru_forward(x, h0, W, b_x, b_h)
    layer = torch.nn.GRU(D, H, batch_first=True).double()
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.tensor(W[:D].T))
        layer.weight_hh_l0.copy_(torch.tensor(W[D:].T))
        layer.bias_ih_l0.copy_(torch.tensor(b_x))
        layer.bias_hh_l0.copy_(torch.tensor(b_h))
        expected, last = layer(torch.tensor(x), torch.tensor(h0)[None])
    np.testing.assert_allclose(h, expected.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(h[:, -1], last[0].numpy(), rtol=0, atol=1e-12)


def _torch_gru_unrolled(x, h0, W, b_x, b_h):
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, h0, W, b_x, b_h)]
    tx, th0, tW, tbx, tbh = tensors
    states, prev = [], th0
    for t in range(x.shape[1]):
        a, c = tx[:, t] @ tW[:D] + tbx, prev @ tW[D:] + tbh
        r = torch.sigmoid(a[:, :H] + c[:, :H])
        z = torch.sigmoid(a[:, H:2 * H] + c[:, H:2 * H])
        n = torch.tanh(a[:, 2 * H:] + r * c[:, 2 * H:])
        prev = (1 - z) * n + z * prev
        prev.retain_grad()
        states.append(prev)
    return tensors, states


def test_gru_backward_matches_autograd(rng):
    """Does gru_backward give autograd's gradients for x, h0, W, b_x and b_h?"""
    x, h0, W, b_x, b_h = _gru_weights(rng, update_bias=0.5)
    dh = rng.standard_normal((N, T, H))
    _, cache = rnn.gru_forward(x, h0, W, b_x, b_h)
    grads = rnn.gru_backward(dh, cache)
    tensors, states = _torch_gru_unrolled(x, h0, W, b_x, b_h)
    (torch.stack(states, dim=1) * torch.tensor(dh)).sum().backward()
    for name, ours, tensor in zip(("dx", "dh0", "dW", "db_x", "db_h"), grads, tensors):
        np.testing.assert_allclose(ours, tensor.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{name} differs from autograd")


def test_gru_backward_matches_central_differences(rng):
    """Do dW and dh0 agree with central differences of sum(dh * h), without torch in the loop?"""
    x, h0, W, b_x, b_h = _gru_weights(rng)
    dh = rng.standard_normal((N, T, H))
    grads = rnn.gru_backward(dh, rnn.gru_forward(x, h0, W, b_x, b_h)[1])

    def loss(W_, h0_):
        return np.sum(dh * rnn.gru_forward(x, h0_, W_, b_x, b_h)[0])

    eps = 1e-6
    for name, arr, analytic in (("W", W, grads.dW), ("h0", h0, grads.dh0)):
        numeric = np.zeros_like(arr)
        for idx in np.ndindex(*arr.shape):
            plus, minus = arr.copy(), arr.copy()
            plus[idx] += eps
            minus[idx] -= eps
            args_p = (plus, h0) if name == "W" else (W, plus)
            args_m = (minus, h0) if name == "W" else (W, minus)
            numeric[idx] = (loss(*args_p) - loss(*args_m)) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8, err_msg=name)


def test_gru_gradient_norms_match_autograd(rng):
    """Are the GRU's per-step gradient norms those autograd finds when the loss is sum(h_T)?"""
    x, h0, W, b_x, b_h = _gru_weights(rng, update_bias=2.0)
    _, cache = rnn.gru_forward(x, h0, W, b_x, b_h)
    norms = rnn.gru_gradient_norms_through_time(cache)
    _, states = _torch_gru_unrolled(x, h0, W, b_x, b_h)
    states[-1].sum().backward()
    np.testing.assert_allclose(norms, [float(torch.linalg.norm(s.grad)) for s in states], rtol=1e-10)


def test_gru_update_bias_keeps_the_gradient_alive():
    """With update gates near 1 (bias 3), does more gradient reach 30 steps back than with bias 0?"""
    x = np.random.default_rng(2).standard_normal((4, 30, 2))
    ratios = []
    for bias in (0.0, 3.0):
        W, b_x, b_h = rnn.gru_init(2, 8, update_bias=bias, seed=1)
        norms = rnn.gru_gradient_norms_through_time(rnn.gru_forward(x, np.zeros((4, 8)), W, b_x, b_h)[1])
        ratios.append(norms[0] / norms[-1])
    assert ratios[1] > 100 * ratios[0], ratios


def test_gru_init_follows_torch_range_and_shifts_only_the_update_bias():
    """Are gru_init's weights in U(-1/sqrt(H), 1/sqrt(H)), with update_bias added to b_x's middle block only?"""
    W0, bx0, bh0 = rnn.gru_init(3, 4, seed=5)
    W1, bx1, bh1 = rnn.gru_init(3, 4, update_bias=2.0, seed=5)
    assert W0.shape == (7, 12) and bx0.shape == bh0.shape == (12,)
    assert np.abs(W0).max() <= 0.5 and np.abs(bh0).max() <= 0.5
    np.testing.assert_array_equal(W0, W1)
    np.testing.assert_array_equal(bh0, bh1)
    np.testing.assert_allclose(bx1 - bx0, np.r_[np.zeros(4), 2 * np.ones(4), np.zeros(4)])


@pytest.mark.parametrize("bad, match", [("x", r"x must have shape \(N, D\)"), ("h", r"h must have shape"),
                                        ("W", r"W must have shape \(9, 15\)"), ("b_h", r"b_h must have shape \(15,\)"),
                                        ("dh", "dh must have the shape")])
def test_gru_bad_shapes_raise_value_error_naming_the_argument(rng, bad, match):
    """Is a wrong GRU shape reported with the argument's name and the expected shape?"""
    x, h0, W, b_x, b_h = _gru_weights(rng)
    with pytest.raises(ValueError, match=match):
        if bad == "x":
            rnn.gru_cell_forward(x, h0, W, b_x, b_h)
        elif bad == "h":
            rnn.gru_cell_forward(x[:, 0], h0[:-1], W, b_x, b_h)
        elif bad == "W":
            rnn.gru_cell_forward(x[:, 0], h0, W[:, :-1], b_x, b_h)
        elif bad == "b_h":
            rnn.gru_cell_forward(x[:, 0], h0, W, b_x, b_h[:-1])
        else:
            rnn.gru_backward(np.zeros((N, T, H + 1)), rnn.gru_forward(x, h0, W, b_x, b_h)[1])
