"""Sequential: backprop through whole networks, the fused loss heads, fit, history, callbacks, errors."""

from __future__ import annotations

import time

import numpy as np
import pytest

from dlcourse import data, losses, train
from dlcourse import layers as L
from dlcourse.callbacks import Callback, EarlyStopping
from dlcourse.gradcheck import check_layer, numerical_gradient
from dlcourse.network import Sequential

GRAD_TOL = 1e-6


def _mlp(seed=0, out_layer=L.Softmax, k=3, d=4):
    return Sequential([L.Dense(d, 8, seed=seed), L.Tanh(), L.Dense(8, 6, seed=seed + 1), L.ReLU(),
                       L.Dense(6, k, seed=seed + 2)] + ([out_layer()] if out_layer else []))


def test_summary_counts_the_4_8_6_3_network():
    """Does summary() list every layer and count the notes' 4-8-6-3 network's 115 parameters?"""
    net = Sequential([L.Dense(4, 8), L.ReLU(), L.Dense(8, 6), L.ReLU(), L.Dense(6, 3), L.Softmax()])
    summary = net.summary()
    assert summary.total_params == 115 == net.num_parameters()
    expected = sum(p.data.size for p in net.parameters())
    assert summary.total_params == expected
    assert [r.output_shape for r in summary.rows] == [(8,), (8,), (6,), (6,), (3,), (3,)]
    text = str(summary)
    assert "Total parameters: 115" in text and "(N, 8)" in text and text == repr(summary)


def test_whole_network_gradient_matches_central_differences(rng):
    """Is backprop through Dense, tanh, ReLU, batch norm and softmax equal to central differences?"""
    # no bias before batch norm: its true gradient is 0 (the mean is subtracted), and a
    # relative error of round-off against 0 says nothing
    net = Sequential([L.Dense(4, 6, seed=0, bias=False), L.BatchNorm(6), L.Tanh(), L.Dense(6, 5, seed=1), L.ELU(),
                      L.Dense(5, 3, seed=2), L.Softmax()])
    result = check_layer(net, rng.normal(size=(7, 4)), tol=GRAD_TOL)
    assert result.ok, str(result)


def _loss_of_params(network, loss, X, target):
    def f():
        return loss(target, network.forward(X, training=True))
    return f


@pytest.mark.parametrize("loss, last, k", [
    ("categorical_cross_entropy", L.Softmax, 3),
    ("sparse_categorical_cross_entropy", L.Softmax, 3),
    ("cross_entropy_with_logits", None, 3),
    ("binary_cross_entropy", L.Sigmoid, 1),
    ("binary_cross_entropy_with_logits", None, 1),
    ("mse", None, 2),
    ("huber", L.Tanh, 2),
])
def test_fit_gradient_of_every_loss_head_matches_central_differences(loss, last, k, rng):
    """Is the gradient that fit backpropagates (output layer folded or not) the true gradient of its loss?"""
    net = _mlp(out_layer=last, k=k)
    X = rng.normal(size=(9, 4))
    y = rng.integers(0, k if k > 1 else 2, size=9) if "cross" in loss else rng.normal(size=(9, k))
    network, loss_fn = train.fold_output_layer(net, loss)
    assert (network is not net) == (last in (L.Softmax, L.Sigmoid)), "the fold applies to these two only"
    target = train.check_targets(loss_fn, y, 9, k)
    network.backward(loss_fn.gradient(target, network.forward(X, training=True)), need_dx=True)
    f = _loss_of_params(network, loss_fn, X, target)
    for p in net.parameters():
        analytic = p.grad.copy()

        def g(v, p=p):
            old = p.data.copy()
            p.data[...] = v
            out = f()
            p.data[...] = old
            return out
        numeric = numerical_gradient(g, p.data.copy())
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8, err_msg=f"{loss}: {p.name}")


@pytest.mark.parametrize("loss, obj, last, k", [
    ("categorical_cross_entropy", losses.categorical_cross_entropy, L.Softmax, 4),
    ("cross_entropy_with_logits", losses.cross_entropy_with_logits, None, 4),
    ("binary_cross_entropy", losses.binary_cross_entropy, L.Sigmoid, 1),
    ("binary_cross_entropy_with_logits", losses.binary_cross_entropy_with_logits, None, 1),
])
def test_fused_loss_value_equals_dlcourse_losses(loss, obj, last, k, rng):
    """Does the fused head report the same loss value as dlcourse.losses on the network output?"""
    net = _mlp(out_layer=last, k=k)
    X = rng.normal(size=(12, 4))
    y = rng.integers(0, max(k, 2), size=12)
    out = net.forward(X, training=False)
    if k > 1 and "logits" not in loss:
        expected = obj(data.one_hot(y, k), out)
    elif k > 1:
        expected = obj(y, out)
    else:
        expected = obj(y[:, None].astype(float), out)
    assert net.evaluate(X, y, loss=loss)["loss"] == pytest.approx(expected, rel=1e-9)
    assert net.evaluate(X, y, loss=obj)["loss"] == pytest.approx(expected, rel=1e-9)


def test_mlp_learns_xor():
    """Does a 2-8-1 MLP classify all four XOR points after training?"""
    X, y = data.logic_gate("XOR")
    net = Sequential([L.Dense(2, 8, seed=0), L.Tanh(), L.Dense(8, 1, seed=1), L.Sigmoid()])
    history = net.fit(X, y, loss="binary_cross_entropy", optimizer=0.5, epochs=500, batch_size=4, seed=0)
    np.testing.assert_array_equal(net.predict(X), y)
    assert history.loss[-1] < 0.05 < history.loss[0]
    assert history.accuracy[-1] == 1.0


def test_mlp_reaches_97_percent_on_digits(capsys):
    """Does a 64-64-10 MLP reach at least 97% test accuracy on the digits with a fixed seed?"""
    X, y = data.digits(scale=True)
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    net = Sequential([L.Dense(64, 64, init="he_normal", seed=0), L.ReLU(), L.Dense(64, 10, seed=1), L.Softmax()])
    t0 = time.perf_counter()
    history = net.fit(X_tr, y_tr, loss="categorical_cross_entropy", optimizer=0.1, epochs=30,
                      batch_size=32, seed=0, validation_data=(X_te, y_te))
    seconds = time.perf_counter() - t0
    accuracy = float(np.mean(net.predict(X_te) == y_te))
    with capsys.disabled():
        print(f"\n[digits MLP] fit 30 epochs in {seconds:.2f} s, test accuracy {accuracy:.4f}")
    assert accuracy >= 0.97, accuracy
    assert history.val_accuracy[-1] == pytest.approx(accuracy)
    assert net.evaluate(X_te, y_te)["accuracy"] == pytest.approx(accuracy)


def test_same_seed_same_result_twice():
    """Do two runs with the same seeds give identical weights and histories?"""
    X, y = data.spirals(120, seed=1)

    def run():
        net = Sequential([L.Dense(2, 16, seed=5), L.ReLU(), L.Dropout(0.2, seed=6), L.Dense(16, 3, seed=7)])
        h = net.fit(X, y, loss="cross_entropy_with_logits", optimizer="adam", epochs=5, batch_size=16, seed=3)
        return h.loss, [p.data.copy() for p in net.parameters()]

    (loss_a, w_a), (loss_b, w_b) = run(), run()
    assert loss_a == loss_b
    for a, b in zip(w_a, w_b):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make_bad, match", [
    (lambda X, y: (X[:, :3], y), "does not fit the network"),
    (lambda X, y: (X, np.where(y == 2, 3, y)), r"labels in y must lie in \[0, 3\)"),
    (lambda X, y: (X, -y), r"labels in y must lie in \[0, 3\)"),
    (lambda X, y: (X[:-1], y), "same number of samples"),
    (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X), y), "X must be finite"),
    (lambda X, y: (X, y + 0.5), "integer class labels"),
])
def test_bad_input_fails_before_any_training_step(make_bad, match, rng):
    """Do bad inputs raise a clear ValueError before a single parameter changes?"""
    net = _mlp()
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    before = [p.data.copy() for p in net.parameters()]
    Xb, yb = make_bad(X, y)
    with pytest.raises(ValueError, match=match):
        net.fit(Xb, yb, loss="categorical_cross_entropy", epochs=2)
    for a, p in zip(before, net.parameters()):
        np.testing.assert_array_equal(a, p.data)


def test_bad_validation_data_fails_before_training(rng):
    """Is a validation set with the wrong feature count refused before training starts?"""
    net = _mlp()
    before = [p.data.copy() for p in net.parameters()]
    with pytest.raises(ValueError, match="validation X"):
        net.fit(rng.normal(size=(10, 4)), rng.integers(0, 3, size=10), loss="categorical_cross_entropy",
                validation_data=(rng.normal(size=(5, 2)), rng.integers(0, 3, size=5)))
    assert all(np.array_equal(a, p.data) for a, p in zip(before, net.parameters()))


def test_fit_accepts_optimizer_objects_names_and_steps_the_scheduler(rng):
    """Is an optimizer object used as is, and is scheduler.step() called once per epoch?"""
    from dlcourse import optim

    net = _mlp()
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    opt = optim.SGD(list(net.parameters()), lr=0.05, momentum=0.9)

    class CountingScheduler:
        calls = 0

        def step(self):
            CountingScheduler.calls += 1
            opt.lr *= 0.5

    h = net.fit(X, y, loss="categorical_cross_entropy", optimizer=opt, epochs=4, scheduler=CountingScheduler())
    assert CountingScheduler.calls == 4
    assert h.lr == [0.05, 0.025, 0.0125, 0.00625]
    h2 = net.fit(X, y, loss="categorical_cross_entropy", optimizer="rmsprop", epochs=2, batch_size=None)
    assert len(h2) == 2 and set(h2.history) == {"loss", "accuracy", "lr"}


def test_history_records_train_and_validation_per_epoch(rng):
    """Does History hold one loss/accuracy per epoch for train and validation, and a fit time?"""
    X, y = data.blobs(90, centers=3, seed=0)
    net = Sequential([L.Dense(2, 3, seed=0), L.Softmax()])
    h = net.fit(X[:60], y[:60], loss="sparse_categorical_cross_entropy", optimizer=0.05, epochs=6,
                validation_data=(X[60:], y[60:]), progress=False)
    assert h.epoch == list(range(6))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert len(h[key]) == 6, key
    assert h.fit_time > 0 and h.stopped_epoch is None
    assert h.val_loss[-1] == pytest.approx(net.evaluate(X[60:], y[60:])["loss"])


def test_early_stopping_stops_and_restores_the_best_weights(rng):
    """Does EarlyStopping stop after `patience` bad epochs and put back the best epoch's weights?"""
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    Xv, yv = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)  # pure noise: val loss soon rises
    net = _mlp()
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    h = net.fit(X, y, loss="categorical_cross_entropy", optimizer=0.5, epochs=200, batch_size=8,
                validation_data=(Xv, yv), callbacks=[stopper], seed=0)
    assert h.stopped_epoch is not None and len(h) < 200
    assert len(h) == stopper.best_epoch + 1 + 2
    assert min(h.val_loss) == stopper.best
    assert net.evaluate(Xv, yv)["loss"] == pytest.approx(stopper.best, rel=1e-12)


def test_early_stopping_without_validation_is_refused_before_training(rng):
    """Does monitoring val_loss without validation_data raise before training?"""
    net = _mlp()
    with pytest.raises(ValueError, match="validation_data"):
        net.fit(rng.normal(size=(10, 4)), rng.integers(0, 3, 10), loss="categorical_cross_entropy",
                callbacks=[EarlyStopping()])


def test_callback_hooks_run_in_order(rng):
    """Are the callback hooks called train-begin, epoch-begin/end per epoch, train-end?"""
    calls = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            calls.append("begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"e{epoch}")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"/e{epoch}:{'loss' in logs}")

        def on_train_end(self, logs=None):
            calls.append("end")

    _mlp().fit(rng.normal(size=(8, 4)), rng.integers(0, 3, 8), loss="categorical_cross_entropy",
               epochs=2, callbacks=[Recorder()])
    assert calls == ["begin", "e0", "/e0:True", "e1", "/e1:True", "end"]


def test_progress_bar_is_silent_when_turned_off(rng, capsys, monkeypatch):
    """With progress=False, or DLCOURSE_PROGRESS=0, does fit print nothing at all?"""
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    monkeypatch.setenv("DLCOURSE_PROGRESS", "1")
    _mlp().fit(X, y, loss="categorical_cross_entropy", epochs=2, progress=False)
    monkeypatch.setenv("DLCOURSE_PROGRESS", "0")
    _mlp().fit(X, y, loss="categorical_cross_entropy", epochs=2, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_bar_shows_when_wanted(rng, capsys, monkeypatch):
    """With progress on, does fit draw a tqdm bar (on stderr outside notebooks)?"""
    pytest.importorskip("tqdm", reason="tqdm is not installed")
    monkeypatch.setenv("DLCOURSE_PROGRESS", "1")
    _mlp().fit(rng.normal(size=(8, 4)), rng.integers(0, 3, 8), loss="categorical_cross_entropy", epochs=3)
    assert "3/3" in capsys.readouterr().err


def test_predict_and_predict_proba(rng):
    """Do predict give labels and predict_proba rows summing to 1, for softmax and logit heads?"""
    X = rng.normal(size=(10, 4))
    soft, logits = _mlp(out_layer=L.Softmax), _mlp(out_layer=None)
    for net in (soft, logits):
        proba = net.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_array_equal(net.predict(X), proba.argmax(axis=1))
    binary = _mlp(out_layer=L.Sigmoid, k=1)
    p = binary.predict_proba(X)
    np.testing.assert_array_equal(binary.predict(X), (p[:, 0] > 0.5).astype(int))


def test_regression_with_mse_and_float32(rng):
    """Does fit with MSE reduce the loss on a float32 network and keep float32 parameters?"""
    X = rng.normal(size=(64, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3).astype(np.float32)
    net = Sequential([L.Dense(3, 1, seed=0, dtype=np.float32)])
    h = net.fit(X, y, loss="mse", optimizer=0.1, epochs=30, batch_size=16, seed=0)
    assert h.loss[-1] < 1e-3 * h.loss[0]
    assert net.layers[0].W.data.dtype == np.float32
    assert "accuracy" not in h.history
    assert net.predict(X).shape == (64, 1)


def test_fit_rejects_bad_hyper_parameters(rng):
    """Are a negative learning rate, a zero batch size and an unknown loss refused by name?"""
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    with pytest.raises(ValueError, match="learning rate"):
        _mlp().fit(X, y, loss="categorical_cross_entropy", optimizer=-0.1)
    with pytest.raises(ValueError, match="batch_size"):
        _mlp().fit(X, y, loss="categorical_cross_entropy", batch_size=0)
    with pytest.raises(ValueError, match="loss"):
        _mlp().fit(X, y, loss="nonsense")


def test_multi_label_sigmoid_accuracy_is_a_fraction(rng):
    """With several sigmoid outputs, is accuracy the mean over outputs (between 0 and 1)?"""
    X = rng.normal(size=(20, 4))
    Y = (X[:, :2] > 0).astype(float)
    net = _mlp(out_layer=L.Sigmoid, k=2)
    h = net.fit(X, Y, loss="binary_cross_entropy", optimizer=0.5, epochs=20, batch_size=5, seed=0)
    assert all(0 <= a <= 1 for a in h.accuracy)
    expected = np.mean((net.forward(X, training=False) > 0.5) == (Y > 0.5))
    assert net.evaluate(X, Y)["accuracy"] == pytest.approx(expected)


def test_fit_is_the_public_training_loop(rng):
    """Does fit give exactly the weights and history of dlcourse.train.train on the same seeds?"""
    from dlcourse import optim

    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    a, b = _mlp(seed=3), _mlp(seed=3)
    ha = a.fit(X, y, loss="categorical_cross_entropy", optimizer=0.1, epochs=3, batch_size=8, seed=1,
               progress=False)
    hb = train.train(b, losses.categorical_cross_entropy, optim.SGD(list(b.parameters()), lr=0.1), X, y,
                     epochs=3, batch_size=8, seed=1, progress=False)
    assert ha.history == hb.history
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


class _TwoLayerModel:
    """A model that is not a Sequential: only forward, backward, output_shape and parameters."""

    def __init__(self):
        self.dense, self.act = L.Dense(4, 3, seed=0), L.Identity()

    def forward(self, x, training=True):
        return self.act.forward(self.dense.forward(x, training), training)

    def backward(self, dout, need_dx=True):
        return self.dense.backward(self.act.backward(dout), need_dx=need_dx)

    def output_shape(self, input_shape):
        return self.dense.output_shape(input_shape)

    def parameters(self):
        return self.dense.parameters()


def test_train_needs_only_the_public_layer_protocol(rng):
    """Does the loop train any object with the public protocol, and lower the loss?"""
    from dlcourse import optim

    X = rng.normal(size=(64, 4))
    y = X @ rng.normal(size=(4, 3))
    model = _TwoLayerModel()
    history = train.train(model, losses.mse, optim.SGD(list(model.parameters()), lr=0.05), X, y,
                          epochs=20, batch_size=16, seed=0, progress=False)
    assert history.loss[-1] < 0.2 * history.loss[0], history.loss


@pytest.mark.parametrize("layer", [L.Dense(3, 3), L.ReLU(), L.GELU(), L.Dropout(0.5), L.BatchNorm(3), L.Flatten(),
                                   L.Conv2D(3, 2, 1), L.MaxPool2D(1), L.AvgPool2D(1), Sequential([L.Dense(3, 3)])],
                         ids=repr)
def test_every_layer_has_one_backward_signature(layer, rng):
    """Does every layer take backward(dout, need_dx=...) and return dx when it is asked for?"""
    import inspect

    assert list(inspect.signature(layer.backward).parameters) == ["dout", "need_dx"]
    x = rng.normal(size=(4, 3, 1, 1)) if isinstance(layer, (L.Conv2D, L.MaxPool2D, L.AvgPool2D)) else \
        rng.normal(size=(4, 3))
    out = layer.forward(x, training=True)
    assert layer.backward(np.ones_like(out), need_dx=True).shape == x.shape


class _GeneralCrossEntropy(losses.CrossEntropyWithLogits):
    """The same loss without the training loop's one-pass shortcut."""

    _fit_tally = None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_pass_cross_entropy_step_is_bit_for_bit_the_general_path(dtype, rng):
    """Do the gradient, value and correct count of one step of the epoch tally equal
    loss.gradient(), loss() and the argmax count exactly, and does it hand bad batches back?"""
    loss = losses.cross_entropy_with_logits
    z = (3 * rng.normal(size=(33, 7))).astype(dtype)
    z[4] = z[4, 0]  # a row of ties: the argmax takes the first
    labels = rng.integers(0, 7, size=33).astype(np.intp)
    tally = loss._fit_tally()
    grad = tally.gradient(labels, z)
    want = loss.gradient(labels, z)
    assert grad.dtype == want.dtype == dtype
    np.testing.assert_array_equal(grad, want)
    assert tally.steps() == [(loss(labels, z), 33)]
    assert tally.correct == train.count_correct(loss, labels, z)
    bad = z.copy()
    bad[2, 1] = np.inf
    assert tally.gradient(labels, bad) is None  # NaN/inf logits: the general path
    assert tally.gradient(np.eye(7)[labels], z) is None  # probability rows: the general path
    assert len(tally.steps()) == 1  # nothing recorded for a batch handed back


@pytest.mark.parametrize("rows", [None, 3, 10 ** 4])  # the epoch's rows as told: none, fewer than a batch, plenty
@pytest.mark.parametrize("hold", [10 ** 9, 50])  # all values taken at the end; or every few steps
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_an_epoch_tally_gives_each_step_the_general_value_and_count_in_order(dtype, hold, rows, rng, monkeypatch):
    """Does the tally the training loop keeps per epoch give, step by step in order, exactly the
    value loss() and the argmax count give at that step, with general-path steps in between,
    whether its buffers are reused across steps, filled up, or remade for a new width or dtype?"""
    loss = losses.cross_entropy_with_logits
    monkeypatch.setattr(losses._LogitsTally, "HOLD", hold)
    tally = loss._fit_tally(rows)
    want, right = [], 0
    for step, n in enumerate([32, 32, 5, 32, 1, 17, 17, 32, 9, 4, 4]):
        k = 3 if step in (4, 5, 8) else 7  # runs of one width, and changes of width
        if step == 7:  # and of dtype, within the same width
            dtype = np.float32 if dtype == np.float64 else np.float64
        z = (rng.uniform(0.1, 40) * rng.normal(size=(n, k))).astype(dtype)
        z[0] = z[0, 0]  # ties: the first maximum counts
        labels = rng.integers(0, k, size=n).astype(np.intp)
        if step == 3:
            z[1, 2] = np.nan  # a step the general path takes, reported in its place
        want.append((float(loss(labels, z)), n))
        right += train.count_correct(loss, labels, z)
        if step == 3:
            assert tally.gradient(labels, z) is None
            tally.add(want[-1][0], n, train.count_correct(loss, labels, z))
        else:
            np.testing.assert_array_equal(tally.gradient(labels, z), loss.gradient(labels, z))
    got = tally.steps()
    assert [n for _, n in got] == [n for _, n in want]
    np.testing.assert_array_equal([v for v, _ in got], [v for v, _ in want])  # NaN at step 3 on both sides
    assert tally.correct == right


def test_fit_with_the_one_pass_step_gives_the_general_weights_and_history(rng):
    """Does training with the shortcut give exactly the general path's weights, history and warnings, also diverging?"""
    import warnings

    from dlcourse import optim

    X, y = rng.normal(size=(50, 4)), rng.integers(0, 3, size=50)
    for lr in (0.1, 1e200):  # 1e200 overflows to inf/NaN logits, which the shortcut hands to the general path
        runs = []
        for loss in (losses.cross_entropy_with_logits, _GeneralCrossEntropy()):
            net = Sequential([L.Dense(4, 8, seed=4), L.ReLU(), L.Dense(8, 3, seed=5)])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                history = train.train(net, loss, optim.SGD(list(net.parameters()), lr=lr), X, y,
                                      epochs=3, batch_size=8, seed=2, progress=False)
            runs.append((history, [p.data for p in net.parameters()], sorted(str(w.message) for w in caught)))
        (ha, wa, ca), (hb, wb, cb) = runs
        np.testing.assert_array_equal(ha.loss, hb.loss)
        assert ha.accuracy == hb.accuracy
        assert ca == cb
        for p, q in zip(wa, wb):
            np.testing.assert_array_equal(p, q)
    assert not np.all(np.isfinite(ha.loss))  # the second run did diverge


@pytest.mark.parametrize("loss_name, dropout", [("cross_entropy_with_logits", False),
                                                ("cross_entropy_with_logits", True), ("mse", False)])
def test_epoch_loss_and_accuracy_are_the_running_means_torch_reports(loss_name, dropout, rng):
    """Are an epoch's loss and accuracy the batch-size-weighted means of every step's loss and
    correct count, each taken before that step's update, as a PyTorch loop computes them?"""
    torch = pytest.importorskip("torch")
    from dlcourse import optim

    X = rng.normal(size=(45, 5))
    y = rng.integers(0, 3, size=45)
    target = y if loss_name != "mse" else rng.normal(size=(45, 3))
    layers = [L.Dense(5, 6, seed=1), L.ReLU()] + ([L.Dropout(0.5, seed=3)] if dropout else []) + [L.Dense(6, 3, seed=2)]
    net = Sequential(layers)
    start = [p.data.copy() for p in net.parameters()]
    history = train.train(net, losses.cross_entropy_with_logits if loss_name != "mse" else losses.mse,
                          optim.SGD(list(net.parameters()), lr=0.3), X, target, epochs=3, batch_size=16,
                          seed=7, progress=False)
    # the oracle: the same steps in torch, recording each batch's loss and correct count before its update
    W1, b1, W2, b2 = (torch.tensor(p, requires_grad=True) for p in start)
    order_rng = np.random.default_rng(7)
    drop_rng = np.random.default_rng(3) if dropout else None
    want_loss, want_acc = [], []
    for _ in range(3):
        order = order_rng.permutation(45)
        total, right = 0.0, 0
        for s in range(0, 45, 16):
            idx = order[s:s + 16]
            h = torch.relu(torch.tensor(X[idx]) @ W1 + b1)
            if dropout:  # the same mask the layer draws (inverted dropout, p = 0.5)
                h = h * torch.tensor((drop_rng.random(h.shape) >= 0.5) / 0.5)
            z = h @ W2 + b2
            if loss_name == "mse":
                value = torch.nn.functional.mse_loss(z, torch.tensor(target[idx]))
            else:
                value = torch.nn.functional.cross_entropy(z, torch.tensor(y[idx]))
                right += int((z.argmax(1).numpy() == y[idx]).sum())
            total += float(value.detach()) * len(idx)
            value.backward()
            with torch.no_grad():
                for p in (W1, b1, W2, b2):
                    p -= 0.3 * p.grad
                    p.grad = None
        want_loss.append(total / 45)
        want_acc.append(right / 45)
    np.testing.assert_allclose(history.loss, want_loss, rtol=1e-12)
    if loss_name != "mse":
        assert history.accuracy == want_acc
    np.testing.assert_allclose(net.parameters().__next__().data, W1.detach().numpy(), rtol=1e-12, atol=1e-14)
