"""``dlcourse-grade autograde ASSIGNMENT [--course DIR] [--jobs N] [--db-url URL]``,
``dlcourse-grade similarity ASSIGNMENT [--course DIR] [--threshold X] [--out DIR]``.

Exit status: 0 when every submission got an outcome (whatever the learners did),
1 when the grader itself failed somewhere (a bug, an unwritable gradebook), 2 for
bad usage (unknown assignment, no course).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace


def _skip_iri_grammar() -> None:
    """Keep ``jsonschema`` from importing the optional ``rfc3987_syntax``, before anything imports it.

    ``jsonschema`` (imported by ``nbformat``) imports ``rfc3987_syntax`` when it is installed,
    and that module compiles some forty Earley grammars at import: about 1.2 s of CPU in every
    grading process (python-jsonschema/jsonschema#1428), for the ``iri`` format checker only.
    Nothing here checks JSON formats (``nbformat`` and ``nbgrader`` validate without a format
    checker), so the command marks the module absent (``jsonschema`` then skips that checker).
    Only this command does so; the library, the kernels and learner code are untouched.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


_skip_iri_grammar()

from .classrun import load_secret, run_class  # noqa: E402 - after _skip_iri_grammar
from .course import load_course  # noqa: E402
from .report import student_row, table  # noqa: E402
from .sandbox import Limits, detect  # noqa: E402

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dlcourse-grade", description="Hardened nbgrader autograding for dlcourse.")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("autograde", help="grade every submission of an assignment")
    a.add_argument("assignment")
    a.add_argument("--course", default=".", help="nbgrader course root (default: the current folder)")
    a.add_argument("--jobs", type=int, default=1, help="students graded at once (one BLAS thread each)")
    a.add_argument("--db-url", default=None, help="gradebook URL (default: the course's nbgrader setting)")
    a.add_argument("--student", action="append", default=None, help="grade only this student (repeatable)")
    a.add_argument("--secret-file", default=None, help="course secret for grading-time inputs")
    a.add_argument("--isolation", choices=["bwrap", "user", "none"], default=None,
                   help="force an isolation level (default: the strongest available)")
    a.add_argument("--no-verify", action="store_true", help="skip the out-of-kernel verification")
    a.add_argument("--cell-timeout", type=float, default=None, help="seconds per cell (default 60)")
    a.add_argument("--memory", type=int, default=None, help="memory limit per notebook in MiB (default 2048)")
    a.add_argument("--student-timeout", type=float, default=None,
                   help="wall-clock seconds per student, all notebooks with their verification (default 600)")
    a.add_argument("--cpu-cores", type=float, default=None,
                   help="CPU share of each sandbox in cores, through its cgroup (default 1)")
    a.add_argument("--json", default=None, help="also write the table as JSON to this file")
    s = sub.add_parser("similarity", help="learner-to-learner code similarity of an assignment (for the instructor)")
    s.add_argument("assignment")
    s.add_argument("--course", default=".", help="nbgrader course root (default: the current folder)")
    s.add_argument("--threshold", type=float, default=None,
                   help="share of one learner's own code found in another's that reports the pair (default 0.4)")
    s.add_argument("--out", default=None, help="folder for similarity.json and similarity.html "
                                                "(default: COURSE/dlcourse-grade/ASSIGNMENT)")
    return p


def _limits(args):
    lim = Limits()
    if args.cell_timeout:
        lim = replace(lim, cell_timeout=args.cell_timeout, cell_cpu=int(args.cell_timeout) + 10)
    if args.memory:
        lim = replace(lim, memory=args.memory * 1024 ** 2)
    if args.student_timeout:
        lim = replace(lim, student_timeout=args.student_timeout)
    if args.cpu_cores:
        lim = replace(lim, cpu_cores=args.cpu_cores)
    return lim


def autograde(args) -> int:
    course = load_course(args.course, args.db_url)
    iso = detect(args.isolation)
    if iso.warning:
        bar = "!" * 78
        print(f"{bar}\n{iso.warning}\n{bar}", file=sys.stderr, flush=True)
    try:
        result = run_class(course, args.assignment, jobs=max(1, args.jobs), students=args.student,
                           limits=_limits(args), iso=iso, secret=load_secret(course, args.secret_file),
                           verify=not args.no_verify,
                           on_result=lambda r: print(f"graded {r.student}", file=sys.stderr, flush=True))
    except KeyError as exc:
        print(f"dlcourse-grade: {exc.args[0]}", file=sys.stderr)
        return 2
    if result.isolation.warning != iso.warning:  # found only when the run began (no cgroup could be made)
        print(f"{'!' * 78}\n{result.isolation.warning}\n{'!' * 78}", file=sys.stderr, flush=True)
    print(f"{args.assignment}: {len(result.students)} submission(s), isolation: {iso.level}, "
          f"{result.seconds:.1f} s with --jobs {args.jobs}")
    print(table(result.students))
    for student, err in sorted(result.write_errors.items()):
        print(f"GRADER ERROR writing {student}: {err}", file=sys.stderr)
    for r in result.students:
        if r.error:
            print(f"GRADER ERROR for {r.student}: {r.error}", file=sys.stderr)
    if args.json:
        rows = [dict(student_row(r), parts=[asdict(p) for nb in r.notebooks for p in nb.parts],
                     statuses={nb.name: nb.status for nb in r.notebooks}) for r in result.students]
        with open(args.json, "w") as f:
            json.dump({"assignment": args.assignment, "isolation": iso.level, "seconds": result.seconds,
                       "students": rows}, f, indent=1)
    return 1 if result.failed else 0


def similarity(args) -> int:
    from .class_similarity import THRESHOLD, class_similarity  # copydetect (and matplotlib) only when asked

    try:
        pairs, json_path, html_path = class_similarity(args.course, args.assignment,
                                                       THRESHOLD if args.threshold is None else args.threshold,
                                                       args.out)
    except (OSError, ValueError) as exc:
        print(f"dlcourse-grade: {exc}", file=sys.stderr)
        return 2
    print(f"{args.assignment}: {len(pairs)} pair(s) at or above the threshold (leads for a human, not verdicts)")
    for p in pairs:
        print(f"  {p.a} ~ {p.b}: {p.a_to_b:.2f} / {p.b_to_a:.2f}  {', '.join(sorted(set(p.functions_a + p.functions_b)))}")
    print(f"wrote {json_path} and {html_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "autograde":
        return autograde(args)
    if args.command == "similarity":
        return similarity(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
