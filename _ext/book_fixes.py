"""Small Sphinx fixes for the book build (a local extension listed in _config.yml).

- sphinx-thebe 0.3.1 registers its inline configuration script twice under
  jupyter-book 1.0.4, so every page logged "Identifier 'THEBE_JS_URL' has already
  been declared" in the browser console (sphinx-togglebutton's selector script is
  doubled the same way); keep only the first copy of each script.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", None) or {}
        # the two copies differ only in filename None vs ""
        key = (getattr(script, "filename", str(script)) or None, tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # in place: the list is the builder's own, shared with later handlers
    context["script_files"][:] = unique


def setup(app):
    # early: Sphinx stops this event at the first handler that returns a template name
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
