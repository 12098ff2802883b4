"""nbgrader plugins used by ``exercises/nbgrader_config.py`` (imports nbgrader; not loaded by ``dlcourse``).

* :class:`StripHiddenTests`: a feedback preprocessor. nbgrader's feedback shows the
  autograded notebook, hidden tests included; this removes every hidden-test region
  from the test cells and scrubs any output line that repeats a hidden-test line (a
  traceback would print the line that raised).
* :class:`PercentPerDayLatePenalty`: a late-submission plugin that takes a fixed
  percentage of the notebook's score per started day late (10 % by default).
"""

from __future__ import annotations

import math
import re

from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Float

__all__ = ["StripHiddenTests", "PercentPerDayLatePenalty", "hidden_lines"]

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
