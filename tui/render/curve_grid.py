"""Geometry of the curve plots (loss and learning rate against steps): scales, ticks, rasters.

The app's curve widget only copies what this module computes into terminal cells, as the
contour widget does with contour_grid. A curve plot is a plot area of character cells,
each holding 2x4 braille dots, with y tick labels on its left and x ticks below it.

Log scale: y is plotted as log10(y) when every finite value is positive and the values
span more than one decade; otherwise linear. The y range only grows while a scenario
plays (CurveRange) and its edges snap to a grid of about a thirty-second of its span, so
the axes stay still while the curves are drawn and move only when a new minimum crosses a
grid line; it starts again on reset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...engine.text_format import decade_label, sig, step_label
from .curve_clip import runaway_ceiling
from .contour_grid import (
    BRAILLE_BITS,
    DOTS_X,
    DOTS_Y,
    Geometry,
    PlotArea,
    Ticks,
    clip_segments,
    format_ticks,
    nice_step,
    nice_ticks,
    rasterize_dot_polyline,
)
from .shared_cells import shared_cells

LOG_MIN_DECADES = 1.0
"""Values spanning more decades than this are plotted on a log scale (if all positive)."""

MAX_DECADES = 40.0
"""A log range never spans more than this (below it values sit on the floor, and the chart
says so): wide enough for a loss of 1e-25 under a start of 1e3, which converged runs reach."""

LOG_X_SPREAD = 10.0
"""Curves whose x extents end more than this many times apart get a log x axis (x_scale_for)."""

MIN_CURVE_COLS = 8
MIN_CURVE_ROWS = 2


@dataclass
class CurveRange:
    """The y range of a curve plot: grows to hold new values, never shrinks until reset."""

    lo: float = math.inf
    hi: float = -math.inf
    positive: bool = True  # every value seen so far is > 0

    def reset(self) -> None:
        self.lo, self.hi, self.positive = math.inf, -math.inf, True

    def include_series(self, series: Sequence["CurveSeries"]) -> bool:
        """Take in the values of these curves up to their runaway ceiling (runaway_ceiling):
        a diverged run does not stretch the range; True if the range changed."""
        if not series:
            return False
        ceiling = runaway_ceiling(series)
        v = np.concatenate([np.asarray(s.ys, dtype=float).ravel() for s in series])
        with np.errstate(invalid="ignore"):
            return self.include(v[v <= ceiling])

    def include(self, values: np.ndarray) -> bool:
        """Take in new values (NaN and inf ignored); True if the range changed."""
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if not v.size:
            return False
        lo, hi = float(v.min()), float(v.max())
        changed = lo < self.lo or hi > self.hi or (self.positive and lo <= 0)
        self.lo, self.hi = min(self.lo, lo), max(self.hi, hi)
        self.positive = self.positive and lo > 0
        return changed

    @property
    def empty(self) -> bool:
        return not self.lo <= self.hi

    def scale(self) -> "YScale":
        """The scale to draw with: log where it fits, else linear. Its edges sit on a grid of
        about a thirty-second of the span, at least half a grid step beyond the values (the
        headroom): a loss reaching a new low moves the axes only when it crosses a grid line
        (every step otherwise drew the chart's axes and all its curves again), and the same
        values give the same axes whatever frames the app drew. The extremes it labels are
        rounded as their labels are (two significant digits)."""
        if self.empty:
            return YScale(False, 0.0, 1.0)
        lo, hi = self.lo, self.hi
        ends = _labelled(lo), _labelled(hi)
        if self.positive and hi / lo > 10.0 ** LOG_MIN_DECADES:
            top = math.log10(hi)
            bottom = max(math.log10(lo), top - MAX_DECADES)
            return YScale(True, *_on_grid(bottom, top), *ends)
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            half = max(abs(hi) * 0.1, 1e-12)
            return YScale(False, lo - half, hi + half, *ends)
        return YScale(False, *_on_grid(lo, hi), *ends)


GRID_STEPS = 32
"""The edges of a curve chart's y range are multiples of a {1, 2, 5} x 10^k step of at least
1/GRID_STEPS of the values' span (CurveRange.scale)."""


def _on_grid(lo: float, hi: float) -> tuple[float, float]:
    """Edges on the grid holding [lo, hi] with half a step or more to spare on each side."""
    step = nice_step(hi - lo, GRID_STEPS + 1)
    return math.floor(lo / step - 0.5) * step, math.ceil(hi / step + 0.5) * step


def _labelled(value: float) -> float:
    """The value an axis label of two significant digits shows."""
    return float(sig(value, 2))


@dataclass(frozen=True)
class YScale:
    """How y values map onto the plot: `log` means the axis is log10(y); lo/hi in axis units;
    data_lo/data_hi the smallest and largest value the range holds, as the axis labels them
    (two significant digits)."""

    log: bool
    lo: float
    hi: float
    data_lo: float | None = None
    data_hi: float | None = None

    @property
    def top(self) -> float:
        """The value at the top edge, in data units."""
        return 10.0 ** self.hi if self.log else self.hi

    @property
    def bottom(self) -> float:
        """The value at the bottom edge, in data units."""
        return 10.0 ** self.lo if self.log else self.lo

    def transform(self, values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        if not self.log:
            return v
        with np.errstate(all="ignore"):
            out = np.log10(np.where(v > 0, v, np.nan))
        # Zero, negative or below the range: pinned to the bottom edge instead of vanishing.
        out = np.where((v <= 0) | (out < self.lo), self.lo, out)
        return out


@dataclass(frozen=True)
class CurveAxes(PlotArea):
    """Where the plot area, the axes and their labels go inside a widget of width x height."""

    width: int
    height: int
    left: int  # first column of the plot area (the y axis line is at left - 1)
    top: int  # first row of the plot area
    geometry: Geometry  # the plot area; its window is (x0, x1, y0, y1) in axis units
    scale: YScale
    y_ticks: Ticks  # cells are plot rows
    x_ticks: Ticks  # cells are plot columns
    x_label_row: int | None  # widget row of the x tick labels (None: no room)
    x_log: bool = False  # the x axis is log10(x): the window's x0, x1 are decades, xs are mapped

    def x_transform(self, xs: np.ndarray) -> np.ndarray:
        """x values in axis units: log10 on a log x axis (x <= 0 becomes NaN: off the plot)."""
        v = np.asarray(xs, dtype=float)
        if not self.x_log:
            return v
        with np.errstate(all="ignore"):
            return np.log10(np.where(v > 0, v, np.nan))


def _log_ticks(lo: float, hi: float, max_ticks: int) -> tuple[np.ndarray, list[str]]:
    """Decades inside [lo, hi] (axis units = log10), thinned to at most max_ticks."""
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    decades = np.arange(first, last + 1)
    if decades.size == 0:
        mid = round((lo + hi) / 2, 1)
        return np.array([mid]), [sig(10.0 ** mid, 2)]
    every = max(1, math.ceil(decades.size / max(1, max_ticks)))
    decades = decades[decades % every == 0] if every > 1 else decades
    return decades.astype(float), [decade_label(int(d)) for d in decades]


def _ticks_on_cells(values: np.ndarray, labels: list[str], lo: float, hi: float, n: int,
                    flip: bool, step: float) -> Ticks:
    frac = (values - lo) / (hi - lo)
    if flip:
        frac = 1.0 - frac
    cells = np.clip(np.floor(frac * n), 0, n - 1).astype(np.int64)
    return Ticks(values, cells, labels, step)


def y_ticks(scale: YScale, rows: int) -> Ticks:
    """Tick values and labels for the y axis: decades on a log scale, nice steps else; on a
    log scale the largest and smallest values are labelled too where no decade is near
    them (a rate of 0.3 above the 0.1 tick, a loss of 4.9e-25 under 1e-20)."""
    max_ticks = max(2, rows // 2 + 1)
    if scale.log:
        values, labels = _log_ticks(scale.lo, scale.hi, max_ticks)
        ticks = _ticks_on_cells(values, labels, scale.lo, scale.hi, rows, True, 1.0)
        return _with_extremes(ticks, scale, rows)
    values, step = nice_ticks(scale.lo, scale.hi, max_ticks)
    return _ticks_on_cells(values, format_ticks(values, step), scale.lo, scale.hi, rows, True, step)


def _with_extremes(ticks: Ticks, scale: YScale, rows: int) -> Ticks:
    """Ticks plus the rows of the range's largest and smallest values, labelled with them,
    where they are at least two rows from every other tick."""
    values, cells, labels = list(ticks.values), list(ticks.cells), list(ticks.labels)
    for v in (scale.data_hi, scale.data_lo):
        if v is None or not v > 0:
            continue
        at = math.log10(v)
        if not scale.lo <= at <= scale.hi:
            continue
        cell = int(np.clip(np.floor((1.0 - (at - scale.lo) / (scale.hi - scale.lo)) * rows), 0, rows - 1))
        if all(abs(cell - int(c)) >= 2 for c in cells):
            values.append(at)
            cells.append(cell)
            labels.append(sig(v, 2))
    order = np.argsort(values)
    return Ticks(np.asarray(values, dtype=float)[order], np.asarray(cells, dtype=np.int64)[order],
                 [labels[i] for i in order], ticks.step)


def x_ticks(x0: float, x1: float, cols: int) -> Ticks:
    """Ticks on the step axis: as many as fit with two spaces between labels."""
    best = None
    for n in range(max(2, cols // 5), 1, -1):
        values, step = nice_ticks(x0, x1, n)
        labels = [step_label(v) for v in values]
        ticks = _ticks_on_cells(values, labels, x0, x1, cols, False, step)
        if _labels_fit(ticks, cols):
            return ticks
        best = ticks
    if best is None:
        values, step = nice_ticks(x0, x1, 2)
        best = _ticks_on_cells(values, [step_label(v) for v in values], x0, x1, cols, False, step)
    # Nothing fits: keep the first and last label only.
    labels = [lab if i in (0, len(best.labels) - 1) else "" for i, lab in enumerate(best.labels)]
    return Ticks(best.values, best.cells, labels, best.step)


def x_log_ticks(x0: float, x1: float, cols: int) -> Ticks:
    """Decade ticks on a log x axis (x0, x1 in decades): as many as fit with two spaces between."""
    for n in range(max(2, cols // 4), 0, -1):
        values, labels = _log_ticks(x0, x1, n)
        ticks = _ticks_on_cells(values, labels, x0, x1, cols, False, 1.0)
        if _labels_fit(ticks, cols):
            return ticks
    return ticks


def x_scale_for(xs: Sequence[np.ndarray], spread: float = LOG_X_SPREAD) -> tuple[tuple[float, float], bool]:
    """The x range of curves that all start near zero and end at different places, and
    whether to draw it on a log axis: log when their ends differ by more than `spread`
    times (the short ones would be squashed against the y axis), from the smallest
    positive x; else linear from the smallest x."""
    arrays = [np.asarray(x, dtype=float) for x in xs]
    finite = [x[np.isfinite(x)] for x in arrays]
    finite = [x for x in finite if x.size]
    if not finite:
        return (0.0, 1.0), False
    ends = np.array([float(x.max()) for x in finite])
    lo = min(float(x.min()) for x in finite)
    hi = float(ends.max())
    positive = np.concatenate([x[x > 0] for x in finite])
    if positive.size and ends.min() > 0 and hi / ends.min() > spread:
        return (float(positive.min()), hi), True
    return (lo, hi if hi > lo else lo + 1.0), False


def _labels_fit(ticks: Ticks, width: int) -> bool:
    end = -3
    for cell, label in zip(ticks.cells, ticks.labels):
        start = min(max(0, int(cell) - len(label) // 2), width - len(label))
        if start < end + 2 or start < 0:
            return False
        end = start + len(label)
    return True


def plan_curve_axes(width: int, height: int, x_range: tuple[float, float], scale: YScale,
                    top: int = 1, x_log: bool = False) -> CurveAxes | None:
    """Lay out a curve plot; None when the widget is too small for one.

    Row `top - 1` and above are left for the caller (a title). Below the plot area: the x
    axis line, then (if there is room) the x tick labels. With x_log the x axis is log10(x)
    (x_range in data units, both > 0) with decade ticks.
    """
    x0, x1 = float(x_range[0]), float(x_range[1])
    if x_log:
        if not (x0 > 0 and x1 > 0):
            x_log = False
        else:
            x0, x1 = math.log10(x0), math.log10(x1)
    if not x1 > x0:
        x1 = x0 + 1.0
    label_row = height >= top + MIN_CURVE_ROWS + 2
    rows = height - top - (2 if label_row else 1)
    if rows < MIN_CURVE_ROWS:
        return None
    yt = y_ticks(scale, rows)
    left = max((len(lab) for lab in yt.labels), default=1) + 1
    cols = width - left
    if cols < MIN_CURVE_COLS:
        return None
    geometry = Geometry((x0, x1, scale.lo, scale.hi), cols, rows)
    xt = x_log_ticks(x0, x1, cols) if x_log else x_ticks(x0, x1, cols)
    return CurveAxes(width, height, left, top, geometry, scale, yt, xt,
                     top + rows + 1 if label_row else None, x_log)


def _curve_dots(axes: CurveAxes, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float dot coordinates of curve points (elementwise: a point maps the same way alone
    or inside any longer array, which the incremental rasterizer relies on)."""
    g = axes.geometry
    px, py = g.data_to_dots(axes.x_transform(xs), axes.scale.transform(ys))
    w, h = g.dots
    # Points just outside the top or bottom (rounding at the range's edge) stay on the plot.
    py = np.where(np.isfinite(py), np.clip(py, 0.0, h - 1e-9), py)
    return px, py


def rasterize_curve(axes: CurveAxes, xs: np.ndarray, ys: np.ndarray, dashed: bool = False) -> np.ndarray:
    """Braille bit masks (rows, cols) of one curve; NaN values break it. A dashed curve
    keeps every other cell column, so it reads as a broken line at any slope and height."""
    g = axes.geometry
    px, py = _curve_dots(axes, xs, ys)
    bits = rasterize_dot_polyline(px, py, g.cols, g.rows)
    if dashed:
        bits[:, 1::2] = 0
    return bits


def dot_polyline_samples(px: np.ndarray, py: np.ndarray, cols: int,
                         rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dots rasterize_dot_polyline sets, as (ix, iy, src): src is the index of a point
    of the polyline piece each dot belongs to (a dot may come more than once).

    So that a caller can join several polylines with NaN points between them, sample them
    all in one vectorized pass and still tell them apart (the curve plots draw all their
    curves at once). The dots are exactly rasterize_dot_polyline's, but samples known to
    land on a dot that a point already sets are skipped: on a long curve most segments
    join two points in the same dot, and most points share their dot with the previous one.
    """
    px = np.asarray(px, dtype=float).ravel()
    py = np.asarray(py, dtype=float).ravel()
    w, h = cols * DOTS_X, rows * DOTS_Y
    with np.errstate(invalid="ignore"):
        fx, fy = np.floor(px), np.floor(py)  # the dot of each point (NaN, inf: not finite)
    finite = np.isfinite(fx) & np.isfinite(fy)
    # Points: the first of each run of consecutive points in the same dot.
    new_dot = np.ones(px.shape, dtype=bool)
    np.not_equal(fx[1:], fx[:-1], out=new_dot[1:])
    new_dot[1:] |= fy[1:] != fy[:-1]
    pts = np.flatnonzero(finite & new_dot)
    xs_all, ys_all, src_all = [px[pts]], [py[pts]], [pts]
    if px.size >= 2:
        ok = finite[:-1] & finite[1:]
        # A segment inside one dot that is not on the grid's border (so inside the clip box)
        # is left as it is by clipping, and its samples are its own end points exactly:
        # the start plus (end - start) is the end, since both lie in [k, k + 1) with k >= 1
        # (Sterbenz). So it sets only its points' dot, already set above: skip it.
        fx0, fy0 = fx[:-1], fy[:-1]
        within = ~new_dot[1:] & (fx0 >= 1) & (fx0 <= w - 2) & (fy0 >= 1) & (fy0 <= h - 2)
        first = np.flatnonzero(ok & ~within)
        if first.size:
            _segment_samples(px, py, first, w, h, xs_all, ys_all, src_all)
    sx = np.concatenate(xs_all)
    sy = np.concatenate(ys_all)
    src = np.concatenate(src_all)
    inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
    ix = np.floor(sx[inside]).astype(np.int64)
    iy = np.floor(sy[inside]).astype(np.int64)
    return ix, iy, src[inside]


def _segment_samples(px: np.ndarray, py: np.ndarray, first: np.ndarray, w: int, h: int,
                     xs_all: list, ys_all: list, src_all: list) -> None:
    """Append the samples of the segments first -> first + 1 (both ends finite), as
    rasterize_dot_polyline computes them, less those that land on a dot an end point sets."""
    x0, y0, x1, y1 = px[first], py[first], px[first + 1], py[first + 1]
    # Clipping leaves a segment inside the clip box as it is (t0 = 0 and t1 = 1 exactly:
    # start + 0 * d, start + 1 * d); clip only the others, the same way.
    wc, hc = w - 1e-9, h - 1e-9
    out = ~((x0 >= 0) & (x0 <= wc) & (y0 >= 0) & (y0 <= hc)
            & (x1 >= 0) & (x1 <= wc) & (y1 >= 0) & (y1 <= hc))
    ax, ay = x0.copy(), y0.copy()
    bx, by = x0 + 1.0 * (x1 - x0), y0 + 1.0 * (y1 - y0)
    if out.any():
        cx0, cy0, cx1, cy1, keep = clip_segments(x0[out], y0[out], x1[out], y1[out], wc, hc)
        ax[out], ay[out], bx[out], by[out] = cx0, cy0, cx1, cy1
        dropped = np.flatnonzero(out)[~keep]
        if dropped.size:
            kept = np.ones(first.shape, dtype=bool)
            kept[dropped] = False
            ax, ay, bx, by, first = ax[kept], ay[kept], bx[kept], by[kept], first[kept]
            x0, y0, x1, y1 = x0[kept], y0[kept], x1[kept], y1[kept]
    if not ax.size:
        return
    dx, dy = bx - ax, by - ay
    n = np.ceil(np.maximum(np.abs(dx), np.abs(dy))).astype(np.int64) + 1
    # First samples (t = 0, the start itself): only where clipping moved the start point.
    moved = (ax != x0) | (ay != y0)
    xs_all.append(ax[moved])
    ys_all.append(ay[moved])
    src_all.append(first[moved])
    # Last samples (t = 1) where there is one (n > 1): only where its dot is not the end
    # point's dot (which the points set, when inside the grid).
    ex, ey = ax + 1.0 * dx, ay + 1.0 * dy
    same = ((np.floor(ex) == np.floor(x1)) & (np.floor(ey) == np.floor(y1))
            & (x1 >= 0) & (x1 < w) & (y1 >= 0) & (y1 < h))
    last = (n > 1) & ~same
    xs_all.append(ex[last])
    ys_all.append(ey[last])
    src_all.append(first[last])
    # Samples strictly between: t = step / (n - 1) for step 1 .. n - 2.
    long = n > 2
    if long.any():
        ln = n[long]
        k = ln - 2
        seg = np.repeat(np.flatnonzero(long), k)
        starts = np.cumsum(k) - k
        step = np.arange(int(k.sum())) - np.repeat(starts, k) + 1
        t = step / np.repeat(ln - 1, k)
        xs_all.append(ax[seg] + t * dx[seg])
        ys_all.append(ay[seg] + t * dy[seg])
        src_all.append(first[seg])


@dataclass(frozen=True)
class CurveRaster:
    """All the curves of a plot area composed: every series' dots, each cell in the colour of one (shared_cells)."""

    bits: np.ndarray  # (rows, cols) uint8 braille bits of the series that owns each cell
    owner: np.ndarray  # (rows, cols) index into the series of that one, -1 for an empty cell


@dataclass
class _Drawn:
    """One curve as last rasterized. Its points are split into a base, all but the last
    (the part that stays from frame to frame: a history only grows at its end), and the
    rest; the bits of the whole curve are the base's OR those of the rest joined to it."""

    n_base: int
    base_x: bytes  # float64 bytes of the base points: compared byte for byte, NaN included
    base_y: bytes
    rest_x: bytes
    rest_y: bytes
    base: np.ndarray  # bits of the base polyline (rows, cols)
    full: np.ndarray | None = None  # bits of the whole curve, once rasterized

    def starts(self, x: np.ndarray, y: np.ndarray) -> bool:
        """True if these points begin with this curve's base."""
        k = self.n_base
        return x.size >= k and x[:k].tobytes() == self.base_x and y[:k].tobytes() == self.base_y

    def rest_is(self, x: np.ndarray, y: np.ndarray) -> bool:
        """True if, after the base, these points are this curve's rest (so the same curve)."""
        k = self.n_base
        return x[k:].tobytes() == self.rest_x and y[k:].tobytes() == self.rest_y


class CurveRasterizer:
    """Rasterizes the curves of one plot frame after frame, reusing the last frame's work.

    A polyline's dots are the union of its points' and its segments' dots, each computed
    from its own end points only; so the raster of points [0, n) is the raster of [0, k)
    OR the raster of [k - 1, n), exactly. While a scenario plays, a curve only gains points
    at its end (the history appends; a stride change rewrites it and it is drawn again), so
    each frame rasterizes just the new segments of every curve, and those of all curves of
    the plot together in one vectorized pass. A new y scale (the loss reaching a new low)
    draws every curve again, still in one pass. The result is identical to rasterize_curve
    series by series, painted one over the other.
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._drawn: dict[tuple, _Drawn] = {}
        self._composed: tuple[list, list[bool], CurveRaster] | None = None  # the last raster, by what it was made of

    def draw(self, axes: CurveAxes, series: Sequence[CurveSeries]) -> CurveRaster:
        """The composed raster of these series (in drawing order) on these axes."""
        g = axes.geometry
        key = (g, axes.scale.log, axes.x_log)  # the dots' places (not the labelled extremes)
        if key != self._key:
            self._key, self._drawn = key, {}
        old, new = self._drawn, {}
        # Short polylines to rasterize: (curve, into its base?, xs, ys).
        pieces: list[tuple[_Drawn, bool, np.ndarray, np.ndarray]] = []
        entries: list[_Drawn | None] = []
        for s in series:
            x = np.asarray(s.xs, dtype=float).ravel()
            y = np.asarray(s.ys, dtype=float).ravel()
            if x.size == 0:
                entries.append(None)
                continue
            if x.size != y.size:
                x, y = (a.ravel() for a in np.broadcast_arrays(x, y))
            key = (s.name, s.run, s.dashed, 0)
            while key in new:  # two series of the same name: told apart by their order
                key = (*key[:3], key[3] + 1)
            n = x.size
            e = old.get(key)
            if e is not None and e.starts(x, y):
                if e.rest_is(x, y):
                    new[key] = e  # unchanged
                    entries.append(e)
                    continue
                # The base grows to all but the last point: [0, n_base) OR [n_base - 1, nb).
                nb = max(e.n_base, n - 1)
                k = e.n_base
                d = _Drawn(nb, x[:nb].tobytes(), y[:nb].tobytes(), x[nb:].tobytes(), y[nb:].tobytes(), e.base)
                if nb > k and e.full is not None and x[k:nb].tobytes() == e.rest_x and y[k:nb].tobytes() == e.rest_y:
                    # The usual frame: the base grows by exactly the last frame's rest, joined
                    # to the same point, so its bits are the last frame's whole curve.
                    d.base = e.full
                elif nb > k:
                    pieces.append((d, True, x[k - 1:nb], y[k - 1:nb]))
            else:
                nb = max(n - 1, 1)
                d = _Drawn(nb, x[:nb].tobytes(), y[:nb].tobytes(), x[nb:].tobytes(), y[nb:].tobytes(),
                           np.zeros((g.rows, g.cols), dtype=np.uint8))
                pieces.append((d, True, x[:nb], y[:nb]))
            if n > nb:  # the rest, joined to the base's last point
                pieces.append((d, False, x[nb - 1:], y[nb - 1:]))
            new[key] = d
            entries.append(d)
        self._drawn = new
        self._rasterize(axes, pieces)
        for d in entries:
            if d is not None and d.full is None:
                d.full = d.base
        return self._composed_raster(g, series, entries)

    def _rasterize(self, axes: CurveAxes, pieces: list[tuple[_Drawn, bool, np.ndarray, np.ndarray]]) -> None:
        """Rasterize the pieces into their curves' bases (into_base) or, joined to the base,
        into the whole curve's bits; a whole curve with no new dot keeps its base's array."""
        if pieces and not any(p[1] for p in pieces):
            pieces = _tails_off_base(axes, pieces)
        if not pieces:
            return
        bits = self._rasterize_pieces(axes, [(p[2], p[3]) for p in pieces])
        for (d, into_base, _, _), b in zip(pieces, bits):
            if into_base:
                d.base = d.base | b
        for (d, into_base, _, _), b in zip(pieces, bits):
            if not into_base:
                d.full = d.base if not (b & ~d.base).any() else d.base | b

    def _composed_raster(self, g: Geometry, series: Sequence[CurveSeries], entries: list[_Drawn | None]) -> CurveRaster:
        """The curves composed; the same rasters (the same arrays, not only equal ones) in the
        same order as last time give the last composition itself (the caller can tell)."""
        fulls = [None if d is None else d.full for d in entries]
        dashed = [s.dashed for s in series]
        last = self._composed
        if (last is not None and last[1] == dashed and len(last[0]) == len(fulls)
                and all(a is b for a, b in zip(last[0], fulls))):
            return last[2]
        raster = _compose(g, series, entries)
        self._composed = (fulls, dashed, raster)
        return raster

    @staticmethod
    def _rasterize_pieces(axes: CurveAxes, pieces: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Bits (len(pieces), rows, cols) of several short polylines in one pass: they are
        joined with a NaN point between them (NaN breaks a line) and told apart by src."""
        g = axes.geometry
        gap = np.array([np.nan])
        xs_parts, ys_parts, starts = [], [], []
        at = 0
        for px, py in pieces:
            starts.append(at)
            xs_parts += [px, gap]
            ys_parts += [py, gap]
            at += px.size + 1
        px, py = _curve_dots(axes, np.concatenate(xs_parts), np.concatenate(ys_parts))
        ix, iy, src = dot_polyline_samples(px, py, g.cols, g.rows)
        piece = np.searchsorted(np.asarray(starts), src, side="right") - 1
        cell = (piece * g.rows + iy // DOTS_Y) * g.cols + ix // DOTS_X
        out = np.zeros(len(pieces) * g.rows * g.cols, dtype=np.uint8)
        np.bitwise_or.at(out, cell, BRAILLE_BITS[iy % DOTS_Y, ix % DOTS_X])
        return out.reshape(len(pieces), g.rows, g.cols)


def _tails_off_base(axes: CurveAxes, pieces: list[tuple[_Drawn, bool, np.ndarray, np.ndarray]]
                    ) -> list[tuple[_Drawn, bool, np.ndarray, np.ndarray]]:
    """The pieces (all tails: the rest of a curve joined to its base's last point) that may
    add a dot to their base; for the others the whole curve's bits are the base's.

    A tail whose points are all finite, inside the clip box and in one dot sets exactly
    that dot when each of its segments' end samples lands there too: rasterize_dot_polyline
    clips no segment inside the box, and a segment within one dot is sampled at its start
    (the point itself) and at start + 1.0 * (end - start), nothing else (it is less than a
    dot long, so n <= 2). That is checked as computed, not assumed, so it holds on the grid's
    border rows and columns too (where the flat learning-rate and limit curves lie, at the
    top and bottom of their range): the subtraction there need not be exact. And that dot
    is its first point's, the base's last: already set in the base. Late in a run most
    frames move every curve by less than a dot, so most frames rasterize nothing (one
    batched mapping of the tails instead of a dozen vectorized passes)."""
    g = axes.geometry
    sizes = [p[2].size for p in pieces]
    px, py = _curve_dots(axes, np.concatenate([p[2] for p in pieces]), np.concatenate([p[3] for p in pieces]))
    w, h = g.dots
    with np.errstate(invalid="ignore"):
        fx, fy = np.floor(px), np.floor(py)
        # Inside the clip box of rasterize_dot_polyline (False for NaN): no segment is clipped.
        inside = (px >= 0) & (px <= w - 1e-9) & (py >= 0) & (py <= h - 1e-9)
        # Each segment's end sample, as the rasterizer computes it (t = 1), in its start's dot.
        ends_x = np.floor(px[:-1] + 1.0 * (px[1:] - px[:-1]))
        ends_y = np.floor(py[:-1] + 1.0 * (py[1:] - py[:-1]))
    ends = np.cumsum(sizes)
    starts = ends - np.asarray(sizes)
    first_x, first_y = fx[starts], fy[starts]
    same = inside & (fx == np.repeat(first_x, sizes)) & (fy == np.repeat(first_y, sizes))
    # A point's segment is the one from the point before it in the same tail (none at a start).
    segment_ok = np.ones(px.shape, dtype=bool)
    segment_ok[1:] = (ends_x == fx[:-1]) & (ends_y == fy[:-1])
    segment_ok[starts] = True
    same &= segment_ok
    one_dot = np.logical_and.reduceat(same, starts) if len(same) else np.zeros(0, dtype=bool)
    keep = []
    for p, in_base in zip(pieces, one_dot.tolist()):
        if in_base:
            p[0].full = p[0].base
        else:
            keep.append(p)
    return keep


def _compose(g: Geometry, series: Sequence[CurveSeries], entries: list[_Drawn | None]) -> CurveRaster:
    """Each cell shows the dots of every series in it (dashed ones with every other cell
    column left out), in the colour of one: where several meet they take turns
    (shared_cells), so a curve lying on another (adam's and adamw's equal rates) stays seen."""
    rows, cols = g.rows, g.cols
    layers = np.zeros((len(series), rows, cols), dtype=np.uint8)
    for i, (s, d) in enumerate(zip(series, entries)):
        if d is not None:
            layers[i] = d.full
            if s.dashed:
                layers[i, :, 1::2] = 0
    if not len(series):
        return CurveRaster(np.zeros((rows, cols), dtype=np.uint8), np.full((rows, cols), -1, dtype=np.int64))
    owners = shared_cells(layers != 0)
    owner = np.where(owners.any(axis=0), np.argmax(owners, axis=0), -1)
    bits = np.bitwise_or.reduce(layers, axis=0)
    return CurveRaster(bits, owner)


@dataclass
class CurveSeries:
    """One curve as the engine hands it to the widget."""

    name: str
    run: int  # index of the run (for its colour)
    xs: np.ndarray
    ys: np.ndarray
    dashed: bool = False
