"""Small Sphinx fixes for the book build (a local extension listed in _config.yml).

- sphinx-thebe 0.3.1 registers its inline configuration script twice under
  jupyter-book 1.0.4, so every page logged "Identifier 'THEBE_JS_URL' has already
  been declared" in the browser console (sphinx-togglebutton's selector script is
  doubled the same way); keep only the first copy of each script.
- The execution cache keys each chapter on its own code only, so a change in
  ``dlcourse`` would leave pages showing stale output; the cache is dropped
  whenever the package's source changes.
"""

import hashlib
import shutil
from pathlib import Path


def _package_hash(srcdir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted((srcdir / "dlcourse").rglob("*")):
        if path.is_file() and path.suffix in {".py", ".gz", ".txt"} and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(srcdir)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _invalidate_stale_cache(app, config):
    """Drop the jupyter-cache when dlcourse's source differs from the one it was built with."""
    srcdir = Path(app.srcdir)
    build = Path(app.outdir).parent
    cache = Path(config.nb_execution_cache_path or build / ".jupyter_cache")
    stamp = build / ".dlcourse-source-hash"
    current = _package_hash(srcdir)
    app.dlcourse_changed = not (stamp.exists() and stamp.read_text() == current)
    if not app.dlcourse_changed:
        return
    if cache.exists():
        shutil.rmtree(cache)
    build.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current)


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


def _reread_all_when_package_changed(app, env, added, changed, removed):
    """Sphinx re-reads only edited pages; after a package change every page must run again."""
    if getattr(app, "dlcourse_changed", False):
        return sorted(env.found_docs - set(added) - set(changed) - set(removed))
    return []


def setup(app):
    app.connect("env-get-outdated", _reread_all_when_package_changed)
    app.connect("config-inited", _invalidate_stale_cache, priority=100)
    # early: Sphinx stops this event at the first handler that returns a template name
    app.connect("html-page-context", _dedupe_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
