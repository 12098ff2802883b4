"""``make bench``: one table of speed ratios, printed and written to ``benchmarks/results.md``.

Every row is a ratio of two things measured side by side in this same run, on the
same dtype; the details column gives the absolute figures. Sections, each run in its
own child process (a failing section becomes a row saying why, the others still run):

1. ``mlp``: :mod:`bench_mlp`, ``Sequential.fit`` vs PyTorch vs a hand-fused NumPy loop;
2. ``conv``: ``bench_conv`` (the CNN issue's script, through :func:`conv_rows`), conv2d
   forward+backward and one CNN epoch vs PyTorch, float64 and float32, one thread on
   each side (``BENCH_THREADS=all``: every core for both);
3. ``book``: :mod:`bench_book`, the book built cold and warm from a fresh copy;
4. ``grading``: :mod:`bench_grading`, a class of 40 through ``dlcourse-grade`` and nbgrader;
5. ``maketest``: ``make test`` in a clean ``git clone`` (new venv, book, whole suite):
   long, so only with ``BENCH_FULL=1``.

One thread per side is the default because on a machine whose cores are busy with
other work, a multi-threaded OpenMP/BLAS pool waits at every barrier for a thread that
is not running: here PyTorch's float32 CNN epoch then read 1.6 s instead of 0.03 s.

Environment: ``BENCH_ONLY=mlp,conv`` runs only those sections (the table then goes to
``benchmarks/_work/results-partial.md``, leaving ``results.md`` to full runs);
``BENCH_FULL=1`` adds ``maketest``; ``BENCH_CLASS_SIZE`` (default 40) sizes the grading
class and ``BENCH_GRADING_REPEATS`` (default 2) the runs per side.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
SECTIONS = ("mlp", "conv", "book", "grading", "maketest")
MODULES = {"mlp": "bench_mlp", "conv": "bench_conv", "book": "bench_book", "grading": "bench_grading"}
TITLES = {"mlp": "MLP training", "conv": "Convolution and CNN", "book": "Book build",
          "grading": "Grading a class", "maketest": "make test"}
MAKE_TEST_BUDGET_S = 15 * 60
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _child_rows(module: str, **extra_env: str) -> list[list]:
    """Run ``python run.py --rows MODULE`` (a fresh interpreter) and return its rows."""
    env = dict(os.environ, DLCOURSE_PROGRESS="0", PYTHONHASHSEED="0", **extra_env)
    env["PATH"] = os.pathsep.join([str(ROOT / ".venv" / "bin"), env.get("PATH", "")])
    log = HERE / "_work" / f"{module}.log"
    log.parent.mkdir(exist_ok=True)
    with open(log, "w") as err:
        done = subprocess.run([PYTHON, str(Path(__file__).resolve()), "--rows", module], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=err, text=True)
    marker = done.stdout.rfind("@@ROWS@@")
    if done.returncode != 0 or marker < 0:
        tail = (log.read_text(errors="replace") or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{module} failed (exit {done.returncode}), see {log.relative_to(ROOT)}: {tail[0][:300]}")
    rows = json.loads(done.stdout[marker + len("@@ROWS@@"):].strip().splitlines()[0])
    return [normalise(r) for r in rows]


def conv_rows(bench, repeats: int = 30, epoch_repeats: int = 20) -> list[list]:
    """Rows from ``bench_conv.py`` (the CNN issue's script), whose ``bench_conv``/``bench_pool``/``bench_epoch``
    return ``(case, dtype, compared, first_s, second_s[, target])`` (target default ``"<= 3"`` against
    torch); torch gets the threads its ``main`` gives it."""
    import math

    import torch

    torch.set_num_threads(bench.threads())
    threads = torch.get_num_threads()
    note = f"median of {{}}, {threads} thread{'s' if threads > 1 else ''} both sides"
    names = {"dlcourse vs torch": "dlcourse / PyTorch CPU", "naive vs vectorised": "naive loops / vectorised kernel"}
    rows = []
    raw = [(repeats, r) for r in bench.bench_conv(torch, repeats)]
    raw += [(repeats, r) for r in (bench.bench_pool(torch, repeats) if hasattr(bench, "bench_pool") else [])]
    raw += [(epoch_repeats, r) for r in bench.bench_epoch(torch, epoch_repeats)]
    for n, (case, dtype, what, first, second, *target) in raw:
        if not math.isfinite(second):
            rows.append([f"{case}, {dtype}", what, None, "", f"{first:.1f} s"])
            continue
        vs_torch = what == "dlcourse vs torch"
        target = target[0] if target else "<= 3" if vs_torch else ""
        rows.append([f"{case}, {dtype}", names.get(what, what), first / second, target,
                     f"{first * 1e3:.2f} ms vs {second * 1e3:.2f} ms, "
                     + (note.format(n) if vs_torch else f"median of 3 (naive) and {n} (vectorised)")])
    return rows


def child(module: str) -> None:
    """``--rows MODULE``: print the module's rows as JSON after a marker line."""
    sys.path[:0] = [str(HERE), str(ROOT)]
    bench = __import__(module)
    rows = bench.rows() if hasattr(bench, "rows") else conv_rows(bench) if module == "bench_conv" else None
    if rows is None:
        raise SystemExit(f"{module} has no rows() function")
    rows = [r if isinstance(r, dict) else list(r) for r in rows]
    print("\n@@ROWS@@" + json.dumps(rows, default=float))


def normalise(row) -> list:
    """``[benchmark, compared, ratio, target, detail]`` from a 5-sequence, a 4-sequence without the
    target, or a dict with those keys (``comparison``/``what`` and ``details``/``note`` accepted)."""
    if isinstance(row, dict):
        get = lambda *keys: next((row[k] for k in keys if k in row), "")  # noqa: E731
        row = [get("benchmark", "what", "name"), get("compared", "comparison"), get("ratio"), get("target"),
               get("detail", "details", "note")]
    row = list(row)
    if len(row) == 4:
        row.insert(3, "")
    if len(row) != 5:
        raise ValueError(f"a benchmark row must have 4 or 5 fields; got {row!r}")
    bench, compared, ratio, target, detail = row
    ratio = None if ratio in (None, "") else float(ratio)
    return [str(bench), str(compared), ratio, str(target or ""), str(detail or "")]


def _make_test_rows() -> list[list]:
    """``make test`` in a clean clone of the committed tree (new .venv, book build, whole suite)."""
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-clone-") as tmp:
        clone = Path(tmp) / "dlcourse"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, capture_output=True)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        start = time.perf_counter()
        target = os.environ.get("BENCH_MAKE_TARGET", "test")  # another target only to try this plumbing
        done = subprocess.run(["make", target], cwd=clone, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    summary = next((ln for ln in reversed(done.stdout.splitlines()) if re.search(r"passed|failed|error", ln)),
                   "no pytest summary")
    status = "exit 0" if done.returncode == 0 else f"EXIT {done.returncode}"
    if target != "test":
        status += f" (make {target}, not make test)"
    return [["make test from a clean git clone (venv + book + suite)", "wall / 15 min budget",
             seconds / MAKE_TEST_BUDGET_S, "< 1", f"{seconds / 60:.1f} min, {status}: {summary.strip('= ')}"]]


def collect(section: str) -> list[list]:
    """The rows of one section; a failure becomes one row that says what failed."""
    try:
        if section == "maketest":
            if os.environ.get("BENCH_FULL") != "1":
                return [["make test from a clean git clone", "not run", None, "",
                         "opt-in (tens of minutes): BENCH_FULL=1 make bench"]]
            return _make_test_rows()
        if section == "conv" and not (HERE / "bench_conv.py").exists():
            return [["conv2d / CNN vs PyTorch", "not run", None, "", "benchmarks/bench_conv.py is missing"]]
        if section == "conv" and os.environ.get("BENCH_THREADS", "1") != "all":
            # bench_conv gives torch as many threads as these allow NumPy's BLAS
            return _child_rows(MODULES[section], **{var: "1" for var in THREAD_VARS})
        return _child_rows(MODULES[section])
    except Exception as exc:  # noqa: BLE001 - the table still gets written, with the reason
        return [[TITLES[section], "FAILED", None, "", f"{type(exc).__name__}: {exc}"[:400]]]


def target_met(ratio, target: str) -> str:
    """``"yes"``/``"no"`` for a target such as ``"<= 1.5"``, ``"< 1"``, ``">= 1.7"``; blank otherwise."""
    m = re.fullmatch(r"\s*(<=|>=|<|>)\s*([0-9.]+)\s*", target or "")
    if ratio is None or not m:
        return ""
    op, bound = m.group(1), float(m.group(2))
    ok = {"<=": ratio <= bound, ">=": ratio >= bound, "<": ratio < bound, ">": ratio > bound}[op]
    return "yes" if ok else "**no**"


def machine() -> str:
    """One line: CPU model, cores usable by this process, memory, load, Python and library versions."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    mem = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        mem = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1024 ** 3:.0f} GiB RAM"
    load = ", load average %.1f %.1f %.1f at start" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    versions = subprocess.run(
        [PYTHON, "-c", "import sys, numpy, torch; print(f'Python {sys.version.split()[0]}, NumPy "
                       "{numpy.__version__}, PyTorch {torch.__version__}')"],
        capture_output=True, text=True).stdout.strip()
    return f"{model}, {cores} cores{mem}{load}; {versions}"


def _fmt(ratio) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def render(results: dict, header: str, seconds: float) -> str:
    lines = ["# Benchmarks", "", header, "",
             "Every ratio compares two things measured side by side in this one run (same dtype on both",
             "sides, medians over many repetitions); targets are goals reported against, not assertions.", "",
             "| # | benchmark | compared | ratio | target | met | details |",
             "|---|---|---|---:|---|---|---|"]
    for number, section in enumerate(SECTIONS, 1):
        for bench, compared, ratio, target, detail in results.get(section, []):
            cells = [str(number), bench, compared, _fmt(ratio), target or "", target_met(ratio, target), detail or ""]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    lines += ["", f"Total time of this run: {seconds / 60:.1f} min. Reproduce: `make bench` "
              "(`BENCH_FULL=1 make bench` adds row 5)."]
    return "\n".join(lines) + "\n"


def main() -> int:
    only = [s.strip() for s in os.environ.get("BENCH_ONLY", "").split(",") if s.strip()]
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        print(f"BENCH_ONLY: unknown section(s) {unknown}; choose from {list(SECTIONS)}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = f"Measured {stamp} on: {machine()}."
    results = {}
    for section in SECTIONS:
        if only and section not in only:
            continue
        print(f"[bench] {TITLES[section]} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        results[section] = collect(section)
        print(f"[bench] {TITLES[section]}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    text = render(results, header, time.perf_counter() - start)
    print(text)
    # a partial run (BENCH_ONLY) never replaces the table of a full one
    out = HERE / "results.md" if not only else HERE / "_work" / "results-partial.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(f"[bench] written to {out.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--rows"]:
        child(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
