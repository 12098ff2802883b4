"""Time dlcourse's convolution against PyTorch on the CPU (a script, not a test).

    .venv/bin/python benchmarks/bench_conv.py [--repeats 30] [--markdown table.md] [--only f32]

Everything runs in one process, with the same dtype on both sides, and reports the
median of many repetitions. torch.set_num_threads is set to the number of cores NumPy's
BLAS may use (os.cpu_count(), unless OMP/OPENBLAS_NUM_THREADS says otherwise). Both sides
are warmed up before timing (see :func:`warm_up`). The float32 rows of issue 23 (3x3, stride
2 and 5x5 at batches 8-256, and max-pool) time the two sides alternately, call by call, in
CPU time of this process (:func:`paired_medians`), so that other work on a shared machine
neither inflates one side nor, by preempting a call, the other.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dlcourse.layers.conv import (  # noqa: E402
    conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_forward_naive,
)
from dlcourse.layers.pool import max_pool2d_backward, max_pool2d_forward  # noqa: E402

# (name, x shape, w shape, padding, dtypes): the chapter's two digit-CNN layers at batch 32, and the
# CNN issue's case (its float32 twin is among F32_SHAPES)
SHAPES = [
    ("digits conv1 32x1x8x8, 8 3x3", (32, 1, 8, 8), (8, 1, 3, 3), 1, (np.float64, np.float32)),
    ("digits conv2 32x8x4x4, 16 3x3", (32, 8, 4, 4), (16, 8, 3, 3), 1, (np.float64, np.float32)),
    ("64x8x28x28, 16 3x3, pad 1", (64, 8, 28, 28), (16, 8, 3, 3), 1, (np.float64,)),
]
#: issue 23: float32 conv within 1.5x of torch for 3x3, stride 2 and 5x5 at batches 8 to 256
F32_TARGET = "<= 1.5"
F32_SHAPES = [(f"{n}x8x28x28, 16 {k}x{k}, stride {s}, pad {p}", (n, 8, 28, 28), (16, 8, k, k), s, p)
              for k, s, p in ((3, 1, 1), (3, 2, 1), (5, 1, 2)) for n in (8, 64, 256)]
#: (name, x shape, kernel = stride): the digits CNN's first pool at batch 32, and a 16-channel 28x28 map
POOL_SHAPES = [("digits pool1 32x8x8x8, 2x2", (32, 8, 8, 8), 2)] + [
    (f"{n}x16x28x28, 2x2", (n, 16, 28, 28), 2) for n in (8, 64, 256)]


def threads() -> int:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def median_time(fn, repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def paired_medians(first, second, repeats: int) -> tuple:
    """Medians of ``first()`` and ``second()`` timed alternately, after :func:`warm_up`.

    CPU time (``time.process_time``, all threads of this process) rather than wall time: on
    a 2-core machine busy with other work, a call of a few milliseconds is often preempted
    for a whole 10 ms time slice, which made the wall-time medians of short calls jump
    between two modes (the 8-image 3x3 case read 0.3x in one run and 2.7x in the next).
    Both sides run on one thread, so CPU time is the time each needs.
    """
    warm_up(first, second)
    times = ([], [])
    for _ in range(repeats):
        for fn, out in zip((first, second), times):
            start = time.process_time()
            fn()
            out.append(time.process_time() - start)
    return float(np.median(times[0])), float(np.median(times[1]))


def warm_up(*fns, rounds: int = 3) -> None:
    """Run every side a few times first: a fresh process pays page faults on its first large
    arrays (glibc raises its mmap threshold only after big blocks are freed), which made the
    first 30 calls of the 64x8x28x28 float64 case about 3x slower than the steady state."""
    for _ in range(rounds):
        for fn in fns:
            fn()


def _conv_pair(torch, x, w, b, stride, pad, dout):
    """(ours, theirs): conv2d forward + backward on the same arrays."""
    def ours():
        conv2d_backward(dout, conv2d_forward(x, w, b, stride, pad)[1])

    def theirs():
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=pad).backward(torch.tensor(dout))

    return ours, theirs


def bench_conv(torch, repeats: int, only: str = "all") -> list[tuple]:
    """The conv rows; ``only="f32"`` keeps the F32_SHAPES rows, ``"f64"`` the float64 SHAPES rows."""
    rows, rng = [], np.random.default_rng(0)
    for name, xs, ws, pad, dtypes in SHAPES:
        for dtype in dtypes:
            if only == "f32" or (only == "f64" and dtype != np.float64):
                continue
            x, w, b = (rng.standard_normal(s).astype(dtype) for s in (xs, ws, ws[:1]))
            dout = rng.standard_normal(conv2d_forward(x, w, b, 1, pad)[0].shape).astype(dtype)
            ours, theirs = _conv_pair(torch, x, w, b, 1, pad, dout)
            warm_up(ours, theirs)
            rows.append((f"conv fwd+bwd {name}", np.dtype(dtype).name, "dlcourse vs torch",
                         median_time(ours, repeats), median_time(theirs, repeats)))
    for name, xs, ws, stride, pad in F32_SHAPES if only != "f64" else ():
        x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (xs, ws, ws[:1]))
        dout = rng.standard_normal(conv2d_forward(x, w, b, stride, pad)[0].shape).astype(np.float32)
        ours, theirs = _conv_pair(torch, x, w, b, stride, pad, dout)
        rows.append((f"conv fwd+bwd {name}", "float32", "dlcourse vs torch",
                     *paired_medians(ours, theirs, repeats), F32_TARGET))
    if only != "all":
        return rows
    name, xs, ws, pad, _ = SHAPES[1]
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[:1])
    dout = rng.standard_normal(conv2d_forward(x, w, b, 1, pad)[0].shape)
    rows.append((f"conv fwd+bwd {name}", "float64", "naive vs vectorised",
                 median_time(lambda: conv2d_backward_naive(dout, conv2d_forward_naive(x, w, b, 1, pad)[1]), 3),
                 median_time(lambda: conv2d_backward(dout, conv2d_forward(x, w, b, 1, pad)[1]), repeats)))
    return rows


def bench_pool(torch, repeats: int) -> list[tuple]:
    """Max-pool forward + backward (float32, kernel = stride) against torch.nn.functional.max_pool2d."""
    rows, rng = [], np.random.default_rng(1)
    for name, xs, k in POOL_SHAPES:
        x = rng.standard_normal(xs).astype(np.float32)
        dout = rng.standard_normal(max_pool2d_forward(x, k)[0].shape).astype(np.float32)

        def ours():
            max_pool2d_backward(dout, max_pool2d_forward(x, k)[1])

        def theirs():
            tx = torch.tensor(x, requires_grad=True)
            torch.nn.functional.max_pool2d(tx, k).backward(torch.tensor(dout))

        rows.append((f"max-pool fwd+bwd {name}", "float32", "dlcourse vs torch",
                     *paired_medians(ours, theirs, repeats), F32_TARGET))
    return rows


def bench_epoch(torch, repeats: int) -> list[tuple]:
    from dlcourse.models import DIGITS_CNN_RECIPE, digits_cnn, digits_cnn_data
    from dlcourse.optim import Adam
    from dlcourse.torch_models import digits_cnn_torch, train_torch

    rows = []
    X, _, y, _ = digits_cnn_data(0)
    bs, lr = DIGITS_CNN_RECIPE["batch_size"], DIGITS_CNN_RECIPE["lr"]
    for dtype, tdtype in ((np.float64, torch.float64), (np.float32, torch.float32)):
        Xd = X.astype(dtype)
        net, model = digits_cnn(0, dtype=dtype), digits_cnn_torch(0, dtype=tdtype)
        opt = Adam(list(net.parameters()), lr=lr)
        ours = median_time(lambda: net.fit(Xd, y, "sparse_categorical_cross_entropy", opt, epochs=1,
                                           batch_size=bs, seed=0, progress=False), repeats)
        theirs = median_time(lambda: train_torch(model, Xd, y, 1, bs, lr, 0), repeats)
        rows.append((f"one epoch digits CNN ({len(y)} images, batch {bs})", np.dtype(dtype).name,
                     "dlcourse vs torch", ours, theirs))
    start = time.perf_counter()
    from dlcourse.models import train_digits_cnn
    _, history, accuracy = train_digits_cnn(0, progress=False)
    rows.append((f"full training, {len(history.epoch)} epochs (test acc {accuracy:.3f})", "float64",
                 "dlcourse, wall time", time.perf_counter() - start, float("nan")))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--only", choices=("all", "f32", "f64"), default="all",
                        help="f32: only the float32 conv rows of issue 23 (F32_SHAPES); f64: only the "
                             "float64 rows of SHAPES; all (default): every conv, pool and epoch row")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(threads())
    header = (f"cores: os.cpu_count()={os.cpu_count()}, NumPy BLAS threads={threads()}, "
              f"torch.get_num_threads()={torch.get_num_threads()}; numpy {np.__version__}, "
              f"torch {torch.__version__}; median of {args.repeats} runs")
    if args.only == "all":
        rows = bench_conv(torch, args.repeats) + bench_pool(torch, args.repeats)
        rows += bench_epoch(torch, max(3, args.repeats // 5))
    else:
        rows = bench_conv(torch, args.repeats, args.only)
    lines = [header, "", "| case | dtype | compared | first (ms) | second (ms) | ratio |",
             "| --- | --- | --- | ---: | ---: | ---: |"]
    for case, dtype, what, a, b, *_ in rows:
        ratio = f"{a / b:.2f}x" if np.isfinite(b) else "-"
        second = f"{b * 1e3:.2f}" if np.isfinite(b) else "-"
        lines.append(f"| {case} | {dtype} | {what} | {a * 1e3:.2f} | {second} | {ratio} |")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
