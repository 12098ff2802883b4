"""Serve the learner wheel from the book (a local extension listed in _config.yml).

Every build puts ``dlcourse-<version>-py3-none-any.whl`` (``pip wheel . --no-deps``: the
NumPy-only learner package) at ``wheel/`` of the built site, next to a small ``index.html``
that links it. The notebooks' install cells and the setup and exercise pages point at
``<html.baseurl>wheel/<that file>`` (``exercises/make_sources.py`` writes the address), so
publishing the built site publishes the package with it.

The wheel is built in a temporary copy of the files it is made of (``pyproject.toml``,
``README.md``, ``dlcourse/``, any licence file), with pip's build isolation and so with the
setuptools range that ``pyproject.toml`` pins, and it is rebuilt only when one of those files
changed: a warm build reuses ``_build/wheel/``.
"""

import hashlib
import html
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

TOP_FILES = ("pyproject.toml", "README.md")
LICENCE_GLOBS = ("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*")


def _sources(root: Path) -> list[Path]:
    files = [root / name for name in TOP_FILES]
    files += [p for g in LICENCE_GLOBS for p in sorted(root.glob(g)) if p.is_file()]
    files += [p for p in sorted((root / "dlcourse").rglob("*"))
              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return files


def _digest(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_wheel(root: Path, cache: Path) -> Path:
    """The learner wheel in ``cache`` (built when the package's files changed since the last build)."""
    files = _sources(root)
    stamp, current = cache / ".source-hash", _digest(root, files)
    wheels = sorted(cache.glob("dlcourse-*.whl"))
    if len(wheels) == 1 and stamp.exists() and stamp.read_text() == current:
        return wheels[0]
    with tempfile.TemporaryDirectory(prefix="dlcourse-wheel-") as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "out"
        for path in files:
            target = src / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(out)],
                              capture_output=True, text=True, timeout=900)
        built = sorted(out.glob("dlcourse-*.whl"))
        if proc.returncode != 0 or len(built) != 1:
            raise ExtensionError(f"building the learner wheel failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
        if cache.exists():
            shutil.rmtree(cache)
        cache.mkdir(parents=True)
        wheel = Path(shutil.copy2(built[0], cache))
    stamp.write_text(current)
    logger.info(f"learner wheel: built {wheel.name}")
    return wheel


INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>dlcourse wheel</title></head>
<body><h1>The dlcourse package</h1>
<p><a href="{name}">{name}</a></p>
<p>Install it with <code>pip install "dlcourse @ {url}"</code>; see the book's setup page.</p>
</body></html>
"""


def _publish(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    root, outdir = Path(app.srcdir), Path(app.outdir)
    wheel = build_wheel(root, outdir.parent / "wheel")
    folder = outdir / "wheel"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("dlcourse-*.whl"):
        if old.name != wheel.name:
            old.unlink()
    shutil.copy2(wheel, folder / wheel.name)
    url = (app.config.html_baseurl or "").rstrip("/") + "/wheel/" + wheel.name
    (folder / "index.html").write_text(INDEX.format(name=html.escape(wheel.name), url=html.escape(url)))


def setup(app):
    app.connect("build-finished", _publish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
