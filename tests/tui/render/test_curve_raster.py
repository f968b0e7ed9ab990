"""The fast curve rasterization draws exactly what the plain one draws.

dot_polyline_samples (one pass over many polylines, redundant samples skipped) must set the
same dots as rasterize_dot_polyline, and CurveRasterizer (incremental, all series at once)
must compose the same cells as rasterize_curve series by series, painted in order.
"""

from __future__ import annotations

import numpy as np
import pytest

from optsim.tui.render.contour_grid import dots_to_bits, rasterize_dot_polyline
from optsim.tui.render.curve_grid import (
    CurveRange,
    CurveRasterizer,
    CurveSeries,
    dot_polyline_samples,
    plan_curve_axes,
    rasterize_curve,
)

COLS, ROWS = 40, 10
W, H = COLS * 2, ROWS * 4


def _random_polyline(rng: np.random.Generator, kind: int) -> tuple[np.ndarray, np.ndarray]:
    n = int(rng.integers(0, 30))
    if kind == 0:  # long segments, many off the grid (clipped)
        px, py = rng.normal(W / 2, W, n), rng.normal(H / 2, H, n)
    elif kind == 1:  # a dense curve: most segments inside one dot
        px = np.cumsum(rng.normal(0, 0.4, n)) + rng.uniform(0, W)
        py = np.cumsum(rng.normal(0, 0.7, n)) + rng.uniform(0, H)
    elif kind == 2:  # whole dots, the grid's border and the clip box's edge
        px = rng.integers(-2, W + 3, n).astype(float)
        py = rng.integers(-2, H + 3, n).astype(float)
        px[rng.random(n) < 0.2] = W - 1e-9
        py[rng.random(n) < 0.2] = H - 1e-9
    elif kind == 3:  # a hair below a dot's edge (where rounding could move a sample)
        frac = np.array([0.0, 1 - 2.0 ** -53, 1 - 1e-12, 1e-300, 0.5])
        px = rng.integers(0, W, n) + rng.choice(frac, n)
        py = rng.integers(0, H, n) + rng.choice(frac, n)
    else:  # astronomically large values (a diverged run)
        px = rng.choice([0.5, 1e300, -1e300, 3.0, W - 1e-4], n)
        py = rng.choice([0.5, 1e300, -3e299, H - 1e-4, 0.0], n)
    if n:
        px[rng.random(n) < 0.08] = np.nan
        py[rng.random(n) < 0.04] = np.inf
    return px, py


def test_samples_set_the_same_dots_as_the_plain_rasterizer():
    rng = np.random.default_rng(7)
    for trial in range(5000):
        px, py = _random_polyline(rng, trial % 5)
        ix, iy, src = dot_polyline_samples(px, py, COLS, ROWS)
        expected = rasterize_dot_polyline(px, py, COLS, ROWS)
        assert np.array_equal(dots_to_bits(ix, iy, COLS, ROWS), expected), (px, py)
        assert ix.size == iy.size == src.size
        if src.size:  # every dot is traced to a finite point of the line
            assert (np.isfinite(px[src]) & np.isfinite(py[src])).all()


def test_samples_tell_joined_polylines_apart():
    rng = np.random.default_rng(3)
    lines = [_random_polyline(rng, k % 5) for k in range(12)]
    joined_x = np.concatenate([np.append(x, np.nan) for x, _ in lines])
    joined_y = np.concatenate([np.append(y, np.nan) for _, y in lines])
    starts = np.cumsum([0] + [x.size + 1 for x, _ in lines[:-1]])
    ix, iy, src = dot_polyline_samples(joined_x, joined_y, COLS, ROWS)
    piece = np.searchsorted(starts, src, side="right") - 1
    for k, (x, y) in enumerate(lines):
        mine = piece == k
        assert np.array_equal(dots_to_bits(ix[mine], iy[mine], COLS, ROWS),
                              rasterize_dot_polyline(x, y, COLS, ROWS)), k


def _painted(axes, series):
    """Each series rasterized on its own, then composed cell by cell: the dots of every series
    in a cell, owned by the ((row + col) mod k)-th of the k series there (they take turns)."""
    g = axes.geometry
    layers = [rasterize_curve(axes, s.xs, s.ys, s.dashed) if len(s.xs) else np.zeros((g.rows, g.cols), np.uint8)
              for s in series]
    bits = np.zeros((g.rows, g.cols), dtype=np.uint8)
    owner = np.full((g.rows, g.cols), -1)
    for r in range(g.rows):
        for c in range(g.cols):
            hits = [i for i, b in enumerate(layers) if b[r, c]]
            for i in hits:
                bits[r, c] |= layers[i][r, c]
            if hits:
                owner[r, c] = hits[(r + c) % len(hits)]
    return bits, owner


def test_two_runs_on_one_line_both_show():
    """adam and adamw at the same lr draw one line: it alternates their colours, it is not
    the last one's alone."""
    r = CurveRange()
    r.include(np.array([0.01, 1.0]))
    axes = plan_curve_axes(60, 10, (0.0, 100.0), r.scale())
    xs = np.arange(101.0)
    same = np.full(101, 0.1)
    got = CurveRasterizer().draw(axes, [CurveSeries("adam", 0, xs, same), CurveSeries("adamw", 1, xs, same)])
    line = got.owner[got.owner >= 0]
    assert set(line.tolist()) == {0, 1} and abs(int((line == 0).sum()) - int((line == 1).sum())) <= 1


@pytest.mark.parametrize("log", [True, False])
def test_rasterizer_matches_painting_series_by_series_frame_after_frame(log):
    rng = np.random.default_rng(11 if log else 12)
    for trial in range(12):
        r = CurveRange()
        r.include(np.array([1e-3, 1e2]) if log else np.array([-3.0, 5.0]))
        axes = plan_curve_axes(int(rng.integers(20, 80)), int(rng.integers(5, 20)), (0.0, 300.0), r.scale())
        raster = CurveRasterizer()
        n_series = int(rng.integers(1, 8))
        data = [list(np.exp(rng.normal(0, 2, int(rng.integers(0, 5))))) for _ in range(n_series)]
        for frame in range(80):
            series = []
            for k, d in enumerate(data):
                op = rng.random()
                if op < 0.6:  # the usual frame: one more point
                    d.append(float(np.exp(rng.normal(0, 3))) if log else float(rng.normal(1, 3)))
                elif op < 0.7 and d:  # the "now" point moved
                    d[-1] = float(rng.normal(1, 3))
                elif op < 0.75:  # a stopped run
                    d.append(np.nan)
                elif op < 0.78:  # the history's stride doubled
                    data[k] = d = d[::2]
                elif op < 0.8:  # reset
                    data[k] = d = []
                elif op < 0.82 and len(d) > 3:  # rewritten in place
                    d[1] *= 2
                xs = np.arange(len(d)) * 2.0 - (5 if k % 3 == 0 else 0)
                series.append(CurveSeries(f"s{k % 3}", k % 2, xs.astype(np.int64) if k == 1 else xs,
                                          np.array(d, dtype=float), dashed=bool(k % 2)))
            if rng.random() < 0.2:
                series = series[::-1]  # another selected run: another drawing order
            if rng.random() < 0.1:
                series = series[1:]  # a hidden run
            if rng.random() < 0.05:
                r.include(np.array([rng.normal(0, 50)]) if not log else np.array([10 ** rng.normal(0, 4)]))
                axes = plan_curve_axes(axes.width, axes.height, (0.0, 300.0), r.scale())
            got = raster.draw(axes, series)
            bits, owner = _painted(axes, series)
            assert np.array_equal(got.bits, bits) and np.array_equal(got.owner, owner), (trial, frame)


def test_rasterizer_redraws_only_the_new_tail():
    r = CurveRange()
    r.include(np.array([1e-3, 1e2]))
    axes = plan_curve_axes(60, 14, (0.0, 2000.0), r.scale())
    ys = np.exp(np.linspace(4, -6, 2000))
    raster = CurveRasterizer()
    calls = []
    original = raster._rasterize_pieces

    def spy(axes, pieces):
        calls.append(sum(x.size for x, _ in pieces))
        return original(axes, pieces)

    raster._rasterize_pieces = spy
    ticks = np.arange(2000)
    raster.draw(axes, [CurveSeries("a", 0, ticks[:1000], ys[:1000])])
    assert calls[-1] >= 1000  # first frame: the whole curve
    for n in range(1001, 1010):
        before = len(calls)
        got = raster.draw(axes, [CurveSeries("a", 0, ticks[:n], ys[:n])])
        # then at most the one new segment (the base takes the last frame's bits)
        assert len(calls) - before <= 1 and all(c <= 2 for c in calls[before:])
        assert np.array_equal(got.bits, rasterize_curve(axes, ticks[:n], ys[:n]))
    before = len(calls)
    raster.draw(axes, [CurveSeries("a", 0, ticks[:1009], ys[:1009])])
    assert len(calls) == before  # nothing changed: nothing rasterized


def test_a_tail_within_one_dot_is_not_rasterized_and_the_raster_stays_the_same_object():
    """Late in a run a new step moves a curve by less than a dot: the frame rasterizes
    nothing and hands back the last raster itself (the widget then skips the frame); the
    cells are still exactly the plain rasterizer's, frame after frame."""
    r = CurveRange()
    r.include(np.array([1e-3, 1e2]))
    axes = plan_curve_axes(60, 14, (0.0, 4000.0), r.scale())
    ticks = np.arange(4000.0)
    curves = [np.exp(np.linspace(4, -6, 4000)), np.full(4000, 0.5), np.exp(np.linspace(2, -3, 4000) ** 2 / 4)]
    raster = CurveRasterizer()
    calls = []
    original = raster._rasterize_pieces

    def spy(axes, pieces):
        calls.append(len(pieces))
        return original(axes, pieces)

    raster._rasterize_pieces = spy
    last, skipped = None, 0
    for n in range(500, 700):
        series = [CurveSeries(f"s{k}", k, ticks[:n], ys[:n], dashed=k == 1) for k, ys in enumerate(curves)]
        before = len(calls)
        got = raster.draw(axes, series)
        bits, owner = _painted(axes, series)
        assert np.array_equal(got.bits, bits) and np.array_equal(got.owner, owner), n
        if len(calls) == before:
            skipped += 1
            assert got is last  # nothing new: the same raster
        last = got
    assert skipped > 100  # 36 steps a dot column: most frames add no dot


def test_a_tail_on_the_border_rows_is_not_rasterized_and_the_cells_stay_exact():
    """The flat curves at the top and bottom of a range (a constant learning rate, the
    curvature limit) lie in the grid's first and last dot rows: a step that adds no dot to
    them rasterizes nothing there either, and the cells are still the plain rasterizer's."""
    r = CurveRange()
    r.include(np.array([1e-3, 0.1]))
    axes = plan_curve_axes(60, 8, (0.0, 4000.0), r.scale())
    ticks = np.arange(4000.0)
    curves = [np.full(4000, 0.1), np.full(4000, 1e-3), np.full(4000, 0.1)]
    raster = CurveRasterizer()
    calls = []
    original = raster._rasterize_pieces

    def spy(axes, pieces):
        calls.append(len(pieces))
        return original(axes, pieces)

    raster._rasterize_pieces = spy
    skipped = 0
    for n in range(500, 600):
        series = [CurveSeries(f"s{k}", k, ticks[:n], ys[:n], dashed=k == 2) for k, ys in enumerate(curves)]
        before = len(calls)
        got = raster.draw(axes, series)
        bits, owner = _painted(axes, series)
        assert np.array_equal(got.bits, bits) and np.array_equal(got.owner, owner), n
        skipped += len(calls) == before
    assert skipped > 80


def test_a_tail_taken_as_in_its_first_dot_sets_only_that_dot():
    """_tails_off_base's promise, checked against the plain rasterizer on tails at the grid's
    edges and a hair below a dot's edge (where a sample's rounding could cross it)."""
    from optsim.tui.render.curve_grid import _Drawn, _tails_off_base

    rng = np.random.default_rng(5)
    r = CurveRange()
    r.include(np.array([0.0, 1.0]))
    axes = plan_curve_axes(COLS + 8, ROWS + 3, (0.0, 1.0), r.scale())
    g = axes.geometry
    w, h = g.dots
    frac = np.array([0.0, 1 - 2.0 ** -53, 1 - 1e-12, 1e-300, 0.5, 2.0 ** -53])
    taken = 0
    for trial in range(3000):
        n = int(rng.integers(1, 5))
        dx = rng.choice([0, 1, w - 1, int(rng.integers(0, w))])
        dy = rng.choice([0, 1, h - 1, int(rng.integers(0, h))])
        px = dx + rng.choice(frac, n)
        py = dy + rng.choice(frac, n)
        if rng.random() < 0.1:
            px[-1] = w - 1e-9 if rng.random() < 0.5 else w - 1e-10
        # back to data units, so that _curve_dots maps them onto these dots (or next to them)
        xs, ys = g.dots_to_data(px, py)
        base = np.zeros((g.rows, g.cols), dtype=np.uint8)
        d = _Drawn(1, b"", b"", b"", b"", base)
        kept = _tails_off_base(axes, [(d, False, xs, ys)])
        if kept:
            continue
        taken += 1
        mx, my = g.data_to_dots(xs, ys)
        my = np.clip(my, 0.0, h - 1e-9)
        expected = rasterize_dot_polyline(mx, my, g.cols, g.rows)
        first = rasterize_dot_polyline(mx[:1], my[:1], g.cols, g.rows)
        assert np.array_equal(expected, first) and first.any(), (px, py)
    assert taken > 500
