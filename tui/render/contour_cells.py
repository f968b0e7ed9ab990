"""The contour plot as cell grids: the background (bands, iso-lines, axes) and each frame's overlay.

The background is painted once per view (window, size, palette); a frame lays the runs,
arrows and markers over a copy of it. Colours on the overlay depend on the cell below:
on filled bands a run keeps its colour over the band's background; in low-bandwidth mode
(no bands) run colours are adjusted to stay readable on the widget's own background.
Textual-free: ContourPlot turns the grids into Strips.

How runs stay visible (issue 9). A cell holds one colour, so where paths cross one of
them must give way:
- Where several paths pass through a cell, the cell shows all their dots in the colour
  of one of them, and the runs take turns along the diagonals ((row + col) mod the
  number of runs there): coinciding paths read as a dashed line of their colours, and
  no run, selected or not, is buried under the others (on Rosenbrock five paths share
  the valley; before, the last one drawn hid the winner's).
- Every overlay cell (paths, arrows, markers) sits on a halo: the band's colour dimmed
  (palette.halo_color), so a green path on a green band still reads as a line of its own, and the
  bands stay legible around it (a hue per run could not avoid every band's hue).
- The current point of each run is its own glyph (the run table's, palette.run_glyph),
  so runs whose colours repeat or look alike are still told apart; minima and current
  points are drawn last, on top of every path and arrow. Current points that share a
  cell show how many runs are there (2 ... 9, + for more) in white instead of one glyph
  over the others (model-bias's two runs end on the same line: one glyph hid Adam).
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import NamedTuple, Sequence

import numpy as np
from rich.cells import cell_len

from . import palette
from .cell_grid import BLANK, StyleTable, blank_grid, color_hex, draw_axes, fill_blanks, is_dark, put_text
from .contour_grid import (ContourField, Geometry, Layout, braille_chars, level_labels, rasterize_arrow,
                           rasterize_polyline)
from .shared_cells import shared_cells
from .trail_raster import TrailRasters

MINIMUM_GLYPH = "★"
CURRENT_GLYPH = "●"


class RunTrace(NamedTuple):
    """One run as the plot draws it (a plain 5- or 6-tuple works too)."""

    name: str
    color: str
    xs: np.ndarray
    ys: np.ndarray
    current: tuple[float, float] | None
    glyph: str = CURRENT_GLYPH  # the current point's marker: the run table's glyph of the run


class PlotArrow(NamedTuple):
    """An arrow from a point along a direction (a plain 4-tuple works too); `scale` < 1 draws
    it shorter than the default length, in proportion to a longer one beside it; `scale` 0
    draws only the label, at the point (a vector that counts as zero: it has no direction)."""

    origin: tuple[float, float]
    direction: tuple[float, float]
    color: str
    label: str
    scale: float = 1.0


@dataclass
class OverlayStyles:
    """Style ids of overlay colours on each background column of the plot (cached)."""

    table: StyleTable
    backgrounds: list[str | None]  # per overlay background column: a band, invalid, the widget's,
    # then the same columns again as halos (dimmed), from index `halo` on
    system: str
    plain_bg: str | None  # the widget's background where overlay colours must stay readable
    halo: int = 0  # offset of the halo columns in `backgrounds`
    _ids: dict[tuple[str, bool], np.ndarray] = dc_field(default_factory=dict)
    _colors: dict[str, str] = dc_field(default_factory=dict)

    def color(self, color: str) -> str:
        """`color` in the plot's colour system (and readable on the plain background)."""
        out = self._colors.get(color)
        if out is None:
            out = palette.to_system(color, self.system)
            if self.plain_bg is not None:
                out = palette.readable_on(out, self.plain_bg)
            self._colors[color] = out
        return out

    def ids(self, color: str, bold: bool) -> np.ndarray:
        """Style ids of `color` on every overlay background column."""
        key = (color, bold)
        ids = self._ids.get(key)
        if ids is None:
            ids = np.array([self.table.get(fg=color, bg=bg, bold=bold) for bg in self.backgrounds],
                           dtype=np.int32)
            self._ids[key] = ids
        return ids


class _Overlay:
    """The plot area's overlay cells (style -1: nothing drawn there)."""

    def __init__(self, cell_bg: np.ndarray, styles: OverlayStyles, geometry: Geometry) -> None:
        self.cell_bg = cell_bg + styles.halo  # every overlay cell sits on its band's halo
        self.style = styles
        self.geometry = geometry
        self.codes = np.zeros(cell_bg.shape, dtype=np.uint32)
        self.styles = np.full(cell_bg.shape, -1, dtype=np.int32)
        self.labelled = np.zeros(cell_bg.shape, dtype=bool)  # cells an arrow's label took

    def paint(self, bits: np.ndarray, color: str, bold: bool = False) -> None:
        """Braille dots `bits` (plot-area shaped) in `color`, on the halo."""
        self.put(bits > 0, braille_chars(bits), color, bold)

    def put(self, mask: np.ndarray, chars: np.ndarray, color: str, bold: bool = False) -> None:
        """The code points `chars` (plot-area shaped) where `mask` is set, in `color`, on the halo."""
        self.codes[mask] = chars[mask]
        self.styles[mask] = self.style.ids(color, bold)[self.cell_bg[mask]]

    def cell(self, row: int, col: int, char: str, color: str, bold: bool = True) -> None:
        """One character on the halo, if the cell is inside the plot area."""
        rows, cols = self.cell_bg.shape
        if 0 <= row < rows and 0 <= col < cols:
            self.codes[row, col] = ord(char)
            self.styles[row, col] = self.style.ids(color, bold)[self.cell_bg[row, col]]

    def arrow(self, arrow: PlotArrow) -> None:
        """A braille shaft, a head glyph and the label beside the head (inside the area)."""
        color = self.style.color(arrow.color)
        if arrow.scale == 0:
            self._label_at_origin(arrow, color)  # a vector that counts as zero: no direction to draw
            return
        raster = rasterize_arrow(arrow.origin, arrow.direction, self.geometry, scale=arrow.scale)
        if raster.head is None:
            return
        self.paint(raster.shaft, color, True)
        row, col, glyph = raster.head
        self.cell(row, col, glyph, color)
        self._label(row, col, arrow.label, color)

    def _label_at_origin(self, arrow: PlotArrow, color: str) -> None:
        cols, rows, inside = self.geometry.data_to_cell(np.array([arrow.origin[0]]), np.array([arrow.origin[1]]))
        if inside[0]:  # a blank column between: the point's glyph or count must not read as part of it
            self._label(int(rows[0]), int(cols[0]), arrow.label, color, gap=1)

    def _label(self, row: int, col: int, label: str, color: str, gap: int = 0) -> None:
        """The label beside cell (row, col), `gap` blank columns away: right of it if it fits,
        else left; if neither, cut to the wider side with "…" (labels say the key words first,
        so the cut keeps them; never cut at the plot's edge mid-word). Moved a row up or down when
        another arrow's label is there (two arrows from one point, e.g. an eigenvector and the
        momentum, must not spell one word over the other)."""
        text = "".join(ch for ch in label if cell_len(ch) == 1)
        cols, rows = self.geometry.cols, self.geometry.rows
        right, left = cols - (col + 1 + gap), col - gap  # room on each side
        if len(text) > max(right, left):
            room = max(right, left)
            text = text[:room - 1].rstrip() + "…" if room > 1 else ""
        n = len(text)
        start = col + 1 + gap if n <= right else col - gap - n
        lo, hi = max(0, start), min(cols, start + n)
        for r in (row, row - 1, row + 1, row - 2, row + 2):
            if 0 <= r < rows and not self.labelled[r, lo:hi].any():
                row = r
                break
        self.labelled[row, lo:hi] = True
        if 0 <= row < rows and hi > lo:  # the characters inside the area, in one write (as cell() each)
            self.codes[row, lo:hi] = [ord(ch) for ch in text[lo - start:hi - start]]
            self.styles[row, lo:hi] = self.style.ids(color, True)[self.cell_bg[row, lo:hi]]

    def current_points(self, points: Sequence[tuple[tuple[float, float], str, str]], count_color: str) -> None:
        """Each run's current point as its glyph; where several share a cell, their number
        (2 ... 9, + for more) in `count_color`, so that no run's glyph hides another's."""
        self.current_cells(current_cells(self.geometry, points), count_color)

    def current_cells(self, cells: list[tuple[int, int, str, str]], count_color: str) -> None:
        """current_points with the cells already found (current_cells)."""
        here: dict[tuple[int, int], list[tuple[str, str]]] = {}
        for row, col, glyph, color in cells:
            here.setdefault((row, col), []).append((glyph, color))
        for (row, col), marks in here.items():
            if len(marks) == 1:
                self.cell(row, col, *marks[0])
            else:
                self.cell(row, col, str(len(marks)) if len(marks) < 10 else "+", count_color)

    def markers(self, xs: np.ndarray, ys: np.ndarray, glyph: str, color: str) -> None:
        """`glyph` at each data point that falls inside the plot."""
        cols, rows, inside = self.geometry.data_to_cell(xs, ys)
        for c, r in zip(cols[inside], rows[inside]):
            self.cell(int(r), int(c), glyph, color)


def current_cells(geometry: Geometry, points: Sequence[tuple[tuple[float, float], str, str]]
                  ) -> list[tuple[int, int, str, str]]:
    """(row, col, glyph, colour) of each current point inside the plot, in order (one mapping
    of all the points: data_to_cell works point by point)."""
    if not points:
        return []
    xy = np.array([p[0] for p in points], dtype=float).reshape(len(points), 2)
    cols, rows, inside = geometry.data_to_cell(xy[:, 0], xy[:, 1])
    return [(int(r), int(c), glyph, color)
            for r, c, ok, (_, glyph, color) in zip(rows.tolist(), cols.tolist(), inside.tolist(), points) if ok]


@dataclass
class ContourCells:
    """A contour view painted as cell grids, ready to take a frame's overlay."""

    layout: Layout
    codes: np.ndarray  # (height, width) code points of the background
    styles: np.ndarray  # (height, width) style ids of the background
    cell_bg: np.ndarray  # (plot_rows, plot_cols) overlay background column of each plot cell
    overlay: OverlayStyles
    _last: tuple | None = dc_field(default=None, init=False, repr=False, compare=False)  # (inputs, codes, styles)

    def frame(self, runs: Sequence[RunTrace], arrows: Sequence[PlotArrow],
              minima: Sequence[tuple[float, float]],
              trails: TrailRasters | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The background with trajectories, arrows, minima and current points laid over it.
        `trails`: the paths' rasters kept from the last frame (the same bits, drawn from what
        changed); without it every path is rasterized whole. A frame drawn from the same
        inputs as the last one (the same dots of every path, cells of the current points,
        arrows and minima) is the last one's arrays themselves: callers do not write into
        them (late in a run most steps move no path by a dot)."""
        geometry = self.layout.geometry
        colors = [self.overlay.color(run.color) for run in runs]
        rasters = None
        if runs:
            if trails is None:
                rasters = np.stack([rasterize_polyline(run.xs, run.ys, geometry) for run in runs])
            else:
                rasters = np.stack(trails.bits(geometry, [(run.name, run.xs, run.ys) for run in runs]))
        cells = current_cells(geometry, [(run.current, run.glyph, color) for run, color in zip(runs, colors)
                                         if run.current is not None])
        inputs = (None if rasters is None else rasters.tobytes(), colors, list(arrows),
                  [(float(x), float(y)) for x, y in minima], cells)
        last = self._last
        if last is not None and last[0] == inputs:
            return last[1], last[2]
        ov = _Overlay(self.cell_bg, self.overlay, geometry)
        if rasters is not None:
            chars = braille_chars(np.bitwise_or.reduce(rasters, axis=0))
            for owner, color in zip(shared_cells(rasters > 0), colors):
                ov.put(owner, chars, color)
        for arrow in arrows:
            ov.arrow(arrow)
        if minima:
            mx, my = np.array(minima, dtype=float).T
            ov.markers(mx, my, MINIMUM_GLYPH, self.overlay.color(palette.MINIMUM_COLOR))
        ov.current_cells(cells, self.overlay.color(palette.MINIMUM_COLOR))
        codes, styles = self.codes.copy(), self.styles.copy()
        area = self.layout.plot_slice()
        mask = ov.styles >= 0
        codes[area] = np.where(mask, ov.codes, codes[area])
        styles[area] = np.where(mask, ov.styles, styles[area])
        self._last = (inputs, codes, styles)
        return codes, styles


def paint_contour(layout: Layout, field: ContourField, table: StyleTable, system: str,
                  low_bandwidth: bool, n_bands: int) -> ContourCells:
    """The background of a view: bands (or nothing) with braille iso-lines, and the axes."""
    codes, styles = blank_grid(layout.width, layout.height)
    n = field.levels.n_bands if field.levels is not None else n_bands
    if low_bandwidth:
        plot_codes, plot_styles = _line_cells(field, table, system, n)
        cell_bg = np.full(field.bands.shape, n + 1, dtype=np.int64)
        backgrounds: list[str | None] = [None] * (n + 2)
        # Overlay colours are adjusted only where they sit on the widget's own (possibly
        # light) background; band colours are dark, and the run colours are made for them.
        plain_bg = color_hex(table.base.bgcolor)
        halos = backgrounds
    else:
        plot_codes, plot_styles, backgrounds = _band_cells(field, table, system, n)
        cell_bg = np.where(field.bands >= 0, field.bands, n).astype(np.int64)
        plain_bg = None
        halos = [None if bg is None else palette.halo_color(bg, system) for bg in backgrounds]
    codes[layout.plot_slice()] = plot_codes
    styles[layout.plot_slice()] = plot_styles
    _paint_axes(codes, styles, layout, table)
    if layout.legend and field.levels is not None:
        _paint_legend(codes, styles, layout, field.levels.edges, table, system, low_bandwidth)
    overlay = OverlayStyles(table, [*backgrounds, *halos], system, plain_bg, len(backgrounds))
    return ContourCells(layout, codes, styles, cell_bg, overlay)


def _iso_codes(field: ContourField) -> tuple[np.ndarray, np.ndarray]:
    iso = field.iso_bits > 0
    return iso, np.where(iso, braille_chars(field.iso_bits), BLANK).astype(np.uint32)


def _band_cells(field: ContourField, table: StyleTable, system: str,
                n: int) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Filled bands with iso-lines in a lighter shade of each band; returns the overlay
    background columns too (0..n-1 band, n invalid, n+1 the widget's own)."""
    _, plot_codes = _iso_codes(field)
    band_bg = palette.band_colors(n, system)
    invalid = palette.invalid_color(system)
    iso_fg = palette.iso_line_colors(n, system)
    ids = np.array([table.get(fg=iso_fg[b], bg=band_bg[b]) for b in range(n)]
                   + [table.get(bg=invalid)], dtype=np.int32)
    plot_styles = ids[np.where(field.bands >= 0, field.bands, n)]
    return plot_codes, plot_styles, [*band_bg, invalid, None]


def _line_cells(field: ContourField, table: StyleTable, system: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Coloured iso-lines on the widget's background (low bandwidth)."""
    iso, plot_codes = _iso_codes(field)
    lines = palette.line_colors(n + 1, system, dark_background=is_dark(table.base))
    line_ids = np.array([table.get(fg=c) for c in lines], dtype=np.int32)
    plot_styles = np.where(iso, line_ids[np.clip(field.iso_level, 0, n)], 0).astype(np.int32)
    # A blank cell shows only its background, which is the same for every line colour
    # here: a row is then a few long segments instead of one escape sequence per dot.
    fill_blanks(plot_codes, plot_styles)
    return plot_codes, plot_styles


def _paint_axes(codes: np.ndarray, styles: np.ndarray, layout: Layout, table: StyleTable) -> None:
    """Axis lines with ticks, tick labels, the two parameter names, and the title (if any)."""
    top, rows = layout.top, layout.plot_rows
    draw_axes(codes, styles, layout, top, top + rows + 1, table.get(dim=True), table.get())
    name = table.get(bold=True)
    put_text(codes, styles, top, 0, layout.y_name, name)
    put_text(codes, styles, top + rows + 1, layout.left + layout.plot_cols - len(layout.x_name), layout.x_name, name)
    if layout.title:
        text = layout.title if len(layout.title) <= layout.width else layout.title[:layout.width - 1] + "…"
        put_text(codes, styles, 0, 0, text, table.get(bold=True, italic=True))


def _paint_legend(codes: np.ndarray, styles: np.ndarray, layout: Layout, edges: np.ndarray,
                  table: StyleTable, system: str, low_bandwidth: bool) -> None:
    """The level key at the plot's right: a header, then the bands from the highest (top) to
    the lowest, each row its band's lowest loss written on the band's colour (with no filled
    bands: the iso-line at that edge, in its colour). The header says what the numbers are."""
    n = len(edges) - 1
    col, width, top = layout.legend_left, layout.legend - 1, layout.top
    labels = level_labels(edges)
    put_text(codes, styles, top, col, "loss ≥" if not low_bandwidth else "lines", table.get(bold=True), width)
    if low_bandwidth:
        lines = palette.line_colors(n + 1, system, dark_background=is_dark(table.base))
        for row, k in enumerate(range(n - 1, 0, -1), start=top + 1):
            put_text(codes, styles, row, col, "─" + labels[k], table.get(fg=lines[k]), width)
        return
    bands = palette.band_colors(n, system)
    for row, k in enumerate(range(n - 1, -1, -1), start=top + 1):
        fg = "#000000" if palette.luminance(bands[k]) > 0.18 else "#ffffff"
        text = labels[k].ljust(width)
        put_text(codes, styles, row, col, text, table.get(fg=fg, bg=bands[k]), width)
