"""Time dlcourse's convolution against PyTorch on the CPU (a script, not a test).

    .venv/bin/python benchmarks/bench_conv.py [--repeats 30] [--markdown table.md]

Everything runs in one process, with the same dtype on both sides, and reports the
median of many repetitions. torch.set_num_threads is set to the number of cores NumPy's
BLAS may use (os.cpu_count(), unless OMP/OPENBLAS_NUM_THREADS says otherwise). Both sides
are warmed up before timing (see :func:`warm_up`).
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

# (name, x shape, w shape, padding): the chapter's two digit-CNN layers at batch 32, and the case
SHAPES = [
    ("digits conv1 32x1x8x8, 8 3x3", (32, 1, 8, 8), (8, 1, 3, 3), 1),
    ("digits conv2 32x8x4x4, 16 3x3", (32, 8, 4, 4), (16, 8, 3, 3), 1),
    ("64x8x28x28, 16 3x3, pad 1", (64, 8, 28, 28), (16, 8, 3, 3), 1),
]


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


def warm_up(*fns, rounds: int = 3) -> None:
    """Run every side a few times first: a fresh process pays page faults on its first large
    arrays (glibc raises its mmap threshold only after big blocks are freed), which made the
    first 30 calls of the 64x8x28x28 float64 case about 3x slower than the steady state."""
    for _ in range(rounds):
        for fn in fns:
            fn()


def bench_conv(torch, repeats: int) -> list[tuple]:
    rows, rng = [], np.random.default_rng(0)
    for name, xs, ws, pad in SHAPES:
        for dtype in (np.float64, np.float32):
            x, w, b = (rng.standard_normal(s).astype(dtype) for s in (xs, ws, ws[:1]))
            dout = rng.standard_normal(conv2d_forward(x, w, b, 1, pad)[0].shape).astype(dtype)

            def ours():
                conv2d_backward(dout, conv2d_forward(x, w, b, 1, pad)[1])

            def theirs():
                tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
                torch.nn.functional.conv2d(tx, tw, tb, padding=pad).backward(torch.tensor(dout))

            warm_up(ours, theirs)
            rows.append((f"conv fwd+bwd {name}", np.dtype(dtype).name, "dlcourse vs torch",
                         median_time(ours, repeats), median_time(theirs, repeats)))
    name, xs, ws, pad = SHAPES[1]
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[:1])
    dout = rng.standard_normal(conv2d_forward(x, w, b, 1, pad)[0].shape)
    rows.append((f"conv fwd+bwd {name}", "float64", "naive vs vectorised",
                 median_time(lambda: conv2d_backward_naive(dout, conv2d_forward_naive(x, w, b, 1, pad)[1]), 3),
                 median_time(lambda: conv2d_backward(dout, conv2d_forward(x, w, b, 1, pad)[1]), repeats)))
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
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(threads())
    header = (f"cores: os.cpu_count()={os.cpu_count()}, NumPy BLAS threads={threads()}, "
              f"torch.get_num_threads()={torch.get_num_threads()}; numpy {np.__version__}, "
              f"torch {torch.__version__}; median of {args.repeats} runs")
    rows = bench_conv(torch, args.repeats) + bench_epoch(torch, max(3, args.repeats // 5))
    lines = [header, "", "| case | dtype | compared | first (ms) | second (ms) | ratio |",
             "| --- | --- | --- | ---: | ---: | ---: |"]
    for case, dtype, what, a, b in rows:
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
