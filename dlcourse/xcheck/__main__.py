"""``python -m dlcourse.xcheck [AREA ...] [--device cpu|cuda]``: print the table, exit 1 on a mismatch."""

from __future__ import annotations

import argparse
import sys

from .core import AREAS, format_table, run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.xcheck", description=__doc__)
    parser.add_argument("areas", nargs="*", default=list(AREAS), help=f"areas to check (default: all of {AREAS})")
    parser.add_argument("--device", action="append", help="device to check (default: every available one)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.areas) - set(AREAS))
    if unknown:
        parser.error(f"unknown area(s) {unknown}; expected some of {list(AREAS)}")
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch is not installed: the cross-check compares with it (pip install torch)", file=sys.stderr)
        return 2
    rows = run(args.areas, args.device)
    for line in format_table(rows):
        print(line)
    failed = [r for r in rows if not r.ok]
    devices = sorted({r.device for r in rows})
    print(f"\n{len(rows)} comparisons on {', '.join(devices) or 'no device'}: "
          f"{len(rows) - len(failed)} ok, {len(failed)} failed")
    if not rows:
        print("no comparisons ran", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
