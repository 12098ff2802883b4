"""The built book in a real browser (headless Chromium driven by Playwright).

Every page of the table of contents is loaded over http (a loopback server) and
from disk (``file://``). The test intercepts every request and fails on any to
another host, on console errors and on failed requests; it checks that formulas
are rendered, figures load, animations step, search works, next/previous walk the
chapters in order and downloads return files, and it saves a screenshot of each
chapter under ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

pytestmark = [pytest.mark.browser, pytest.mark.book, pytest.mark.xdist_group("browser")]


def toc_pages() -> list[str]:
    """Every document of _toc.yml in reading order (root first), without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(str(Path(entry["file"]).with_suffix("")))
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return pages


def chapter_pages() -> list[str]:
    return [p for p in toc_pages() if p.startswith("chapters/")]


def _install_chromium() -> str | None:
    """Return the Chromium executable, installing Debian's package when missing and root."""
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.path.exists(candidate):
            return candidate
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    from filelock import FileLock

    with FileLock(str(ROOT / "_build" / "chromium-install.lock")):
        if not os.path.exists("/usr/bin/chromium"):
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            subprocess.run(["apt-get", "update", "-q"], check=False, env=env, capture_output=True, timeout=600)
            subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=False, env=env,
                           capture_output=True, timeout=900)
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


@pytest.fixture(scope="module")
def server(book_html):
    """A loopback http server over the built book."""
    handler = functools.partial(_QuietHandler, directory=str(book_html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(book_html):
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    executable = _install_chromium()
    if executable is None:
        pytest.skip("Chromium is missing and cannot be installed here (needs root and apt-get)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageWatch:
    """Opens pages in a context that blocks and records every request to another host."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.external: list[str] = []
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("file", "data", "blob", "about") or parsed.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def open(self, url: str, math: bool = True):
        page = self.context.new_page()
        page.on("console", lambda m: self.console_errors.append(f"{url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.console_errors.append(f"{url}: {e}"))
        page.on("requestfailed", lambda r: self.failed.append(f"{url}: {r.url} ({r.failure})"))
        page.goto(url, wait_until="load")
        if math:
            _wait_for_mathjax(page)
        return page

    def close(self):
        self.context.close()


def _wait_for_mathjax(page) -> None:
    if page.evaluate("() => !!(window.MathJax && window.MathJax.startup)"):
        page.evaluate("() => window.MathJax.startup.promise")


def _check_page(page, doc: str) -> None:
    """Formulas rendered, no raw $$ left, figures loaded with alt text, headings in order."""
    has_math = page.evaluate("() => document.querySelectorAll('.math, mjx-container').length > 0")
    if has_math:
        assert page.evaluate("() => document.querySelectorAll('mjx-container').length") > 0, \
            f"{doc}: formulas present but MathJax rendered none"
    text = page.evaluate("() => document.querySelector('main') ? document.querySelector('main').innerText : ''")
    assert "$$" not in text, f"{doc}: raw $$ left in the rendered text"
    images = page.evaluate(
        """() => Array.from(document.querySelectorAll('main img')).map(img => ({
            src: img.getAttribute('src'), w: img.naturalWidth, alt: img.getAttribute('alt') || '',
            caption: img.closest('figure') ? (img.closest('figure').querySelector('figcaption') || {}).innerText || '' : ''}))""")
    for img in images:
        assert img["w"] > 0, f"{doc}: image {img['src']} did not load"
        label = (img["alt"] + " " + img["caption"]).strip()
        filename = Path(img["src"] or "").name
        assert label and label != filename, f"{doc}: image {img['src']} has no alt text or caption"
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('main table'))
        .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1)
        .map(t => [t.innerText.slice(0, 60), t.scrollWidth, t.parentElement.clientWidth])""")
    assert wide == [], f"{doc}: tables wider than the text column at this width (cut off): {wide}"
    levels = page.evaluate("() => Array.from(document.querySelectorAll('main h1, main h2, main h3, main h4, main h5'))"
                           ".map(h => parseInt(h.tagName.substring(1)))")
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1, f"{doc}: heading levels jump from h{before} to h{after}"


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_every_page_loads_cleanly(browser, server, book_html, scheme):
    """Does every page load with no external request, console error or failed request, math rendered and figures shown?"""
    watch = PageWatch(browser)
    try:
        for doc in toc_pages():
            url = f"{server}/{doc}.html" if scheme == "http" else (book_html / f"{doc}.html").as_uri()
            page = watch.open(url)
            _check_page(page, doc)
            if scheme == "http" and doc.startswith("chapters/"):
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"{Path(doc).name}.png"), full_page=False)
            page.close()
        assert watch.external == [], f"pages requested other hosts: {sorted(set(watch.external))[:10]}"
        assert watch.console_errors == [], f"console errors: {watch.console_errors[:10]}"
        assert watch.failed == [], f"failed requests: {watch.failed[:10]}"
    finally:
        watch.close()


def test_screenshots_saved(browser, server):
    """Is there a screenshot of each chapter after the page walk?"""
    if not SCREENSHOTS.exists() or not any(SCREENSHOTS.iterdir()):
        test_every_page_loads_cleanly(browser, server, ROOT / "_build" / "html", "http")
    for doc in chapter_pages():
        shot = SCREENSHOTS / f"{Path(doc).name}.png"
        assert shot.exists() and shot.stat().st_size > 10_000, f"no screenshot of {doc}"


def test_next_previous_walk_the_toc(browser, server):
    """Do the next/previous links walk the pages in the order of the table of contents?"""
    watch = PageWatch(browser)
    try:
        expected = toc_pages()
        page = watch.open(f"{server}/{expected[0]}.html", math=False)
        visited = [expected[0]]
        for _ in range(len(expected) - 1):
            link = page.query_selector("a.right-next")
            assert link is not None, f"no next link on {visited[-1]}"
            with page.expect_navigation(wait_until="domcontentloaded"):
                link.click()
            visited.append(urlparse(page.url).path.lstrip("/").removesuffix(".html"))
        assert visited == expected
        back = page.query_selector("a.left-prev")
        assert back is not None, "no previous link on the last page"
        with page.expect_navigation(wait_until="domcontentloaded"):
            back.click()
        assert urlparse(page.url).path.lstrip("/").removesuffix(".html") == expected[-2]
    finally:
        watch.close()


@pytest.mark.parametrize("term", ["sigmoid", "Adam"])
def test_search_finds(browser, server, term):
    """Does the book's search find the key words?"""
    watch = PageWatch(browser)
    try:
        page = watch.open(f"{server}/search.html?q={term}")
        page.wait_for_selector("#search-results ul.search li", timeout=20_000)
        hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.textContent)")
        assert hits, f"search for {term!r} found nothing"
    finally:
        watch.close()


def test_animations_step(browser, server):
    """Do the embedded animations change frame when their controls are clicked?"""
    watch = PageWatch(browser)
    found = 0
    try:
        for doc in chapter_pages():
            page = watch.open(f"{server}/{doc}.html")
            for anim in page.query_selector_all("div.animation"):
                img = anim.query_selector("img")
                before = img.get_attribute("src")
                buttons = anim.query_selector_all("button")
                # matplotlib's jshtml controls: first, previous, reverse, pause, play, next, last
                next_button = [b for b in buttons if "next" in (b.get_attribute("title") or "").lower()
                               or "step" in (b.get_attribute("onclick") or "").lower()]
                assert next_button, f"{doc}: an animation has no next-frame button"
                next_button[0].click()
                assert img.get_attribute("src") != before, f"{doc}: animation did not step"
                found += 1
            page.close()
    finally:
        watch.close()
    assert found > 0, "no embedded animation found in any chapter"


def test_download_links_return_files(browser, server):
    """Does every chapter offer its source notebook for download, and does each download link return a file?"""
    import urllib.request

    watch = PageWatch(browser)
    try:
        for doc in chapter_pages():
            page = watch.open(f"{server}/{doc}.html")
            hrefs = page.eval_on_selector_all(
                "a[href*='_sources/'], a[href*='_downloads/'], a.download-source-button",
                "els => els.map(e => e.href)")
            assert any(h.endswith((".md", ".ipynb")) for h in hrefs), f"{doc}: no source download link"
            for href in set(hrefs):
                with urllib.request.urlopen(href) as response:
                    assert response.status == 200 and len(response.read()) > 0, f"{doc}: {href} is empty"
            page.close()
    finally:
        watch.close()


# No built file holds a solution or hidden-test line: tests/test_exercises.py::
# test_built_book_holds_no_solution_and_no_hidden_test_line checks every file of _build/html.
