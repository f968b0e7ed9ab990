"""Geometry of the curve plots (loss and learning rate against steps): scales, ticks, rasters.

The app's curve widget only copies what this module computes into terminal cells, as the
contour widget does with contour_grid. A curve plot is a plot area of character cells,
each holding 2x4 braille dots, with y tick labels on its left and x ticks below it.

Log scale: y is plotted as log10(y) when every finite value is positive and the values
span more than one decade; otherwise linear. The y range only grows while a scenario
plays (CurveRange), so the axes stay still while the curves are drawn and do not jump
with every new minimum; it starts again on reset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optsim.engine.contour_grid import (
    Geometry,
    Ticks,
    format_ticks,
    nice_ticks,
    rasterize_dot_polyline,
)

LOG_MIN_DECADES = 1.0
"""Values spanning more decades than this are plotted on a log scale (if all positive)."""

MAX_DECADES = 12.0
"""A log range never spans more than this: a loss falling to 1e-30 would flatten the rest."""

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
        """The scale to draw with: log where it fits, else linear (with some headroom)."""
        if self.empty:
            return YScale(False, 0.0, 1.0)
        lo, hi = self.lo, self.hi
        if self.positive and hi / lo > 10.0 ** LOG_MIN_DECADES:
            top = math.log10(hi)
            bottom = max(math.log10(lo), top - MAX_DECADES)
            pad = 0.03 * (top - bottom)
            return YScale(True, bottom - pad, top + pad)
        if hi - lo <= 1e-12 * max(1.0, abs(hi)):
            half = max(abs(hi) * 0.1, 1e-12)
            return YScale(False, lo - half, hi + half)
        pad = 0.05 * (hi - lo)
        return YScale(False, lo - pad, hi + pad)


@dataclass(frozen=True)
class YScale:
    """How y values map onto the plot: `log` means the axis is log10(y); lo/hi in axis units."""

    log: bool
    lo: float
    hi: float

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
class CurveAxes:
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

    @property
    def plot_rows(self) -> int:
        return self.geometry.rows

    @property
    def plot_cols(self) -> int:
        return self.geometry.cols

    def x_label_starts(self) -> list[int]:
        """Plot-relative start column of each x tick label (centred, kept inside)."""
        return [min(max(0, int(c) - len(lab) // 2), self.plot_cols - len(lab))
                for c, lab in zip(self.x_ticks.cells, self.x_ticks.labels)]


def _log_ticks(lo: float, hi: float, max_ticks: int) -> tuple[np.ndarray, list[str]]:
    """Decades inside [lo, hi] (axis units = log10), thinned to at most max_ticks."""
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    decades = np.arange(first, last + 1)
    if decades.size == 0:
        mid = round((lo + hi) / 2, 1)
        return np.array([mid]), [_short(10.0 ** mid)]
    every = max(1, math.ceil(decades.size / max(1, max_ticks)))
    decades = decades[decades % every == 0] if every > 1 else decades
    return decades.astype(float), [_decade_label(int(d)) for d in decades]


def _decade_label(k: int) -> str:
    if -2 <= k <= 3:
        return f"{10.0 ** k:g}"
    return f"1e{k}"


def _short(v: float) -> str:
    return f"{v:.2g}"


def _ticks_on_cells(values: np.ndarray, labels: list[str], lo: float, hi: float, n: int,
                    flip: bool, step: float) -> Ticks:
    frac = (values - lo) / (hi - lo)
    if flip:
        frac = 1.0 - frac
    cells = np.clip(np.floor(frac * n), 0, n - 1).astype(np.int64)
    return Ticks(values, cells, labels, step)


def y_ticks(scale: YScale, rows: int) -> Ticks:
    """Tick values and labels for the y axis: decades on a log scale, nice steps else."""
    max_ticks = max(2, rows // 2 + 1)
    if scale.log:
        values, labels = _log_ticks(scale.lo, scale.hi, max_ticks)
        return _ticks_on_cells(values, labels, scale.lo, scale.hi, rows, True, 1.0)
    values, step = nice_ticks(scale.lo, scale.hi, max_ticks)
    return _ticks_on_cells(values, format_ticks(values, step), scale.lo, scale.hi, rows, True, step)


def x_ticks(x0: float, x1: float, cols: int) -> Ticks:
    """Ticks on the step axis: as many as fit with two spaces between labels."""
    best = None
    for n in range(max(2, cols // 5), 1, -1):
        values, step = nice_ticks(x0, x1, n)
        labels = [_step_label(v) for v in values]
        ticks = _ticks_on_cells(values, labels, x0, x1, cols, False, step)
        if _labels_fit(ticks, cols):
            return ticks
        best = ticks
    if best is None:
        values, step = nice_ticks(x0, x1, 2)
        best = _ticks_on_cells(values, [_step_label(v) for v in values], x0, x1, cols, False, step)
    # Nothing fits: keep the first and last label only.
    labels = [lab if i in (0, len(best.labels) - 1) else "" for i, lab in enumerate(best.labels)]
    return Ticks(best.values, best.cells, labels, best.step)


def _step_label(v: float) -> str:
    if abs(v) >= 1e6:
        return f"{v / 1e6:g}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def _labels_fit(ticks: Ticks, width: int) -> bool:
    end = -3
    for cell, label in zip(ticks.cells, ticks.labels):
        start = min(max(0, int(cell) - len(label) // 2), width - len(label))
        if start < end + 2 or start < 0:
            return False
        end = start + len(label)
    return True


def plan_curve_axes(width: int, height: int, x_range: tuple[float, float], scale: YScale,
                    top: int = 1) -> CurveAxes | None:
    """Lay out a curve plot; None when the widget is too small for one.

    Row `top - 1` and above are left for the caller (a title). Below the plot area: the x
    axis line, then (if there is room) the x tick labels.
    """
    x0, x1 = float(x_range[0]), float(x_range[1])
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
    xt = x_ticks(x0, x1, cols)
    return CurveAxes(width, height, left, top, geometry, scale, yt, xt,
                     top + rows + 1 if label_row else None)


def rasterize_curve(axes: CurveAxes, xs: np.ndarray, ys: np.ndarray, dashed: bool = False) -> np.ndarray:
    """Braille bit masks (rows, cols) of one curve; NaN values break it. A dashed curve
    keeps every other cell column, so it reads as a broken line at any slope and height."""
    g = axes.geometry
    px, py = g.data_to_dots(np.asarray(xs, dtype=float), axes.scale.transform(ys))
    w, h = g.dots
    # Points just outside the top or bottom (rounding at the range's edge) stay on the plot.
    py = np.where(np.isfinite(py), np.clip(py, 0.0, h - 1e-9), py)
    bits = rasterize_dot_polyline(px, py, g.cols, g.rows)
    if dashed:
        bits[:, 1::2] = 0
    return bits


@dataclass
class CurveSeries:
    """One curve as the engine hands it to the widget."""

    name: str
    run: int  # index of the run (for its colour)
    xs: np.ndarray
    ys: np.ndarray
    dashed: bool = False
