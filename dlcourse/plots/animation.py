"""Animations embedded in the book as JavaScript (``to_jshtml``), with a frame cap.

The HTML book cannot run Python, so an interactive explorer gets a static form:
a matplotlib animation whose frames are stored in the page as PNG images with a
small JavaScript player. Each frame costs page weight, so :func:`animate` keeps
at most ``max_frames`` of them (evenly spaced, always including the first and
the last) and closes the figure so that it is not shown a second time.
"""

from __future__ import annotations

from html import escape
from typing import Callable, Sequence

import numpy as np

__all__ = ["DEFAULT_MAX_FRAMES", "cap_frames", "animate"]

#: Frames an animation keeps unless told otherwise: enough for a smooth story,
#: few enough that a page stays around a megabyte.
DEFAULT_MAX_FRAMES = 30


def cap_frames(frames: Sequence, max_frames: int = DEFAULT_MAX_FRAMES) -> list:
    """Keep at most ``max_frames`` evenly spaced items of ``frames``, first and last included.

    Parameters
    ----------
    frames : sequence
        The candidate frames (any objects), in order.
    max_frames : int
        The largest number to keep (at least 2).

    Returns
    -------
    list
        The kept frames, in their original order.
    """
    if isinstance(max_frames, bool) or not isinstance(max_frames, (int, np.integer)):
        raise TypeError(f"max_frames must be an int; got {type(max_frames).__name__}")
    if max_frames < 2:
        raise ValueError(f"max_frames must be at least 2; got {max_frames}")
    frames = list(frames)
    if len(frames) <= max_frames:
        return frames
    keep = np.unique(np.linspace(0, len(frames) - 1, max_frames).round().astype(int))
    return [frames[i] for i in keep]


def animate(fig, update: Callable, frames: Sequence, *, alt: str | None = None, interval: int = 300,
            max_frames: int = DEFAULT_MAX_FRAMES, default_mode: str = "once", as_html: bool = True):
    """Build an animation of ``fig`` and return it as embeddable JavaScript HTML.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure whose artists ``update`` changes.
    update : callable
        ``update(frame)`` redraws the figure for one frame (its return value is ignored).
    frames : sequence
        The frames to show; more than ``max_frames`` are thinned by :func:`cap_frames`.
    alt : str, optional
        Alt text for the animation's image: what it shows, for readers who cannot see it.
        Pass one; the default only says that this is an animation.
    interval : int
        Milliseconds between frames.
    max_frames : int
        The cap on stored frames.
    default_mode : {"once", "loop", "reflect"}
        What the player does at the end.
    as_html : bool
        Return an ``IPython.display.HTML`` object (the default) or the raw HTML string.

    Returns
    -------
    IPython.display.HTML or str
        The animation with its JavaScript player.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    if alt is not None and (not isinstance(alt, str) or not alt.strip()):
        raise ValueError(f"alt must be a non-empty description of the animation; got {alt!r}")
    if default_mode not in ("once", "loop", "reflect"):
        raise ValueError(f"default_mode must be 'once', 'loop' or 'reflect'; got {default_mode!r}")
    kept = cap_frames(frames, max_frames)
    if not kept:
        raise ValueError("frames must hold at least one frame; got an empty sequence")
    if alt is None:
        alt = f"An animated figure of {len(kept)} frames; use the player's buttons to step through it."

    def draw(frame):
        update(frame)
        return []

    anim = FuncAnimation(fig, draw, frames=kept, interval=interval, blit=False, repeat=False,
                         cache_frame_data=False)
    html = anim.to_jshtml(default_mode=default_mode)
    plt.close(fig)
    html = html.replace('<img id="_anim_img', f'<img alt="{escape(alt, quote=True)}" id="_anim_img', 1)
    html = _without_remote_css(html)
    if not as_html:
        return html
    from IPython.display import HTML

    return HTML(html)


def _without_remote_css(html: str) -> str:
    """Drop the player's <link> to Font Awesome on a CDN, so the page loads offline.

    matplotlib's player links Font Awesome 4 from maxcdn; the book's theme already
    ships Font Awesome (whose ``fa`` class names cover the player's icons), and each
    button keeps its ``title`` as a text label.
    """
    import re

    return re.sub(r'<link[^>]+href="https?://[^"]*font-awesome[^"]*"[^>]*>\s*', "", html)
