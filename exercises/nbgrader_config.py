"""nbgrader configuration of the dlcourse exercises (run nbgrader from this folder).

The course root is this folder: source/, release/, submitted/, autograded/,
feedback/ and the SQLite gradebook gradebook.db all live here (only source/ and
this file are in git). nbgrader calls `alembic` by name, so put the venv's bin first
on PATH: `PATH=$PWD/../.venv/bin:$PATH nbgrader ...` (the Makefile does).
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from dlcourse_grade.nbgrader_plugins import (KeepTimesExtractor, PercentPerDayLatePenalty, StripHiddenTests,
                                             TimestampedCollector)
from dlcourse_grade.html import FeedbackExporter

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# Solutions and hidden tests use nbgrader's default markers:
#   ### BEGIN SOLUTION / ### END SOLUTION and ### BEGIN HIDDEN TESTS / ### END HIDDEN TESTS
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding: a generous per-cell limit (naive loops in ex06), an error in one cell does not stop the notebook (nbgrader default).
c.Execute.timeout = 120

# Feedback must not show hidden tests (nbgrader's default feedback does): strip them
# from the test cells' sources and from any output that repeats one of their lines.
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, StripHiddenTests]
# Feedback pages carry a Content-Security-Policy: only the template's own scripts run (see dlcourse_grade.html).
c.GenerateFeedback.exporter_class = FeedbackExporter

# Late submissions (a due date set with `nbgrader db assignment add ID --duedate=...`
# and a submission timestamp): lose 10 % of the notebook's score per started day late.
c.AssignLatePenalties.plugin_class = PercentPerDayLatePenalty
c.PercentPerDayLatePenalty.percent_per_day = 10.0

# zip_collect: files downloaded from an LMS, named <student_id>_<notebook>.ipynb, e.g.
# "s1234_ex01_perceptron.ipynb" (an LMS's renamed re-uploads "... (1).ipynb" and "...-2.ipynb" too;
# ids may hold "_"), placed in downloaded/<assignment>/archive/ (zips are unpacked).
# The submission's timestamp (timestamp.txt, for late penalties) is the file's time in the
# download (a zip entry's date, a plain file's modification time: copy with `cp -p`), unless
# the name carries one in a `(?P<timestamp>...)` group; of two copies of one notebook the
# newer is collected (re-run with `make zip-collect ... FORCE=1`).
c.FileNameCollectorPlugin.named_regexp = (r".*/(?P<student_id>[A-Za-z0-9._\-]+?)_(?P<file_id>ex\d\d_[a-z0-9]+)"
                                        r"(?: ?\(\d+\)|-\d+)?\.ipynb$")
c.ZipCollectApp.extractor_plugin = KeepTimesExtractor
c.ZipCollectApp.collector_plugin = TimestampedCollector
