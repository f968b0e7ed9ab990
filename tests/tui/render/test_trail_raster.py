"""The paths' rasters drawn from what changed (tui/render/trail_raster.py) are exactly the
rasters drawn whole, frame after frame: as the history grows, as its full-resolution window
slides over the decimated part, with NaN breaks and points far off the plot, after arbitrary
edits of a path (a reset, a new start), and on a new window or size."""

from __future__ import annotations

import numpy as np

from optsim.tui.render.contour_grid import Geometry, rasterize_polyline
from optsim.tui.render.trail_raster import TrailRaster, TrailRasters

GEOMETRY = Geometry((-2.0, 2.0, -1.0, 3.0), 70, 22)


def _walk(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 0.03, (n, 2)), axis=0)
    walk[150] = np.nan  # a break
    walk[900:905] *= 80  # far off the plot and back
    return walk


def _path(walk: np.ndarray, k: int, recent: int = 256, stride: int = 7) -> np.ndarray:
    """As the view model builds it: decimated old points, the newest at full resolution, the current point."""
    return np.concatenate([walk[:max(0, k - recent)][::stride], walk[max(0, k - recent):k], walk[k:k + 1] + 1e-3])


def test_a_path_growing_and_sliding_is_rastered_exactly_at_every_frame():
    walk = _walk(3000)
    trail = TrailRaster()
    for k in list(range(1, 700)) + list(range(700, 2900, 3)):
        p = _path(walk, k)
        assert np.array_equal(trail.bits(GEOMETRY, p[:, 0], p[:, 1]), rasterize_polyline(p[:, 0], p[:, 1], GEOMETRY)), k


def test_arbitrary_changes_and_new_geometries_are_rastered_exactly():
    rng = np.random.default_rng(3)
    trail = TrailRaster()
    last = np.empty((0, 2))
    for i in range(400):
        p = np.cumsum(rng.normal(0, 0.4, (int(rng.integers(0, 30)), 2)), axis=0)
        if i % 3 == 0:  # a kept prefix of the last path, then something new
            p = np.concatenate([last[: int(rng.integers(0, len(last) + 1))], p])
        if i % 4 == 0 and len(p) > 3:  # points dropped from the middle
            cut = int(rng.integers(1, len(p) - 1))
            p = np.delete(p, slice(cut, cut + int(rng.integers(1, 4))), axis=0)
        if i % 5 == 0 and len(p):
            p[int(rng.integers(0, len(p)))] = np.nan
        g = GEOMETRY if i % 40 else Geometry((-3.0, 3.0, -2.0 + i / 100, 2.0), 50 + i % 9, 15)
        got = trail.bits(g, p[:, 0], p[:, 1])
        assert np.array_equal(got, rasterize_polyline(p[:, 0], p[:, 1], g)), i
        last = p


def test_runs_are_kept_by_name_and_forgotten_when_gone():
    walk_a, walk_b = _walk(400, 4), _walk(400, 5)
    rasters = TrailRasters()
    for k in (50, 51, 52):
        a, b = _path(walk_a, k), _path(walk_b, k)
        runs = [("a", a[:, 0], a[:, 1]), ("b", b[:, 0], b[:, 1]), ("b", a[:, 0], a[:, 1])]  # a name twice
        if k == 51:
            runs.reverse()  # the selected run is drawn last: the order changes with the selection
        for got, (_, xs, ys) in zip(rasters.bits(GEOMETRY, runs), runs):
            assert np.array_equal(got, rasterize_polyline(xs, ys, GEOMETRY))
    rasters.bits(GEOMETRY, [("a", walk_a[:10, 0], walk_a[:10, 1])])
    assert set(rasters._trails) == {("a", 0)}


def test_several_paths_sampled_in_one_pass_are_each_rastered_exactly():
    """TrailRasters samples the changes of all its paths at once: every path's bits are still
    its own, frame after frame, while some grow, one is redrawn afresh, one stays as it was."""
    walks = [_walk(2000, seed) for seed in range(6, 11)]
    rasters = TrailRasters()
    rng = np.random.default_rng(8)
    for k in list(range(1, 300)) + list(range(300, 1900, 7)):
        paths = []
        for i, walk in enumerate(walks):
            if i == 1 and k % 50 == 0:
                p = walk[: int(rng.integers(1, 40))] + 0.5  # redrawn afresh (a reset)
            elif i == 2:
                p = _path(walk, 150)  # a path that does not move
            else:
                p = _path(walk, k + 3 * i)
            paths.append((f"run{i}", p[:, 0], p[:, 1]))
        for got, (name, xs, ys) in zip(rasters.bits(GEOMETRY, paths), paths):
            assert np.array_equal(got, rasterize_polyline(xs, ys, GEOMETRY)), (k, name)


def test_dots_to_bits_gives_the_same_bits_dot_by_dot_and_on_a_grid():
    from optsim.tui.render.contour_grid import BRAILLE_BITS, FEW_DOTS, dots_to_bits

    rng = np.random.default_rng(7)
    cols, rows = 33, 9
    for n in (0, 1, 5, FEW_DOTS - 1, FEW_DOTS, 5000):
        ix, iy = rng.integers(0, cols * 2, n), rng.integers(0, rows * 4, n)
        want = np.zeros((rows, cols), dtype=np.uint8)
        for x, y in zip(ix.tolist(), iy.tolist()):
            want[y // 4, x // 2] |= BRAILLE_BITS[y % 4, x % 2]
        assert np.array_equal(dots_to_bits(ix, iy, cols, rows), want), n
