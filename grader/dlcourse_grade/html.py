"""Making learner-written HTML inert before an instructor's browser renders it (formgrader, feedback).

A written answer is markdown, and markdown may hold raw HTML; formgrader and nbgrader's
feedback render it in the instructor's logged-in Jupyter, so a ``<script>``, an
``onerror=`` attribute, an ``<iframe srcdoc>`` or a ``javascript:`` link would run there
with the instructor's rights. Everything here is an allow-list (bleach's sanitizer,
which nbconvert itself depends on): tags and attributes not listed are escaped, so the
text stays readable and nothing runs.

A second, independent layer covers the pages we generate: every feedback page carries a
Content-Security-Policy (:func:`with_csp`, applied by :class:`FeedbackExporter`, the exporter
``exercises/nbgrader_config.py`` gives nbgrader's ``generate_feedback``). Its scripts are only
the page template's own, those in the ``<head>`` before any learner content: external ones by
their folder, inline ones by their SHA-256. Nothing else runs, however the learner's HTML got
there: no inline script or handler, no ``javascript:`` URL, no ``eval``, no plugin, frame or
form, no ``<base>``, and no request anywhere (images and fonts only as ``data:``), so a
payload can neither run nor send a beacon.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import bleach
from bleach.css_sanitizer import CSSSanitizer
from nbconvert.exporters import HTMLExporter

__all__ = ["clean_html", "clean_markdown", "inert_svg", "SAFE_IMAGE_TYPES", "content_security_policy", "with_csp",
           "FeedbackExporter"]

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s",
    "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul", "var",
})
ATTRIBUTES = {
    "a": ["href", "title"], "abbr": ["title"], "img": ["src", "alt", "title", "width", "height"],
    "td": ["colspan", "rowspan", "align"], "th": ["colspan", "rowspan", "align", "scope"],
    "*": ["class", "style"],
}
PROTOCOLS = frozenset({"http", "https", "mailto", "attachment"})
SAFE_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_CSS = CSSSanitizer(allowed_css_properties=["color", "background-color", "text-align", "font-weight",
                                            "font-style", "text-decoration", "width", "height"])

# markdown's own links and images: [text](url), ![alt](url), [ref]: url, <url>
_MD_LINK = re.compile(r"(\]\(\s*<?)([a-zA-Z][a-zA-Z0-9+.\-]*):", re.M)
_MD_IMAGE = re.compile(r"(!\[[^\]]*\]\(\s*<?)(https?|ftp|file):", re.I)  # ![alt](http...): a request when shown
_MD_REF = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*<?)([a-zA-Z][a-zA-Z0-9+.\-]*):", re.M)
_STRAY_LT = re.compile(r"<(?![a-zA-Z][a-zA-Z0-9-]*[\s/>]|/[a-zA-Z][a-zA-Z0-9-]*\s*>|!--)")
_TAG_LIKE = re.compile(r"<[a-zA-Z!/?]|&#?[a-zA-Z0-9]+;")
_SAFE_SCHEMES = {"http", "https", "mailto", "attachment"}
_ACTIVE_SVG = re.compile(r"<\s*script|\bon[a-z]+\s*=|javascript\s*:|<\s*foreignobject|<\s*iframe|<\s*embed|"
                         r"<\s*object|xlink:href\s*=\s*[\"']?\s*(?!#)|\bhref\s*=\s*[\"']?\s*(?!#)", re.I)


def _attribute_allowed(tag: str, name: str, value: str) -> bool:
    """The allow-list of :data:`ATTRIBUTES`, except that an image's source must be one of the notebook's
    own attachments: a remote image would be a request to the learner's server (a beacon saying when,
    and from where, the instructor looked) from every page that shows the answer."""
    if tag == "img" and name == "src":
        return value.strip().lower().startswith("attachment:")
    return name in ATTRIBUTES.get(tag, ()) or name in ATTRIBUTES["*"]


def clean_html(text: str) -> str:
    """``text`` with every tag and attribute outside the allow-list escaped (no script, no handlers, no frames)."""
    return bleach.clean(text, tags=TAGS, attributes=_attribute_allowed, protocols=PROTOCOLS, css_sanitizer=_CSS,
                        strip=False, strip_comments=True)


def _remote_guard(match: re.Match) -> str:
    return f"{match.group(1)}unsafe-{match.group(2)}:"


def _scheme_guard(match: re.Match) -> str:
    scheme = match.group(2)
    safe = scheme.lower() in _SAFE_SCHEMES or scheme.lower().startswith("unsafe-")
    return match.group(0) if safe else f"{match.group(1)}unsafe-{scheme}:"


def clean_markdown(text: str) -> str:
    """A markdown cell's source made inert: raw HTML through :func:`clean_html`, link targets limited to
    http(s), mailto and attachments (``javascript:`` and ``data:`` become ``unsafe-...:``), images to
    attachments (a remote ``![x](https://...)`` becomes ``unsafe-https:``: it would be a beacon).

    A ``<`` that does not open a tag (``$a<b$``) becomes ``&lt;``, which renders the same
    outside code. Code spans are not exempt: whether backticks make code depends on
    the context (an HTML block makes them plain text), so a tag inside code is escaped
    too and shows as ``&lt;tag&gt;`` there. Text without anything tag-like is unchanged.
    """
    text = _MD_IMAGE.sub(_remote_guard, text)
    text = _MD_LINK.sub(_scheme_guard, text)
    text = _MD_REF.sub(_scheme_guard, text)
    if _TAG_LIKE.search(text):
        text = clean_html(_STRAY_LT.sub("&lt;", text))
    return text


def inert_svg(text: str) -> bool:
    """Is this SVG free of scripts, event handlers, foreign objects and links?"""
    return _ACTIVE_SVG.search(text) is None


_JS_TYPES = {"", "text/javascript", "application/javascript", "module", "text/ecmascript", "application/ecmascript"}


class _Assets(HTMLParser):
    """The scripts and stylesheets of a page's ``<head>``: external sources and inline script texts."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.inline: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.scripts.append(a["src"])
            elif (a.get("type") or "").strip().lower() in _JS_TYPES:
                self._text = []
        elif tag == "link" and "stylesheet" in (a.get("rel") or "").lower() and a.get("href"):
            self.styles.append(a["href"])

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._text is not None:
            self.inline.append("".join(self._text))
            self._text = None


_VERSION = re.compile(r"/v?\d+(\.\d+)*$")


def _origin_folder(url: str) -> str:
    """A CSP source for ``url``: its library's folder (``https://host/libs/mathjax/``) if absolute, else ``'self'``."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        folder = parts.path.rsplit("/", 1)[0]
        folder = _VERSION.sub("", folder)  # mathjax/2.7.7/latest.js loads the newest 2.7.x from mathjax/<version>/
        return f"{parts.scheme}://{parts.netloc}{folder}/"
    return "'self'"


def content_security_policy(head: str) -> str:
    """The policy of a page whose own scripts and stylesheets are those of ``head`` (see the module doc)."""
    assets = _Assets()
    assets.feed(head)
    scripts = list(dict.fromkeys(_origin_folder(u) for u in assets.scripts))
    hashes = ["'sha256-" + base64.b64encode(hashlib.sha256(t.encode()).digest()).decode() + "'"
              for t in dict.fromkeys(assets.inline)]
    styles = list(dict.fromkeys(_origin_folder(u) for u in assets.styles))
    fonts = list(dict.fromkeys(scripts + styles))  # MathJax's fonts come from beside its script
    return "; ".join([
        "default-src 'none'",
        "script-src " + (" ".join(scripts + hashes) or "'none'"),
        "style-src " + " ".join(["'unsafe-inline'"] + styles),  # the template's <style>; CSS cannot run script
        "img-src data:",
        "font-src " + " ".join(["data:"] + fonts),
        "media-src data:",
        "connect-src 'none'", "object-src 'none'", "frame-src 'none'", "child-src 'none'", "worker-src 'none'",
        "manifest-src 'none'", "form-action 'none'", "base-uri 'none'",
    ])


_HEAD_END = re.compile(r"</head\s*>", re.I)
_HEAD_START = re.compile(r"<head(\s[^>]*)?>", re.I)
_CHARSET = re.compile(r"<meta\s+charset=[^>]*>", re.I)


def with_csp(page: str) -> str:
    """``page`` with a ``Content-Security-Policy`` meta tag at the top of its ``<head>`` (policy from that head).

    The tag goes right after ``<meta charset>`` (or ``<head>``), before every script, so it
    governs the whole page. A page without a ``<head>`` gets one holding only the tag (nothing may run).
    """
    end = _HEAD_END.search(page)
    start = _HEAD_START.search(page, 0, end.start()) if end else None
    if start is None:
        policy = content_security_policy("")
        return f'<head><meta http-equiv="Content-Security-Policy" content="{policy}"></head>' + page
    head = page[start.end():end.start()]
    tag = f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy(head)}">'
    charset = _CHARSET.search(head)
    at = start.end() + (charset.end() if charset else 0)
    return page[:at] + "\n" + tag + page[at:]


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter, the one nbgrader's ``generate_feedback`` uses, its pages under :func:`with_csp`.

    ``exercises/nbgrader_config.py`` sets ``c.GenerateFeedback.exporter_class`` to it; the
    template (nbgrader's ``feedback``) and every other setting stay nbgrader's.
    """

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        return with_csp(output), resources
