"""``dlcourse-grade``: nbgrader autograding that survives any submission, isolated, and verified outside the kernel.

The instructor's distribution (``grader/pyproject.toml``); learners never install it.
One notebook goes through the ordered steps of :mod:`.steps` (nbgrader's own
sanitising preprocessors with ours between them, then sandboxed execution, in-kernel
scores and verification); around them:

- :mod:`.hidden` - the hidden inputs of every part, and what a hidden test cell calls;
- :mod:`.course` - nbgrader's configuration, the gradebook's record of an assignment, the submissions;
- :mod:`.submission` - find a student's notebooks, copy their files (regular files only);
- :mod:`.repair` - our repair steps (parse, rebuild cells, unknown ids, restore cells);
- :mod:`.sandbox` / :mod:`.kernel` / :mod:`.outputs` - the isolated process, the sandboxed kernel, output caps;
- :mod:`.verify` / :mod:`.protocol` / ``_verify_runner.py`` - the out-of-kernel run and its data-only protocol;
- :mod:`.detectors` - one file per way of catching a submission (delegation, tampering, near copies);
- :mod:`.results` - what grading produces, typed flags included;
- :mod:`.pipeline` / :mod:`.classrun` - one student / the whole class, in parallel;
- :mod:`.gradebook` - serialised writes through nbgrader's ``Gradebook``;
- :mod:`.report` / :mod:`.cli` - the table and the ``dlcourse-grade`` command;
- :mod:`.nbgrader_plugins` - the feedback and late-penalty plugins of ``exercises/nbgrader_config.py``.

See ``grader/dlcourse_grade/README.md`` for what it guarantees and how to run it.
"""
