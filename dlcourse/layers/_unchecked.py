"""The training loop's unchecked passes, generated as straight-line code for a chain of layers.

After the first step of an epoch has passed every check, :func:`dlcourse.train.train`
runs the later steps through ``forward(x)`` and ``backward(dout, need_dx)`` functions
that skip the checks (see :meth:`dlcourse.layers.base.Layer._unchecked_step`). A layer
that can run so describes itself as *parts* (:meth:`Layer._unchecked_parts`): a plain
``Dense`` is ``("dense", layer)``, a plain activation layer ``("activation", layer)``, and a
``Sequential`` the parts of its layers in order. :func:`passes` writes one forward and one
backward function for the whole chain, the statements of ``Dense.forward`` /
``dense_forward`` and of the activation layer one after another, so a step of a
64-128-10 MLP costs two Python calls instead of a loop of six (at batch 32 the calls are
a few per cent of the step). Every statement is the checked code's operation in the
checked code's order, so the numbers are the same bit for bit (tests/test_train_unchecked.py
compares them), and every layer's ``_cache`` is set as its own ``forward`` sets it, so a
checked ``backward`` may follow an unchecked ``forward``.

For ``[Dense(64, 128), ReLU(), Dense(128, 10)]`` the generated source
(:func:`source`) reads::

    def forward(x, training=True):
        w = W0.data
        L0._cache = _new(DenseCache, (x, w))
        x = x @ w
        x += B0.data
        a = f1(x)
        L1._cache = _new(ActivationCache, (x, a))
        x = a
        ...
"""

from __future__ import annotations

import linecache

import numpy as np

from .activation import ActivationCache
from .dense import DenseCache


def unchecked_passes(layer) -> tuple | None:
    """The generated ``(forward, backward)`` of ``layer``'s parts (:meth:`Layer._unchecked_parts`), or None."""
    offer = getattr(layer, "_unchecked_parts", None)
    parts = offer() if offer is not None else None
    return passes(parts) if parts else None


def passes(parts: list) -> tuple:
    """``(forward(x, training=True), backward(dout, need_dx=True))`` for the chain ``parts``.

    ``parts`` is a non-empty list of ``("dense", layer)``, ``("activation", layer)`` and
    ``("passes", (forward, backward))`` (a layer's own unchecked step, called as it is; see the
    module docstring). The parameters, the bias or its absence, and the
    activation's functions are read now, as the layers' own unchecked steps would
    capture them; the parameters' ``.data`` and ``.grad`` are read and written on each call.
    """
    if not parts:
        raise ValueError("passes() needs at least one part; got an empty chain")
    shape, values = [], []
    for i, (kind, layer) in enumerate(parts):
        if kind == "dense":
            if layer.b is None:
                shape.append("dense-nobias")
                values += (layer, layer.W)
            else:
                shape.append("dense")
                values += (layer, layer.W, layer.b)
        elif kind == "activation":
            shape.append("activation")
            values += (layer, layer.fn._forward, layer.fn.vjp_from_output)
        elif kind == "passes":  # a layer's own unchecked (forward, backward), called as they are
            shape.append("passes")
            values += tuple(layer)
        else:
            raise ValueError(f"unknown part kind {kind!r} at position {i}; expected 'dense', 'activation' or 'passes'")
    code, keys = _compiled(tuple(shape))
    namespace = dict(zip(keys, values))
    namespace.update(_NAMES)
    exec(code, namespace)  # noqa: S102 - defines forward and backward from our own template
    return namespace["forward"], namespace["backward"]


#: What every generated definition refers to besides the parts.
_NAMES = {"_new": tuple.__new__, "_sum": np.add.reduce, "DenseCache": DenseCache, "ActivationCache": ActivationCache}

#: ``(code, names of the parts' values)`` by chain shape (a tuple of "dense", "dense-nobias", "activation", "passes").
_CODE: dict[tuple, tuple] = {}


def _compiled(shape: tuple) -> tuple:
    """The code that defines ``forward`` and ``backward`` for a chain of ``shape`` (compiled once), and the
    names it reads the parts' values from, in :func:`passes`'s order."""
    found = _CODE.get(shape)
    if found is None:
        keys = []
        for i, kind in enumerate(shape):
            keys += {"dense": (f"L{i}", f"W{i}", f"B{i}"), "dense-nobias": (f"L{i}", f"W{i}"),
                     "activation": (f"L{i}", f"f{i}", f"df{i}"), "passes": (f"F{i}", f"G{i}")}[kind]
        found = _CODE[shape] = compile(*_source(shape)), tuple(keys)
    return found


def _source(shape: tuple) -> tuple[str, str, str]:
    """``(source, filename, "exec")`` of the two definitions; tracebacks through them show the source."""
    forward, backward = [], []
    for i, kind in enumerate(shape):
        first = i == 0  # the first part's backward returns dx (a Dense one only if need_dx)
        if kind.startswith("dense"):
            forward += [f"w = W{i}.data", f"L{i}._cache = _new(DenseCache, (x, w))", "x = x @ w"]
            back = [f"x, w = L{i}._cache", f"W{i}.grad = x.T @ dout"]
            if kind == "dense":
                forward.append(f"x += B{i}.data")
                back.append(f"B{i}.grad = _sum(dout, axis=0)")
            back.append("return dout @ w.T if need_dx else None" if first else "dout = dout @ w.T")
        elif kind == "passes":
            forward.append(f"x = F{i}(x)")
            back = [f"return G{i}(dout, need_dx)" if first else f"dout = G{i}(dout, True)"]
        else:
            forward += [f"a = f{i}(x)", f"L{i}._cache = _new(ActivationCache, (x, a))", "x = a"]
            back = [f"z, a = L{i}._cache", f"return df{i}(z, a, dout)" if first else f"dout = df{i}(z, a, dout)"]
        backward[:0] = back
    forward.append("return x")
    source = _function("forward", "x, training=True", forward) + _function("backward", "dout, need_dx=True", backward)
    filename = f"<dlcourse unchecked passes: {', '.join(shape)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return source, filename, "exec"


def _function(name: str, signature: str, body: list) -> str:
    return f"def {name}({signature}):\n" + "".join(f"    {line}\n" for line in body)


def source(shape: tuple) -> str:
    """The generated source for a chain of ``shape`` (for reading; e.g. ``("dense", "activation", "dense")``)."""
    return _source(tuple(shape))[0]
