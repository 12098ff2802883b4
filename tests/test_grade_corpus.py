"""Issue 10: out-of-kernel verification, so that tampering earns nothing, and the adversarial corpus.

The corpus (``tests/grade_corpus/corpus_cases.py``) is issue 9's class plus the submissions of
``corpus_cases``: patched np.allclose and dlcourse, the reference imported or called,
an input transformer, a silenced showtraceback, faked "All tests passed" output,
edited/deleted/disguised test cells, stripped metadata, changed points, environment
sniffing, a naive sigmoid that overflows, a wrong shape that would broadcast, a lying
ndarray subclass, inputs mutated in place, a copy of the reference, schema damage,
an unknown grade id and a symlink. Every submission is graded by the whole
``dlcourse-grade`` pipeline; the corpus is graded twice and the grades must match.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "grade_corpus"))

import corpus_cases as cases  # noqa: E402
import corpus_shared as shared  # noqa: E402

pytestmark = pytest.mark.xdist_group("dlcourse_grade")
EXTRA = cases.corpus_cases()


@pytest.fixture(scope="module")
def corpus():
    why = shared.ensure_sandbox()
    if why:
        pytest.skip(why)
    return shared.corpus_run()


@pytest.fixture(scope="module")
def second(corpus):
    """The whole corpus graded a second time, in the same course."""
    return shared.grade_all(corpus.course, "second")


def test_the_corpus_has_at_least_30_bad_submissions():
    """Does the corpus hold at least 30 distinct bad submissions, each with an expected outcome?"""
    subs = cases.class_cases(0, "") + EXTRA
    bad = [s for s in subs if "honest" not in s.student]
    assert len(bad) >= 30, len(bad)
    assert len({s.student for s in subs}) == len(subs)
    assert all(s.scores for s in subs)


@pytest.mark.grading
@pytest.mark.slow
@pytest.mark.parametrize("sub", EXTRA, ids=[s.student for s in EXTRA])
def test_each_submission_gets_the_expected_outcome(corpus, sub):
    """Does each corpus submission get its expected scores, flags, reasons and tampering verdict?"""
    shared.check_outcome(corpus.first, sub)


@pytest.mark.grading
@pytest.mark.slow
def test_tampering_earns_nothing_and_is_flagged(corpus):
    """Do the submissions that fool the in-kernel tests get full in-kernel scores but 0 recorded?"""
    tampered = [s for s in EXTRA if s.tamper]
    assert len(tampered) >= 4
    for sub in tampered:
        row = corpus.first.student(sub.student)
        auto = [p for p in row["parts"] if not p["manual"]]
        assert all(p["in_kernel"] == p["max_score"] for p in auto), f"{sub.student}: in-kernel {auto}"
        assert all(p["verified"] == 0 and p["score"] == 0 for p in auto), f"{sub.student}: recorded {auto}"
        assert corpus.gradebook[cases.A1][sub.student]["step_matches_reference"] == 0
        assert "in-kernel 1/1, verified 0/1: possible tampering" in row["flags"]


@pytest.mark.grading
@pytest.mark.slow
def test_honest_work_is_verified_and_unflagged(corpus):
    """Do honest submissions get every autograded point from the verification, with no flag?"""
    for student in ("c01_honest", "u01_honest_mlp"):
        row = corpus.first.student(student)
        for p in row["parts"]:
            if not p["manual"]:
                assert p["verified"] == p["in_kernel"] == p["max_score"], (student, p)
        assert row["flags"] == "-", (student, row["flags"])


@pytest.mark.grading
@pytest.mark.slow
def test_grading_twice_gives_identical_grades(corpus, second):
    """Does a second run over the same corpus record exactly the same grades, flags and reasons?"""
    for a in shared.ASSIGNMENTS:
        assert second.returncodes[a] == 0, second.stderr[a][-2000:]
        first = {r["student"]: r for r in corpus.first.tables[a]["students"]}
        again = {r["student"]: r for r in second.tables[a]["students"]}
        assert first.keys() == again.keys()
        for student, row in first.items():
            for key in ("score", "parts", "flags", "reasons"):
                assert row[key] == again[student][key], f"{student}: {key} differs between runs"


@pytest.mark.grading
@pytest.mark.slow
def test_active_output_never_reaches_formgrader(corpus):
    """Is a learner's JavaScript removed from the autograded notebook, and its HTML made inert?"""
    import json

    nb = json.loads((corpus.course / "autograded" / "t23_active_output" / cases.A1 / f"{cases.A1}.ipynb").read_text())
    outputs = json.dumps([o for c in nb["cells"] for o in c.get("outputs", [])])
    assert "application/javascript" not in outputs and "<script" not in outputs and "onerror" not in outputs
    kept = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "display_data"]
    assert len(kept) == 2 and list(kept[0]["data"]) == ["text/plain"], kept  # the JavaScript: nothing of it
    html = kept[1]["data"].get("text/html", "")
    assert "<img" in ("".join(html) if isinstance(html, list) else html), kept  # the HTML: kept, through the allow-list


def test_returned_data_is_read_without_pickle(tmp_path):
    """Is an object array (which only pickle could load) refused, and malformed JSON values too?"""
    from dlcourse_grade.protocol import Unreadable, decode_output

    np.save(tmp_path / "part0_0.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "part0_1.npy", np.arange(3.0))
    assert isinstance(decode_output({"nd": "part0_0"}, tmp_path), Unreadable)
    assert np.array_equal(decode_output({"nd": "part0_1"}, tmp_path), np.arange(3.0))
    assert isinstance(decode_output({"nd": "../../etc/passwd"}, tmp_path), Unreadable)
    assert isinstance(decode_output({"eval": "__import__('os')"}, tmp_path), Unreadable)
    assert decode_output({"tuple": [{"int": "3"}, {"float": "nan"}]}, tmp_path)[0] == 3


def test_grading_seeds_depend_on_secret_and_student():
    """Is a student's seed the same every time, and different for another student or another secret?"""
    from dlcourse_grade.classrun import student_seed

    s = student_seed(b"secret", "ex01_perceptron", "alice")
    assert s == student_seed(b"secret", "ex01_perceptron", "alice")
    assert len({s, student_seed(b"secret", "ex01_perceptron", "bob"), student_seed(b"other", "ex01_perceptron",
                                                                                    "alice")}) == 3


def test_near_copies_are_flagged_but_honest_solutions_are_not():
    """Is a renamed copy of the reference flagged, and the instructor's own solutions not?"""
    import json

    from dlcourse.checks import assignments
    from dlcourse_grade.similarity import learner_function, near_copy

    part = assignments.get_part("training_matches_reference")
    copied, _ = learner_function([cases.COPIED_REFERENCE], "train_perceptron")
    assert near_copy(copied, part.reference) is not None
    root = Path(__file__).resolve().parents[1] / "exercises" / "source"
    for a in ("ex01_perceptron", "ex02_mlp"):
        nb = json.loads((root / a / f"{a}.ipynb").read_text())
        cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        for p in assignments.parts(a):
            fn, _ = learner_function(cells, p.function)
            assert near_copy(fn, p.reference) is None, p.grade_id
