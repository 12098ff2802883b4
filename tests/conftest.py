"""Shared fixtures: a seeded generator, the torch devices, and the one shared book build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK_HTML = ROOT / "_build" / "html"
BOOK_EXECUTED = ROOT / "_build" / "jupyter_execute"

os.environ.setdefault("DLCOURSE_PROGRESS", "0")


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator with a fixed seed, so every failure can be reproduced."""
    return np.random.default_rng(20261121)


def _torch_devices():
    try:
        import torch
    except ImportError:
        return [pytest.param("cpu", marks=pytest.mark.skip(reason="torch is not installed"))]
    cuda = pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine"),
    )
    return ["cpu", cuda]


#: Parametrise a test over ``device`` with ``@pytest.mark.parametrize("device", TORCH_DEVICES)``.
TORCH_DEVICES = _torch_devices()


def _build_book() -> None:
    """Build the book once (the Makefile's `make test` has normally done it already)."""
    from filelock import FileLock

    lock = FileLock(str(ROOT / "_build.lock"))
    with lock:
        if (BOOK_HTML / "index.html").exists():
            return
        subprocess.run(
            [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--builder", "html",
             "--warningiserror", "--keep-going"],
            check=True, cwd=ROOT,
        )


@pytest.fixture(scope="session")
def book_html() -> Path:
    """The built HTML book (``_build/html``), built once per test run and shared."""
    _build_book()
    return BOOK_HTML


@pytest.fixture(scope="session")
def executed_notebooks(book_html) -> Path:
    """The executed chapter notebooks that the book build wrote (outputs, glue values)."""
    return BOOK_EXECUTED
