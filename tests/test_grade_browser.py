"""Issue 17: learner payloads do nothing in a real browser showing grading pages (headless Chromium, Playwright).

A notebook carries payloads in written answers (raw HTML in markdown, markdown links and
images) and in outputs (HTML, JavaScript, SVG, markdown). Each payload, if it ever runs,
sets ``window.__pwned``, changes ``document.title``, opens an ``alert`` and requests a beacon
URL on a loopback server; payloads without script (a pixel, CSS ``url()``, ``<base>``, a
form, meta refresh) request the beacon by themselves. The test loads, hovers, clicks and
focuses, then checks that no beacon request arrived, no dialog opened, no frame's global
was set and the title did not change, on:

* the feedback page, written by the exporter nbgrader's ``generate_feedback`` gets from
  ``exercises/nbgrader_config.py`` (sanitised content, under the Content-Security-Policy);
* the page formgrader renders for a submission (nbgrader's ``formgrade`` template, no CSP:
  the sanitising alone must hold);
* unsanitised content under the CSP alone (only navigations, which CSP does not govern, may go out).

A control page (unsanitised, no CSP) must fire the payloads, so the test can fail.
"""

from __future__ import annotations

import http.server
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from test_browser import CHROMIUM_ARGS, _install_chromium  # noqa: E402

pytest.importorskip("nbgrader", reason="the grader needs nbgrader (pip install ./grader)")

import nbformat  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402

from dlcourse_grade import outputs, steps  # noqa: E402
from dlcourse_grade.course import CellSpec, NotebookSpec  # noqa: E402
from dlcourse_grade.html import FeedbackExporter  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.grading, pytest.mark.xdist_group("browser")]

ROOT = Path(__file__).resolve().parents[1]
TITLE = "untouched title"


class Beacon:
    """A loopback HTTP server that records the path of every request it gets."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def ids(self) -> set[str]:
        return {p.split("/beacon/", 1)[1].split("?")[0].split("/")[0] for p in self.hits if "/beacon/" in p}


def _js(b: str, pid: str) -> str:
    """What a payload does if it runs: a global, the title, a beacon request, a dialog (no spaces, no double quotes)."""
    return (f"window.__pwned=(window.__pwned||'')+'{pid},';document.title='PWNED';"
            f"fetch('{b}/beacon/{pid}',{{mode:'no-cors'}});alert('{pid}')")


def markdown_payloads(b: str) -> dict[str, str]:
    j = lambda pid: _js(b, pid)  # noqa: E731
    return {
        "script": f"<script>{j('script')}</script>",
        "onerror": f'<img src=x onerror="{j("onerror")}">',
        "svg_onload": f'<svg onload="{j("svg_onload")}"><circle r=1 /></svg>',
        "ontoggle": f'<details open ontoggle="{j("ontoggle")}">details</details>',
        "onmouseover": f'<div onmouseover="{j("onmouseover")}">HOVERME</div>',
        "onfocus": f'<input autofocus onfocus="{j("onfocus")}">',
        "srcdoc": f'<iframe srcdoc="&lt;script&gt;{j("srcdoc").replace(chr(39), "&#39;")}&lt;/script&gt;"></iframe>',
        "js_link": f'<a href="javascript:{j("js_link")}">CLICKME</a>',
        "md_js_link": f"[CLICKME](<javascript:{j('md_js_link')}>)",
        "mglyph": f'<math><mtext><table><mglyph><style><img src=x onerror="{j("mglyph")}">',
        "svg_animate": f'<svg><animate onbegin="{j("svg_animate")}" attributeName=x dur=1s /></svg>',
        "object_data": f'<object data="data:text/html,&lt;script&gt;{j("object_data")}&lt;/script&gt;"></object>',
        "form": f'<form action="{b}/beacon/form" method="get"><button>CLICKME</button></form>',
        "pixel": f'<img src="{b}/beacon/pixel">',
        "md_pixel": f"![x]({b}/beacon/md_pixel)",
        "css_url": f'<div style="background-image:url({b}/beacon/css_url)">css</div>',
        "style_tag": f"<style>body {{ background: url({b}/beacon/style_tag) }}</style>",
        "link_css": f'<link rel="stylesheet" href="{b}/beacon/link_css">',
        "base": f'<base href="{b}/beacon/base/"><img src="relative.png">',
        "meta_refresh": f'<meta http-equiv="refresh" content="0;url={b}/beacon/meta_refresh">',
        "video": f'<video><source onerror="{j("video")}"></video>',
    }


def output_payloads(b: str) -> list[dict]:
    j = lambda pid: _js(b, pid)  # noqa: E731
    return [
        new_output("display_data", data={"text/html": f'<img src=x onerror="{j("out_html")}">'
                                                       f'<script>{j("out_script")}</script>', "text/plain": "html"}),
        new_output("display_data", data={"application/javascript": j("out_js"), "text/plain": "js"}),
        new_output("display_data", data={"image/svg+xml": f'<svg xmlns="http://www.w3.org/2000/svg" '
                                                          f'onload="{j("out_svg")}"><script>{j("out_svg_script")}'
                                                          '</script></svg>'}),
        new_output("display_data", data={"text/markdown": f'<img src=x onerror="{j("out_md")}"> '
                                                          f'[CLICKME](<javascript:{j("out_md_link")}>)'}),
        new_output("execute_result", execution_count=1,
                   data={"text/html": f'<details open ontoggle="{j("out_toggle")}">x</details>', "text/plain": "x"}),
    ]


#: The payloads that need script to send their beacon.
SCRIPT_IDS = {"script", "onerror", "svg_onload", "ontoggle", "onmouseover", "onfocus", "srcdoc", "js_link",
              "md_js_link", "mglyph", "svg_animate", "object_data", "video", "out_html", "out_script", "out_js",
              "out_svg", "out_svg_script", "out_md", "out_md_link", "out_toggle"}


def payload_notebook(b: str):
    cells = [new_markdown_cell("# Payloads"), new_code_cell("print('hello')", outputs=output_payloads(b))]
    answer = new_markdown_cell("\n\n".join(markdown_payloads(b).values()))
    answer.metadata["nbgrader"] = {"grade_id": "answer", "grade": True, "solution": True, "locked": False,
                                   "points": 1, "score": 0.5, "schema_version": 3}
    cells.append(answer)
    cells += [new_markdown_cell(f"added cell {k}: {v}") for k, v in markdown_payloads(b).items()]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}})


def sanitised(nb):
    """What dlcourse-grade does to a notebook before formgrader and the feedback see it."""
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(nb), 4))
    spec = NotebookSpec("nb", (CellSpec("answer", "markdown", False, "YOUR ANSWER HERE", "c1", grade=True,
                                        solution=True, points=1.0),))
    job = steps.NotebookJob(SimpleNamespace(assignment="a"), spec, b"")
    job.nb = nb
    steps.defuse_markdown(job)
    outputs.cap_notebook(job.nb, 10 ** 7)
    return job.nb


def feedback_html(nb, tmp_path) -> str:
    """The page nbgrader's generate_feedback writes with the course's configuration."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "exercises")).load_config()
    conv = GenerateFeedback(coursedir=CourseDirectory(root=str(tmp_path)), config=cfg)
    exporter = conv.exporter_class(config=conv.config)
    assert isinstance(exporter, FeedbackExporter), "nbgrader_config.py does not give generate_feedback the CSP exporter"
    html, _ = exporter.from_notebook_node(nb, resources={"nbgrader": {
        "notebook": "nb", "score": 0.5, "max_score": 1.0, "late_penalty": 0.0}})
    return html


def formgrade_html(nb) -> str:
    """The page formgrader's SubmissionHandler renders (its exporter and template, its resources)."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    c = Config()
    c.HTMLExporter.template_name = "formgrade"
    c.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    html, _ = HTMLExporter(config=c).from_notebook_node(nb, resources={
        "assignment_id": "a", "notebook_id": "nb", "submission_id": "1", "index": 0, "total": 1, "base_url": "",
        "student": "s1", "last_name": "", "first_name": "", "notebook_path": "autograded/s1/a/nb.ipynb"})
    return html


def plain_html(nb) -> str:
    from nbconvert.exporters import HTMLExporter

    html, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    return html


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    executable = _install_chromium()
    if executable is None:
        pytest.skip("Chromium is missing and cannot be installed here (needs root and apt-get)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def beacon():
    server = Beacon()
    yield server
    server.httpd.shutdown()


def visit(browser, html: str, path: Path) -> dict:
    """Open ``html`` from disk, interact with it, and report what ran: dialogs, globals, title, URL."""
    path.write_text(html.replace("<title>", f"<title>{TITLE}", 1) if "<title>" in html else html, encoding="utf-8")
    context = browser.new_context()
    external = []

    def route(r):
        host = urlparse(r.request.url).hostname
        if urlparse(r.request.url).scheme in ("file", "data", "about", "blob") or host == "127.0.0.1":
            r.continue_()
        else:  # the template's CDN scripts (MathJax): not reachable from the test machine
            external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    for text in ("HOVERME", "CLICKME"):
        for el in page.get_by_text(text, exact=False).all()[:40]:
            try:
                el.hover(timeout=500)
                if text == "CLICKME":
                    el.click(timeout=500, no_wait_after=True)
            except Exception:  # noqa: BLE001 - hidden or detached elements: nothing to trigger there
                continue
    for el in page.locator("button, input").all()[:20]:
        try:
            el.click(timeout=500, no_wait_after=True)
        except Exception:  # noqa: BLE001
            continue
    time.sleep(1.5)  # timers, meta refresh, late beacons
    pwned = []
    for frame in page.frames:
        try:
            pwned.append(frame.evaluate("() => window.__pwned || ''"))
        except Exception:  # noqa: BLE001 - a frame that navigated away meanwhile
            continue
    try:
        title = page.title()
    except Exception:  # noqa: BLE001
        title = "?"
    out = dict(dialogs=dialogs, pwned="".join(pwned), title=title, url=page.url, external=external)
    context.close()
    return out


def _nothing_ran(seen: dict, beacon: Beacon, where: str, allowed: set[str] = frozenset()) -> None:
    assert seen["dialogs"] == [], f"{where}: dialogs opened: {seen['dialogs'][:5]}"
    assert seen["pwned"] == "", f"{where}: payloads ran: {seen['pwned']}"
    assert seen["title"] != "PWNED", f"{where}: a payload changed the title"
    fired = beacon.ids() - set(allowed)
    assert not fired, f"{where}: beacon requests arrived for {sorted(fired)} ({beacon.hits[:10]})"


def test_the_control_page_fires_the_payloads(browser, beacon, tmp_path):
    """Would the test notice? Unsanitised and without a CSP, the payloads run and the beacon hears them."""
    seen = visit(browser, plain_html(payload_notebook(beacon.url)), tmp_path / "control.html")
    fired = beacon.ids()
    assert seen["dialogs"] and seen["pwned"], seen
    assert {"script", "onerror", "out_html", "js_link", "md_js_link"} <= fired, sorted(fired)
    assert len(fired & SCRIPT_IDS) >= 8, sorted(fired)
    assert {"link_css", "meta_refresh"} <= fired, sorted(fired)  # and payloads without script


def test_feedback_page_runs_nothing(browser, beacon, tmp_path):
    """Does the feedback page (sanitised content, the CSP) run no payload and send no beacon?"""
    html = feedback_html(sanitised(payload_notebook(beacon.url)), tmp_path)
    assert 'http-equiv="Content-Security-Policy"' in html
    seen = visit(browser, html, tmp_path / "feedback.html")
    _nothing_ran(seen, beacon, "feedback")


def test_formgrader_page_runs_nothing(browser, beacon, tmp_path):
    """Does formgrader's rendering of the autograded notebook run no payload and send no beacon (sanitising alone)?"""
    seen = visit(browser, formgrade_html(sanitised(payload_notebook(beacon.url))), tmp_path / "formgrade.html")
    _nothing_ran(seen, beacon, "formgrader")


def test_the_csp_alone_stops_every_script(browser, beacon, tmp_path):
    """With unsanitised content, does the feedback page's CSP alone stop every script and every request
    but navigation (meta refresh, which CSP does not govern)?"""
    html = feedback_html(payload_notebook(beacon.url), tmp_path)
    seen = visit(browser, html, tmp_path / "csp_only.html")
    _nothing_ran(seen, beacon, "CSP only", allowed={"meta_refresh"})
