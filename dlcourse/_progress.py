"""Progress bars for long work: ``tqdm.auto`` when wanted, a silent stand-in otherwise.

A bar shows only when the caller asks for one (``progress=True``) *and* the
environment variable ``DLCOURSE_PROGRESS`` is not ``"0"`` (the book build and the
tests set it to 0, so no widget output ever lands in a built page). tqdm is imported
only when a bar is really shown.
"""

from __future__ import annotations

import os

__all__ = ["enabled", "progress_bar"]


def enabled(progress: bool = True) -> bool:
    """Whether a bar should show: ``progress`` is true and ``DLCOURSE_PROGRESS`` is not 0/false/off."""
    env = os.environ.get("DLCOURSE_PROGRESS", "1").strip().lower()
    return bool(progress) and env not in ("0", "false", "off", "no")


class _NoBar:
    """The do-nothing bar used when progress is off (same methods as tqdm's)."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress_bar(total: int, desc: str = "", progress: bool = True, unit: str = "epoch"):
    """A ``tqdm.auto`` bar of ``total`` steps, or a silent stand-in when progress is off."""
    if not enabled(progress):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=True)
