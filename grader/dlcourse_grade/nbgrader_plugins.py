"""nbgrader plugins used by ``exercises/nbgrader_config.py`` (imports nbgrader; not loaded by ``dlcourse``).

* :class:`StripHiddenTests`: a feedback preprocessor. nbgrader's feedback shows the
  autograded notebook, hidden tests included; this removes every hidden-test region
  from the test cells and scrubs any output line that repeats a hidden-test line (a
  traceback would print the line that raised).
* :class:`PercentPerDayLatePenalty`: a late-submission plugin that takes a fixed
  percentage of the notebook's score per started day late (10 % by default).
* :class:`KeepTimesExtractor` and :class:`TimestampedCollector`: ``nbgrader zip_collect``
  plugins that keep each downloaded file's time (a zip entry's date, a plain file's
  modification time) through extraction and give it as the submission's timestamp when
  the file name has none, so ``timestamp.txt`` is written (late penalties apply) and two
  copies of one notebook keep the newer instead of stopping the collection.
"""

from __future__ import annotations

import math
import os
import re
import time
import zipfile
from datetime import datetime, timezone

from nbgrader.plugins import ExtractorPlugin, FileNameCollectorPlugin, LateSubmissionPlugin
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Float

__all__ = ["StripHiddenTests", "PercentPerDayLatePenalty", "KeepTimesExtractor", "TimestampedCollector",
           "hidden_lines"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def hidden_lines(source: str, begin: str = "BEGIN HIDDEN TESTS", end: str = "END HIDDEN TESTS") -> list[str]:
    """The stripped, non-empty lines strictly between the hidden-test markers of ``source``."""
    out, inside = [], False
    for line in source.split("\n"):
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside and line.strip():
            out.append(line.strip())
    return out


def _scrub(text: str, secrets: list[str]) -> str:
    kept = [line for line in text.split("\n") if not any(s in _ANSI.sub("", line) for s in secrets)]
    return "\n".join(kept)


class StripHiddenTests(ClearHiddenTests):
    """Remove hidden tests from a graded notebook's sources and outputs (for feedback)."""

    def preprocess_cell(self, cell, resources, cell_index):
        secrets = hidden_lines(cell.source, self.begin_test_delimeter, self.end_test_delimeter)
        if secrets:  # the markers too: a traceback's context would show them around the scrubbed line
            secrets += [self.begin_test_delimeter, self.end_test_delimeter]
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if secrets and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    output["text"] = _scrub(output["text"], secrets)
                elif output.get("output_type") == "error":
                    output["traceback"] = [_scrub(t, secrets) for t in output["traceback"]]
                    output["evalue"] = _scrub(output["evalue"], secrets)
                for mime, value in list(output.get("data", {}).items()):
                    if isinstance(value, str):
                        output["data"][mime] = _scrub(value, secrets)
        return cell, resources


class PercentPerDayLatePenalty(LateSubmissionPlugin):
    """Penalty = ``percent_per_day`` % of the score per started day late, at most the whole score."""

    percent_per_day = Float(10.0, help="Percent of the notebook's score lost per started day late.").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        if total_seconds_late <= 0:
            return None
        days = math.ceil(total_seconds_late / 86400)
        return min(score, score * days * self.percent_per_day / 100)


class KeepTimesExtractor(ExtractorPlugin):
    """nbgrader's extractor, then each extracted file gets the time it had in the download.

    nbgrader copies plain files and unpacks zips without their times (every file would be
    "now"); this sets a copied file's modification time to the original's and an unpacked
    file's to its zip entry's date (a zip stores local time without a zone: read as this
    machine's local time, as :mod:`zipfile` writes it). Archives inside archives keep
    nbgrader's time.
    """

    def extract(self, archive_path: str, extracted_path: str) -> None:
        super().extract(archive_path, extracted_path)
        for root, _, files in os.walk(archive_path):
            extract_to = os.path.normpath(os.path.join(extracted_path, os.path.relpath(root, archive_path)))
            for name in files:
                src = os.path.join(root, name)
                stem, ext = os.path.splitext(name)
                if ext not in self.zip_ext:
                    dest = os.path.join(extract_to, name)
                    if os.path.isfile(dest):
                        st = os.stat(src)
                        os.utime(dest, (st.st_atime, st.st_mtime))
                elif zipfile.is_zipfile(src):
                    self._zip_times(src, os.path.join(extract_to, stem))

    @staticmethod
    def _zip_times(src: str, dest: str) -> None:
        with zipfile.ZipFile(src) as zf:
            for info in zf.infolist():
                target = os.path.normpath(os.path.join(dest, info.filename))
                inside = target.startswith(os.path.normpath(dest) + os.sep)
                if info.is_dir() or not inside or not os.path.isfile(target):
                    continue
                t = time.mktime(info.date_time + (0, 0, -1))
                os.utime(target, (t, t))


class TimestampedCollector(FileNameCollectorPlugin):
    """nbgrader's file-name collector; a file whose name gives no ``timestamp`` gets its modification
    time (UTC), which :class:`KeepTimesExtractor` has set to the download's."""

    def collect(self, submitted_file: str):
        info = super().collect(submitted_file)
        if info and not info.get("timestamp"):
            mtime = os.path.getmtime(submitted_file)
            info["timestamp"] = datetime.fromtimestamp(mtime, timezone.utc).isoformat(" ")
        return info
