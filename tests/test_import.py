"""Importing the NumPy parts of dlcourse must not load torch, SymPy, matplotlib, ipywidgets or tqdm."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["torch", "sympy", "matplotlib", "ipywidgets", "tqdm"]

#: Modules that need only NumPy (by the design's contract). Those not written yet are skipped.
NUMPY_ONLY = [
    "dlcourse", "dlcourse._checks", "dlcourse.parameter", "dlcourse.activations", "dlcourse.losses",
    "dlcourse.gradcheck", "dlcourse.layers", "dlcourse.layers.base", "dlcourse.xcheck",
    "dlcourse.xcheck.core", "dlcourse.xcheck.activations", "dlcourse.xcheck.losses",
    "dlcourse.network", "dlcourse.perceptron", "dlcourse.init", "dlcourse.data", "dlcourse.optim",
    "dlcourse.schedules", "dlcourse.regularization", "dlcourse.layers.conv", "dlcourse.layers.pool",
    "dlcourse.callbacks", "dlcourse.surfaces", "dlcourse.neuron", "dlcourse.autograd", "dlcourse.train",
    "dlcourse.xcheck.autograd", "dlcourse.checks", "dlcourse.checks.assignments",
]


def _exists(module: str) -> bool:
    rel = Path(*module.split("."))
    return (ROOT / rel.with_suffix(".py")).exists() or (ROOT / rel / "__init__.py").exists()


@pytest.mark.parametrize("module", [
    m if _exists(m) else pytest.param(m, marks=pytest.mark.skip(reason=f"{m} is not written yet"))
    for m in NUMPY_ONLY
])
def test_import_loads_only_numpy(module):
    """Does importing this module, in a fresh interpreter, leave the heavy libraries unloaded?"""
    code = (f"import sys, json, importlib; importlib.import_module({module!r}); "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded == [], f"import {module} loaded {loaded}; import them inside the functions that need them"


def test_the_check_can_see_a_heavy_import():
    """Would the check notice? Importing dlcourse.calculus does load SymPy."""
    if importlib.util.find_spec("sympy") is None:
        pytest.skip("SymPy is not installed")
    code = "import sys, dlcourse.calculus; print('sympy' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "True", proc.stderr
