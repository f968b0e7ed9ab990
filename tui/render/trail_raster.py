"""The runs' paths on the contour plot, rasterized frame after frame from what changed.

A path drawn by contour_grid.rasterize_dot_polyline is a multiset of dot samples: each
finite point's own dot, and each segment's samples, computed from that segment's two end
points only (clipped, then sampled at most one dot apart). So the samples of a path are
the sum of its points' and its segments' samples, whatever else the path holds. A
TrailRaster keeps, for one path, how many samples fall on every dot; a new frame's path
is compared with the last one (the view model's path is the decimated history, then the
newest ticks at full resolution, then the current point: a step drops a few points
after the decimated part as the full-resolution window slides, and adds a few at the
end), the samples of the points and segments that went are taken off and those of the
new ones added, and only the cells whose dots changed are recomputed. The bits are
exactly rasterize_dot_polyline's (tests compare them frame by frame); a new window or
size starts again from nothing.
"""

from __future__ import annotations

import numpy as np

from .contour_grid import BRAILLE_BITS, DOTS_X, DOTS_Y, Geometry, clip_segments, dots_to_bits

MAX_DROPPED = 64
"""How many points may go from the middle of a path in one frame before it is drawn afresh."""


def dot_samples(points: tuple[np.ndarray, np.ndarray, np.ndarray],
                segments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The samples rasterize_dot_polyline takes of some points (x, y, sign) and some
    segments (ax, ay, bx, by, sign) in dot coordinates (the same operations on the same
    values, so the same dots): the flat dot index (y * w + x) and the sign of each sample
    on the grid (+1 for what a path gained, -1 for what it lost)."""
    px, py, psign = points
    ax, ay, bx, by, ssign = segments
    fin = np.isfinite(px) & np.isfinite(py)
    xs_all, ys_all, sign_all = [px[fin]], [py[fin]], [psign[fin]]
    ok = np.isfinite(ax) & np.isfinite(ay) & np.isfinite(bx) & np.isfinite(by)
    if ok.any():
        ax, ay, bx, by, keep = clip_segments(ax[ok], ay[ok], bx[ok], by[ok], w - 1e-9, h - 1e-9)
        ax, ay, bx, by, sign = ax[keep], ay[keep], bx[keep], by[keep], ssign[ok][keep]
        if ax.size:
            n = np.ceil(np.maximum(np.abs(bx - ax), np.abs(by - ay))).astype(np.int64) + 1
            seg = np.repeat(np.arange(ax.size), n)
            starts = np.cumsum(n) - n
            step = np.arange(int(n.sum())) - np.repeat(starts, n)
            t = step / np.repeat(np.maximum(n - 1, 1), n)
            xs_all.append(ax[seg] + t * (bx - ax)[seg])
            ys_all.append(ay[seg] + t * (by - ay)[seg])
            sign_all.append(sign[seg])
    sx, sy = np.concatenate(xs_all), np.concatenate(ys_all)
    inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
    dots = np.floor(sy[inside]).astype(np.int64) * w + np.floor(sx[inside]).astype(np.int64)
    return dots, np.concatenate(sign_all)[inside]


def _pieces(px: np.ndarray, py: np.ndarray, points: np.ndarray, segments: np.ndarray, sign: int) -> tuple:
    """Points and segments (i, i + 1) of a path, with the sign of their samples."""
    return ((px[points], py[points], np.full(points.size, sign)),
            (px[segments], py[segments], px[segments + 1], py[segments + 1], np.full(segments.size, sign)))


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise bit-for-bit equality of two float arrays (NaN equals NaN)."""
    return a.view(np.int64) == b.view(np.int64)


def common_prefix(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> int:
    """How many leading points two paths share, bit for bit."""
    m = min(ax.size, bx.size)
    differ = ~(_same(ax[:m], bx[:m]) & _same(ay[:m], by[:m]))
    return int(np.argmax(differ)) if differ.any() else m


class TrailRaster:
    """One path's braille bits, kept up to date from the changes of its points (see above)."""

    def __init__(self) -> None:
        self._geometry: Geometry | None = None
        self._px = self._py = np.empty(0)
        self._counts: np.ndarray | None = np.zeros(0, dtype=np.int64)
        self._fresh = np.empty(0, dtype=np.int64)
        self._bits = np.zeros((0, 0), dtype=np.uint8)

    def bits(self, geometry: Geometry, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """The braille bits (rows, cols) of the path through (xs, ys) in data coordinates."""
        changes = self.changes(geometry, xs, ys)
        if changes is not None:
            w, h = geometry.dots
            dots, signs = dot_samples(*changes, w, h)
            self.take(dots, signs, w, h)
        return self._bits.copy()

    def changes(self, geometry: Geometry, xs: np.ndarray, ys: np.ndarray) -> tuple[tuple, tuple] | None:
        """Move to the path through (xs, ys): None when it is drawn afresh (its bits are ready),
        else the points and segments it lost and gained (signs -1 and +1) for dot_samples,
        whose samples `take` then counts."""
        px, py = geometry.data_to_dots(np.asarray(xs, dtype=float).ravel(), np.asarray(ys, dtype=float).ravel())
        px, py = np.ascontiguousarray(px, dtype=float), np.ascontiguousarray(py, dtype=float)
        if geometry != self._geometry:
            self._start(geometry)
        w, h = geometry.dots
        changes = self._changes(px, py)
        self._px, self._py = px, py
        if changes is None:  # drawn afresh
            every = np.arange(px.size)
            points, segments = _pieces(px, py, every, every[:-1], 1)
            dots, _ = dot_samples(points, segments, w, h)
            self._counts, self._fresh = None, dots  # counted when a next frame changes it
            self._bits = dots_to_bits(dots % w, dots // w, geometry.cols, geometry.rows)
            return None
        gone, come = changes
        joined = tuple(np.concatenate([x, y]) for x, y in zip(gone[0], come[0]))
        joined_segments = tuple(np.concatenate([x, y]) for x, y in zip(gone[1], come[1]))
        return joined, joined_segments

    def take(self, dots: np.ndarray, signs: np.ndarray, w: int, h: int) -> None:
        """Count the samples of what the path gained (+1) and lost (-1), and redraw the cells
        where that changed a dot."""
        if dots.size:
            if self._counts is None:
                self._counts = np.bincount(self._fresh, minlength=w * h)
            had = self._counts[dots] > 0
            np.add.at(self._counts, dots, signs)
            # A cell's bits change only where a dot gained its first sample or lost its last:
            # usually none (a step moves samples between dots other samples also hold).
            flipped = dots[had != (self._counts[dots] > 0)]
            if flipped.size:
                self._recount(flipped, w)

    @property
    def current_bits(self) -> np.ndarray:
        return self._bits

    def _start(self, geometry: Geometry) -> None:
        w, h = geometry.dots
        self._geometry = geometry
        self._px = self._py = np.empty(0)
        self._counts: np.ndarray | None = np.zeros(w * h, dtype=np.int64)  # samples on each dot
        self._fresh = np.empty(0, dtype=np.int64)  # the dots of a path drawn afresh, not counted yet
        self._bits = np.zeros((geometry.rows, geometry.cols), dtype=np.uint8)

    def _changes(self, px: np.ndarray, py: np.ndarray) -> tuple[tuple, tuple] | None:
        """The points and segments the path lost (from the last one's arrays) and gained (from
        these), or None when it is drawn afresh."""
        ox, oy = self._px, self._py
        old_n, n = ox.size, px.size
        a = common_prefix(ox, oy, px, py)
        if old_n == 0 or a == 0:
            return None
        none = np.empty(0, dtype=np.int64)
        if a == old_n:  # only new points at the end
            return (_pieces(ox, oy, none, none, -1), _pieces(px, py, np.arange(old_n, n), np.arange(old_n - 1, n - 1), 1))
        # old: prefix [0, a), dropped [a, a + d), middle [a + d, old_n - 1), its last point;
        # new: prefix [0, a), the same middle [a, a + m), new points [a + m, n).
        for d in range(min(MAX_DROPPED, old_n - 1 - a) + 1):
            m = old_n - 1 - a - d
            if m > n - a:
                continue
            if m == 0 or (_same(ox[a + d:old_n - 1], px[a:a + m]).all() and _same(oy[a + d:old_n - 1], py[a:a + m]).all()):
                break
        else:
            return None
        old_segments = np.arange(a - 1, old_n - 1)
        new_segments = np.arange(a - 1, n - 1)
        if m > 1:  # the middle's own segments stay
            old_segments = old_segments[(old_segments < a + d) | (old_segments >= old_n - 2)]
            new_segments = new_segments[(new_segments < a) | (new_segments >= a + m - 1)]
        return (_pieces(ox, oy, np.r_[np.arange(a, a + d), old_n - 1], old_segments, -1),
                _pieces(px, py, np.arange(a + m, n), new_segments, 1))

    def _recount(self, dots: np.ndarray, w: int) -> None:
        """Recompute the bits of the cells holding these dots from the counts."""
        cols = self._bits.shape[1]
        cells = np.unique((dots // w // DOTS_Y) * cols + (dots % w) // DOTS_X)
        row, col = cells // cols, cells % cols
        first = (row * DOTS_Y) * w + col * DOTS_X
        hit = self._counts[first[:, None] + _offsets(w)[None, :]] > 0
        self._bits[row, col] = (hit * _CELL_BITS).sum(axis=1).astype(np.uint8)


_CELL_BITS = np.array([BRAILLE_BITS[dy, dx] for dy in range(DOTS_Y) for dx in range(DOTS_X)], dtype=np.int64)


def _offsets(w: int) -> np.ndarray:
    """Flat offsets of a cell's eight dots from its top-left dot, in _CELL_BITS' order."""
    return np.array([dy * w + dx for dy in range(DOTS_Y) for dx in range(DOTS_X)], dtype=np.int64)


class TrailRasters:
    """A TrailRaster per run name (a run drawn again is found by its name; runs that are no
    longer drawn are forgotten)."""

    def __init__(self) -> None:
        self._trails: dict[tuple[str, int], TrailRaster] = {}

    def bits(self, geometry: Geometry, runs: list[tuple[str, np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        """The bits of each (name, xs, ys), in order. The changes of every path are sampled in
        one pass (each sample's sign carries its path: k + 1 for the k-th), then counted path
        by path: the same samples as path by path, a few array passes instead of a few dozen."""
        trails, pending, seen = [], [], {}
        for name, xs, ys in runs:
            key = (name, seen.get(name, 0))
            seen[name] = key[1] + 1
            trail = self._trails.get(key)
            if trail is None:
                trail = self._trails[key] = TrailRaster()
            changes = trail.changes(geometry, xs, ys)
            if changes is not None:
                pending.append((trail, changes))
            trails.append(trail)
        for key in [k for k in self._trails if seen.get(k[0], 0) <= k[1]]:
            del self._trails[key]
        if pending:
            w, h = geometry.dots
            points = tuple(np.concatenate(parts) for parts in zip(*(
                (c[0][0], c[0][1], c[0][2] * (k + 1)) for k, (_, c) in enumerate(pending))))
            segments = tuple(np.concatenate(parts) for parts in zip(*(
                (*c[1][:4], c[1][4] * (k + 1)) for k, (_, c) in enumerate(pending))))
            dots, tagged = dot_samples(points, segments, w, h)
            path = np.abs(tagged) - 1
            order = np.argsort(path, kind="stable")
            bounds = np.searchsorted(path[order], np.arange(len(pending) + 1))
            signs = np.sign(tagged)
            for k, (trail, _) in enumerate(pending):
                mine = order[bounds[k]:bounds[k + 1]]
                trail.take(dots[mine], signs[mine], w, h)
        return [trail.current_bits.copy() for trail in trails]
