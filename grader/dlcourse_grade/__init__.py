"""``dlcourse-grade``: nbgrader autograding that survives any submission, isolated, and verified outside the kernel.

The modules form a pipeline, each doing one job:

- :mod:`.course` - nbgrader's configuration, the gradebook's record of an assignment, the submissions;
- :mod:`.repair` - pre-validate and repair a notebook against that record;
- :mod:`.sandbox` - the isolated process: unprivileged user, limits, no network, private folder;
- :mod:`.kernel` - execute a notebook cell by cell in a sandboxed kernel, surviving dead kernels;
- :mod:`.outputs` - output-size caps;
- :mod:`.verify` - run the learner's functions again outside the kernel and judge what comes back;
- :mod:`.similarity` - flag near-copies of the reference (normalised AST similarity);
- :mod:`.pipeline` / :mod:`.classrun` - one student / the whole class, in parallel;
- :mod:`.gradebook` - serialised writes through nbgrader's ``Gradebook``;
- :mod:`.report` / :mod:`.cli` - the table and the ``dlcourse-grade`` command.

Nothing here is imported by ``import dlcourse``; see ``grader/dlcourse_grade/README.md``.
"""
