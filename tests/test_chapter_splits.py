"""Issue 22: no chapter watches (or chooses settings on) its test split.

Every ``validation_data=(X, y)`` in a chapter's code names a validation split, never the
test split: a name such as ``X_te``, ``X_test`` or ``test_X`` is refused. A chapter that
reports a final number does so on a split that did not steer training. Static check of the
chapters' source (no book build needed).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
VALIDATION = re.compile(r"validation_data\s*=\s*\(\s*([A-Za-z_][\w.]*)")
TEST_NAME = re.compile(r"(^|_)(te|test|tests|testing)(_|$)|^test", re.IGNORECASE)


def _code(path: Path) -> str:
    """The code cells of a MyST notebook (``{code-cell}`` fences only)."""
    return "\n".join(re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", path.read_text(), flags=re.S))


def test_the_rule_refuses_test_names_and_keeps_validation_names():
    """Does the name rule tell test splits from validation splits (so the check below can fail)?"""
    for bad in ["X_te", "X_test", "test_X", "Xtest_te", "X_TEST"]:
        assert TEST_NAME.search(bad), bad
    for good in ["X_va", "X_val", "X_check", "X_valid", "X_tr", "X_fit", "X_center"]:
        assert not TEST_NAME.search(good), good


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_passes_its_test_split_as_validation_data(path):
    """Does every validation_data= in the chapter name a validation split, not the test split?"""
    names = VALIDATION.findall(_code(path))
    wrong = [n for n in names if TEST_NAME.search(n.split(".")[-1])]
    assert not wrong, f"{path.name} passes a test split as validation_data: {wrong}"
