"""Cell grids: a frame as two arrays (code points, interned style ids), and how to draw into them.

Every drawing widget (contour plot, curve plots, run table) paints a (height, width)
uint32 array of code points and an int32 array of style ids, then hands rows to the
terminal as rich Segments. Rows compare as arrays, so a frame costs only the rows (and
the spans of them) that changed. Nothing here needs Textual: the widgets wrap this in
Strips and refreshes, and the command line can use the same grids for text output.
"""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

from . import palette
from .contour_grid import PlotArea

BLANK = 32  # the code point of a space


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


def blank_grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Spaces in style 0 (the base style): code points and style ids."""
    return (np.full((height, width), BLANK, dtype=np.uint32),
            np.zeros((height, width), dtype=np.int32))


def row_text(codes: np.ndarray) -> str:
    """One row of code points as a string."""
    return codes.astype("<u4").tobytes().decode("utf-32-le")


def grid_lines(codes: np.ndarray) -> list[str]:
    """Every row of the grid as a string (plain-text output, tests)."""
    return [row_text(row) for row in codes]


def row_segments(codes: np.ndarray, styles: np.ndarray, table: StyleTable) -> list[Segment]:
    """One row as rich Segments: one segment per run of cells with the same style."""
    text = row_text(codes)
    cuts = np.flatnonzero(styles[1:] != styles[:-1]) + 1
    starts = [0, *cuts.tolist()]
    ends = [*cuts.tolist(), len(text)]
    table_styles = table.styles
    return [Segment(text[a:b], table_styles[styles[a]]) for a, b in zip(starts, ends)]


def changed_spans(prev_codes: np.ndarray, prev_styles: np.ndarray, codes: np.ndarray,
                  styles: np.ndarray) -> list[tuple[int, int, int]]:
    """(row, first column, last column) of every row that differs between two frames of
    the same shape: over a slow link every repainted cell costs bytes, so a caller
    repaints only these spans."""
    diff = (codes != prev_codes) | (styles != prev_styles)
    changed = np.flatnonzero(diff.any(axis=1))
    if not changed.size:
        return []
    rows = diff[changed]
    first = rows.argmax(axis=1)
    last = diff.shape[1] - 1 - rows[:, ::-1].argmax(axis=1)
    return list(zip(changed.tolist(), first.tolist(), last.tolist()))


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


def one_cell(text: str) -> str:
    """The characters of text that take one cell (put_text skips the others)."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch for ch in text if cell_len(ch) == 1)


def fill_blanks(codes: np.ndarray, styles: np.ndarray) -> None:
    """Give each blank cell the style of the nearest non-blank cell to its left, in place.

    Callers use it where styles differ only in the foreground colour, which a blank cell
    never shows; so a row becomes a few long segments (one escape sequence each) instead
    of one per drawn cell, which is most of the bytes a frame sends over a slow link.
    Blanks left of the first drawn cell keep their style."""
    blank = codes == BLANK
    if not blank.any():
        return
    cols = np.arange(codes.shape[1])[None, :]
    idx = np.where(blank, 0, cols)
    np.maximum.accumulate(idx, axis=1, out=idx)
    seen = np.maximum.accumulate(~blank, axis=1)
    filled = np.take_along_axis(styles, idx, axis=1)
    styles[:] = np.where(blank & seen, filled, styles)


def draw_axes(codes: np.ndarray, styles: np.ndarray, area: PlotArea, top: int, label_row: int | None,
              axis: int, label: int) -> None:
    """A left axis line with ticks and labels and a bottom axis line with ticks around the
    plot area of `area`, whose first row is `top`; x labels on `label_row` (if not None)."""
    left, rows, cols = area.left, area.plot_rows, area.plot_cols
    codes[top:top + rows, left - 1] = ord("│")
    styles[top:top + rows, left - 1] = axis
    codes[top + rows, left - 1] = ord("└")
    styles[top + rows, left - 1] = axis
    codes[top + rows, left:left + cols] = ord("─")
    styles[top + rows, left:left + cols] = axis
    for cell, text in zip(area.y_ticks.cells, area.y_ticks.labels):
        codes[top + int(cell), left - 1] = ord("┤")
        put_text(codes, styles, top + int(cell), left - 1 - len(text), text, label)
    for cell in area.x_ticks.cells:
        codes[top + rows, left + int(cell)] = ord("┬")
    if label_row is not None:
        for start, text in zip(area.x_label_starts(), area.x_ticks.labels):
            put_text(codes, styles, label_row, left + start, text, label)


def choose_color_system(override: str | None, forced: str | None, headless: bool,
                        terminal: str | None) -> palette.ColorSystemName:
    """"truecolor", "256" or "16": an explicit override, else a forced one (e.g.
    TEXTUAL_COLOR_SYSTEM, unless "auto"), else truecolour without a terminal (screenshots,
    tests), else the terminal's."""
    if override:
        return palette.normalize_color_system(override)
    if forced and forced != "auto":
        return palette.normalize_color_system(forced)
    if headless:
        return "truecolor"
    return palette.normalize_color_system(terminal)


def color_hex(color: Color | None) -> str | None:
    """A rich colour as #rrggbb, or None if there is none (the terminal's default)."""
    if color is None or color.is_default:
        return None
    return color.get_truecolor().hex


def is_dark(style: Style) -> bool:
    """True if the style's background is dark (or unknown: terminals mostly are)."""
    color = style.bgcolor
    if color is None or color.triplet is None:
        return True
    r, g, b = color.triplet
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 < 0.5
