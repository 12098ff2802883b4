"""Making learner-written HTML inert before an instructor's browser renders it (formgrader, feedback).

A written answer is markdown, and markdown may hold raw HTML; formgrader and nbgrader's
feedback render it in the instructor's logged-in Jupyter, so a ``<script>``, an
``onerror=`` attribute, an ``<iframe srcdoc>`` or a ``javascript:`` link would run there
with the instructor's rights. Everything here is an allow-list (bleach's sanitizer,
which nbconvert itself depends on): tags and attributes not listed are escaped, so the
text stays readable and nothing runs.
"""

from __future__ import annotations

import re

import bleach
from bleach.css_sanitizer import CSSSanitizer

__all__ = ["clean_html", "clean_markdown", "inert_svg", "SAFE_IMAGE_TYPES"]

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
_MD_REF = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*<?)([a-zA-Z][a-zA-Z0-9+.\-]*):", re.M)
_STRAY_LT = re.compile(r"<(?![a-zA-Z][a-zA-Z0-9-]*[\s/>]|/[a-zA-Z][a-zA-Z0-9-]*\s*>|!--)")
_TAG_LIKE = re.compile(r"<[a-zA-Z!/?]|&#?[a-zA-Z0-9]+;")
_SAFE_SCHEMES = {"http", "https", "mailto", "attachment"}
_ACTIVE_SVG = re.compile(r"<\s*script|\bon[a-z]+\s*=|javascript\s*:|<\s*foreignobject|<\s*iframe|<\s*embed|"
                         r"<\s*object|xlink:href\s*=\s*[\"']?\s*(?!#)|\bhref\s*=\s*[\"']?\s*(?!#)", re.I)


def clean_html(text: str) -> str:
    """``text`` with every tag and attribute outside the allow-list escaped (no script, no handlers, no frames)."""
    return bleach.clean(text, tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS, css_sanitizer=_CSS,
                        strip=False, strip_comments=True)


def _scheme_guard(match: re.Match) -> str:
    scheme = match.group(2)
    return match.group(0) if scheme.lower() in _SAFE_SCHEMES else f"{match.group(1)}unsafe-{scheme}:"


def clean_markdown(text: str) -> str:
    """A markdown cell's source made inert: raw HTML through :func:`clean_html`, link targets limited to
    http(s), mailto and attachments (``javascript:`` and ``data:`` become ``unsafe-...:``).

    A ``<`` that does not open a tag (``$a<b$``) becomes ``&lt;``, which renders the same
    outside code. Code spans are not exempt: whether backticks make code depends on
    the context (an HTML block makes them plain text), so a tag inside code is escaped
    too and shows as ``&lt;tag&gt;`` there. Text without anything tag-like is unchanged.
    """
    text = _MD_LINK.sub(_scheme_guard, text)
    text = _MD_REF.sub(_scheme_guard, text)
    if _TAG_LIKE.search(text):
        text = clean_html(_STRAY_LT.sub("&lt;", text))
    return text


def inert_svg(text: str) -> bool:
    """Is this SVG free of scripts, event handlers, foreign objects and links?"""
    return _ACTIVE_SVG.search(text) is None
