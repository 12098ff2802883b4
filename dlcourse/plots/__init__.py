"""Plotting for the book: one shared look, one module per kind of figure.

Every figure in the course uses the Okabe-Ito palette, eight colours chosen so
that readers with any common form of colour blindness can still tell them apart
(Okabe and Ito, *Color Universal Design*, 2008). Call :func:`use_style` once at
the top of a chapter; the modules here (``boundary``, ``activations``,
``animation``, ``network``, ``training``, ...) draw with it.

matplotlib is imported inside the functions that need it, so that importing
``dlcourse.plots`` costs nothing until a figure is drawn. Chapter helpers add
their own modules to this package; only this file holds the shared style.
"""

from __future__ import annotations

__all__ = ["OKABE_ITO", "PALETTE", "CLASS_COLORS", "CLASS_MARKERS", "color", "use_style", "log_y",
           "new_figure", "close"]

#: The eight Okabe-Ito colours by name.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: The colour cycle of every plot: strong colours first, yellow (weak on white) last.
PALETTE = tuple(OKABE_ITO[k] for k in (
    "blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue", "black", "yellow"))

#: Colours for class labels 0, 1, 2, ... in scatter plots and decision regions.
CLASS_COLORS = (OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish_green"],
                OKABE_ITO["reddish_purple"], OKABE_ITO["vermillion"], OKABE_ITO["sky_blue"],
                OKABE_ITO["black"], OKABE_ITO["yellow"])

#: Markers per class, so that classes differ in shape as well as colour.
CLASS_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 90,
    "savefig.dpi": 90,
    "figure.autolayout": False,
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linestyle": "-",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "lines.linewidth": 2.0,
    "image.cmap": "cividis",
    # animations are embedded as JavaScript; keep frames as PNG at a modest size
    "animation.html": "jshtml",
    "animation.frame_format": "png",
}


def color(index_or_name) -> str:
    """A palette colour by position (wrapping around) or by Okabe-Ito name."""
    if isinstance(index_or_name, str):
        try:
            return OKABE_ITO[index_or_name]
        except KeyError:
            raise ValueError(
                f"index_or_name: unknown colour {index_or_name!r}; expected one of {sorted(OKABE_ITO)}"
            ) from None
    if isinstance(index_or_name, bool) or not isinstance(index_or_name, int):
        raise TypeError(f"index_or_name must be an int or a colour name; got {type(index_or_name).__name__}")
    return PALETTE[index_or_name % len(PALETTE)]


def use_style(**overrides) -> dict:
    """Apply the course's matplotlib style (palette, grid, sizes) and return the settings used.

    Parameters
    ----------
    **overrides
        Any ``matplotlib.rcParams`` keys to set on top of the course style.

    Returns
    -------
    dict
        The rcParams that were applied.
    """
    import matplotlib as mpl
    from cycler import cycler

    settings = dict(_STYLE)
    settings["axes.prop_cycle"] = cycler(color=list(PALETTE))
    settings.update(overrides)
    mpl.rcParams.update(settings)
    return settings


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float | None = None,
               height: float | None = None, **kwargs):
    """``plt.subplots`` with the course style and a size that grows with the grid.

    Returns
    -------
    fig, axes
        As ``matplotlib.pyplot.subplots`` returns them.
    """
    import matplotlib.pyplot as plt

    width = width if width is not None else min(3.2 * ncols, 10.0)
    height = height if height is not None else 2.9 * nrows
    return plt.subplots(nrows, ncols, figsize=(width, height), **kwargs)


def log_y(ax) -> None:
    """A logarithmic y-axis with few, readable labels. Call it after plotting.

    Over less than a decade or two, matplotlib labels the minor ticks too (2x10^-1,
    3x10^-1, ...) and they crowd; here a short range is labelled at 1, 2 and 5 times a power
    of ten, written as plain numbers (0.2, 0.5, 1), and a long one at powers of ten only.
    Minor ticks stay unlabelled marks.
    """
    import numpy as np
    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, LogLocator, NullFormatter

    ax.set_yscale("log")
    low, high = (abs(v) for v in ax.get_ylim())
    decades = abs(np.log10(max(high, 1e-300) / max(low, 1e-300)))
    if decades <= 2:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=12))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    else:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0,), numticks=8))
        ax.yaxis.set_major_formatter(LogFormatterSciNotation(base=10))
    ax.yaxis.set_minor_formatter(NullFormatter())


def close(fig=None) -> None:
    """Close ``fig`` (or every figure), so a chapter shows it once and frees its memory."""
    import matplotlib.pyplot as plt

    plt.close(fig if fig is not None else "all")
