"""A grid of cells (code points + interned styles) that becomes Strips, row by row.

The Line-API widgets here (curve plots, the run table) draw into two arrays per frame,
compare them with the previous frame, and ask Textual to repaint only the rows that
differ; unchanged rows keep their cached Strip. Same scheme as ContourPlot, shared.
"""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import constants
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ..render import palette


def widget_color_system(widget: Widget) -> str:
    """"truecolor", "256" or "16": TEXTUAL_COLOR_SYSTEM if set, else the terminal's
    (headless apps, e.g. screenshots and tests, are truecolour), as ContourPlot decides."""
    forced = constants.COLOR_SYSTEM
    if forced and forced != "auto":
        return palette.normalize_color_system(forced)
    if widget.is_attached and widget.app.is_headless:
        return "truecolor"
    if not widget.is_attached:
        return "truecolor"
    return palette.normalize_color_system(widget.app.console.color_system)


class StyleTable:
    """Interns rich Styles as small integers so rows can be compared as arrays."""

    def __init__(self, base: Style) -> None:
        self.base = base
        self.styles: list[Style] = []
        self._ids: dict[tuple, int] = {}
        self.get()  # id 0: the base style

    def get(self, fg: str | None = None, bg: str | None = None, bold: bool = False,
            dim: bool = False, reverse: bool = False, italic: bool = False) -> int:
        key = (fg, bg, bold, dim, reverse, italic)
        sid = self._ids.get(key)
        if sid is None:
            extra = Style(color=fg, bgcolor=bg, bold=bold or None, dim=dim or None,
                          reverse=reverse or None, italic=italic or None)
            sid = self._ids[key] = len(self.styles)
            self.styles.append(self.base + extra)
        return sid


class CellCanvas:
    """Frame arrays of one widget, the strips made from them, and which rows changed."""

    def __init__(self) -> None:
        self.codes: np.ndarray | None = None
        self.styles: np.ndarray | None = None
        self.table: StyleTable | None = None
        self._strips: dict[int, Strip] = {}

    def blank(self, width: int, height: int, base: Style) -> tuple[np.ndarray, np.ndarray, StyleTable]:
        """Fresh arrays of spaces in the base style (and a fresh style table if the base changed)."""
        if self.table is None or self.table.base != base:
            self.table = StyleTable(base)
            self.invalidate()  # style ids changed meaning: every row differs now
        codes = np.full((height, width), 32, dtype=np.uint32)
        styles = np.zeros((height, width), dtype=np.int32)
        return codes, styles, self.table

    def commit(self, widget: Widget, codes: np.ndarray, styles: np.ndarray) -> int:
        """Make these arrays the frame; repaint the rows that changed. Returns how many."""
        prev_codes, prev_styles = self.codes, self.styles
        self.codes, self.styles = codes, styles
        if prev_codes is None or prev_codes.shape != codes.shape:
            self._strips.clear()
            widget.refresh()
            return codes.shape[0]
        diff = (codes != prev_codes) | (styles != prev_styles)
        changed = np.flatnonzero(np.any(diff, axis=1))
        # Repaint only the changed span of each changed row: Textual then sends just those
        # cells (a new point at the end of a curve costs a few cells, not the whole row).
        for y in changed.tolist():
            self._strips.pop(y, None)
            cols = np.flatnonzero(diff[y])
            widget.refresh(Region(int(cols[0]), y, int(cols[-1] - cols[0] + 1), 1))
        return int(changed.size)

    def invalidate(self) -> None:
        self.codes = self.styles = None
        self._strips.clear()

    def strip(self, y: int, width: int, base: Style) -> Strip:
        line = self.line(y)
        return Strip.blank(width, base) if line is None else line

    def line(self, y: int) -> Strip | None:
        """Row y of the frame as a Strip (cached until the row changes); None when there
        is no such row, so the caller needs its (costly to compute) base style only then."""
        if self.codes is None or not 0 <= y < self.codes.shape[0]:
            return None
        strip = self._strips.get(y)
        if strip is None:
            strip = self._strips[y] = self._build(y)
        return strip

    def _build(self, y: int) -> Strip:
        codes = self.codes[y]
        styles = self.styles[y]
        text = codes.astype("<u4").tobytes().decode("utf-32-le")
        cuts = np.flatnonzero(styles[1:] != styles[:-1]) + 1
        starts = [0, *cuts.tolist()]
        ends = [*cuts.tolist(), len(text)]
        table = self.table.styles
        return Strip([Segment(text[a:b], table[styles[a]]) for a, b in zip(starts, ends)], len(text))


def put_text(codes: np.ndarray, styles: np.ndarray, row: int, col: int, text: str, style: int,
             limit: int | None = None) -> int:
    """Write single-width text into the grids at (row, col), clipped to the grid (and to
    `limit` columns if given); wide characters are skipped. Returns the column after it."""
    height, width = codes.shape
    end = width if limit is None else min(width, col + limit)
    if not 0 <= row < height:
        return col
    if text.isascii() and text.isprintable():
        # Every character is one cell: one slice assignment instead of a loop (the run
        # table writes some sixty short texts a frame). Same cells, same return value.
        stop = min(col + len(text), end)
        start = max(col, 0)
        if stop > start:
            codes[row, start:stop] = np.frombuffer(text[start - col:stop - col].encode("ascii"), dtype=np.uint8)
            styles[row, start:stop] = style
        return max(col, stop)
    x = col
    for ch in text:
        if x >= end:
            break
        if cell_len(ch) != 1:
            continue
        if x >= 0:
            codes[row, x] = ord(ch)
            styles[row, x] = style
        x += 1
    return x
