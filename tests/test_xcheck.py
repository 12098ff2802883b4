"""xcheck: every activation and loss has a PyTorch row, all rows pass, and a wrong one fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import TORCH_DEVICES

from dlcourse import activations as A
from dlcourse import losses as L
from dlcourse.xcheck import core

ROOT = Path(__file__).resolve().parents[1]
torch = pytest.importorskip("torch", reason="PyTorch is not installed: nothing to cross-check against")


def _base_name(operation: str) -> str:
    return re.match(r"[a-z_]+", operation).group()


@pytest.mark.parametrize("area,registry", [("activations", A.ACTIVATIONS), ("losses", L.LOSSES)])
def test_every_public_function_has_a_row(area, registry):
    """Does every public activation and loss appear in the cross-check, value and gradient?"""
    module = __import__(f"dlcourse.xcheck.{area}", fromlist=["comparisons"])
    comps = list(module.comparisons("cpu"))
    covered = {_base_name(c.operation) for c in comps}
    assert set(registry) <= covered, f"no xcheck row for {sorted(set(registry) - covered)}"
    for name in registry:
        if name == "step":  # torch.heaviside has no autograd: forward only
            continue
        with_grad = [c for c in comps if _base_name(c.operation) == name and isinstance(c.ours, list)]
        assert with_grad and all(len(c.ours) == 2 for c in with_grad), f"{name}: no value+gradient row"


def test_non_default_parameters_and_both_axes_are_covered():
    """Are leaky_relu / elu with non-default alpha and softmax / log_softmax on both axes checked?"""
    from dlcourse.xcheck import activations as XA

    ops = {c.operation for c in XA.comparisons("cpu")}
    for needed in ["leaky_relu(alpha=0.2)", "elu(alpha=0.5)", "softmax(axis=0)", "softmax(axis=-1)",
                   "log_softmax(axis=0)", "log_softmax(axis=-1)"]:
        assert needed in ops


@pytest.mark.parametrize("device", TORCH_DEVICES)
def test_all_rows_ok(device):
    """Does every activation and loss row pass on this device, in float64?"""
    rows = core.run(["activations", "losses"], [device])
    assert len(rows) >= 40
    failed = [(r.operation, r.max_abs, r.detail) for r in rows if not r.ok]
    assert not failed, failed


def test_main_prints_the_table_and_exits_zero(capsys):
    """Does the command print operation, device, errors and ok, and return 0 when all pass?"""
    from dlcourse.xcheck.__main__ import main

    assert main(["activations", "losses", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "max abs err" in out and "max rel err" in out and "sigmoid" in out and "kl_divergence" in out
    assert "FAIL" not in out


def test_compare_flags_mismatches():
    """Are a wrong value, a NaN against a number and a shape mismatch all failures?"""
    cases = [([1.0, 2.0], [1.0, 2.1]), ([np.nan], [1.0]), ([1.0, np.inf], [1.0, 1e308]), (np.ones(2), np.ones(3))]
    for ours, theirs in cases:
        assert not core.compare("t", "cpu", core.Comparison("op", np.asarray(ours), np.asarray(theirs))).ok
    assert core.compare("t", "cpu", core.Comparison("op", np.array([np.nan]), np.array([np.nan]))).ok


#: (the function patched wrong, the operations that use it, the patch). The sigmoid exists
#: once, so the loss from logits that calls it must fail with it.
PATCHES = {
    "activation": ("sigmoid", {"sigmoid", "binary_cross_entropy_with_logits"}, """
        import dlcourse.activations as A
        _right = A.SigmoidFunction._forward
        A.SigmoidFunction._forward = lambda self, z: _right(self, z) * (1 + 1e-4)
    """),
    "loss gradient": ("mse", {"mse"}, """
        import dlcourse.losses as L
        L.MSE._gradient = lambda self, t, p: (p - t) / p.size   # the factor 2 forgotten
    """),
}


@pytest.mark.parametrize("which", PATCHES)
def test_command_fails_when_an_implementation_is_wrong(which, tmp_path):
    """Does `python -m dlcourse.xcheck activations losses` exit non-zero when one function is wrong?"""
    name, users, patch = PATCHES[which]
    marker = "\nimport sys\nsys.stderr.write('PATCHED\\n')\n"
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent(patch) + marker)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-m", "dlcourse.xcheck", "activations", "losses", "--device", "cpu"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert "PATCHED" in proc.stderr, f"the patch was not applied: {proc.stderr}"
    assert proc.returncode != 0, proc.stdout
    failed = [line.split()[1] for line in proc.stdout.splitlines() if line.rstrip().endswith("FAIL")
              or " FAIL " in line]
    assert name in {_base_name(op) for op in failed}, failed
    assert all(_base_name(op) in users for op in failed), failed


def test_command_needs_only_numpy_and_torch(tmp_path):
    """Does the full command run from a plain checkout (PYTHONPATH=.) with just NumPy and PyTorch,
    as on a GPU machine without the project's .venv? (matplotlib, tqdm, ... look uninstalled.)"""
    absent = ["matplotlib", "ipywidgets", "tqdm", "scipy", "sklearn", "IPython", "hypothesis", "pytest",
              "nbgrader", "jupyter_book", "pandas"]
    (tmp_path / "sitecustomize.py").write_text(f"import sys\nfor m in {absent!r}:\n    sys.modules[m] = None\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), "."])}
    proc = subprocess.run([sys.executable, "-m", "dlcourse.xcheck", "--device", "cpu"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "0 failed" in proc.stdout
