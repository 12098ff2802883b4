"""dlcourse-grade against what a hostile learner controls: HTML, kernel messages, replies, files, timestamps.

Each test builds the attack here and checks the guarantee with an independent look:
markdown is rendered to HTML by markdown-it (as a notebook frontend would) and the HTML
is parsed by the standard library's parser, so "inert" means no element or attribute
that can run script survives, whatever the sanitiser's own code says.
"""

from __future__ import annotations

import os
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

pytest.importorskip("nbgrader", reason="the grader needs nbgrader (pip install ./grader)")

from dlcourse_grade import classrun, outputs, pipeline, steps  # noqa: E402
from dlcourse_grade.course import AssignmentSpec, CellSpec, NotebookSpec  # noqa: E402
from dlcourse_grade.html import clean_html, clean_markdown  # noqa: E402
from dlcourse_grade.kernel import CappedClient  # noqa: E402
from dlcourse_grade.protocol import Budget, Unreadable, decode_output  # noqa: E402
from dlcourse_grade.results import FlagKind  # noqa: E402
from dlcourse_grade.sandbox import Isolation, Limits  # noqa: E402
from dlcourse_grade.verify import Messages  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

ATTACKS = [
    "<script>fetch('/api/contents/source')</script>",
    "<ScRiPt >alert(1)</sCrIpT>",
    "<img src=x onerror=alert(1)>",
    "<img src=x oNeRrOr = alert(1)>",
    "<iframe srcdoc=\"<script>parent.alert(1)</script>\"></iframe>",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s /></svg>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href=\" jAvAsCrIpT:alert(1)\">click</a>",
    "<a href=\"&#106;avascript:alert(1)\">click</a>",
    "[click](javascript:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](<javascript:alert(1)>)",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[r]: javascript:alert(1)\n\nsee [r]",
    "<details open ontoggle=alert(1)>x</details>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=import href=\"data:text/html,<script>alert(1)</script>\">",
    "```x`\n<script>alert(1)</script>\n```",
    "`a\n\n<script>alert(1)</script>\n\n`",
    "<div>`</div><script>alert(1)</script>`",
]
HONEST = "The loss falls because $a<b$; see **bold**, <sub>2</sub>, <br> and [the docs](https://numpy.org)."
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:", "file:")
RUNNING = {"script", "iframe", "object", "embed", "frame", "frameset", "form", "meta", "base", "link", "svg",
           "math", "style"}


class _Active(HTMLParser):
    """Collects every element or attribute of rendered HTML that could run script."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in RUNNING:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("srcdoc", "formaction"):
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src", "action", "data", "xlink:href") and value is not None:
                # as a browser reads a URL: ASCII whitespace and control characters dropped, case ignored
                url = "".join(ch for ch in value if ord(ch) > 32).lower()
                if url.startswith(DANGEROUS_SCHEMES):
                    self.found.append(f"{tag}[{name}={value[:30]}]")
            if name == "style" and value and "url(" in value.lower():
                self.found.append(f"{tag}[style url]")


def _active_in_html(html: str) -> list[str]:
    parser = _Active()
    parser.feed(html)
    return parser.found


def _render_markdown(text: str) -> str:
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py renders markdown (the book's parser)")
    md = markdown_it.MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True  # as permissive as the most trusting frontend: every link kept
    return md.render(text)


def test_the_oracle_sees_every_attack_before_cleaning():
    """Would the test notice? Each attack, rendered as it stands, has active content."""
    assert all(_active_in_html(_render_markdown(a)) for a in ATTACKS), \
        [a for a in ATTACKS if not _active_in_html(_render_markdown(a))]


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_answer_is_inert_once_cleaned(attack):
    """After cleaning, does the rendered written answer hold no script, handler, frame or active link?"""
    assert _active_in_html(_render_markdown(clean_markdown(attack))) == []


def test_honest_markdown_keeps_its_text_and_harmless_tags():
    rendered = _render_markdown(clean_markdown(HONEST))
    assert "<strong>bold</strong>" in rendered and "<sub>2</sub>" in rendered and "https://numpy.org" in rendered
    assert _active_in_html(rendered) == []
    assert clean_markdown("plain $x^2$ text, no tags") == "plain $x^2$ text, no tags"
    assert "$a&lt;b$" in clean_markdown(HONEST)  # renders as a < b outside code


@pytest.mark.parametrize("attack", ATTACKS)
def test_html_and_svg_outputs_are_inert(attack):
    """A display output (text/html, image/svg+xml, markdown, JavaScript) from the learner: nothing active kept."""
    out = {"output_type": "display_data", "metadata": {},
           "data": {"text/html": attack, "image/svg+xml": attack, "text/markdown": attack,
                    "application/javascript": "alert(1)", "text/plain": "x"}}
    data = outputs.defuse(out)["data"]
    assert "application/javascript" not in data
    assert _active_in_html(data.get("text/html", "")) == []
    assert _active_in_html(_render_markdown(data.get("text/markdown", ""))) == []
    if "image/svg+xml" in data:
        assert _active_in_html(data["image/svg+xml"].replace("<svg", "<x-svg")) == []


def _md_spec():
    cells = (CellSpec("intro", "markdown", True, "Read <b>this</b>.", "c0"),
             CellSpec("answer", "markdown", False, "YOUR ANSWER HERE", "c1", grade=True, solution=True, points=1.0))
    return NotebookSpec("nb", cells)


def test_defuse_step_cleans_the_learners_markdown_only():
    spec = _md_spec()
    nb = new_notebook(cells=[new_markdown_cell("Read <b>this</b>."), new_markdown_cell(ATTACKS[2] + ATTACKS[10]),
                             new_markdown_cell("an added cell " + ATTACKS[0])])
    nb.cells[0].metadata["nbgrader"] = {"grade_id": "intro"}
    nb.cells[1].metadata["nbgrader"] = {"grade_id": "answer"}
    job = steps.NotebookJob(SimpleNamespace(assignment="a"), spec, b"")
    job.nb = nb
    steps.defuse_markdown(job)
    assert nb.cells[0].source == "Read <b>this</b>."
    for cell in nb.cells[1:]:
        assert _active_in_html(_render_markdown(cell.source)) == []
    assert [f.kind for f in job.flags] == [FlagKind.REPAIR] and "2 markdown cell(s)" in job.flags[0].text


def test_malformed_kernel_messages_are_dropped_not_raised():
    """Junk on the kernel's iopub channel (the learner's code can send anything) costs nothing."""
    nb = new_notebook(cells=[new_code_cell("1")])
    client = CappedClient(nb, km=None, output_limit=1000)
    client.reset_execution_trackers()  # what nbclient does before running a notebook
    client.clear_before_next_output = False  # and before each cell
    cell = nb.cells[0]
    junk = [None, [], {"msg_type": 3}, {"msg_type": "stream"}, {"msg_type": "stream", "content": []},
            {"msg_type": "stream", "content": {"name": "stdout"}}, {"msg_type": "display_data", "content": {"data": 5}},
            {"msg_type": "comm_msg", "content": {"comm_id": "x", "data": {"state": {"v": "x" * 10_000}}}}]
    for msg in junk:
        client.process_message(msg, cell, 0)
    assert client.malformed >= 5 and client.widget_state == {}
    client.process_message({"msg_type": "stream", "header": {"msg_type": "stream"}, "parent_header": {}, "metadata": {},
                            "content": {"name": "stdout", "text": "fine\n"}}, cell, 0)
    assert cell.outputs[-1]["text"] == "fine\n"


def test_many_references_to_one_large_array_stop_at_the_budget(tmp_path):
    """A reply naming one 8 MB array 1000 times loads at most the budget, then says why."""
    np.save(tmp_path / "big.npy", np.zeros(1_000_000))
    budget = Budget(64 * 1024 ** 2)
    value = decode_output({"tuple": [{"nd": "big"}] * 1000}, tmp_path, budget=budget)
    loaded = [v for v in value if isinstance(v, np.ndarray)]
    assert 1 <= len(loaded) <= 8 and isinstance(value[-1], Unreadable)
    assert sum(a.nbytes for a in loaded) <= 64 * 1024 ** 2


def _pipe_with(data: bytes):
    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    return Messages(r)


def test_runner_messages_are_bounded_and_typed():
    deadline = time.monotonic() + 5
    m = _pipe_with(b'{"progress": 0}\n{"setup": {"errors": []}}\n')
    assert m.next(deadline) == ("message", {"progress": 0})
    assert m.next(deadline)[0] == "message" and m.next(deadline) == ("eof", None)
    assert _pipe_with(b"not json\n").next(deadline) == ("malformed", None)
    assert _pipe_with(b"[1, 2]\n").next(deadline) == ("malformed", None)
    r, w = os.pipe()
    big = Messages(r)
    pid = os.fork()
    if pid == 0:  # a writer that never ends its line
        os.close(r)
        try:
            os.write(w, b"x" * (Messages.MAX_LINE + 10))
        finally:
            os._exit(0)
    os.close(w)
    assert big.next(time.monotonic() + 20) == ("malformed", None)
    os.waitpid(pid, 0)
    r2, w2 = os.pipe()
    assert Messages(r2).next(time.monotonic() + 0.2) == ("timeout", None)
    os.close(w2)


def test_an_unreadable_timestamp_is_a_flag_not_a_crash(tmp_path):
    def broken(folder):
        raise ValueError("Unknown string format: yesterday-ish")

    course = SimpleNamespace(coursedir=SimpleNamespace(get_existing_timestamp=broken))
    (tmp_path / "timestamp.txt").write_text("yesterday-ish")
    ts, notes = classrun._timestamp(course, tmp_path)
    assert ts is None and [f.kind for f in notes] == [FlagKind.SUBMISSION] and "timestamp.txt" in notes[0].text


def _task(tmp_path, submitted: Path, limits=Limits()):
    spec = AssignmentSpec("ex01_perceptron", (NotebookSpec("ex01_perceptron", (
        CellSpec("t", "code", True, "pass", "c", grade=True, points=2.0),)),))
    return pipeline.StudentTask("s1", "ex01_perceptron", spec, str(submitted), Isolation("none", ""), limits,
                                base=str(tmp_path), submitted_root=str(tmp_path / "submitted"))


def test_a_submission_folder_that_is_a_link_is_not_graded(tmp_path):
    """submitted/s1/ex01 -> source/ex01 (as an unpacked archive can restore): nothing of it is read."""
    source = tmp_path / "source" / "ex01_perceptron"
    source.mkdir(parents=True)
    (source / "ex01_perceptron.ipynb").write_text(nbformat.writes(new_notebook()))
    link = tmp_path / "submitted" / "s1" / "ex01_perceptron"
    link.parent.mkdir(parents=True)
    link.symlink_to(source, target_is_directory=True)
    result = pipeline.grade_student(_task(tmp_path, link))
    assert result.score == 0 and result.notebooks[0].status.startswith("ungradable: the submission folder is a")
    assert result.notebooks[0].nb_json is None


def test_a_huge_notebook_is_ungradable_before_it_is_parsed(tmp_path):
    folder = tmp_path / "submitted" / "s1" / "ex01_perceptron"
    folder.mkdir(parents=True)
    (folder / "ex01_perceptron.ipynb").write_bytes(b"{" + b" " * 5000)
    result = pipeline.grade_student(_task(tmp_path, folder, Limits(notebook_bytes=4096)))
    assert result.notebooks[0].status.startswith("ungradable: the notebook file is") and result.score == 0


def test_make_autograde_and_regrade_call_dlcourse_grade_not_stock_nbgrader():
    for target in ("autograde", "regrade ASSIGNMENT=ex01_perceptron"):
        out = subprocess.run(["make", "-n", *target.split()], cwd=ROOT, capture_output=True, text=True, timeout=60,
                             env={**os.environ, "MAKEFLAGS": ""})
        assert out.returncode == 0, out.stderr
        assert "dlcourse-grade autograde" in out.stdout and "nbgrader autograde" not in out.stdout, out.stdout


def test_grader_error_is_recorded_as_zero_and_flagged(monkeypatch):
    """A notebook the grader failed on: every part 0, needs manual grade, flagged (never an older score)."""
    from dlcourse_grade import gradebook
    from dlcourse_grade.results import NotebookResult, PartResult, StudentResult

    grades, flagged = {}, {}

    class FakeGradebook:
        def __init__(self, *a):
            self.db = SimpleNamespace(commit=lambda: None, rollback=lambda: None)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update_or_create_student(self, s):
            pass

        def update_or_create_submission(self, *a, **k):
            pass

        def find_grade(self, gid, nb, a, s):
            return grades.setdefault(gid, SimpleNamespace(auto_score=2.0, manual_score=None, needs_manual_grade=False))

        def find_submission_notebook(self, nb, a, s):
            return flagged.setdefault(nb, SimpleNamespace(flagged=False))

    monkeypatch.setattr(gradebook, "Gradebook", FakeGradebook)
    result = StudentResult("s1", notebooks=[NotebookResult("nb", "grader error: RuntimeError: x",
                                                           [PartResult("t", 2.0, 0.0, 0.0)])])
    gradebook._record("sqlite://", "c", "a", result)
    assert grades["t"].auto_score == 0.0 and grades["t"].needs_manual_grade and flagged["nb"].flagged


def test_feedback_csp_allows_only_the_templates_own_scripts():
    """Does the policy list the head's script folder and inline-script hash, and nothing a body could add?"""
    import base64
    import hashlib

    from dlcourse_grade.html import with_csp

    inline = "\nvar x = 1;\n"
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8" />'
            '<script src="https://cdn.example.org/libs/mathjax/2.7.7/latest.js?config=x"> </script>'
            f'<script type="text/javascript">{inline}</script></head>'
            '<body><script>alert(1)</script><img src=x onerror=alert(1)></body></html>')
    out = with_csp(page)
    head = out[:out.index("</head>")]
    assert head.index('http-equiv="Content-Security-Policy"') < head.index("<script")
    policy = head.split('content="', 2)[-1].split('"', 1)[0]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert directives["script-src"].split() == ["https://cdn.example.org/libs/mathjax/", f"'sha256-{digest}'"]
    for name in ("object-src", "frame-src", "form-action", "base-uri", "connect-src"):
        assert directives[name] == "'none'", name
    assert directives["img-src"] == "data:" and directives["default-src"] == "'none'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in policy


def test_only_the_submissions_own_regular_files_are_read(tmp_path):
    """Are links, FIFOs, sockets and device nodes refused, a hard-linked data file refused, a hard-linked
    notebook read, and a hard link to a course file refused even as a notebook?"""
    import socket
    import stat as st

    from dlcourse_grade.submission import plain_file

    (tmp_path / "own.csv").write_text("1")
    (tmp_path / "course.ipynb").write_text("{}")
    os.link(tmp_path / "course.ipynb", tmp_path / "linked.ipynb")
    (tmp_path / "link.csv").symlink_to(tmp_path / "own.csv")
    os.mkfifo(tmp_path / "fifo.csv")
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(tmp_path / "s.sock"))
    s.close()
    assert plain_file(tmp_path / "own.csv") is None
    assert plain_file(tmp_path / "link.csv") == "a symbolic link"
    assert plain_file(tmp_path / "fifo.csv") == plain_file(tmp_path / "s.sock") == "not a regular file"
    assert plain_file(tmp_path / "linked.ipynb").startswith("a hard link")
    assert plain_file(tmp_path / "linked.ipynb", notebook=True) is None
    info = os.lstat(tmp_path / "course.ipynb")
    protected = frozenset({(info.st_dev, info.st_ino)})
    assert plain_file(tmp_path / "linked.ipynb", protected, notebook=True) == \
        "a hard link to one of the course's own files"
    if os.geteuid() == 0:
        os.mknod(tmp_path / "mem", 0o600 | st.S_IFCHR, os.makedev(1, 1))
        assert plain_file(tmp_path / "mem") == "not a regular file"


@pytest.mark.parametrize("content", ["x" * 5000, None])
def test_a_timestamp_that_is_not_a_small_plain_file_is_never_opened(tmp_path, content):
    """A 5 kB timestamp.txt or one that links to /etc/shadow: a flag, and nbgrader never reads it."""
    def never(folder):
        raise AssertionError("nbgrader read a timestamp.txt it should not have")

    course = SimpleNamespace(coursedir=SimpleNamespace(get_existing_timestamp=never))
    if content is None:
        (tmp_path / "timestamp.txt").symlink_to("/etc/shadow")
    else:
        (tmp_path / "timestamp.txt").write_text(content)
    ts, notes = classrun._timestamp(course, tmp_path)
    assert ts is None and len(notes) == 1 and notes[0].text.startswith("timestamp.txt not read (")


def test_deeply_nested_json_is_ungradable_not_a_grader_error():
    spec = NotebookSpec("nb", ())
    raw = b'{"cells": [], "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    job = steps.NotebookJob(SimpleNamespace(assignment="a"), spec, raw)
    with pytest.raises(steps._repair.Ungradable, match="nested too deeply"):
        steps.parse_and_rebuild(job)
