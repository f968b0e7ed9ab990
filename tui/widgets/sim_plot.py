"""SimPlot: the contour plot as the simulator uses it, its keys kept out of the footer.

The plot's keys (z, Z, arrows, 0) stay active when it has focus and are listed by the help
screen and the command palette; the footer keeps its room for the simulator's own keys.
"""

from __future__ import annotations

from textual.binding import Binding

from .contour_plot import ContourPlot


class SimPlot(ContourPlot):
    """ContourPlot with the same keys, not shown in the footer."""

    BINDINGS = [
        Binding("z", "zoom_in", "Zoom in", show=False),
        Binding("Z", "zoom_out", "Zoom out", show=False),
        Binding("left", "pan(-1, 0)", "Pan", show=False),
        Binding("right", "pan(1, 0)", "Pan", show=False),
        Binding("up", "pan(0, 1)", "Pan", show=False),
        Binding("down", "pan(0, -1)", "Pan", show=False),
        Binding("0", "reset_view", "Reset view", show=False),
    ]
