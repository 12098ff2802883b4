"""The machinery of the cross-check: comparisons, rows, devices and the table."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np

#: The area modules of ``dlcourse.xcheck``, in the order the table lists them.
AREAS = ("activations", "losses", "layers", "optim", "conv", "autograd")

DEFAULT_RTOL = 1e-7
DEFAULT_ATOL = 1e-9


@dataclass
class Comparison:
    """One operation computed by dlcourse and by PyTorch on the same input.

    ``ours`` and ``theirs`` are arrays (or sequences of arrays, compared pairwise,
    e.g. a forward output and every gradient). ``theirs`` may be a torch tensor or
    a sequence of them; it is moved to the CPU and converted.
    """

    operation: str
    ours: object
    theirs: object
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL


@dataclass
class Row:
    """A line of the table."""

    area: str
    operation: str
    device: str
    max_abs: float
    max_rel: float
    ok: bool
    detail: str = field(default="")


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _pairs(ours, theirs):
    if isinstance(ours, (list, tuple)):
        if not isinstance(theirs, (list, tuple)) or len(ours) != len(theirs):
            raise ValueError("ours and theirs must be sequences of the same length")
        return [(_to_numpy(a), _to_numpy(b)) for a, b in zip(ours, theirs)]
    return [(_to_numpy(ours), _to_numpy(theirs))]


def compare(area: str, device: str, c: Comparison) -> Row:
    """Compare one :class:`Comparison`; NaN must meet NaN and inf the same inf."""
    max_abs = max_rel = 0.0
    ok = True
    detail = ""
    for a, b in _pairs(c.ours, c.theirs):
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            return Row(area, c.operation, device, float("nan"), float("nan"), False,
                       f"shape {a.shape} vs torch {b.shape}")
        same_nonfinite = (np.isnan(a) & np.isnan(b)) | ((a == b) & ~np.isfinite(a))
        if np.any(~np.isfinite(a) ^ ~np.isfinite(b)) or np.any(~np.isfinite(a) & ~same_nonfinite):
            ok = False
            detail = "non-finite values differ"
        fin = np.isfinite(a) & np.isfinite(b)
        if fin.any():
            diff = np.abs(a[fin] - b[fin])
            with np.errstate(over="ignore"):  # a huge ratio is still just "not ok"
                rel = diff / np.maximum(np.abs(b[fin]), np.finfo(np.float64).tiny)
            max_abs = max(max_abs, float(diff.max()))
            # relative error only where it means something (above the absolute floor)
            meaningful = np.abs(b[fin]) > c.atol
            if meaningful.any():
                max_rel = max(max_rel, float(rel[meaningful].max()))
            if not np.all(diff <= c.atol + c.rtol * np.abs(b[fin])):
                ok = False
                detail = detail or f"beyond atol={c.atol:g} + rtol={c.rtol:g} * |torch|"
    return Row(area, c.operation, device, max_abs, max_rel, ok, detail)


def available_devices() -> list[str]:
    """``["cpu"]``, plus ``"cuda"`` when PyTorch sees a GPU."""
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def _configure_torch() -> None:
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def run(areas: Iterable[str] = AREAS, devices: Iterable[str] | None = None,
        on_row: Callable[[Row], None] | None = None) -> list[Row]:
    """Run every comparison of ``areas`` on ``devices`` and return the rows.

    An area whose module does not exist yet is skipped; an area that raises
    produces a failing row that names the error, so nothing fails silently.
    """
    _configure_torch()
    devices = list(devices) if devices is not None else available_devices()
    rows: list[Row] = []
    for area in areas:
        try:
            module = importlib.import_module(f"dlcourse.xcheck.{area}")
        except ModuleNotFoundError as exc:
            if exc.name == f"dlcourse.xcheck.{area}":
                continue
            raise
        for device in devices:
            try:
                for c in module.comparisons(device):
                    row = compare(area, device, c)
                    rows.append(row)
                    if on_row:
                        on_row(row)
            except Exception as exc:  # a crash is a failing row, never a silent pass
                row = Row(area, "<crashed>", device, float("nan"), float("nan"), False,
                          f"{type(exc).__name__}: {exc}")
                rows.append(row)
                if on_row:
                    on_row(row)
    return rows


def format_table(rows: list[Row]) -> Iterator[str]:
    """The rows as a fixed-width text table."""
    width = max([len(r.operation) for r in rows] + [9])
    yield f"{'area':<12} {'operation':<{width}} {'device':<6} {'max abs err':>12} {'max rel err':>12}  ok"
    for r in rows:
        mark = "ok" if r.ok else "FAIL"
        extra = f"  {r.detail}" if r.detail else ""
        yield (f"{r.area:<12} {r.operation:<{width}} {r.device:<6} {r.max_abs:>12.3e} "
               f"{r.max_rel:>12.3e}  {mark}{extra}")
