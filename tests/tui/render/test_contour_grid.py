"""Tests of the contour plot geometry: levels, bands, mapping, ticks, braille rasters."""

from __future__ import annotations

import time
from collections import deque

import numpy as np
import pytest

from optsim.tui.render.contour_grid import (
    ARROW_GLYPHS,
    BRAILLE_BITS,
    DOTS_X,
    DOTS_Y,
    Geometry,
    assign_bands,
    check_window,
    choose_levels,
    compute_contour_field,
    format_ticks,
    nice_step,
    nice_ticks,
    pan_window,
    plan_layout,
    rasterize_arrow,
    rasterize_dot_polyline,
    rasterize_polyline,
    sample_surface,
    zoom_window,
)


def rosenbrock(p: np.ndarray) -> np.ndarray:
    return (1 - p[:, 0]) ** 2 + 100 * (p[:, 1] - p[:, 0] ** 2) ** 2


def bowl(p: np.ndarray) -> np.ndarray:
    return p[:, 0] ** 2 + p[:, 1] ** 2


def grid_values(func, window, n=200) -> np.ndarray:
    x0, x1, y0, y1 = window
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return func(np.column_stack([gx.ravel(), gy.ravel()]))


def bits_to_dots(bits: np.ndarray) -> np.ndarray:
    """Unpack (rows, cols) braille bits into a boolean dot grid (4 rows, 2 cols) for checking."""
    rows, cols = bits.shape
    dots = np.zeros((rows * DOTS_Y, cols * DOTS_X), dtype=bool)
    for dy in range(DOTS_Y):
        for dx in range(DOTS_X):
            dots[dy::DOTS_Y, dx::DOTS_X] = (bits & BRAILLE_BITS[dy, dx]) > 0
    return dots


def connected(dots: np.ndarray) -> bool:
    """True if the set dots form one 8-connected component."""
    pts = set(zip(*np.nonzero(dots)))
    if not pts:
        return False
    start = next(iter(pts))
    seen, todo = {start}, deque([start])
    while todo:
        r, c = todo.popleft()
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                q = (r + dr, c + dc)
                if q in pts and q not in seen:
                    seen.add(q)
                    todo.append(q)
    return len(seen) == len(pts)


# ------------------------------------------------------------------ levels and bands


def test_rosenbrock_gets_log_levels():
    levels = choose_levels(grid_values(rosenbrock, (-2, 2, -1, 3)), n_bands=9)
    assert levels.log
    assert levels.n_bands == 9
    t = levels.transform(levels.edges)
    # evenly spaced on the log scale (the clamped end points aside)
    assert np.allclose(np.diff(t[1:-1]), np.diff(t[1:-1])[0])
    # and so the bands are far from evenly spaced in value: the lowest is a thin valley
    assert levels.edges[1] - levels.edges[0] < 0.01 * (levels.edges[-1] - levels.edges[0])


def test_bowl_gets_linear_levels():
    levels = choose_levels(grid_values(bowl, (-2, 2, -2, 2), n=201), n_bands=8)  # has (0, 0)
    assert not levels.log
    assert np.allclose(np.diff(levels.edges), 1.0)  # 0..8 in 8 equal steps


def test_edges_span_the_finite_values():
    v = grid_values(rosenbrock, (-2, 2, -1, 3))
    v[::7] = np.nan
    levels = choose_levels(v)
    finite = v[np.isfinite(v)]
    assert levels.edges[0] == finite.min() and levels.edges[-1] == finite.max()
    assert np.all(np.diff(levels.edges) > 0)


def test_bands_are_monotone_in_value():
    rng = np.random.default_rng(0)
    for func, window in ((rosenbrock, (-2, 2, -1, 3)), (bowl, (-2, 2, -2, 2))):
        levels = choose_levels(grid_values(func, window))
        values = np.sort(rng.uniform(levels.edges[0], levels.edges[-1], 2000))
        bands = assign_bands(values, levels)
        assert np.all(np.diff(bands) >= 0)
        assert bands.min() == 0 and bands.max() == levels.n_bands - 1
    assert assign_bands(np.array([levels.edges[0]]), levels)[0] == 0
    assert assign_bands(np.array([levels.edges[-1]]), levels)[0] == levels.n_bands - 1


def test_non_finite_values_get_no_band():
    levels = choose_levels(np.array([0.0, 1.0, 2.0]))
    bands = assign_bands(np.array([np.nan, np.inf, -np.inf, 1.0]), levels)
    assert bands.tolist()[:3] == [-1, -1, -1] and bands[3] >= 0


def test_all_nan_and_flat_surfaces():
    assert choose_levels(np.full(10, np.nan)) is None
    assert (assign_bands(np.ones(3), None) == -1).all()
    flat = choose_levels(np.full(10, 3.0))
    assert flat is not None
    assert len(set(assign_bands(np.full(5, 3.0), flat).tolist())) == 1


# ------------------------------------------------------------------ windows and mapping


def test_check_window_rejects_empty_and_nan():
    for bad in ((1, 1, 0, 1), (0, 1, 2, 1), (0, np.nan, 0, 1), (0, np.inf, 0, 1)):
        with pytest.raises(ValueError):
            check_window(bad)


def test_zoom_and_pan():
    w = (-2.0, 2.0, -1.0, 3.0)
    z = zoom_window(w, 2.0)
    assert z == pytest.approx((-1.0, 1.0, 0.0, 2.0))
    # zooming about a point keeps that point at the same relative position
    z = zoom_window(w, 4.0, center=(1.0, 1.0))
    assert ((1.0 - z[0]) / (z[1] - z[0])) == pytest.approx((1.0 - w[0]) / (w[1] - w[0]))
    assert z[1] - z[0] == pytest.approx(1.0)
    assert zoom_window(zoom_window(w, 1.5), 1 / 1.5) == pytest.approx(w)
    assert pan_window(w, 0.25, -0.5) == pytest.approx((-1.0, 3.0, -3.0, 1.0))
    with pytest.raises(ValueError):
        zoom_window(w, 0.0)


def test_cell_data_round_trip():
    g = Geometry((-2.0, 2.0, -1.0, 3.0), cols=37, rows=13)
    for col in range(g.cols):
        for row in range(g.rows):
            x, y = g.cell_to_data(col, row)
            c, r, inside = g.data_to_cell(np.array([x]), np.array([y]))
            assert inside[0] and (c[0], r[0]) == (col, row)
    # row 0 is the top: larger y
    assert g.cell_to_data(0, 0)[1] > g.cell_to_data(0, g.rows - 1)[1]
    px, py = g.data_to_dots(np.array([-2.0, 2.0, 0.3]), np.array([3.0, -1.0, 0.7]))
    assert px[:2].tolist() == [0.0, g.cols * DOTS_X] and py[:2].tolist() == [0.0, g.rows * DOTS_Y]
    x, y = g.dots_to_data(px, py)
    assert np.allclose(x, [-2.0, 2.0, 0.3]) and np.allclose(y, [3.0, -1.0, 0.7])


def test_points_off_the_plot_or_nan_are_outside():
    g = Geometry((0.0, 1.0, 0.0, 1.0), cols=10, rows=5)
    _, _, inside = g.data_to_cell(np.array([-0.1, 1.0, 0.5, np.nan]), np.array([0.5, 0.5, 1.2, 0.5]))
    assert not inside.any()


# ------------------------------------------------------------------ ticks and layout


def test_nice_ticks():
    values, step = nice_ticks(-2.0, 2.0, 5)
    assert step == 1.0 and values.tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert nice_step(4.0, 9) == 0.5
    assert nice_step(0.037, 4) == pytest.approx(0.02)
    values, step = nice_ticks(0.13, 0.91, 6)
    assert values.min() >= 0.13 and values.max() <= 0.91
    assert np.allclose(np.round(values / step), values / step)


def test_tick_labels():
    assert format_ticks(np.array([-1.0, -0.5, 0.0, 0.5]), 0.5) == ["-1.0", "-0.5", "0", "0.5"]
    assert format_ticks(np.array([-0.0, 10.0]), 10.0) == ["0", "10"]
    assert format_ticks(np.array([0.0, 2e5]), 2e5) == ["0", "2e+05"]


def test_layout_fills_the_widget_and_labels_do_not_collide():
    layout = plan_layout(80, 24, (-2, 2, -1, 3), ("w1", "w2"))
    assert layout.left + layout.plot_cols == 80
    assert layout.plot_rows + 2 == 24
    labels = [(s, lab) for s, lab in zip(layout.x_label_starts(), layout.x_ticks.labels) if lab]
    assert len(labels) >= 4
    for (s0, l0), (s1, _) in zip(labels, labels[1:]):
        assert s0 + len(l0) < s1
    assert labels[-1][0] + len(labels[-1][1]) < layout.plot_cols - len("w1")
    assert len([lab for lab in layout.y_ticks.labels if lab]) >= 3
    # the y name sits at the top of the margin, so no tick label at row 0
    assert all(lab == "" for cell, lab in zip(layout.y_ticks.cells, layout.y_ticks.labels) if cell == 0)


def test_layout_too_small_is_none():
    assert plan_layout(10, 20, (0, 1, 0, 1)) is None
    assert plan_layout(80, 5, (0, 1, 0, 1)) is None
    assert plan_layout(20, 6, (0, 1, 0, 1)) is not None


def test_widget_to_data():
    layout = plan_layout(60, 20, (0, 6, 0, 3), ("a", "b"))
    assert layout.widget_to_data(layout.left - 1, 0) is None  # the axis column
    assert layout.widget_to_data(layout.left, layout.plot_rows) is None  # the axis row
    x, y = layout.widget_to_data(layout.left, 0)
    w, h = layout.geometry.cell_size
    assert 0 <= x <= w and 3 - h <= y <= 3


# ------------------------------------------------------------------ braille raster


def test_diagonal_line_is_continuous():
    g = Geometry((0.0, 1.0, 0.0, 1.0), cols=40, rows=12)
    bits = rasterize_polyline(np.array([0.0, 1.0]), np.array([0.0, 1.0]), g)
    dots = bits_to_dots(bits)
    assert connected(dots)
    w, h = g.dots
    # it runs from the bottom-left dot to the top-right dot and touches every dot column
    assert dots[h - 1, 0] and dots[0, w - 1]
    assert dots.any(axis=0).all()


def test_steep_polyline_is_continuous():
    g = Geometry((0.0, 1.0, 0.0, 1.0), cols=20, rows=20)
    t = np.linspace(0, 1, 7)  # few points, long steep segments
    bits = rasterize_polyline(0.5 + 0.4 * np.sin(6 * t), t, g)
    assert connected(bits_to_dots(bits))


def test_nan_breaks_the_line():
    g = Geometry((0.0, 10.0, 0.0, 1.0), cols=10, rows=2)
    xs = np.array([0.5, 3.5, np.nan, 6.5, 9.5])
    ys = np.full(5, 0.5)
    dots = bits_to_dots(rasterize_polyline(xs, ys, g))
    cols_hit = np.flatnonzero(dots.any(axis=0))
    gap = (cols_hit > 7) & (cols_hit < 13)  # dot columns between x = 3.5 and x = 6.5
    assert not gap.any()
    assert (cols_hit <= 7).any() and (cols_hit >= 13).any()
    assert not connected(dots)


def test_clipping():
    g = Geometry((0.0, 1.0, 0.0, 1.0), cols=10, rows=5)
    # through the window from far outside: drawn only inside, edge to edge
    dots = bits_to_dots(rasterize_polyline(np.array([-5.0, 6.0]), np.array([0.5, 0.5]), g))
    assert dots.any(axis=0).all() and dots.sum() == g.dots[0]
    # entirely outside: nothing
    assert not rasterize_polyline(np.array([2.0, 3.0]), np.array([2.0, 5.0]), g).any()
    # a divergent run with astronomically large points stays cheap and draws what is inside
    t0 = time.perf_counter()
    bits = rasterize_polyline(np.array([0.5, 1e300, -1e300, 0.5]), np.array([0.5, 1e300, 3e299, 0.25]), g)
    assert time.perf_counter() - t0 < 0.5
    assert bits.any()


def test_single_point_and_cells_view():
    g = Geometry((0.0, 1.0, 0.0, 1.0), cols=4, rows=2)
    bits = rasterize_polyline(np.array([0.01]), np.array([0.99]), g)
    assert raster_cells(bits) == {(0, 0, 0x01)}  # the top-left dot of the top-left cell
    bits = rasterize_dot_polyline(np.array([1.5, 1.5]), np.array([0.5, 3.5]), 4, 2)
    assert raster_cells(bits) == {(0, 0, 0x08 | 0x10 | 0x20 | 0x80)}  # right dot column


def test_arrow_heads_point_the_right_way():
    g = Geometry((-1.0, 1.0, -1.0, 1.0), cols=40, rows=20)
    for direction, glyph in (((1, 0), "→"), ((0, 1), "↑"), ((-1, -1), "↙"), ((0, -3), "↓")):
        arrow = rasterize_arrow((0.0, 0.0), direction, g)
        assert arrow.head is not None and arrow.head[2] == glyph
        assert arrow.shaft.any()
    # a huge gradient gets the same on-screen length as a small one
    assert rasterize_arrow((0.0, 0.0), (1e9, 0), g).head == rasterize_arrow((0.0, 0.0), (0.1, 0), g).head
    assert rasterize_arrow((0.0, 0.0), (1, 0), g).head[1] > 20 + 3
    assert rasterize_arrow((0.0, 0.0), (0.0, 0.0), g).head is None
    assert rasterize_arrow((5.0, 0.0), (1.0, 0.0), g).head is None
    # an arrow running off the plot is cut at the edge
    edge = rasterize_arrow((0.95, 0.0), (1.0, 0.0), g)
    assert edge.head is not None and edge.head[1] == g.cols - 1
    assert set(ARROW_GLYPHS) == set("→↗↑↖←↙↓↘")


# ------------------------------------------------------------------ the field


def test_sample_surface_calls_the_function_once():
    calls = []

    def f(p):
        calls.append(p.shape)
        return bowl(p)

    g = Geometry((-1.0, 1.0, -1.0, 1.0), cols=20, rows=8)
    fine, centre = sample_surface(f, g)
    assert len(calls) == 1
    assert fine.shape == (8 * DOTS_Y, 20 * DOTS_X) and centre.shape == (8, 20)


def test_sample_surface_rejects_wrong_shape():
    g = Geometry((-1.0, 1.0, -1.0, 1.0), cols=20, rows=8)
    with pytest.raises(ValueError):
        sample_surface(lambda p: np.zeros(3), g)


def test_bowl_field():
    g = Geometry((-2.0, 2.0, -2.0, 2.0), cols=41, rows=21)
    field = compute_contour_field(bowl, g, n_bands=6)
    assert field.bands[10, 20] == 0  # the centre
    assert field.bands[0, 0] == 5  # a corner
    # iso-lines are closed rings around the centre: some left, right, above and below it
    rows, cols = np.nonzero(field.iso_bits)
    assert (cols < 20).any() and (cols > 20).any() and (rows < 10).any() and (rows > 10).any()
    assert set(np.unique(field.iso_level[field.iso_bits > 0])) <= set(range(1, 6))


def test_field_with_nan_region():
    def half_nan(p):
        return np.where(p[:, 0] < 0, np.nan, bowl(p))

    g = Geometry((-2.0, 2.0, -2.0, 2.0), cols=30, rows=10)
    field = compute_contour_field(half_nan, g)
    assert (field.bands[:, :14] == -1).all()
    assert (field.bands[:, 16:] >= 0).all()
    assert field.iso_bits[:, 16:].any()


def test_skewed_surface_gets_log_levels_so_the_basins_show():
    """Himmelblau over [-5, 5]^2: the corners reach 890 while the median is 113; linear bands
    would put the four minima and the saddles between them in one bottom band."""
    def himmelblau(p):
        x, y = p[:, 0], p[:, 1]
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2

    v = grid_values(himmelblau, (-5, 5, -5, 5))
    levels = choose_levels(v, n_bands=9)
    assert levels.log
    bands = assign_bands(v, levels)
    share = np.bincount(bands.ravel(), minlength=9) / bands.size
    assert share.max() < 0.3  # no band swallows the plot


def raster_cells(bits: np.ndarray) -> set[tuple[int, int, int]]:
    """The raster as a set of (row, col, bits) for the non-empty cells."""
    rows, cols = np.nonzero(bits)
    return {(int(r), int(c), int(bits[r, c])) for r, c in zip(rows, cols)}


def test_clipping_passes_segments_inside_unchanged_and_clips_the_rest_as_liang_barsky():
    """Segments wholly inside skip the clipping passes and keep their end points exactly (the
    full Liang-Barsky gave a + 1 * (b - a), b to the last bit or one off); the rest are clipped
    as before, with all inside, some inside and none inside."""
    from optsim.tui.render.contour_grid import _clip_all, clip_segments

    rng = np.random.default_rng(3)
    for low, high in ((0.5, 9.5), (-4.0, 14.0), (20.0, 30.0)):
        ends = rng.uniform(low, high, (4, 500))
        got, want = clip_segments(*ends, 10.0, 10.0), _clip_all(*ends, 10.0, 10.0)
        np.testing.assert_array_equal(got[4], want[4])
        inside = ((ends[[0, 2]] >= 0) & (ends[[0, 2]] <= 10) & (ends[[1, 3]] >= 0) & (ends[[1, 3]] <= 10)).all(axis=0)
        for a, b, given in zip(got[:4], want[:4], ends):
            np.testing.assert_array_equal(a[inside], given[inside])
            np.testing.assert_array_equal(a[want[4] & ~inside], b[want[4] & ~inside])
            np.testing.assert_allclose(a[want[4]], b[want[4]], rtol=1e-15, atol=1e-14)
    inside = np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([3.0, 9.0]), np.array([4.0, 9.5])
    assert all(a is b for a, b in zip(clip_segments(*inside, 10.0, 10.0)[:4], inside))


def _arrow_as_polyline(origin, direction, g, scale=1.0):
    """The arrow drawn the general way: the origin mapped by data_to_dots, the end clipped by
    clip_segments, the shaft by rasterize_dot_polyline (what rasterize_arrow draws)."""
    import math

    from optsim.tui.render.contour_grid import clip_segments, rasterize_dot_polyline

    w, h = g.dots
    x0, x1, y0, y1 = g.window
    ox, oy = (float(v[0]) for v in g.data_to_dots(np.array([origin[0]]), np.array([origin[1]])))
    with np.errstate(all="ignore"):
        vx, vy = float(direction[0]) * (w / (x1 - x0)), -float(direction[1]) * (h / (y1 - y0))
    norm = math.hypot(vx, vy)
    if not (math.isfinite(norm) and norm > 0 and math.isfinite(ox) and math.isfinite(oy)) or not (0 <= ox < w and 0 <= oy < h):
        return None
    length = max(2.0, max(6.0, 0.2 * min(w, h)) * min(1.0, max(0.0, scale)))
    ex, ey = ox + vx / norm * length, oy + vy / norm * length
    *_, cbx, cby, _ = clip_segments(np.array([ox]), np.array([oy]), np.array([ex]), np.array([ey]), w - 1e-9, h - 1e-9)
    return rasterize_dot_polyline(np.array([ox, float(cbx[0])]), np.array([oy, float(cby[0])]), g.cols, g.rows)


def test_an_arrow_inside_the_plot_sets_the_dots_of_the_general_rasterizer():
    """rasterize_arrow takes an arrow inside the clip box sample by sample in floats: the same
    dots as the vectorized path, for arrows anywhere, of any direction, length and scale."""
    rng = np.random.default_rng(3)
    fast = 0
    for trial in range(3000):
        g = Geometry((-2.0, 2.0 + rng.random(), -1.0, 3.0 * rng.random() + 0.01), int(rng.integers(8, 90)),
                     int(rng.integers(3, 30)))
        x0, x1, y0, y1 = g.window
        origin = (rng.uniform(x0 - 0.2, x1 + 0.2), rng.uniform(y0 - 0.2, y1 + 0.2))
        if trial % 7 == 0:  # on a dot's edge
            ox, oy = g.dots_to_data(np.array([float(rng.integers(0, 40))]), np.array([float(rng.integers(0, 40))]))
            origin = (float(ox[0]), float(oy[0]))
        direction = tuple(rng.normal(0, 1, 2) * 10.0 ** rng.uniform(-8, 4))
        if trial % 11 == 0:
            direction = (float(rng.choice([0.0, 1.0, -1.0])), float(rng.choice([0.0, 1.0, -1.0])))
        scale = float(rng.choice([1.0, rng.random(), 0.0]))
        got = rasterize_arrow(origin, direction, g, scale=scale)
        expected = _arrow_as_polyline(origin, direction, g, scale)
        if expected is None:
            assert got.head is None
            continue
        fast += 1
        assert np.array_equal(got.shaft, expected), (g, origin, direction, scale)
    assert fast > 1500
