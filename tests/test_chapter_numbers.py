"""Chapter numbers: the book numbers its chapters, and the prose's "chapter N" means that chapter.

Jupyter Book numbers the chapter parts of ``_toc.yml`` (``numbered: true``) in reading order,
continuing across parts. Each chapter file carries its number as a prefix
(``chapters/05_backprop.md`` is chapter 5), so a "chapter 6" in the prose names the file
``06_*`` and this test can check both against the table of contents.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"\b[Cc]hapters? (\d+)((?:(?:, | and | or )\d+)*)")


def _numbered_chapters() -> list[str]:
    """The files of the numbered parts of the table of contents, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = []
    for part in toc["parts"]:
        entries = [e["file"] for e in part.get("chapters", [])]
        if any(f.startswith("chapters/") for f in entries):
            assert part.get("numbered") is True, f"part {part.get('caption')!r} holds chapters but is not numbered"
            files += entries
    return files


def test_every_chapter_is_numbered_in_reading_order_as_its_file_prefix_says():
    files = _numbered_chapters()
    assert files, "no chapters in _toc.yml"
    on_disk = sorted(p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "chapters").glob("*.md"))
    assert sorted(files) == on_disk, "every chapter file is in a numbered part, and nothing else is"
    for position, name in enumerate(files, 1):
        prefix = int(Path(name).name.split("_")[0])
        assert prefix == position, f"{name} is chapter {position} of the book but its file says {prefix}"


def _references(text: str) -> list[int]:
    numbers = []
    for first, rest in REFERENCE.findall(text):
        numbers.append(int(first))
        numbers += [int(n) for n in re.findall(r"\d+", rest)]
    return numbers


def test_the_reference_pattern_reads_lists_of_chapters():
    assert _references("as chapter 3 shows; chapters 1, 6 and 8 need torch") == [3, 1, 6, 8]


def test_every_chapter_reference_in_the_prose_names_a_chapter_that_exists():
    count = len(_numbered_chapters())
    pages = sorted((ROOT / "chapters").glob("*.md")) + sorted((ROOT / "exercises" / "pages").glob("*.md"))
    pages += [ROOT / name for name in ("index.md", "notation.md", "setup.md", "README.md")]
    bad = [f"{page.relative_to(ROOT)}: chapter {n}" for page in pages
           for n in _references(page.read_text(encoding="utf-8")) if not 1 <= n <= count]
    assert not bad, f"references to chapters the book does not have ({count} chapters): {bad}"
