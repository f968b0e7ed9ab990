"""Geometry of the contour plot: sampled surface, level bands, iso-lines, ticks, braille rasters.

Everything the contour widget draws is computed here with NumPy (and contourpy for the
iso-lines), so that the widget only copies arrays into terminal cells. Nothing here knows
about terminals beyond "a grid of character cells, each holding 2x4 braille dots".

Coordinates:
- data: (x, y) in parameter space; y grows upwards.
- cell: (col, row) of the plot area; row 0 is the top row.
- dot: braille dot coordinates, 2 dots per cell across and 4 down; (px, py) floats, the
  dot (i, j) covers [i, i+1) x [j, j+1), so dot (0, 0) is the top-left dot of cell (0, 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import contourpy
import numpy as np

Window = tuple[float, float, float, float]
"""A view window (x0, x1, y0, y1) in data coordinates, x0 < x1 and y0 < y1."""

SurfaceFunc = Callable[[np.ndarray], np.ndarray]
"""A vectorized loss: points of shape (n, 2) -> values of shape (n,)."""

DOTS_X = 2
DOTS_Y = 4
BRAILLE_BASE = 0x2800
# Bit of the braille dot at (dot column within cell, dot row within cell), Unicode order.
BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint8)

DEFAULT_BANDS = 9
LOG_DECADES = 2.0
"""Log-spaced levels when the value range spans more than this many decades above the
10th percentile of (value - min): then linear bands would put most of the plot in one band."""

MIN_PLOT_COLS = 12
MIN_PLOT_ROWS = 4
BOTTOM_MARGIN = 2  # the x axis line and the x tick labels
MAX_NAME = 10  # axis names longer than this are cut with an ellipsis

ARROW_GLYPHS = "→↗↑↖←↙↓↘"  # by octant, counter-clockwise from east
LEGEND_WIDTH = 8
"""Columns the level key takes at the plot's right: a space, then one row per band with the
band's lowest loss written on its colour (labels of at most 7 characters, level_label)."""


# --------------------------------------------------------------------------- windows


def check_window(window: Sequence[float]) -> Window:
    """Return the window as a float tuple; raise ValueError if it is empty or not finite."""
    x0, x1, y0, y1 = (float(v) for v in window)
    if not all(math.isfinite(v) for v in (x0, x1, y0, y1)) or not (x0 < x1 and y0 < y1):
        raise ValueError(f"window must be finite with x0 < x1 and y0 < y1, got {tuple(window)}")
    return (x0, x1, y0, y1)


def zoom_window(window: Window, factor: float, center: tuple[float, float] | None = None) -> Window:
    """Zoom in by `factor` (> 1 shows less, < 1 shows more) keeping `center` (default: the
    window's middle) at the same place on screen."""
    if not (factor > 0 and math.isfinite(factor)):
        raise ValueError(f"zoom factor must be positive, got {factor}")
    x0, x1, y0, y1 = window
    cx, cy = center if center is not None else ((x0 + x1) / 2, (y0 + y1) / 2)
    nx0, nx1 = cx + (x0 - cx) / factor, cx + (x1 - cx) / factor
    ny0, ny1 = cy + (y0 - cy) / factor, cy + (y1 - cy) / factor
    # Refuse to zoom into a window so thin that floating point can no longer resolve it.
    if (nx1 - nx0) < 1e-9 * max(1.0, abs(cx)) or (ny1 - ny0) < 1e-9 * max(1.0, abs(cy)):
        return window
    return check_window((nx0, nx1, ny0, ny1))


def pan_window(window: Window, dx_frac: float, dy_frac: float) -> Window:
    """Move the window by fractions of its width (right is +) and height (up is +)."""
    x0, x1, y0, y1 = window
    dx, dy = dx_frac * (x1 - x0), dy_frac * (y1 - y0)
    return check_window((x0 + dx, x1 + dx, y0 + dy, y1 + dy))


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Geometry:
    """Maps data coordinates onto a plot area of `cols` x `rows` character cells."""

    window: Window
    cols: int
    rows: int

    @property
    def dots(self) -> tuple[int, int]:
        """Size of the braille dot grid (width, height)."""
        return self.cols * DOTS_X, self.rows * DOTS_Y

    def data_to_dots(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Float dot coordinates of data points (outside the window they fall outside the grid)."""
        x0, x1, y0, y1 = self.window
        w, h = self.dots
        with np.errstate(all="ignore"):
            px = (np.asarray(xs, dtype=float) - x0) * (w / (x1 - x0))
            py = (y1 - np.asarray(ys, dtype=float)) * (h / (y1 - y0))
        return px, py

    def dots_to_data(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Data coordinates of float dot coordinates (inverse of data_to_dots)."""
        x0, x1, y0, y1 = self.window
        w, h = self.dots
        return (x0 + np.asarray(px, dtype=float) * ((x1 - x0) / w),
                y1 - np.asarray(py, dtype=float) * ((y1 - y0) / h))

    def data_to_cell(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cols, rows, inside) of data points; `inside` is False for points off the plot or NaN."""
        px, py = self.data_to_dots(xs, ys)
        w, h = self.dots
        inside = (px >= 0) & (px < w) & (py >= 0) & (py < h)
        with np.errstate(invalid="ignore"):
            cols = np.where(inside, np.floor(np.where(inside, px, 0) / DOTS_X), -1).astype(np.int64)
            rows = np.where(inside, np.floor(np.where(inside, py, 0) / DOTS_Y), -1).astype(np.int64)
        return cols, rows, inside

    def cell_to_data(self, col: float, row: float) -> tuple[float, float]:
        """Data coordinates of the centre of plot cell (col, row), e.g. for a mouse click."""
        x, y = self.dots_to_data((col + 0.5) * DOTS_X, (row + 0.5) * DOTS_Y)
        return float(x), float(y)

    @property
    def cell_size(self) -> tuple[float, float]:
        """Width and height of one cell in data units."""
        x0, x1, y0, y1 = self.window
        return (x1 - x0) / self.cols, (y1 - y0) / self.rows


# --------------------------------------------------------------------------- ticks


@dataclass(frozen=True)
class Ticks:
    """Tick values, their cell index along the axis, and their labels."""

    values: np.ndarray
    cells: np.ndarray
    labels: list[str]
    step: float


class PlotArea:
    """What a layout of a plot area with axes (left and below) can say about it. A base for
    the frozen layout dataclasses, which declare these fields."""

    left: int  # first column of the plot area (the y axis line is at left - 1)
    geometry: Geometry
    x_ticks: Ticks  # cells are plot columns
    y_ticks: Ticks  # cells are plot rows

    @property
    def plot_cols(self) -> int:
        return self.geometry.cols

    @property
    def plot_rows(self) -> int:
        return self.geometry.rows

    def x_label_starts(self) -> list[int]:
        """Plot-relative start column of each x tick label, centred on its tick and kept inside."""
        return [min(max(0, int(c) - len(lab) // 2), self.plot_cols - len(lab))
                for c, lab in zip(self.x_ticks.cells, self.x_ticks.labels)]


def nice_step(span: float, max_ticks: int) -> float:
    """The smallest step of the form {1, 2, 5} x 10^k giving at most `max_ticks` ticks."""
    if not (span > 0 and math.isfinite(span)):
        raise ValueError(f"span must be positive, got {span}")
    raw = span / max(1, max_ticks - 1)
    exp = math.floor(math.log10(raw))
    for mult in (1.0, 2.0, 5.0, 10.0):
        step = mult * 10.0**exp
        if step >= raw * (1 - 1e-9):
            return step
    return 10.0 ** (exp + 1)  # pragma: no cover - the loop always returns


def nice_ticks(lo: float, hi: float, max_ticks: int) -> tuple[np.ndarray, float]:
    """Multiples of a nice step inside [lo, hi], at most about `max_ticks` of them."""
    step = nice_step(hi - lo, max_ticks)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    values = np.arange(first, last + 1, dtype=float) * step
    return values, step


def format_ticks(values: np.ndarray, step: float) -> list[str]:
    """Short labels with just enough decimals for the step (no '-0')."""
    big = np.max(np.abs(values)) if len(values) else 0.0
    if big >= 1e5 or step < 1e-4:
        labels = [f"{v:.3g}" for v in values]
    else:
        decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        labels = [f"{v:.{decimals}f}" for v in values]
    return ["0" if float(lab) == 0.0 else lab for lab in labels]


def _axis_ticks(lo: float, hi: float, n_cells: int, max_ticks: int, flip: bool) -> Ticks:
    values, step = nice_ticks(lo, hi, max_ticks)
    frac = (values - lo) / (hi - lo)
    if flip:
        frac = 1.0 - frac
    cells = np.clip(np.floor(frac * n_cells), 0, n_cells - 1).astype(np.int64)
    return Ticks(values, cells, format_ticks(values, step), step)


def _fits(ticks: Ticks, width: int) -> bool:
    """True if the x labels, centred under their ticks, stay apart by at least 2 spaces."""
    end = -3
    for cell, label in zip(ticks.cells, ticks.labels):
        start = min(max(0, int(cell) - len(label) // 2), width - len(label))
        if start < end + 2:
            return False
        end = start + len(label)
    return True


def _shorten(name: str, limit: int) -> str:
    return name if len(name) <= limit else name[: max(0, limit - 1)] + "…"


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout(PlotArea):
    """Where the plot area, the axes and their labels go inside a widget of width x height."""

    width: int
    height: int
    left: int  # first column of the plot area (the y axis line is at left - 1)
    geometry: Geometry
    x_ticks: Ticks  # cells are plot columns
    y_ticks: Ticks  # cells are plot rows
    x_name: str
    y_name: str
    legend: int = 0  # columns of the level key at the right (0: no key)
    title: str = ""  # shown on the top row (then the plot area starts one row lower)

    @property
    def top(self) -> int:
        """Row of the plot area's first row: below the title, if there is one."""
        return 1 if self.title else 0

    def plot_slice(self) -> tuple[slice, slice]:
        """The plot area's cells in the widget's grids (rows, columns)."""
        return slice(self.top, self.top + self.plot_rows), slice(self.left, self.left + self.plot_cols)

    @property
    def legend_left(self) -> int:
        """First column of the level key's labels (after its one-column gap)."""
        return self.left + self.plot_cols + 1

    def widget_to_data(self, x: int, y: int) -> tuple[float, float] | None:
        """Data point under widget cell (x, y), or None if the cell is not in the plot area."""
        col, row = x - self.left, y - self.top
        if 0 <= col < self.plot_cols and 0 <= row < self.plot_rows:
            return self.geometry.cell_to_data(col, row)
        return None


def level_label(value: float, digits: int = 2) -> str:
    """A band edge in few characters (7 at two digits): `digits` significant digits, short exponents."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    text = f"{value:.{digits}g}"
    if "e" in text:
        mant, exp = text.split("e")
        text = f"{mant}e{int(exp)}"
    return text


def level_labels(edges: Sequence[float]) -> list[str]:
    """Labels of band edges with the fewest significant digits (2 to 5) that tell them all apart:
    log levels over a narrow range (0.5188 .. 0.5201) would otherwise read 0.52 four times."""
    values = [float(v) for v in edges]
    for digits in range(2, 6):
        labels = [level_label(v, digits) for v in values]
        if len(set(labels)) == len(labels):
            return labels
    return labels


def plan_layout(width: int, height: int, window: Window, param_names: Sequence[str] = ("x", "y"),
                legend_rows: int = 0, title: str = "") -> Layout | None:
    """Lay out axes and plot area; None when the widget is too small for a usable plot.

    With `legend_rows` (the level key's rows: a header and one per band), LEGEND_WIDTH
    columns at the right are kept for the key when the plot is tall enough for all of them
    and stays at least twice MIN_PLOT_COLS wide. A `title` takes the top row (what a slice
    of a model with more parameters shows)."""
    window = check_window(window)
    x0, x1, y0, y1 = window
    x_name = _shorten(str(param_names[0]) if len(param_names) > 0 else "x", MAX_NAME)
    y_name = _shorten(str(param_names[1]) if len(param_names) > 1 else "y", MAX_NAME)
    rows = height - BOTTOM_MARGIN - (1 if title else 0)
    if rows < MIN_PLOT_ROWS:
        return None
    # y ticks: about one per 3 rows; row 0 of the margin holds the y name, so a tick there
    # keeps its mark on the axis but loses its label.
    y_ticks = _axis_ticks(y0, y1, rows, max(2, rows // 3 + 1), flip=True)
    labels = [lab if cell > 0 else "" for cell, lab in zip(y_ticks.cells, y_ticks.labels)]
    y_ticks = Ticks(y_ticks.values, y_ticks.cells, labels, y_ticks.step)
    left = max([len(lab) for lab in labels] + [len(y_name)]) + 1
    cols = width - left
    if cols < MIN_PLOT_COLS:
        return None
    legend = LEGEND_WIDTH if 0 < legend_rows <= rows and cols - LEGEND_WIDTH >= 2 * MIN_PLOT_COLS else 0
    cols -= legend
    # x ticks: as many as fit without labels touching; the x name takes the end of the row.
    name_room = len(x_name) + 1
    x_ticks = _axis_ticks(x0, x1, cols, 2, flip=False)
    for n in range(max(2, cols // 4), 1, -1):
        candidate = _axis_ticks(x0, x1, cols, n, flip=False)
        if _fits(candidate, cols - name_room):
            x_ticks = candidate
            break
    # Drop labels that would run into the x name.
    limit = cols - name_room
    keep = []
    for cell, lab in zip(x_ticks.cells, x_ticks.labels):
        start = min(max(0, int(cell) - len(lab) // 2), cols - len(lab))
        keep.append(lab if start + len(lab) < limit else "")
    x_ticks = Ticks(x_ticks.values, x_ticks.cells, keep, x_ticks.step)
    return Layout(width, height, left, Geometry(window, cols, rows), x_ticks, y_ticks, x_name, y_name, legend,
                  title)


# --------------------------------------------------------------------------- levels and bands


@dataclass(frozen=True)
class Levels:
    """Band edges. With `log`, edges are evenly spaced in t = log(v - vmin + eps), else in v."""

    edges: np.ndarray  # n_bands + 1 values, increasing, edges[0] = vmin, edges[-1] = vmax
    log: bool
    vmin: float
    eps: float

    @property
    def n_bands(self) -> int:
        return len(self.edges) - 1

    def transform(self, values: np.ndarray) -> np.ndarray:
        """The scale on which the levels are evenly spaced."""
        v = np.asarray(values, dtype=float)
        if not self.log:
            return v
        with np.errstate(all="ignore"):
            return np.log(np.maximum(v - self.vmin, 0.0) + self.eps)


SKEW = 0.2
"""Median of (value - min) below this share of the range: the values are skewed, use log levels."""


def choose_levels(values: np.ndarray, n_bands: int = DEFAULT_BANDS,
                  log_decades: float = LOG_DECADES) -> Levels | None:
    """Pick band edges for the finite values; None if there is no finite value.

    Linear edges unless max(v) - min(v) exceeds the 10th percentile of v - min(v) by more
    than `log_decades` decades (Rosenbrock, Beale: a deep narrow valley), or the median of
    v - min(v) lies below `SKEW` of the range (Himmelblau: high walls at the corners would
    leave half the plot, where the minima and saddles are, in the bottom linear band). Then
    the edges are evenly spaced in log(v - vmin + eps) with eps = the 2nd percentile of
    v - vmin (at least 1e-6 of the range), so the bottom band is the valley floor rather
    than a single point.
    """
    if n_bands < 1:
        raise ValueError("n_bands must be at least 1")
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    vmin, vmax = float(v.min()), float(v.max())
    span = vmax - vmin
    if not (span > 0) or not math.isfinite(span):
        # A flat (or overflowing) surface: one band edge pair around the value.
        lo, hi = vmin - 0.5, vmin + 0.5
        return Levels(np.linspace(lo, hi, n_bands + 1), False, lo, 1.0)
    d = v - vmin
    # The spread is measured against the 10th percentile of the values above the minimum
    # (ignoring exact ties with it, e.g. a flat valley floor).
    positive = d[d > 0]
    p10 = float(np.percentile(positive, 10)) if positive.size else span
    use_log = math.log10(span / p10) > log_decades or float(np.median(d)) < SKEW * span
    if not use_log:
        return Levels(np.linspace(vmin, vmax, n_bands + 1), False, vmin, 0.0)
    eps = max(float(np.percentile(d, 2)), span * 1e-6, np.finfo(float).tiny)
    t = np.linspace(math.log(eps), math.log(span + eps), n_bands + 1)
    edges = vmin + np.exp(t) - eps
    edges[0], edges[-1] = vmin, vmax
    return Levels(edges, True, vmin, eps)


def assign_bands(values: np.ndarray, levels: Levels | None) -> np.ndarray:
    """Band index 0..n_bands-1 of each value (monotone in the value); -1 where not finite."""
    v = np.asarray(values, dtype=float)
    out = np.full(v.shape, -1, dtype=np.int16)
    if levels is None:
        return out
    finite = np.isfinite(v)
    idx = np.searchsorted(levels.edges[1:-1], v[finite], side="right")
    out[finite] = idx.astype(np.int16)
    return out


# --------------------------------------------------------------------------- braille raster


def clip_segments(ax, ay, bx, by, w: float, h: float):
    """Liang-Barsky clipping of segments a->b to [0, w] x [0, h]; returns the clipped
    endpoints and a mask of segments that keep a part inside. Segments wholly inside are
    returned as they are (most of a frame's: the clipping's dozen passes are for the rest)."""
    inside = ((ax >= 0) & (ax <= w) & (bx >= 0) & (bx <= w) & (ay >= 0) & (ay <= h) & (by >= 0) & (by <= h))
    if inside.all():
        return ax, ay, bx, by, inside
    if inside.any():
        out = ~inside
        parts = _clip_all(ax[out], ay[out], bx[out], by[out], w, h)
        clipped = [a.copy() for a in (ax, ay, bx, by)] + [inside.copy()]
        for whole, part in zip(clipped, parts):
            whole[out] = part
        return tuple(clipped)
    return _clip_all(ax, ay, bx, by, w, h)


def _clip_all(ax, ay, bx, by, w: float, h: float):
    """Liang-Barsky on every segment (see clip_segments)."""
    dx, dy = bx - ax, by - ay
    t0 = np.zeros_like(ax)
    t1 = np.ones_like(ax)
    keep = np.ones(ax.shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, q in ((-dx, ax), (dx, w - ax), (-dy, ay), (dy, h - ay)):
            parallel = p == 0
            keep &= ~(parallel & (q < 0))
            r = q / p
            neg = (p < 0) & ~parallel
            pos = (p > 0) & ~parallel
            t0 = np.where(neg, np.maximum(t0, r), t0)
            t1 = np.where(pos, np.minimum(t1, r), t1)
    keep &= t0 <= t1
    return ax + t0 * dx, ay + t0 * dy, ax + t1 * dx, ay + t1 * dy, keep


FEW_DOTS = 1024
"""Below this many dots, dots_to_bits works dot by dot (faster than a whole grid's passes)."""


def dots_to_bits(ix: np.ndarray, iy: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """Pack integer dot coordinates (already inside the grid) into a (rows, cols) array of
    braille bit masks. A few dots (an arrow's shaft) are or-ed into their cells one by one;
    many (a long path) are set on a dot grid first, which costs the grid's size instead."""
    if ix.size < FEW_DOTS:
        out = np.zeros(rows * cols, dtype=np.uint8)
        np.bitwise_or.at(out, (iy // DOTS_Y) * cols + ix // DOTS_X, BRAILLE_BITS[iy % DOTS_Y, ix % DOTS_X])
        return out.reshape(rows, cols)
    grid = np.zeros((rows * DOTS_Y, cols * DOTS_X), dtype=np.uint8)
    grid[iy, ix] = 1
    bits = np.zeros((rows, cols), dtype=np.uint8)
    for dy in range(DOTS_Y):
        for dx in range(DOTS_X):
            bits |= grid[dy::DOTS_Y, dx::DOTS_X] * BRAILLE_BITS[dy, dx]
    return bits


def rasterize_dot_polyline(px: np.ndarray, py: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """Braille bit masks (rows, cols) of a polyline given in dot coordinates.

    Consecutive points are joined by segments clipped to the grid and sampled at most one
    dot apart, so the drawn line is 8-connected. A NaN (or infinite) point breaks the line;
    isolated finite points inside the grid are drawn as single dots.
    """
    px = np.asarray(px, dtype=float).ravel()
    py = np.asarray(py, dtype=float).ravel()
    w, h = cols * DOTS_X, rows * DOTS_Y
    finite = np.isfinite(px) & np.isfinite(py)
    xs_all = [px[finite]]
    ys_all = [py[finite]]
    if px.size >= 2:
        ok = finite[:-1] & finite[1:]
        ax, ay, bx, by = px[:-1][ok], py[:-1][ok], px[1:][ok], py[1:][ok]
        # Clip to the grid (slightly inside the far edges so floor() stays in range).
        ax, ay, bx, by, keep = clip_segments(ax, ay, bx, by, w - 1e-9, h - 1e-9)
        ax, ay, bx, by = ax[keep], ay[keep], bx[keep], by[keep]
        if ax.size:
            n = np.ceil(np.maximum(np.abs(bx - ax), np.abs(by - ay))).astype(np.int64) + 1
            seg = np.repeat(np.arange(ax.size), n)
            starts = np.cumsum(n) - n
            step = np.arange(int(n.sum())) - np.repeat(starts, n)
            t = step / np.repeat(np.maximum(n - 1, 1), n)
            xs_all.append(ax[seg] + t * (bx - ax)[seg])
            ys_all.append(ay[seg] + t * (by - ay)[seg])
    sx = np.concatenate(xs_all)
    sy = np.concatenate(ys_all)
    inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
    ix = np.floor(sx[inside]).astype(np.int64)
    iy = np.floor(sy[inside]).astype(np.int64)
    return dots_to_bits(ix, iy, cols, rows)


def rasterize_polyline(xs: np.ndarray, ys: np.ndarray, geometry: Geometry) -> np.ndarray:
    """Braille bit masks (rows, cols) of a polyline in data coordinates (NaN breaks it)."""
    px, py = geometry.data_to_dots(xs, ys)
    return rasterize_dot_polyline(px, py, geometry.cols, geometry.rows)


def braille_chars(bits: np.ndarray) -> np.ndarray:
    """Unicode code points of the braille characters for bit masks (0 stays 0)."""
    b = np.asarray(bits, dtype=np.uint32)
    return np.where(b > 0, BRAILLE_BASE + b, 0).astype(np.uint32)


@dataclass(frozen=True)
class ArrowRaster:
    """An arrow: braille shaft bits (rows, cols) and the head glyph's cell (None if the
    arrow has no length or starts off the plot)."""

    shaft: np.ndarray
    head: tuple[int, int, str] | None  # (row, col, glyph)


def _dots_of(x: float, y: float, geometry: Geometry) -> tuple[float, float]:
    """Geometry.data_to_dots of one point, in floats (the same operations in the same order)."""
    x0, x1, y0, y1 = geometry.window
    w, h = geometry.dots
    return (x - x0) * (w / (x1 - x0)), (y1 - y) * (h / (y1 - y0))


def _segment_bits(ax: float, ay: float, bx: float, by: float, cols: int, rows: int) -> np.ndarray:
    """rasterize_dot_polyline of the two points a, b (finite, inside its clip box), sample by
    sample as it takes them: the points, then t = k / (n - 1) of the way for k < n."""
    w, h = cols * DOTS_X, rows * DOTS_Y
    dx, dy = bx - ax, by - ay
    n = math.ceil(max(abs(dx), abs(dy))) + 1
    m = max(n - 1, 1)
    xs, ys = [ax, bx], [ay, by]
    for k in range(n):
        t = k / m
        xs.append(ax + t * dx)
        ys.append(ay + t * dy)
    out = np.zeros((rows, cols), dtype=np.uint8)
    for x, y in zip(xs, ys):
        if 0 <= x < w and 0 <= y < h:
            ix, iy = math.floor(x), math.floor(y)
            out[iy // DOTS_Y, ix // DOTS_X] |= BRAILLE_BITS[iy % DOTS_Y, ix % DOTS_X]
    return out


def rasterize_arrow(origin: tuple[float, float], direction: tuple[float, float],
                    geometry: Geometry, length_dots: float | None = None, scale: float = 1.0) -> ArrowRaster:
    """An arrow from `origin` along `direction` (data units), drawn with a fixed on-screen
    length (default: a fifth of the plot's smaller side, at least 6 dots) because gradient
    magnitudes vary over orders of magnitude; it is cut where it leaves the plot. `scale`
    (0 to 1) shortens the default length, to draw two vectors of one kind in proportion."""
    w, h = geometry.dots
    empty = ArrowRaster(np.zeros((geometry.rows, geometry.cols), dtype=np.uint8), None)
    x0, x1, y0, y1 = geometry.window
    with np.errstate(all="ignore"):
        # data_to_dots of the origin, in floats: the same operations on the same values
        ox, oy = _dots_of(float(origin[0]), float(origin[1]), geometry)
        vx = float(direction[0]) * (w / (x1 - x0))
        vy = -float(direction[1]) * (h / (y1 - y0))
    norm = math.hypot(vx, vy)
    if not (math.isfinite(norm) and norm > 0 and math.isfinite(ox) and math.isfinite(oy)):
        return empty
    if not (0 <= ox < w and 0 <= oy < h):
        return empty
    if length_dots is None:
        length_dots = max(2.0, max(6.0, 0.2 * min(w, h)) * min(1.0, max(0.0, scale)))
    ux, uy = vx / norm, vy / norm
    ex, ey = ox + ux * length_dots, oy + uy * length_dots
    wc, hc = w - 1e-9, h - 1e-9
    if 0 <= ox <= wc and 0 <= oy <= hc and 0 <= ex <= wc and 0 <= ey <= hc:
        # Inside the clip box (the usual arrow): clipping leaves it as it is, and its few
        # samples are taken one by one (a dozen small array passes cost more than the arrow).
        shaft = _segment_bits(ox, oy, ex, ey, geometry.cols, geometry.rows)
    else:
        cax, cay, cbx, cby, keep = clip_segments(np.array([ox]), np.array([oy]), np.array([ex]),
                                                  np.array([ey]), wc, hc)
        ex, ey = float(cbx[0]), float(cby[0])
        shaft = rasterize_dot_polyline(np.array([ox, ex]), np.array([oy, ey]), geometry.cols, geometry.rows)
    angle = math.atan2(-uy, ux)  # screen y grows down; angles counter-clockwise from east
    octant = int(round(angle / (math.pi / 4))) % 8
    head = (int(ey // DOTS_Y), int(ex // DOTS_X), ARROW_GLYPHS[octant])
    return ArrowRaster(shaft, head)


# --------------------------------------------------------------------------- the field


@dataclass(frozen=True)
class ContourField:
    """Everything the plot background needs for one view and size."""

    geometry: Geometry
    levels: Levels | None  # None when no sampled value is finite
    bands: np.ndarray  # (rows, cols) int16 band of each cell (value at its centre), -1 = not finite
    iso_bits: np.ndarray  # (rows, cols) uint8 braille bits of the iso-lines
    iso_level: np.ndarray  # (rows, cols) int16 index (1..n_bands-1) of the edge drawn there, -1 none
    cell_values: np.ndarray = field(repr=False)  # (rows, cols) float value at each cell centre


def sample_surface(func: SurfaceFunc, geometry: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Values at braille-dot centres (4*rows, 2*cols) and at cell centres (rows, cols), from
    a single vectorized call of `func`."""
    w, h = geometry.dots
    dx, dy = geometry.dots_to_data(np.arange(w) + 0.5, np.arange(h) + 0.5)
    cx, cy = geometry.dots_to_data((np.arange(geometry.cols) + 0.5) * DOTS_X,
                                   (np.arange(geometry.rows) + 0.5) * DOTS_Y)
    gx, gy = np.meshgrid(dx, dy)
    kx, ky = np.meshgrid(cx, cy)
    pts = np.concatenate([np.column_stack([gx.ravel(), gy.ravel()]),
                          np.column_stack([kx.ravel(), ky.ravel()])])
    with np.errstate(all="ignore"):
        vals = np.asarray(func(pts), dtype=float).reshape(-1)
    if vals.size != pts.shape[0]:
        raise ValueError(f"surface function returned {vals.size} values for {pts.shape[0]} points")
    n_fine = w * h
    return vals[:n_fine].reshape(h, w), vals[n_fine:].reshape(geometry.rows, geometry.cols)


def compute_contour_field(func: SurfaceFunc, geometry: Geometry,
                          n_bands: int = DEFAULT_BANDS) -> ContourField:
    """Sample the surface over the view, choose levels, assign bands and trace iso-lines.

    Iso-lines are contourpy's lines at the interior band edges, traced on the braille-dot
    grid (in the log-transformed value when levels are log-spaced) and rasterized to braille
    dots: they follow the true level curve at 2x4 sub-cell resolution, whereas band-boundary
    cells would only repeat the cell staircase that the band colours already show.
    """
    fine, centre = sample_surface(func, geometry)
    levels = choose_levels(fine, n_bands)
    bands = assign_bands(centre, levels)
    rows, cols = geometry.rows, geometry.cols
    iso_bits = np.zeros((rows, cols), dtype=np.uint8)
    iso_level = np.full((rows, cols), -1, dtype=np.int16)
    if levels is not None and levels.n_bands > 1:
        t = levels.transform(fine)
        t_edges = levels.transform(levels.edges)
        mask = ~np.isfinite(t)
        z = np.ma.array(np.where(mask, 0.0, t), mask=mask) if mask.any() else t
        w, h = geometry.dots
        gen = contourpy.contour_generator(np.arange(w) + 0.5, np.arange(h) + 0.5, z,
                                          line_type="ChunkCombinedNan")
        for k in range(1, levels.n_bands):
            lines = gen.lines(float(t_edges[k]))[0]
            pts = [a for a in lines if a is not None and len(a)]
            if not pts:
                continue
            xy = np.concatenate(pts)
            bits = rasterize_dot_polyline(xy[:, 0], xy[:, 1], cols, rows)
            hit = bits > 0
            iso_bits |= bits
            iso_level[hit] = k
    return ContourField(geometry, levels, bands, iso_bits, iso_level, centre)
