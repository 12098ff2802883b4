"""The pattern every explorer follows: controls -> ``update()`` -> ``state`` and a redrawn figure.

The figure is a plain :class:`matplotlib.figure.Figure` (not managed by pyplot, so a
notebook never shows it twice), rendered to PNG into an ``ipywidgets.Image``. Tests
set a control's ``value`` and read ``state`` and ``image.value``.
"""

from __future__ import annotations

import io

__all__ = ["Explorer"]


class Explorer:
    """Base class: subclasses fill ``self.controls`` and implement ``_compute()`` and ``_draw()``.

    Attributes
    ----------
    controls : dict of str to ipywidgets widget
        The inputs, by name; changing any ``value`` calls :meth:`update`.
    state : dict
        What the current control values imply (recomputed by :meth:`update`).
    figure : matplotlib.figure.Figure
    image : ipywidgets.Image
        The figure as PNG.
    readout : ipywidgets.HTML
        A line of numbers under the figure.
    updates : int
        How many times :meth:`update` has run (the first at construction).
    """

    figsize = (5.0, 4.0)
    dpi = 80

    def __init__(self):
        import ipywidgets as w
        from matplotlib.figure import Figure

        from .. import plots

        plots.use_style()
        self.figure = Figure(figsize=self.figsize, dpi=self.dpi, layout="constrained")
        self.image = w.Image(format="png")
        self.readout = w.HTML()
        self.state: dict = {}
        self.updates = 0
        self.controls = self._make_controls()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def _make_controls(self) -> dict:
        raise NotImplementedError

    def _compute(self) -> dict:
        raise NotImplementedError

    def _draw(self) -> None:
        raise NotImplementedError

    def _readout(self) -> str:
        return ""

    def _on_change(self, change) -> None:
        self.update()

    def values(self) -> dict:
        """The current value of every control."""
        return {name: control.value for name, control in self.controls.items()}

    def update(self) -> dict:
        """Recompute ``state`` from the controls, redraw the figure and the readout; return ``state``."""
        self.state = self._compute()
        self.figure.clear()
        self._draw()
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.dpi)
        self.image.value = buffer.getvalue()
        self.readout.value = self._readout()
        self.updates += 1
        return self.state

    @property
    def widget(self):
        """The controls, the figure and the readout in one box, ready to display."""
        import ipywidgets as w

        return w.VBox([w.HBox(list(self.controls.values()), layout=w.Layout(flex_flow="row wrap")),
                       self.image, self.readout])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
