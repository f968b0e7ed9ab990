"""What a curve plot cannot show, made visible: runs that left the y range and values
pinned to its floor.

A diverged run (its loss climbing to 1e99, then NaN) would stretch a log axis over a
hundred decades and press every other run onto the floor. So the range ignores values
above a runaway ceiling (RUNAWAY_DECADES above the lowest maximum of any run); a curve
that climbs above the top of the range is drawn up to the top edge and stops there, with
an off-scale marker at the step of its last finite value and that value in the title
row. Values under the floor (a log range holds at most curve_grid.MAX_DECADES) are drawn
on it, and the chart says so. The widget only draws what fit_curves returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

from ...engine.text_format import sig

RUNAWAY_DECADES = 4.0
"""A run whose values climb more than this many decades above the lowest maximum of the
runs has run away (diverged): it leaves the chart instead of setting its scale."""

OFF_SCALE_GLYPH = "▲"
UNDER_FLOOR_GLYPH = "▼"


def runaway_ceiling(series: Sequence[Any]) -> float:
    """The largest value a range should take in from these curves (each with .run and
    .ys): RUNAWAY_DECADES above the lowest per-run maximum; inf with fewer than two runs
    or a run whose maximum is not positive (no scale to compare against)."""
    peaks: dict[int, float] = {}
    for s in series:
        ys = np.asarray(s.ys, dtype=float)
        top = float(ys.max()) if ys.size else math.nan
        if not math.isfinite(top):  # NaN or inf somewhere (or empty): the finite values' maximum
            ys = ys[np.isfinite(ys)]
            if not ys.size:
                continue
            top = float(ys.max())
        peaks[s.run] = max(peaks.get(s.run, -math.inf), top)
    if len(peaks) < 2 or min(peaks.values()) <= 0:
        return math.inf
    return min(peaks.values()) * 10.0 ** RUNAWAY_DECADES


@dataclass(frozen=True)
class OffScale:
    """A curve that left the top of the range (or ended in NaN/inf): where it was last finite."""

    name: str
    run: int
    x: float  # the step of its last finite value
    value: float  # that value (NaN if it never had one)
    above: bool  # the value is above the range (else it is on the chart and the run diverged after it)


@dataclass(frozen=True)
class CurveFit:
    """The curves as they can be drawn on a scale, and what had to be left out."""

    series: list  # the curves, values above the top cut (the first one set on the edge)
    off_scale: list[OffScale]
    under_floor: bool  # some value is below the floor and drawn on it

    def note(self, width: int) -> str:
        """The title-row note on what is off the chart, at most `width` characters."""
        parts = [f"{OFF_SCALE_GLYPH}{o.name} {sig(o.value, 2) if o.above else 'diverged'}"
                 for o in self.off_scale]
        if self.under_floor:
            parts.append(f"{UNDER_FLOOR_GLYPH}floor")
        for text in (" ".join(parts), f"{OFF_SCALE_GLYPH}{len(self.off_scale)} off scale"
                     if self.off_scale else parts[-1] if parts else ""):
            if len(text) <= width:
                return text
        return ""


def fit_curves(series: Sequence[Any], scale: Any) -> CurveFit:
    """Cut these curves (curve_grid.CurveSeries) to `scale` (curve_grid.YScale): values
    above its top break the line, the point next to an in-range one kept on the edge so
    the curve visibly leaves; each solid curve that left, or ends non-finite, is listed."""
    top, bottom = scale.top, scale.bottom
    out, off, under = [], [], False
    for s in series:
        ys = given = np.asarray(s.ys, dtype=float).ravel()
        if _inside(ys, scale, bottom, top):
            out.append(s)  # the common case: every value finite and on the chart, nothing to cut
            continue
        xs = np.broadcast_to(np.asarray(s.xs, dtype=float).ravel(), ys.shape)
        finite = np.isfinite(ys)
        with np.errstate(invalid="ignore"):
            above = finite & (ys > top)
            under = under or bool((finite & ((ys < bottom) | (scale.log & (ys <= 0)))).any())
        if above.any():
            inside = finite & ~above
            edge = above & (np.r_[False, inside[:-1]] | np.r_[inside[1:], False])
            ys = np.where(edge, top, np.where(above, np.nan, ys))
            s = replace(s, ys=ys)
        out.append(s)
        last = np.flatnonzero(finite)
        gone = bool(above.any()) or (ys.size > 0 and not finite[-1])
        if gone and not s.dashed:
            k = int(last[-1]) if last.size else -1
            value = float(given[k]) if k >= 0 else math.nan
            off.append(OffScale(s.name, s.run, float(xs[k]) if k >= 0 else math.nan, value,
                                bool(value > top)))
    return CurveFit(out, off, under)


def _inside(ys: np.ndarray, scale: Any, bottom: float, top: float) -> bool:
    """True if every value but NaN gaps is finite, at most `top` and at least `bottom` (and
    positive on a log scale) and the last value is finite: then fit_curves has nothing to cut
    or report (a NaN is neither above nor under, and a curve ending finite has not gone), in
    two reductions instead of its dozen passes. fmin/fmax skip NaN (a history's first sigma
    is NaN: the optimizer had not divided by anything yet) but not inf, which fails here."""
    if not ys.size or not math.isfinite(ys[-1]):
        return False
    lo, hi = float(np.fmin.reduce(ys)), float(np.fmax.reduce(ys))
    return math.isfinite(lo) and math.isfinite(hi) and hi <= top and lo >= bottom and (lo > 0 or not scale.log)


def off_scale_cells(axes: Any, off: Sequence[OffScale]) -> list[tuple[int, int, int]]:
    """(row, column, run) in the plot area of each off-scale marker (curve_grid.CurveAxes):
    on the top row above the last finite value of a curve that left the range, on that
    value's own cell for a run that diverged from inside it."""
    g = axes.geometry
    out = []
    for o in off:
        if not math.isfinite(o.x):
            continue
        y = axes.scale.hi if o.above else float(axes.scale.transform(np.array([o.value]))[0])
        cols, rows, _ = g.data_to_cell(axes.x_transform(np.array([o.x])), np.array([y]))
        out.append((int(np.clip(rows[0], 0, g.rows - 1)), int(np.clip(cols[0], 0, g.cols - 1)), o.run))
    return out
