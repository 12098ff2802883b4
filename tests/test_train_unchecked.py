"""The training loop's later steps without the checks (``train._without_checks``).

Oracle: the same training with every step through the checked ``forward``, ``backward``
and ``step`` (``_without_checks`` patched to hand the checked methods back). The two
must agree bit for bit, run every overridden method on every step, and raise the same
errors.
"""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import layers as L
from dlcourse import losses, optim, train
from dlcourse.network import Sequential


def _checked_only(monkeypatch):
    monkeypatch.setattr(train, "_without_checks", lambda network, X, loss, optimizer, checked: checked)


def _spy(monkeypatch) -> list:
    """Record, per epoch, whether the loop got something other than the checked methods."""
    took, real = [], train._without_checks

    def spy(network, X, loss, optimizer, checked):
        got = real(network, X, loss, optimizer, checked)
        took.append(tuple(a is not b for a, b in zip(got, checked)))
        return got

    monkeypatch.setattr(train, "_without_checks", spy)
    return took


def _data(rng, n, d, k, task, dtype=np.float64):
    X = rng.normal(size=(n, d)).astype(dtype)
    if task == "multiclass":
        return X, rng.integers(0, k, size=n)
    if task == "binary":
        return X, rng.integers(0, 2, size=n)
    return X, (X @ rng.normal(size=(d, k))).astype(dtype)


# (layers, loss, optimizer, task, k, dtype)
CASES = {
    "relu-logits-sgd": (lambda: [L.Dense(6, 16, seed=1), L.ReLU(), L.Dense(16, 4, seed=2)],
                        "cross_entropy_with_logits", lambda p: optim.SGD(p, lr=0.1), "multiclass", 4, np.float64),
    "tanh-sigmoid-folded": (lambda: [L.Dense(6, 8, seed=1), L.Tanh(), L.Dense(8, 1, seed=2), L.Sigmoid()],
                            "binary_cross_entropy", lambda p: optim.SGD(p, lr=0.2, momentum=0.9), "binary", 1,
                            np.float64),
    "softmax-folded-f32-adam": (lambda: [L.Dense(6, 8, seed=1, dtype=np.float32), L.Sigmoid(),
                                         L.Dense(8, 3, seed=2, dtype=np.float32), L.Softmax()],
                                "sparse_categorical_cross_entropy", lambda p: optim.Adam(p, lr=0.01), "multiclass",
                                3, np.float32),
    "nobias-mse-general-tally": (lambda: [L.Dense(6, 8, seed=1, bias=False), L.Tanh(),
                                          L.Dense(8, 2, seed=2, bias=False)],
                                 "mse", lambda p: optim.SGD(p, lr=0.05, weight_decay=0.01, nesterov=True, momentum=0.5),
                                 "regression", 2, np.float64),
    "gelu-maximize": (lambda: [L.Dense(6, 8, seed=1), L.GELU(), L.Dense(8, 2, seed=2)],
                      "mse", lambda p: optim.SGD(p, lr=0.001, maximize=True), "regression", 2, np.float64),
    "nested-sequential-adamw": (lambda: [Sequential([L.Dense(6, 8, seed=1), L.ReLU()]), L.Dense(8, 3, seed=2)],
                                "cross_entropy_with_logits", lambda p: optim.AdamW(p, lr=0.01), "multiclass", 3,
                                np.float64),
    "relu-f32-plain-sgd": (lambda: [L.Dense(6, 16, seed=1, dtype=np.float32), L.ReLU(),
                                    L.Dense(16, 4, seed=2, dtype=np.float32)],
                           "cross_entropy_with_logits", lambda p: optim.SGD(p, lr=0.1), "multiclass", 4, np.float32),
}


def _train(case, rng_seed, monkeypatch=None, batch_size=16, n=107, epochs=3):
    make_layers, loss, make_opt, task, k, dtype = CASES[case]
    X, y = _data(np.random.default_rng(rng_seed), n, 6, k, task, dtype)
    net = Sequential(make_layers())
    opt = make_opt(list(net.parameters()))
    history = train.train(net, loss, opt, X, y, epochs=epochs, batch_size=batch_size, seed=3, progress=False)
    return history, [p.data.copy() for p in net.parameters()]


@pytest.mark.parametrize("case", sorted(CASES))
def test_unchecked_steps_give_the_checked_numbers_bit_for_bit(case, monkeypatch):
    """Do history and final weights equal those of a run checked on every step, exactly,
    with a remainder batch (107 rows in batches of 16), and was the fast path taken?"""
    took = _spy(monkeypatch)
    fast, fast_w = _train(case, 0)
    assert took and all(t[0] and t[1] for t in took), took  # forward and backward without checks
    monkeypatch.undo()
    _checked_only(monkeypatch)
    slow, slow_w = _train(case, 0)
    assert fast.history == slow.history
    for a, b in zip(fast_w, slow_w):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_the_library_optimizers_update_without_their_checks(monkeypatch):
    """Is the update the unchecked one too for SGD (plain and with momentum) and Adam?"""
    for case in ("relu-logits-sgd", "tanh-sigmoid-folded", "softmax-folded-f32-adam"):
        took = _spy(monkeypatch)
        _train(case, 1, epochs=1)
        assert took == [(True, True, True)], (case, took)
        monkeypatch.undo()


class _CountingDense(L.Dense):
    calls = 0

    def forward(self, x, training=True):
        type(self).calls += 1
        return super().forward(x, training)


class _CountingSGD(optim.SGD):
    calls = 0

    def step(self):
        type(self).calls += 1
        super().step()


def _steps(n, batch_size, epochs):
    return epochs * -(-n // batch_size)


def test_overridden_methods_run_on_every_step(rng):
    """A subclass's forward, an instance's backward, a Sequential's forward and an
    optimizer's step (subclass or instance): are they called on every step?"""
    X, y = _data(rng, 50, 4, 3, "multiclass")
    want = _steps(50, 8, 2)

    _CountingDense.calls = 0
    net = Sequential([_CountingDense(4, 5, seed=0), L.ReLU(), L.Dense(5, 3, seed=1)])
    train.train(net, "cross_entropy_with_logits", optim.SGD(list(net.parameters()), lr=0.1), X, y,
                epochs=2, batch_size=8, seed=0, progress=False)
    assert _CountingDense.calls == want

    net = Sequential([L.Dense(4, 5, seed=0), L.ReLU(), L.Dense(5, 3, seed=1)])
    calls = []
    relu_backward = net.layers[1].backward
    net.layers[1].backward = lambda dout, need_dx=True: (calls.append(1), relu_backward(dout, need_dx))[1]
    train.train(net, "cross_entropy_with_logits", optim.SGD(list(net.parameters()), lr=0.1), X, y,
                epochs=2, batch_size=8, seed=0, progress=False)
    assert len(calls) == want

    class CountingSequential(Sequential):
        calls = 0

        def forward(self, x, training=True):
            CountingSequential.calls += 1
            return super().forward(x, training)

    net = CountingSequential([L.Dense(4, 5, seed=0), L.ReLU(), L.Dense(5, 3, seed=1)])
    train.train(net, "cross_entropy_with_logits", optim.SGD(list(net.parameters()), lr=0.1), X, y,
                epochs=2, batch_size=8, seed=0, progress=False)
    assert CountingSequential.calls == want

    _CountingSGD.calls = 0
    net = Sequential([L.Dense(4, 5, seed=0), L.ReLU(), L.Dense(5, 3, seed=1)])
    train.train(net, "cross_entropy_with_logits", _CountingSGD(list(net.parameters()), lr=0.1), X, y,
                epochs=2, batch_size=8, seed=0, progress=False)
    assert _CountingSGD.calls == want

    net = Sequential([L.Dense(4, 5, seed=0), L.ReLU(), L.Dense(5, 3, seed=1)])
    opt, calls = optim.Adam(list(net.parameters()), lr=0.1), []
    adam_step = opt.step
    opt.step = lambda: (calls.append(1), adam_step())
    train.train(net, "cross_entropy_with_logits", opt, X, y, epochs=2, batch_size=8, seed=0, progress=False)
    assert len(calls) == want


def test_an_activation_function_overridden_on_the_object_runs_every_step(rng):
    """An instance's _forward on a built-in function: used on every step, not skipped."""
    X, y = _data(rng, 40, 4, 3, "multiclass")
    net = Sequential([L.Dense(4, 5, seed=0), L.Tanh(), L.Dense(5, 3, seed=1)])
    fn, calls = net.layers[1].fn, []
    tanh = fn._forward
    fn._forward = lambda z: (calls.append(1), tanh(z))[1]
    train.train(net, "cross_entropy_with_logits", optim.SGD(list(net.parameters()), lr=0.1), X, y,
                epochs=1, batch_size=8, seed=0, progress=False)
    assert len(calls) == _steps(40, 8, 1)


class _Widening(L.Layer):
    """A custom layer whose output gains a column from its third call on."""

    def __init__(self):
        self.calls = 0

    def forward(self, x, training=True):
        self.calls += 1
        return np.hstack([x, x[:, :1]]) if self.calls >= 3 else x

    def backward(self, dout, need_dx=True):
        return dout[:, :4]


def test_a_custom_layer_keeps_the_next_dense_layers_error(rng):
    """A width a custom layer changes on a later step: Dense still says what is wrong."""
    X, y = _data(rng, 40, 4, 3, "multiclass")
    net = Sequential([_Widening(), L.Dense(4, 3, seed=0)])
    with pytest.raises(ValueError, match=r"x must have shape \(N, 4\) for Dense\(4, 3\); got shape \(8, 5\)"):
        train.train(net, "cross_entropy_with_logits", optim.SGD(list(net.parameters()), lr=0.1), X, y,
                    epochs=1, batch_size=8, seed=0, progress=False)


class _BadGradientLoss:
    """MSE whose gradient gains a column on the third call (or turns float32 on it)."""

    def __init__(self, bad):
        self.calls, self.bad = 0, bad

    def __call__(self, y, out):
        return losses.mse(y, out)

    def gradient(self, y, out):
        self.calls += 1
        g = losses.mse.gradient(y, out)
        if self.calls == 3:
            g = self.bad(g)
        return g


@pytest.mark.parametrize("bad", [lambda g: np.hstack([g, g[:, :1]]), lambda g: g[:-1], lambda g: g.tolist(),
                                 lambda g: g.astype(np.float32)],
                         ids=["extra column", "a row short", "a list", "float32"])
def test_a_loss_gradient_gone_wrong_on_a_later_step_meets_the_checked_code(bad, rng, monkeypatch):
    """Does a gradient of the wrong shape, type or dtype on step 3 raise the checked error
    (or, where the checked code accepts it, give the checked numbers)?"""
    def run():
        X, y = _data(np.random.default_rng(5), 40, 4, 2, "regression")
        net = Sequential([L.Dense(4, 5, seed=0), L.Tanh(), L.Dense(5, 2, seed=1)])
        try:
            train.train(net, _BadGradientLoss(bad), optim.SGD(list(net.parameters()), lr=0.1), X, y,
                        epochs=1, batch_size=8, seed=0, progress=False)
        except Exception as e:  # noqa: BLE001 - the error itself is what is compared
            return type(e), str(e)
        return [p.data.copy() for p in net.parameters()]

    fast = run()
    _checked_only(monkeypatch)
    slow = run()
    if isinstance(slow, tuple):
        assert fast == slow
    else:
        assert not isinstance(fast, tuple), fast
        for a, b in zip(fast, slow):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


class _ReplacingSGD(optim.Optimizer):
    """Gradient descent that puts a new array in p.data on every step."""

    def step(self):
        for p in self.params:
            if p.grad is not None:
                p.data = p.data - self.lr * p.grad


def test_an_optimizer_that_replaces_the_arrays_trains_the_same(rng, monkeypatch):
    """The layers read W.data on every step: the new arrays are the ones used."""
    def run():
        X, y = _data(np.random.default_rng(6), 60, 4, 3, "multiclass")
        net = Sequential([L.Dense(4, 6, seed=0), L.ReLU(), L.Dense(6, 3, seed=1)])
        start = [p.data.copy() for p in net.parameters()]
        h = train.train(net, "cross_entropy_with_logits", _ReplacingSGD(list(net.parameters()), lr=0.2), X, y,
                        epochs=2, batch_size=8, seed=0, progress=False)
        return h.history, start, [p.data for p in net.parameters()]

    fast_h, start, fast = run()
    _checked_only(monkeypatch)
    slow_h, _, slow = run()
    assert fast_h == slow_h
    assert any(not np.array_equal(a, b) for a, b in zip(start, fast))
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)


def test_integer_rows_and_a_custom_model_keep_the_checked_methods(rng, monkeypatch):
    """Rows that are not a float array, and a model that is not a layer, take no shortcut."""
    took = _spy(monkeypatch)
    X, y = _data(rng, 40, 4, 3, "multiclass")
    net = Sequential([L.Dense(4, 5, seed=0), L.ReLU(), L.Dense(5, 3, seed=1)])
    train.train(net, "cross_entropy_with_logits", optim.SGD(list(net.parameters()), lr=0.1),
                np.rint(3 * X).astype(np.int64), y, epochs=1, batch_size=8, seed=0, progress=False)
    assert took == [(False, False, False)]
    took.clear()
    net = Sequential([L.Dense(4, 5, seed=0), L.Dropout(0.5, seed=0), L.Dense(5, 3, seed=1)])
    train.train(net, "cross_entropy_with_logits", optim.SGD(list(net.parameters()), lr=0.1), X, y,
                epochs=1, batch_size=8, seed=0, progress=False)
    assert took == [(False, False, False)]


@pytest.mark.parametrize("ties", ["none", "some rows", "every row"])
def test_the_tallys_correct_count_is_the_argmax_count(ties, rng):
    """With and without tied maxima (the count then falls back to the argmax), over several
    steps: does the tally count exactly what count_correct counts step by step?"""
    loss = losses.cross_entropy_with_logits
    tally, right = loss._fit_tally(), 0
    for n in (32, 32, 7):
        z = rng.normal(size=(n, 5))
        if ties == "some rows":
            z[::3, 3] = z[::3].max(axis=1)  # a second maximum at column 3
        elif ties == "every row":
            z = np.rint(z)  # small integers: many ties
        labels = rng.integers(0, 5, size=n)
        labels[::3] = 3  # some labels sit on the tied (second) maximum
        tally.gradient(labels, z)
        right += train.count_correct(loss, labels, z)
    tally.steps()
    assert tally.correct == right


def _loss_inputs(loss, rng, dtype):
    """Valid ``(y, out)`` for ``loss``, 7 samples of 3 outputs, as ``check_targets`` hands them to it."""
    out = rng.normal(size=(7, 3)).astype(dtype)
    name = loss.name
    if name in ("cross_entropy_with_logits", "sparse_categorical_cross_entropy"):
        y = rng.integers(0, 3, size=7)
    elif "categorical" in name or name == "kl_divergence":
        y = rng.dirichlet(np.ones(3), size=7)
    elif "binary" in name:
        y = rng.integers(0, 2, size=(7, 3)).astype(dtype)
    elif name == "hinge":
        y = rng.choice([-1.0, 1.0], size=(7, 3)).astype(dtype)
    else:
        y = rng.normal(size=(7, 3)).astype(dtype)
    if name in ("binary_cross_entropy", "categorical_cross_entropy", "sparse_categorical_cross_entropy",
                "kl_divergence"):
        out = np.clip(np.abs(out), 0.05, None)
        out = (out / out.sum(axis=1, keepdims=True)).astype(dtype)
    y = train.check_targets(loss, y, 7, 3)
    return y, out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_every_library_loss_gradient_has_the_outputs_shape_and_dtype(name, dtype, rng):
    """The contract the loop relies on when it skips checking a library loss's gradient:
    ``gradient(y, out)`` is an ndarray of ``out``'s shape and dtype (and _gradient_fits says so)."""
    loss = losses.get(name)
    assert losses._gradient_fits(loss)
    y, out = _loss_inputs(loss, rng, dtype)
    g = loss.gradient(y, out)
    assert type(g) is np.ndarray and g.shape == out.shape and g.dtype == out.dtype, (type(g), g.shape, g.dtype)


class _MyMSE(losses.MSE):
    pass


def test_only_an_untouched_library_loss_skips_the_gradient_check():
    """A subclass defined elsewhere, a gradient set on the object, or an object that is not
    a Loss keeps the check of every gradient."""
    assert losses._gradient_fits(losses.MSE())
    assert not losses._gradient_fits(_MyMSE())
    patched = losses.MSE()
    patched.gradient = lambda y, out: out
    assert not losses._gradient_fits(patched)
    inner = losses.MSE()
    inner._gradient = lambda t, p: p
    assert not losses._gradient_fits(inner)
    assert not losses._gradient_fits(_BadGradientLoss(lambda g: g))


def test_a_library_loss_gets_the_networks_own_unchecked_passes(monkeypatch):
    """With a library loss and optimizer the loop calls the network's and the optimizer's
    unchecked functions directly (no guard around them); with another loss it keeps the guard."""
    got = []
    real = train._without_checks

    def spy(network, X, loss, optimizer, checked):
        got.append(real(network, X, loss, optimizer, checked))
        return got[-1]

    monkeypatch.setattr(train, "_without_checks", spy)
    _train("relu-logits-sgd", 2, epochs=1)
    names = [f.__qualname__ for f in got[0]]
    assert names == ["forward", "backward", "SGD._unchecked_step.<locals>.step"], names
    assert [f.__code__.co_filename for f in got[0][:2]] == ["<dlcourse unchecked passes: dense, activation, dense>"] * 2
    got.clear()
    X, y = _data(np.random.default_rng(5), 40, 4, 2, "regression")
    net = Sequential([L.Dense(4, 5, seed=0), L.Tanh(), L.Dense(5, 2, seed=1)])
    train.train(net, _BadGradientLoss(lambda g: g), optim.SGD(list(net.parameters()), lr=0.1), X, y,
                epochs=1, batch_size=8, seed=0, progress=False)
    names = [f.__qualname__ for f in got[0]]
    assert names == ["_without_checks.<locals>.forward", "_without_checks.<locals>.backward",
                     "_without_checks.<locals>.step"], names


def test_layers_keep_their_weights_on_cache_lines():
    """The weights a layer creates start on a 64-byte boundary (parameter.aligned), in the layer's dtype."""
    from dlcourse.parameter import ALIGNMENT, aligned

    for layer in (L.Dense(64, 128, seed=0), L.Dense(5, 3, seed=0, dtype=np.float32), L.Conv2D(3, 8, 3, seed=0),
                  L.BatchNorm(6)):
        for p in layer.parameters():
            assert p.data.ctypes.data % ALIGNMENT == 0, (layer, p.name)
            assert p.data.flags.c_contiguous and p.data.flags.writeable
    a = np.arange(12.0).reshape(3, 4).T
    b = aligned(a, np.float32)
    assert b.ctypes.data % ALIGNMENT == 0 and b.dtype == np.float32 and b.flags.c_contiguous
    np.testing.assert_array_equal(b, a.astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_activation_forward_returns_an_array_of_the_inputs_shape_and_dtype(dtype, rng):
    """The unchecked activation layer keeps ``fn._forward(z)`` as it comes: an ndarray of z's shape and dtype."""
    from dlcourse import activations

    z = rng.normal(size=(5, 4)).astype(dtype)
    for name, fn in sorted(activations.ACTIVATIONS.items()):
        a = fn._forward(z)
        assert type(a) is np.ndarray and a.shape == z.shape and a.dtype == z.dtype, (name, type(a), a.dtype)


def test_the_generated_passes_are_compiled_once_per_chain_and_show_their_source(rng):
    """train compiles the straight-line passes once per chain shape (not per epoch), and a
    traceback through them shows the generated lines (they are in linecache)."""
    import linecache
    import traceback

    from dlcourse.layers import _unchecked

    shape = ("dense-nobias", "activation", "dense", "activation", "dense")
    _unchecked._CODE.pop(shape, None)
    before = len(_unchecked._CODE)
    X, y = _data(rng, 50, 5, 3, "multiclass")
    net = Sequential([L.Dense(5, 7, seed=0, bias=False), L.Tanh(), L.Dense(7, 6, seed=1), L.ReLU(),
                      L.Dense(6, 3, seed=2)])
    train.train(net, "cross_entropy_with_logits", optim.SGD(list(net.parameters()), lr=0.1), X, y,
                epochs=4, batch_size=8, seed=0, progress=False)
    assert len(_unchecked._CODE) == before + 1 and shape in _unchecked._CODE
    forward, backward = _unchecked.unchecked_passes(net)
    lines = linecache.getlines(forward.__code__.co_filename)
    assert lines and lines[0].startswith("def forward(x, training=True):")
    text = "".join(lines)
    assert "B0" not in text and "x += B2.data" in text and "x += B4.data" in text  # the first Dense has no bias
    with pytest.raises(ValueError) as info:  # a width the chain was not made for: numpy's error, from our lines
        forward(np.ones((2, 4)))
    frames = traceback.extract_tb(info.value.__traceback__)
    assert frames[-1].filename == forward.__code__.co_filename and frames[-1].line == "x = x @ w"


def test_the_generator_names_a_wrong_chain():
    from dlcourse.layers import _unchecked

    with pytest.raises(ValueError, match="at least one part"):
        _unchecked.passes([])
    with pytest.raises(ValueError, match="unknown part kind 'conv' at position 1"):
        _unchecked.passes([("dense", L.Dense(2, 2, seed=0)), ("conv", None)])
    assert _unchecked.source(("dense", "activation")).splitlines()[:4] == [
        "def forward(x, training=True):", "    w = W0.data", "    L0._cache = _new(DenseCache, (x, w))",
        "    x = x @ w"]


class _Scale(L.Layer):
    """A custom layer with its own unchecked step (the ARCHITECTURE.md extension point)."""

    def __init__(self):
        self.calls = {"forward": 0, "backward": 0, "fast_forward": 0, "fast_backward": 0}

    def forward(self, x, training=True):
        self.calls["forward"] += 1
        return 2.0 * x

    def backward(self, dout, need_dx=True):
        self.calls["backward"] += 1
        return 2.0 * dout

    def _unchecked_step(self):
        def forward(x):
            self.calls["fast_forward"] += 1
            return 2.0 * x

        def backward(dout, need_dx):
            self.calls["fast_backward"] += 1
            return 2.0 * dout

        return forward, backward


def test_a_custom_layers_own_unchecked_step_joins_the_generated_chain(rng, monkeypatch):
    """A layer that offers ``_unchecked_step`` (not parts) inside a Sequential is called through
    the generated passes on the later steps, with the checked run's numbers."""
    X, y = _data(rng, 40, 4, 3, "multiclass")
    runs = []
    for checked in (True, False):
        if checked:
            _checked_only(monkeypatch)
        else:
            monkeypatch.undo()
        scale = _Scale()
        net = Sequential([L.Dense(4, 5, seed=0), scale, L.ReLU(), L.Dense(5, 3, seed=1)])
        train.train(net, "cross_entropy_with_logits", optim.SGD(list(net.parameters()), lr=0.1), X, y,
                    epochs=2, batch_size=8, seed=0, progress=False)
        runs.append(([p.data.copy() for p in net.parameters()], dict(scale.calls)))
    (w_checked, calls_checked), (w_fast, calls_fast) = runs
    assert all(np.array_equal(a, b) for a, b in zip(w_checked, w_fast))
    assert calls_checked == {"forward": 10, "backward": 10, "fast_forward": 0, "fast_backward": 0}
    assert calls_fast == {"forward": 2, "backward": 2, "fast_forward": 8, "fast_backward": 8}
