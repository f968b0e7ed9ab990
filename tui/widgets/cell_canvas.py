"""CellCanvas: a widget's frame as a cell grid (optsim.tui.render.cell_grid), served as Strips.

The Line-API widgets (contour plot, curve plots, run table) draw into two arrays per
frame; the canvas compares them with the previous frame and asks Textual to repaint only
the changed span of each changed row; unchanged rows keep their cached Strip. Only the
Textual side lives here (Strips, refresh regions, the app's colour system); the grids,
styles and diffing are Textual-free in tui/render. Textual 8 sends each changed span from
the widget's left edge (its issue 5625); changing that would need its private compositor,
which production code does not touch, so a moving run costs its row up to that column.
"""

from __future__ import annotations

import numpy as np
from rich.style import Style
from textual import constants
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ..render.cell_grid import StyleTable, blank_grid, changed_spans, choose_color_system, row_segments
from ..render.palette import ColorSystemName


def widget_color_system(widget: Widget, override: str | None = None) -> ColorSystemName:
    """"truecolor", "256" or "16": `override` if given, else TEXTUAL_COLOR_SYSTEM if set,
    else the terminal's (headless apps, e.g. screenshots and tests, are truecolour)."""
    headless = not widget.is_attached or widget.app.is_headless
    terminal = None if headless else widget.app.console.color_system
    return choose_color_system(override, constants.COLOR_SYSTEM, headless, terminal)


class CellCanvas:
    """Frame arrays of one widget, the strips made from them, and which rows changed."""

    def __init__(self) -> None:
        self.codes: np.ndarray | None = None
        self.styles: np.ndarray | None = None
        self.table: StyleTable | None = None
        self._strips: dict[int, Strip] = {}

    def style_table(self, base: Style) -> StyleTable:
        """The table of style ids on this base style (a fresh one if the base changed)."""
        if self.table is None or self.table.base != base:
            self.table = StyleTable(base)
            self.invalidate()  # style ids changed meaning: every row differs now
        return self.table

    def blank(self, width: int, height: int, base: Style) -> tuple[np.ndarray, np.ndarray, StyleTable]:
        """Fresh arrays of spaces in the base style, and the style table."""
        table = self.style_table(base)
        codes, styles = blank_grid(width, height)
        return codes, styles, table

    def commit(self, widget: Widget, codes: np.ndarray, styles: np.ndarray, refresh: bool = True) -> None:
        """Make these arrays the frame. With `refresh`, ask the widget to repaint what changed:
        everything after a resize, else only the changed span of each changed row (a new
        point at the end of a curve costs a few cells, not the whole row)."""
        prev_codes, prev_styles = self.codes, self.styles
        self.codes, self.styles = codes, styles
        if prev_codes is None or prev_codes.shape != codes.shape:
            self._strips.clear()
            if refresh:
                widget.refresh()
            return
        spans = changed_spans(prev_codes, prev_styles, codes, styles)
        for y, _, _ in spans:
            self._strips.pop(y, None)
        if refresh and spans:
            widget.refresh(*(Region(x0, y, x1 - x0 + 1, 1) for y, x0, x1 in spans))

    def invalidate(self) -> None:
        """Forget the frame: the next one is drawn and repainted whole."""
        self.codes = self.styles = None
        self._strips.clear()

    def drop_strips(self) -> None:
        """Forget the cached Strips (they are rebuilt from the arrays on demand)."""
        self._strips.clear()

    def line(self, y: int) -> Strip | None:
        """Row y of the frame as a Strip (cached until the row changes); None when there
        is no such row, so the caller needs its (costly to compute) base style only then."""
        if self.codes is None or not 0 <= y < self.codes.shape[0]:
            return None
        strip = self._strips.get(y)
        if strip is None:
            width = self.codes.shape[1]
            segments = row_segments(self.codes[y], self.styles[y], self.table)
            strip = self._strips[y] = Strip(segments, width)
        return strip
