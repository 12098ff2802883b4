"""Output-size caps: at most ``limit`` bytes of output per notebook, rich output included.

What is cut is replaced by a marker of the same kind, so grading keeps its meaning:
an error stays an error (name, message and a short traceback), text on stderr stays
on stderr (nbgrader counts it as a failure), and a test cell's numeric result (its
partial credit) keeps its ``text/plain``. Images, HTML and long text go first.
"""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode, from_dict

from .html import clean_html, clean_markdown, inert_svg

__all__ = ["MARKER", "output_size", "cap_output", "cap_notebook", "defuse"]

MARKER = "[dlcourse-grade: output truncated, more than {limit} bytes of output in this notebook]"
_KEEP_TEXT = 2000


def output_size(out: dict) -> int:
    """Bytes of text an output holds (its data bundle, stream text or traceback)."""
    n = 0
    if "text" in out:
        n += len(_text(out["text"]).encode("utf-8", "replace"))
    for value in (out.get("data") or {}).values():
        n += len(_text(value).encode("utf-8", "replace")) if not isinstance(value, dict) else len(str(value))
    for key in ("ename", "evalue"):
        n += len(str(out.get(key, "")))
    n += sum(len(str(line)) for line in out.get("traceback") or [])
    return n


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _marker(limit: int) -> str:
    return MARKER.format(limit=limit)


def cap_output(out: dict, remaining: int, limit: int) -> NotebookNode:
    """``out`` if it fits in ``remaining`` bytes, else a truncated output of the same kind."""
    if output_size(out) <= remaining:
        return out if isinstance(out, NotebookNode) else from_dict(out)
    room = max(0, min(remaining, _KEEP_TEXT))
    kind = out.get("output_type")
    if kind == "stream":
        text = _text(out.get("text", ""))[:room]
        return from_dict({"output_type": "stream", "name": out.get("name", "stdout"),
                          "text": text + "\n" + _marker(limit) + "\n"})
    if kind == "error":
        tb = [str(line)[:500] for line in (out.get("traceback") or [])]
        tb = tb[:5] + (["..."] if len(tb) > 10 else []) + tb[-5:] if len(tb) > 10 else tb
        return from_dict({"output_type": "error", "ename": str(out.get("ename", "Error"))[:200],
                          "evalue": str(out.get("evalue", ""))[:500], "traceback": tb + [_marker(limit)]})
    plain = _text((out.get("data") or {}).get("text/plain", ""))
    if kind == "execute_result":
        short = plain if len(plain) <= 200 else plain[:200] + " " + _marker(limit)
        return from_dict({"output_type": "execute_result", "execution_count": out.get("execution_count"),
                          "metadata": {}, "data": {"text/plain": short}})
    return from_dict({"output_type": "display_data", "metadata": {},
                      "data": {"text/plain": plain[:room] + ("\n" if plain[:room] else "") + _marker(limit)}})


def defuse(out: dict) -> dict:
    """Make a display output inert: no JavaScript, HTML through the allow-list of :mod:`.html`, SVG only if inert.

    The autograded notebook is shown to instructors in formgrader; a learner's
    ``display(Javascript(...))`` or ``HTML('<img onerror=...>')`` must not run there
    with the instructor's rights.
    """
    data = out.get("data")
    if not isinstance(data, dict):
        return out
    for mime in list(data):
        value = data[mime]
        if mime in ("application/javascript", "text/javascript") or mime.endswith("+javascript") \
                or mime.startswith("application/vnd.jupyter.widget"):
            del data[mime]
        elif mime == "text/html":
            data[mime] = clean_html(_text(value))
        elif mime == "text/markdown":
            data[mime] = clean_markdown(_text(value))
        elif mime == "image/svg+xml" and not inert_svg(_text(value)):
            del data[mime]
        elif "html" in mime or "script" in mime:  # any other markup a frontend might render
            del data[mime]
    if not data:
        data["text/plain"] = "[dlcourse-grade: active content removed]"
    return out


def _is_marker(out: dict) -> bool:
    return out.get("output_type") in ("stream", "display_data") and "dlcourse-grade: output truncated" in (
        _text(out.get("text", "")) + _text((out.get("data") or {}).get("text/plain", "")))


def cap_notebook(nb: NotebookNode, limit: int) -> bool:
    """Cap every cell's outputs in place so the notebook holds at most about ``limit`` bytes; True if cut."""
    used, cut = 0, False
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            out = defuse(out)
            over = output_size(out) > limit - used
            new = cap_output(out, limit - used, limit)
            if over:
                cut = True
                if kept and _is_marker(kept[-1]) and _is_marker(new) and new.get("name") == kept[-1].get("name"):
                    continue  # one marker per run of cut outputs
            used += output_size(new)
            kept.append(new)
        cell["outputs"] = kept
    return cut

